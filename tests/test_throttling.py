"""Limits per address, counted in the database: sign-ups (and the email-taken answers that
tell a stranger an account exists)."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from blog.app import create_app
from blog.config import Settings
from blog.models import Attempt, User, utc_now
from tests.conftest import assert_html_page, count_rows, field_value, find_form

LIMIT = 3


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings(database_url=database_url, secret_key="k", registrations_per_address=LIMIT)


def register(client: TestClient, email: str, name: str = "Ada"):
    _, token = find_form(client.get("/register").text, "/register")
    data = {"name": name, "email": email, "password": "a-good-password", "csrf_token": token}
    return client.post("/register", data=data)


def sign_ups_from(app, address: str) -> TestClient:
    return TestClient(app, follow_redirects=False, client=(address, 50000))


def test_sign_ups_up_to_the_limit_are_accepted(app):
    with sign_ups_from(app, "203.0.113.7") as client:
        statuses = [register(client, f"ada{n}@example.com").status_code for n in range(LIMIT)]

    assert statuses == [303] * LIMIT


def test_one_more_sign_up_gets_429_with_retry_after_and_the_typed_text_kept(app, session):
    with sign_ups_from(app, "203.0.113.7") as client:
        for number in range(LIMIT):
            register(client, f"ada{number}@example.com")
        response = register(client, "grace@example.com", name="Grace")

    assert_html_page(response, 429)
    assert 3000 < int(response.headers["retry-after"]) <= 3600
    assert "Too many sign-ups" in response.text
    assert "Try again in 60 minutes" in response.text
    assert field_value(response.text, "name") == "Grace"
    assert field_value(response.text, "email") == "grace@example.com"
    assert "a-good-password" not in response.text
    assert count_rows(session, User) == LIMIT


def test_email_taken_answers_count_so_emails_cannot_be_probed_without_end(app, make_user):
    taken = make_user(email="taken@example.com")
    with sign_ups_from(app, "203.0.113.7") as client:
        refusals = [register(client, taken.email).status_code for _ in range(LIMIT)]
        response = register(client, taken.email)

    assert refusals == [422] * LIMIT
    assert_html_page(response, 429)
    assert "already exists" not in response.text


def test_another_address_is_not_held_back(app):
    with sign_ups_from(app, "203.0.113.7") as client:
        for number in range(LIMIT):
            register(client, f"ada{number}@example.com")
    with sign_ups_from(app, "198.51.100.9") as other:
        assert register(other, "grace@example.com").status_code == 303


def test_sign_ups_older_than_an_hour_do_not_count(app, session):
    an_hour_ago = utc_now() - timedelta(hours=1, seconds=1)
    for _ in range(LIMIT):
        session.add(Attempt(action="register", key="203.0.113.7", created_at=an_hour_ago))
    session.commit()

    with sign_ups_from(app, "203.0.113.7") as client:
        assert register(client, "ada@example.com").status_code == 303


def test_counts_older_than_a_day_are_cleaned_up_by_the_next_one(app, session):
    session.add(
        Attempt(action="register", key="198.51.100.9", created_at=utc_now() - timedelta(days=2))
    )
    session.commit()

    with sign_ups_from(app, "203.0.113.7") as client:
        register(client, "ada@example.com")

    assert count_rows(session, Attempt) == 1


def test_the_count_is_shared_by_every_worker_on_the_database(settings, session):
    first, second = create_app(settings), create_app(settings)
    try:
        with (
            sign_ups_from(first, "203.0.113.7") as one,
            sign_ups_from(second, "203.0.113.7") as two,
        ):
            statuses = [
                register(client, f"ada{number}@example.com").status_code
                for number, client in enumerate([one, two, one, two])
            ]
    finally:
        first.state.engine.dispose()
        second.state.engine.dispose()

    assert statuses == [303, 303, 303, 429]


def test_a_limit_of_zero_turns_the_throttle_off(database_url, session):
    app = create_app(
        Settings(database_url=database_url, secret_key="k", registrations_per_address=0)
    )
    try:
        with sign_ups_from(app, "203.0.113.7") as client:
            statuses = {
                register(client, f"ada{n}@example.com").status_code for n in range(LIMIT + 2)
            }
    finally:
        app.state.engine.dispose()

    assert statuses == {303}
    assert count_rows(session, Attempt) == 0
