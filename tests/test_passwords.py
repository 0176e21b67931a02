"""Passwords: changing one's own, setting a forgotten one through a one-time link, and giving
it to delete the account."""

import logging
import time
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from sqlmodel import select

from blog.cli import main
from blog.config import Settings
from blog.models import Blog, LoginSession, User
from blog.security import verify_password
from blog.users import RESET_LINK_LIFETIME, password_reset_link
from tests.conftest import (
    DEFAULT_PASSWORD,
    assert_html_page,
    count_rows,
    csrf_token_of,
    field_error,
    find_form,
    log_in,
    signed_in_name,
    snapshot,
    submit_form,
)

# What this checks does not depend on the database: the PostgreSQL run leaves it out.
pytestmark = pytest.mark.same_on_every_database

NEW_PASSWORD = "a brand new password"
# New passwords follow the sign-up rules.
BAD_NEW_PASSWORDS = {
    "": "This field is required.",
    "   ": "This field is required.",
    "short77": "Must be at least 8 characters.",
    "p" * 1001: "Must be at most 1,000 characters.",
    "pass\x00word": "Must not contain NUL characters.",
}


@contextmanager
def browser(app):
    with TestClient(app, follow_redirects=False) as other:
        yield other


def is_logged_in(client: TestClient) -> bool:
    return signed_in_name(client.get("/").text) is not None


def password_of(session, user: User) -> str:
    session.expire_all()
    return session.get(User, user.id).password_hash


def can_log_in(app, user: User, password: str) -> bool:
    with browser(app) as client:
        response = submit_form(client, "/login", {"email": user.email, "password": password})
    return response.status_code == 303


def flashes_after(client: TestClient, response) -> str:
    return client.get(urlsplit(response.headers["location"]).path).text


# Changing the password


def test_the_password_page_needs_a_login(client):
    response = client.get("/account/password")

    assert response.status_code == 303
    assert urlsplit(response.headers["location"]).path == "/login"


def test_changing_the_password_goes_to_the_users_page_with_a_message(client, logged_in):
    response = submit_form(
        client,
        "/account/password",
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/users/{logged_in.id}"
    assert "Your password is changed." in flashes_after(client, response)


def test_after_a_change_only_the_new_password_logs_in(app, client, logged_in):
    submit_form(
        client,
        "/account/password",
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
    )

    assert can_log_in(app, logged_in, NEW_PASSWORD)
    assert not can_log_in(app, logged_in, DEFAULT_PASSWORD)


def test_a_change_keeps_this_session_and_ends_every_other(app, client, logged_in, session):
    with browser(app) as laptop, browser(app) as phone:
        log_in(laptop, logged_in)
        log_in(phone, logged_in)

        submit_form(
            client,
            "/account/password",
            {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        )

        assert is_logged_in(client)
        assert not is_logged_in(laptop)
        assert not is_logged_in(phone)
    assert count_rows(session, LoginSession) == 1


def test_a_wrong_current_password_is_refused_at_its_field(client, logged_in, session):
    before = snapshot(session)

    response = submit_form(
        client,
        "/account/password",
        {"current_password": "not my password", "new_password": NEW_PASSWORD},
    )

    assert_html_page(response, 422)
    assert field_error(response.text, "current_password") == "That is not your password."
    assert snapshot(session) == before


def test_a_missing_current_password_is_refused_at_its_field(client, logged_in, session):
    before = snapshot(session)

    response = submit_form(client, "/account/password", {"new_password": NEW_PASSWORD})

    assert_html_page(response, 422)
    assert field_error(response.text, "current_password") == "This field is required."
    assert snapshot(session) == before


@pytest.mark.parametrize("new_password", list(BAD_NEW_PASSWORDS), ids=repr)
def test_a_bad_new_password_is_refused_at_its_field(client, logged_in, session, new_password):
    before = snapshot(session)

    response = submit_form(
        client,
        "/account/password",
        {"current_password": DEFAULT_PASSWORD, "new_password": new_password},
    )

    assert_html_page(response, 422)
    assert field_error(response.text, "new_password") == BAD_NEW_PASSWORDS[new_password]
    assert field_error(response.text, "current_password") is None
    assert snapshot(session) == before


def test_a_refused_change_shows_neither_password(client, logged_in):
    response = submit_form(
        client,
        "/account/password",
        {"current_password": "my-secret-guess", "new_password": "tiny"},
    )

    assert response.status_code == 422
    assert field_error(response.text, "current_password")
    assert field_error(response.text, "new_password")
    assert "my-secret-guess" not in response.text
    assert "tiny" not in response.text


# Reset links


def test_blog_reset_link_prints_a_link_on_the_base_url(settings, make_user, monkeypatch, capsys):
    user = make_user(email="ada@example.com")
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    monkeypatch.setenv("BASE_URL", "https://blog.example.com/")

    assert main(["reset-link", "Ada@Example.com"]) == 0

    link = capsys.readouterr().out.strip()
    assert link.startswith("https://blog.example.com/reset/")
    assert str(user.id) != link.rsplit("/", 1)[1]


def test_blog_reset_link_without_a_base_url_points_at_the_local_server(
    settings, make_user, monkeypatch, capsys
):
    user = make_user()
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.delenv("BASE_URL", raising=False)

    assert main(["reset-link", user.email]) == 0

    assert capsys.readouterr().out.startswith("http://127.0.0.1:8000/reset/")


def test_blog_reset_link_for_an_unknown_email_says_so_and_fails(settings, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)

    assert main(["reset-link", "nobody@example.com"]) == 1

    output = capsys.readouterr()
    assert output.out == ""
    assert "no account has the email nobody@example.com" in output.err


def test_the_link_blog_reset_link_prints_sets_a_new_password(
    app, client, settings, make_user, monkeypatch, capsys
):
    user = make_user()
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    monkeypatch.delenv("BASE_URL", raising=False)
    main(["reset-link", user.email])
    path = urlsplit(capsys.readouterr().out.strip()).path

    response = submit_form(client, path, {"new_password": NEW_PASSWORD}, action=path)

    assert response.status_code == 303
    assert can_log_in(app, user, NEW_PASSWORD)


@pytest.fixture
def reset_path(settings, make_user):
    """The path of a fresh reset link, and its user."""

    def reset_path(user: User | None = None) -> tuple[str, User]:
        user = user or make_user()
        return urlsplit(password_reset_link(user=user, settings=settings)).path, user

    return reset_path


def test_a_reset_link_shows_a_form_for_the_new_password(client, reset_path):
    path, _ = reset_path()

    response = client.get(path)

    assert_html_page(response, 200)
    find_form(response.text, path)
    assert 'name="new_password"' in response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_a_reset_sets_the_password_and_sends_to_login_with_a_message(app, client, reset_path):
    path, user = reset_path()

    response = submit_form(client, path, {"new_password": NEW_PASSWORD}, action=path)

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "Your password is set" in flashes_after(client, response)
    assert can_log_in(app, user, NEW_PASSWORD)
    assert not can_log_in(app, user, DEFAULT_PASSWORD)


def test_a_reset_ends_every_session_of_the_account(app, client, session, reset_path, make_user):
    user, other = make_user(), make_user()
    path, _ = reset_path(user)
    with browser(app) as laptop, browser(app) as someone_else:
        log_in(laptop, user)
        log_in(someone_else, other)

        submit_form(client, path, {"new_password": NEW_PASSWORD}, action=path)

        assert not is_logged_in(laptop)
        assert is_logged_in(someone_else)
    session.expire_all()
    assert session.exec(select(LoginSession).where(LoginSession.user_id == user.id)).all() == []


def _gone(response) -> None:
    assert_html_page(response, 410)
    assert "no longer works" in response.text


def test_a_used_link_no_longer_works(client, session, reset_path):
    path, user = reset_path()
    submit_form(client, path, {"new_password": NEW_PASSWORD}, action=path)
    password_hash = password_of(session, user)

    _gone(client.get(path))
    _gone(
        client.post(
            path, data={"new_password": "yet another one", "csrf_token": csrf_token_of(client)}
        )
    )
    assert password_of(session, user) == password_hash


def test_a_link_almost_an_hour_old_still_works(client, reset_path, monkeypatch):
    almost_an_hour_ago = int(time.time() - RESET_LINK_LIFETIME.total_seconds()) + 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda signer: almost_an_hour_ago)
    path, _ = reset_path()
    monkeypatch.undo()

    assert_html_page(client.get(path), 200)


def test_a_link_older_than_an_hour_no_longer_works(client, session, reset_path, monkeypatch):
    an_hour_ago = int(time.time() - RESET_LINK_LIFETIME.total_seconds()) - 2
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda signer: an_hour_ago)
    path, _ = reset_path()
    monkeypatch.undo()
    before = snapshot(session)

    _gone(client.get(path))
    _gone(
        client.post(path, data={"new_password": NEW_PASSWORD, "csrf_token": csrf_token_of(client)})
    )
    assert snapshot(session) == before


def test_a_link_made_before_the_password_changed_no_longer_works(
    client, logged_in, session, reset_path
):
    path, _ = reset_path(logged_in)
    submit_form(
        client,
        "/account/password",
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
    )

    _gone(client.get(path))


@pytest.mark.parametrize(
    "token",
    ["garbage", "WzEsImFiYyJd.aGVsbG8.c2lnbmF0dXJl", "x" * 5000, "%00", "..."],
    ids=["word", "forged", "very long", "nul", "dots"],
)
def test_a_garbled_link_gets_the_410_page(client, session, make_user, token):
    make_user()
    before = snapshot(session)

    _gone(client.get(f"/reset/{token}"))
    _gone(
        client.post(
            f"/reset/{token}",
            data={"new_password": NEW_PASSWORD, "csrf_token": csrf_token_of(client)},
        )
    )
    assert snapshot(session) == before


def test_a_link_whose_signature_was_changed_no_longer_works(client, reset_path):
    path, _ = reset_path()
    # Inside the signature, not its last character: that one also holds base64's padding
    # bits, and a change only there may decode to the same signature.
    position = len(path) - 10
    tampered = path[:position] + ("A" if path[position] != "A" else "B") + path[position + 1 :]

    _gone(client.get(tampered))


def test_a_link_signed_with_another_key_no_longer_works(client, database_url, make_user):
    other_site = Settings(database_url=database_url, secret_key="another-sites-key")
    path = urlsplit(password_reset_link(user=make_user(), settings=other_site)).path

    _gone(client.get(path))


@pytest.mark.parametrize("new_password", list(BAD_NEW_PASSWORDS), ids=repr)
def test_a_bad_new_password_on_the_reset_form_is_refused_and_the_link_still_works(
    client, session, reset_path, new_password
):
    path, _ = reset_path()
    before = snapshot(session)

    response = submit_form(client, path, {"new_password": new_password}, action=path)

    assert_html_page(response, 422)
    assert field_error(response.text, "new_password") == BAD_NEW_PASSWORDS[new_password]
    assert snapshot(session) == before
    assert client.get(path).status_code == 200


def test_the_reset_token_is_never_written_to_the_log(client, reset_path, caplog):
    path, _ = reset_path()
    token = path.rsplit("/", 1)[1]

    with caplog.at_level(logging.INFO, logger="blog.requests"):
        client.get(path)
        submit_form(client, path, {"new_password": NEW_PASSWORD}, action=path)

    assert "GET /reset/…" in caplog.text
    assert token not in caplog.text


def test_without_mail_settings_the_login_page_has_no_forgot_link_and_reset_is_a_404(client):
    assert "Forgot your password?" not in client.get("/login").text
    assert_html_page(client.get("/reset"), 404)
    assert_html_page(
        client.post(
            "/reset", data={"email": "ada@example.com", "csrf_token": csrf_token_of(client)}
        ),
        404,
    )


# Deleting the account


@pytest.mark.parametrize(
    ("password", "message"),
    [
        (None, "This field is required."),
        ("", "This field is required."),
        ("wrong password", "That is not your password."),
    ],
    ids=["missing", "empty", "wrong"],
)
def test_deleting_the_account_without_its_password_is_refused_and_deletes_nothing(
    client, logged_in, make_blog, session, password, message
):
    make_blog(author=logged_in)
    before = snapshot(session)
    path = f"/users/{logged_in.id}/delete"
    data = {} if password is None else {"password": password}

    response = submit_form(client, path, data, action=path)

    assert_html_page(response, 422)
    assert field_error(response.text, "password") == message
    assert snapshot(session) == before
    assert is_logged_in(client)


def test_the_delete_form_asks_for_the_password(client, logged_in):
    page = client.get(f"/users/{logged_in.id}/delete").text

    assert 'name="password"' in page
    assert 'type="password"' in page


def test_deleting_the_account_with_its_password_ends_its_sessions(app, client, logged_in, session):
    with browser(app) as phone:
        log_in(phone, logged_in)
        path = f"/users/{logged_in.id}/delete"

        response = submit_form(client, path, {"password": DEFAULT_PASSWORD}, action=path)

        assert response.status_code == 303
        assert not is_logged_in(phone)
    assert count_rows(session, LoginSession) == 0
    assert count_rows(session, User) == 0
    assert count_rows(session, Blog) == 0


def test_a_new_password_is_hashed_not_stored(client, logged_in, session):
    submit_form(
        client,
        "/account/password",
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
    )

    password_hash = password_of(session, logged_in)
    assert NEW_PASSWORD not in password_hash
    assert verify_password(NEW_PASSWORD, password_hash)
