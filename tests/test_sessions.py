"""Login sessions live in the database: the cookie names one, logging out ends it everywhere,
and a user sees and ends the sessions of their account."""

import json
from base64 import b64encode, urlsafe_b64decode
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from sqlalchemy import event
from sqlmodel import select

from blog.app import SESSION_COOKIE
from blog.config import Settings
from blog.models import USER_AGENT_MAX_LENGTH, LoginSession, utc_now
from blog.security import SESSION_MAX_AGE, token_digest
from blog.users import LAST_SEEN_STEP
from tests.conftest import (
    assert_html_page,
    count_rows,
    csrf_token_of,
    find_form,
    log_in,
    signed_in_name,
    submit_form,
)

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def settings(settings) -> Settings:
    # Every request is built, so the queries counted are the page's own.
    return settings.model_copy(update={"page_cache_bytes": 0})


@contextmanager
def browser(app, user_agent: str = "testclient") -> Iterator[TestClient]:
    """Another browser on the same site, with a cookie jar of its own."""
    with TestClient(app, follow_redirects=False, headers={"user-agent": user_agent}) as other:
        yield other


def sessions_of(session, user) -> list[LoginSession]:
    session.expire_all()
    statement = select(LoginSession).where(LoginSession.user_id == user.id)
    return list(session.exec(statement).all())


def is_logged_in(client: TestClient) -> bool:
    return signed_in_name(client.get("/").text) is not None


# Logging in and out


def test_logging_in_starts_a_session_named_by_the_cookie_with_the_browser(app, session, make_user):
    user = make_user()
    with browser(app, FIREFOX) as firefox:
        log_in(firefox, user)
        cookie = firefox.cookies.get(SESSION_COOKIE)

    (login_session,) = sessions_of(session, user)
    assert login_session.user_agent == FIREFOX
    assert login_session.created_at == login_session.last_seen_at
    assert utc_now() - login_session.created_at < timedelta(minutes=1)
    # The cookie holds a random token, and the database only the token's digest.
    content = json.loads(urlsafe_b64decode(cookie.split(".")[0] + "=="))
    assert "user_id" not in content
    assert token_digest(content["login"]) == login_session.token_hash


def test_signing_up_starts_a_session(client, session):
    data = {"name": "Ada", "email": "ada@example.com", "password": "a-good-password"}
    assert submit_form(client, "/register", data).status_code == 303

    assert count_rows(session, LoginSession) == 1
    assert is_logged_in(client)


def test_a_long_user_agent_is_cut_to_a_sane_length(app, session, make_user):
    user = make_user()
    with browser(app, "x" * 5000) as client:
        log_in(client, user)

    (login_session,) = sessions_of(session, user)
    assert login_session.user_agent == "x" * USER_AGENT_MAX_LENGTH


def test_logging_out_ends_the_session_so_a_copy_of_the_cookie_is_logged_out_too(
    app, client, logged_in, session
):
    cookie = client.cookies.get(SESSION_COOKIE)

    response = submit_form(client, "/", action="/logout")

    assert response.status_code == 303
    assert sessions_of(session, logged_in) == []
    with TestClient(app, follow_redirects=False, cookies={SESSION_COOKIE: cookie}) as copy:
        assert not is_logged_in(copy)
        assert copy.get("/blogs/new").status_code == 303


def test_logging_in_again_ends_the_browsers_previous_session(client, logged_in, session):
    log_in(client, logged_in)

    assert len(sessions_of(session, logged_in)) == 1


def test_a_cookie_naming_a_deleted_session_is_simply_logged_out(client, logged_in, session):
    for login_session in sessions_of(session, logged_in):
        session.delete(login_session)
    session.commit()

    response = client.get("/")

    assert_html_page(response, 200)
    assert signed_in_name(response.text) is None
    assert client.get("/blogs/new").status_code == 303


def test_a_cookie_from_before_sessions_naming_a_user_id_is_not_honoured(app, make_user):
    user = make_user()
    payload = b64encode(json.dumps({"user_id": user.id}).encode())
    cookie = TimestampSigner("test-secret").sign(payload).decode()

    with TestClient(app, cookies={SESSION_COOKIE: cookie}) as visitor:
        assert not is_logged_in(visitor)


def test_a_session_unused_for_longer_than_a_cookie_lives_is_not_honoured(
    client, logged_in, session
):
    (login_session,) = sessions_of(session, logged_in)
    login_session.last_seen_at = utc_now() - SESSION_MAX_AGE - timedelta(minutes=1)
    session.add(login_session)
    session.commit()

    assert not is_logged_in(client)


def test_sessions_unused_for_longer_than_a_cookie_lives_are_deleted_at_the_next_login(
    app, client, session, make_user
):
    someone, someone_else = make_user(), make_user()
    log_in(client, someone)
    (old,) = sessions_of(session, someone)
    old.last_seen_at = utc_now() - SESSION_MAX_AGE - timedelta(minutes=1)
    session.add(old)
    session.commit()

    with browser(app) as other:
        log_in(other, someone_else)

    assert sessions_of(session, someone) == []
    assert len(sessions_of(session, someone_else)) == 1


def test_deleting_a_user_deletes_their_sessions(app, session, make_user):
    user, other = make_user(), make_user()
    with browser(app) as first, browser(app) as second:
        log_in(first, user)
        log_in(second, other)
    session.delete(user)
    session.commit()

    assert count_rows(session, LoginSession) == 1


# Cost per request


@contextmanager
def counting_statements(engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_the_session_and_its_user_are_loaded_in_one_query(app, client, make_user, make_blog):
    make_blog()
    with counting_statements(app.state.engine) as anonymous:
        assert client.get("/").status_code == 200
    log_in(client, make_user())

    with counting_statements(app.state.engine) as logged_in:
        response = client.get("/")

    assert signed_in_name(response.text) is not None
    assert len(logged_in) == len(anonymous) + 1
    (extra,) = [statement for statement in logged_in if "login_session" in statement]
    assert "JOIN" in extra.upper()
    assert "user" in extra


def test_requests_soon_after_another_write_nothing(app, client, logged_in):
    with counting_statements(app.state.engine) as statements:
        for _ in range(3):
            client.get("/")

    assert not [s for s in statements if s.lstrip().upper().startswith(("UPDATE", "INSERT"))]


def test_last_seen_is_written_once_the_step_has_passed(client, logged_in, session):
    (login_session,) = sessions_of(session, logged_in)
    long_ago = utc_now() - LAST_SEEN_STEP - timedelta(seconds=1)
    login_session.last_seen_at = long_ago
    session.add(login_session)
    session.commit()

    client.get("/")

    (login_session,) = sessions_of(session, logged_in)
    assert utc_now() - login_session.last_seen_at < timedelta(minutes=1)


# The sessions page


def test_the_sessions_page_needs_a_login(client):
    response = client.get("/account/sessions")

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_the_sessions_page_lists_each_browser_and_marks_this_one(app, session, make_user):
    user = make_user()
    with browser(app, FIREFOX) as firefox, browser(app, IPHONE) as iphone:
        log_in(firefox, user)
        log_in(iphone, user)

        page = firefox.get("/account/sessions")

    assert_html_page(page, 200)
    assert "Firefox on Linux" in page.text
    assert "Safari on iOS" in page.text
    assert page.text.count("This device") == 1
    this_device = page.text.index("This device")
    assert page.text.rindex("Firefox on Linux", 0, this_device) > page.text.rfind(
        "Safari on iOS", 0, this_device
    )
    for login_session in sessions_of(session, user):
        find_form(page.text, f"/account/sessions/{login_session.id}/sign-out")
    find_form(page.text, "/account/sessions/sign-out-others")
    # Tokens and their digests never reach a page.
    assert all(s.token_hash not in page.text for s in sessions_of(session, user))


def test_the_sessions_page_is_linked_from_the_profile_form(client, logged_in):
    page = client.get(f"/users/{logged_in.id}/edit").text

    assert 'href="/account/sessions"' in page
    assert 'href="/account/password"' in page


def test_signing_out_another_device_ends_its_session(app, client, logged_in, session):
    with browser(app, IPHONE) as phone:
        log_in(phone, logged_in)
        (phone_session,) = [s for s in sessions_of(session, logged_in) if s.user_agent == IPHONE]
        action = f"/account/sessions/{phone_session.id}/sign-out"

        response = submit_form(client, "/account/sessions", action=action)

        assert response.status_code == 303
        assert response.headers["location"] == "/account/sessions"
        assert "That device is signed out." in client.get("/account/sessions").text
        assert not is_logged_in(phone)
    assert is_logged_in(client)
    assert len(sessions_of(session, logged_in)) == 1


def test_signing_out_this_device_logs_out(client, logged_in, session):
    (own,) = sessions_of(session, logged_in)
    action = f"/account/sessions/{own.id}/sign-out"

    response = submit_form(client, "/account/sessions", action=action)

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert not is_logged_in(client)
    assert sessions_of(session, logged_in) == []


def test_another_users_session_cannot_be_signed_out(app, client, logged_in, session, make_user):
    other = make_user()
    with browser(app) as theirs:
        log_in(theirs, other)
        (their_session,) = sessions_of(session, other)

        response = client.post(
            f"/account/sessions/{their_session.id}/sign-out",
            data={"csrf_token": csrf_token_of(client)},
        )

        assert_html_page(response, 404)
        assert is_logged_in(theirs)


@pytest.mark.parametrize("session_id", ["424242", "0", "abc", str(2**40)])
def test_signing_out_a_session_that_is_not_there_is_a_404_page(client, logged_in, session_id):
    response = client.post(
        f"/account/sessions/{session_id}/sign-out", data={"csrf_token": csrf_token_of(client)}
    )

    assert_html_page(response, 404)
    assert is_logged_in(client)


def test_signing_out_every_other_device_keeps_only_this_one(app, client, logged_in, session):
    with browser(app, FIREFOX) as firefox, browser(app, IPHONE) as iphone:
        log_in(firefox, logged_in)
        log_in(iphone, logged_in)

        response = submit_form(
            client, "/account/sessions", action="/account/sessions/sign-out-others"
        )

        assert response.status_code == 303
        assert response.headers["location"] == "/account/sessions"
        assert not is_logged_in(firefox)
        assert not is_logged_in(iphone)
    assert is_logged_in(client)
    assert len(sessions_of(session, logged_in)) == 1


def test_signing_out_other_devices_leaves_other_accounts_alone(
    app, client, logged_in, session, make_user
):
    other = make_user()
    with browser(app) as theirs:
        log_in(theirs, other)

        response = client.post(
            "/account/sessions/sign-out-others", data={"csrf_token": csrf_token_of(client)}
        )

        assert response.status_code == 303
        assert is_logged_in(theirs)
