"""A forgotten password by mail: /reset mails a one-time link through a real SMTP server
(aiosmtpd, started here), and answers the same whether or not the account exists."""

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import quote, urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from fastapi.testclient import TestClient

from blog.app import create_app
from blog.config import Settings
from blog.models import Attempt
from tests.conftest import (
    DEFAULT_PASSWORD,
    assert_html_page,
    count_rows,
    field_error,
    submit_form,
)

SMTP_USER = "blog"
SMTP_PASSWORD = "p@ss word:/"  # characters an address must escape
SENDER = "Blog <no-reply@example.com>"
ANSWER = "If an account has that email, a link to set a new password is on its way to it."


@dataclass
class Inbox:
    """What the SMTP server received, and who logged in to it."""

    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd calls it by this name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    """An SMTP server on 127.0.0.1 that asks for a login (over plain SMTP, as a test may) and
    keeps every message; the inbox and the server's port."""
    received = Inbox()
    port = _free_port()
    controller = Controller(
        received,
        hostname="127.0.0.1",
        port=port,
        authenticator=received.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield received, port
    finally:
        controller.stop()


@pytest.fixture
def settings(settings, inbox) -> Settings:
    _, port = inbox
    smtp_url = f"smtp://{SMTP_USER}:{quote(SMTP_PASSWORD, safe='')}@127.0.0.1:{port}"
    return settings.model_copy(
        update={"smtp_url": smtp_url, "mail_from": SENDER, "base_url": "http://testserver"}
    )


def ask_for_a_link(client, email: str):
    return submit_form(client, "/reset", {"email": email})


def link_in(message: EmailMessage) -> str:
    (link,) = [word for word in message.get_content().split() if "/reset/" in word]
    return link


def test_the_login_page_offers_a_reset_by_mail(client):
    page = client.get("/login").text

    assert '<a href="/reset">Forgot your password?</a>' in page


def test_the_reset_page_asks_for_an_email(client):
    response = client.get("/reset")

    assert_html_page(response, 200)
    assert 'name="email"' in response.text


def test_asking_for_a_link_mails_it_to_the_account(client, inbox, make_user):
    received, _ = inbox
    user = make_user(email="ada@example.com")

    response = ask_for_a_link(client, "Ada@Example.com")

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert ANSWER in client.get("/login").text
    (message,) = received.messages
    assert message["To"] == user.email
    assert message["From"] == SENDER
    assert link_in(message).startswith("http://testserver/reset/")
    assert received.logins == [(SMTP_USER, SMTP_PASSWORD)]


def test_the_mailed_link_sets_a_new_password(client, inbox, make_user):
    received, _ = inbox
    user = make_user()
    ask_for_a_link(client, user.email)
    path = urlsplit(link_in(received.messages[0])).path

    response = submit_form(client, path, {"new_password": "a brand new password"}, action=path)

    assert response.status_code == 303
    login = submit_form(client, "/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert login.status_code == 400


def test_an_unknown_email_gets_the_same_answer_and_no_mail(client, inbox, make_user):
    received, _ = inbox
    known = make_user()

    unknown_answer = ask_for_a_link(client, "nobody@example.com")
    unknown_page = client.get("/login").text
    known_answer = ask_for_a_link(client, known.email)
    known_page = client.get("/login").text

    assert (unknown_answer.status_code, unknown_answer.headers["location"]) == (
        known_answer.status_code,
        known_answer.headers["location"],
    )
    assert ANSWER in unknown_page
    assert ANSWER in known_page
    assert [message["To"] for message in received.messages] == [known.email]


def test_a_bad_email_is_refused_at_its_field(client, inbox):
    received, _ = inbox

    response = ask_for_a_link(client, "not an email")

    assert_html_page(response, 422)
    assert field_error(response.text, "email")
    assert received.messages == []


def test_one_email_gets_at_most_three_mails_an_hour_and_the_same_answer(client, inbox, make_user):
    received, _ = inbox
    user = make_user()

    answers = [ask_for_a_link(client, user.email) for _ in range(5)]

    assert {(answer.status_code, answer.headers["location"]) for answer in answers} == {
        (303, "/login")
    }
    assert len(received.messages) == 3


def test_an_unreachable_mail_server_still_gets_the_same_answer(
    settings, make_user, session, caplog
):
    user = make_user()
    app = create_app(settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{_free_port()}"}))
    try:
        with TestClient(app, follow_redirects=False) as client:
            response = ask_for_a_link(client, user.email)
    finally:
        app.state.engine.dispose()

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "Could not send mail through 127.0.0.1" in caplog.text
    assert count_rows(session, Attempt) == 1
