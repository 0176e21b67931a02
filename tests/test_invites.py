"""Closed registration: /register is a 403 page, except through a one-time invitation link
from `blog invite`, which opens the normal form for 7 days and works once."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, select

from blog.app import create_app
from blog.cli import main
from blog.config import Registration, Settings
from blog.invites import create_invite
from blog.migrate import upgrade
from blog.models import Invite, User, utc_now
from tests.conftest import (
    assert_html_page,
    count_rows,
    csrf_token_of,
    engine_on,
    field_error,
    field_value,
    find_form,
    signed_in_name,
)

NEW_ACCOUNT = {"name": "Invited", "email": "invited@example.com", "password": "a fine password"}
NO_LONGER_WORKS = "This invitation no longer works"
BY_INVITATION = "by invitation only"


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"registration": Registration.CLOSED})


@pytest.fixture
def invite(session) -> str:
    """A new invitation's token, made as `blog invite` makes it."""
    return create_invite(session=session)


def _sign_up(client: TestClient, token: str, **fields: str):
    """Open the invitation's link, fill in its form and send it with its hidden fields."""
    page = client.get(f"/register?invite={token}")
    assert_html_page(page, 200)
    _, csrf_token = find_form(page.text, "/register")
    data = {**NEW_ACCOUNT, **fields, "invite": field_value(page.text, "invite")}
    return client.post("/register", data={**data, "csrf_token": csrf_token})


def _age_every_invite(session: Session, days: float) -> None:
    session.execute(update(Invite).values(created_at=utc_now() - timedelta(days=days)))
    session.commit()


# Closed without an invitation


def test_the_sign_up_page_is_a_403_page_when_registration_is_closed(client):
    response = client.get("/register")

    assert_html_page(response, 403)
    assert BY_INVITATION in response.text
    assert 'action="/register"' not in response.text


def test_posting_the_sign_up_form_is_refused_when_registration_is_closed(client, session):
    response = client.post("/register", data={**NEW_ACCOUNT, "csrf_token": csrf_token_of(client)})

    assert_html_page(response, 403)
    assert count_rows(session, User) == 0


def test_no_page_offers_to_sign_up_when_registration_is_closed(client):
    for path in ("/", "/login"):
        assert 'href="/register"' not in client.get(path).text


# With an invitation


def test_an_invitation_opens_the_normal_form_carrying_the_invitation(client, invite):
    response = client.get(f"/register?invite={invite}")

    assert_html_page(response, 200)
    find_form(response.text, "/register")
    assert field_value(response.text, "invite") == invite
    for name in ("name", "email", "password"):
        assert field_value(response.text, name) is not None


def test_an_invitation_opens_an_account_and_is_used_up(client, invite, session):
    response = _sign_up(client, invite)

    assert response.status_code == 303
    assert signed_in_name(client.get("/").text) == "Invited"
    [stored] = session.exec(select(Invite)).all()
    assert stored.used_at is not None


def test_an_invitation_works_only_once(client, app, invite, session):
    assert _sign_up(client, invite).status_code == 303

    with TestClient(app, follow_redirects=False) as stranger:
        opened = stranger.get(f"/register?invite={invite}")
        sent = stranger.post(
            "/register",
            data={
                **NEW_ACCOUNT,
                "email": "second@example.com",
                "invite": invite,
                "csrf_token": csrf_token_of(stranger),
            },
        )

    assert_html_page(opened, 403)
    assert NO_LONGER_WORKS in opened.text
    assert_html_page(sent, 403)
    assert count_rows(session, User) == 1


def test_a_form_opened_before_its_invitation_was_used_is_refused(client, app, invite, session):
    page = client.get(f"/register?invite={invite}").text
    with TestClient(app, follow_redirects=False) as other:
        assert _sign_up(other, invite).status_code == 303

    _, csrf_token = find_form(page, "/register")
    data = {**NEW_ACCOUNT, "email": "late@example.com", "invite": invite}
    response = client.post("/register", data={**data, "csrf_token": csrf_token})

    assert_html_page(response, 403)
    assert NO_LONGER_WORKS in response.text
    assert count_rows(session, User) == 1


def test_an_invitation_older_than_seven_days_no_longer_works(client, invite, session):
    _age_every_invite(session, days=7.01)

    response = client.get(f"/register?invite={invite}")

    assert_html_page(response, 403)
    assert NO_LONGER_WORKS in response.text


def test_an_invitation_almost_seven_days_old_still_works(client, invite, session):
    _age_every_invite(session, days=6.9)

    assert _sign_up(client, invite).status_code == 303


@pytest.mark.parametrize(
    "token",
    ["garbled", "x" * 5_000, "%00", "%F0%9F%90%8D", "%ED%A0%80"],
    ids=["wrong", "long", "nul", "emoji", "surrogate"],
)
def test_a_garbled_invitation_is_the_403_page_saying_it_no_longer_works(client, invite, token):
    response = client.get(f"/register?invite={token}")

    assert_html_page(response, 403)
    assert NO_LONGER_WORKS in response.text


def test_a_refused_sign_up_keeps_the_invitation_and_what_was_typed(
    client, invite, make_user, session
):
    make_user(email="taken@example.com")

    response = _sign_up(client, invite, email="taken@example.com")

    assert_html_page(response, 422)
    assert field_error(response.text, "email")
    assert field_value(response.text, "name") == "Invited"
    assert field_value(response.text, "invite") == invite
    assert session.exec(select(Invite)).one().used_at is None
    assert _sign_up(client, invite).status_code == 303


def test_a_form_with_a_bad_field_keeps_the_invitation_unused(client, invite, session):
    response = _sign_up(client, invite, password="short")

    assert_html_page(response, 422)
    assert field_value(response.text, "invite") == invite
    assert session.exec(select(Invite)).one().used_at is None


def test_the_database_keeps_only_a_hash_of_the_token(invite, session):
    [stored] = session.exec(select(Invite)).all()

    assert invite not in stored.token_hash
    assert len(stored.token_hash) == 64


# Open registration


def test_open_registration_needs_no_invitation_and_ignores_one(settings):
    app = create_app(settings.model_copy(update={"registration": Registration.OPEN}))
    try:
        with TestClient(app, follow_redirects=False) as client:
            assert_html_page(client.get("/register"), 200)
            assert_html_page(client.get("/register?invite=garbled"), 200)
            assert 'href="/register"' in client.get("/login").text
    finally:
        app.state.engine.dispose()


# The `blog invite` command


@pytest.fixture
def cli_database(tmp_path, monkeypatch) -> str:
    database_url = f"sqlite:///{tmp_path / 'blog.db'}"
    monkeypatch.setenv("DATABASE_URL", database_url)
    with engine_on(database_url) as engine:
        upgrade(engine)
    return database_url


def _printed_token(output: str, base: str) -> str:
    link = output.strip()
    assert link.startswith(f"{base}/register?invite=")
    [token] = parse_qs(urlsplit(link).query)["invite"]
    return token


def test_blog_invite_prints_a_link_to_the_local_site_without_base_url(
    cli_database, monkeypatch, capsys
):
    monkeypatch.delenv("BASE_URL", raising=False)

    assert main(["invite"]) == 0

    output, errors = capsys.readouterr()
    token = _printed_token(output, "http://127.0.0.1:8000")
    assert "7 days" in errors
    with engine_on(cli_database) as engine, Session(engine) as session:
        [stored] = session.exec(select(Invite)).all()
    assert stored.used_at is None
    assert token not in stored.token_hash


def test_blog_invite_uses_base_url(cli_database, monkeypatch, capsys):
    monkeypatch.setenv("BASE_URL", "https://blog.example.com/")

    assert main(["invite"]) == 0

    _printed_token(capsys.readouterr().out, "https://blog.example.com")


def test_a_link_from_blog_invite_opens_the_form(cli_database, monkeypatch, capsys):
    monkeypatch.delenv("BASE_URL", raising=False)
    assert main(["invite"]) == 0
    token = _printed_token(capsys.readouterr().out, "http://127.0.0.1:8000")

    settings = Settings(
        database_url=cli_database, secret_key="test-secret", registration=Registration.CLOSED
    )
    app = create_app(settings)
    try:
        with TestClient(app, follow_redirects=False) as client:
            assert _sign_up(client, token).status_code == 303
    finally:
        app.state.engine.dispose()


def test_blog_invite_has_help(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["invite", "--help"])

    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("usage: blog invite")
