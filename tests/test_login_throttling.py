"""Failed logins are counted in the database, per email from one address and per address:
past a limit, logging in from there waits, without the password being looked at."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from blog.app import create_app
from blog.config import Settings
from blog.models import Attempt, User, utc_now
from tests.conftest import (
    DEFAULT_PASSWORD,
    assert_html_page,
    count_rows,
    field_value,
    find_form,
)

PER_ACCOUNT = 3
PER_ADDRESS = 7
ADDRESS = "203.0.113.7"
WRONG_PASSWORD = "a wrong password"


@pytest.fixture
def settings(settings) -> Settings:
    return settings.model_copy(
        update={
            "login_failures_per_account": PER_ACCOUNT,
            "login_failures_per_address": PER_ADDRESS,
        }
    )


def from_address(app, address: str = ADDRESS) -> TestClient:
    return TestClient(app, follow_redirects=False, client=(address, 50000))


def log_in_as(client: TestClient, email: str, password: str = WRONG_PASSWORD):
    _, token = find_form(client.get("/login").text, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def fail(client: TestClient, email: str, times: int) -> list[int]:
    return [log_in_as(client, email).status_code for _ in range(times)]


def test_failures_up_to_the_limit_are_answered_as_wrong_passwords(app, make_user):
    user = make_user()
    with from_address(app) as client:
        assert fail(client, user.email, PER_ACCOUNT) == [400] * PER_ACCOUNT


def test_past_the_account_limit_even_the_right_password_gets_429_and_a_retry_after(app, make_user):
    user = make_user()
    with from_address(app) as client:
        fail(client, user.email, PER_ACCOUNT)
        response = log_in_as(client, user.email, DEFAULT_PASSWORD)

    assert_html_page(response, 429)
    assert 14 * 60 < int(response.headers["retry-after"]) <= 15 * 60
    assert "Too many failed logins. Try again in 15 minutes." in response.text
    assert field_value(response.text, "email") == user.email
    assert "Wrong email or password" not in response.text


def test_the_throttled_answer_does_not_log_in(app, make_user):
    user = make_user()
    with from_address(app) as client:
        fail(client, user.email, PER_ACCOUNT)
        log_in_as(client, user.email, DEFAULT_PASSWORD)

        assert client.get("/blogs/new").status_code == 303


def test_an_unknown_email_is_throttled_the_same_way(app):
    with from_address(app) as client:
        statuses = fail(client, "nobody@example.com", PER_ACCOUNT + 1)

    assert statuses == [400] * PER_ACCOUNT + [429]


def test_the_account_can_still_log_in_from_another_address(app, make_user):
    user = make_user()
    with from_address(app) as attacker:
        fail(attacker, user.email, PER_ACCOUNT)
    with from_address(app, "198.51.100.9") as owner:
        assert log_in_as(owner, user.email, DEFAULT_PASSWORD).status_code == 303


def test_another_account_can_still_log_in_from_the_same_address(app, make_user):
    user, neighbour = make_user(), make_user()
    with from_address(app) as client:
        fail(client, user.email, PER_ACCOUNT)
        assert log_in_as(client, neighbour.email, DEFAULT_PASSWORD).status_code == 303


def test_a_successful_login_clears_that_accounts_count(app, make_user):
    user = make_user()
    with from_address(app) as client:
        fail(client, user.email, PER_ACCOUNT - 1)
        assert log_in_as(client, user.email, DEFAULT_PASSWORD).status_code == 303
        statuses = fail(client, user.email, PER_ACCOUNT - 1)
        response = log_in_as(client, user.email, DEFAULT_PASSWORD)

    assert statuses == [400] * (PER_ACCOUNT - 1)
    assert response.status_code == 303


def test_past_the_address_limit_every_login_from_it_gets_429(app, make_user):
    user = make_user()
    with from_address(app) as client:
        statuses = [
            log_in_as(client, f"guess{n}@example.com").status_code for n in range(PER_ADDRESS)
        ]
        response = log_in_as(client, user.email, DEFAULT_PASSWORD)

    assert statuses == [400] * PER_ADDRESS
    assert_html_page(response, 429)
    assert "retry-after" in response.headers
    with from_address(app, "198.51.100.9") as elsewhere:
        assert log_in_as(elsewhere, user.email, DEFAULT_PASSWORD).status_code == 303


def test_failures_older_than_15_minutes_do_not_count(app, session, make_user):
    user = make_user()
    long_ago = utc_now() - timedelta(minutes=15, seconds=1)
    for _ in range(PER_ACCOUNT):
        session.add(
            Attempt(action="failed-login", key=f"{ADDRESS} {user.email}", created_at=long_ago)
        )
    session.commit()

    with from_address(app) as client:
        assert log_in_as(client, user.email, DEFAULT_PASSWORD).status_code == 303


def test_old_counts_are_cleaned_up_by_the_next_failure(app, session):
    session.add(
        Attempt(
            action="failed-login",
            key="198.51.100.9 a@example.com",
            created_at=utc_now() - timedelta(days=2),
        )
    )
    session.commit()

    with from_address(app) as client:
        fail(client, "nobody@example.com", 1)

    # One failure counts twice: for the email from this address, and for the address.
    assert count_rows(session, Attempt) == 2


def test_a_form_that_is_not_filled_in_is_not_counted(app, session):
    with from_address(app) as client:
        _, token = find_form(client.get("/login").text, "/login")
        response = client.post("/login", data={"email": "", "password": "", "csrf_token": token})

    assert response.status_code == 422
    assert count_rows(session, Attempt) == 0


def test_limits_of_zero_turn_the_throttle_off(database_url, session, make_user):
    user = make_user()
    app = create_app(
        Settings(
            database_url=database_url,
            secret_key="k",
            login_failures_per_account=0,
            login_failures_per_address=0,
        )
    )
    try:
        with from_address(app) as client:
            statuses = fail(client, user.email, PER_ADDRESS + 1)
            response = log_in_as(client, user.email, DEFAULT_PASSWORD)
    finally:
        app.state.engine.dispose()

    assert statuses == [400] * (PER_ADDRESS + 1)
    assert response.status_code == 303
    assert count_rows(session, Attempt) == 0


def test_the_count_is_shared_by_every_app_on_the_database(settings, make_user):
    user = make_user()
    first, second = create_app(settings), create_app(settings)
    try:
        with from_address(first) as one, from_address(second) as two:
            statuses = [
                log_in_as(client, user.email).status_code for client in [one, two, one, two]
            ]
    finally:
        first.state.engine.dispose()
        second.state.engine.dispose()

    assert statuses == [400, 400, 400, 429]


# Other forms that ask for the password count as guesses too


def _log_in_from(client: TestClient, user) -> None:
    assert log_in_as(client, user.email, DEFAULT_PASSWORD).status_code == 303


def _change_password(client: TestClient, current: str):
    _, token = find_form(client.get("/account/password").text, "/account/password")
    data = {
        "current_password": current,
        "new_password": "a brand new password",
        "csrf_token": token,
    }
    return client.post("/account/password", data=data)


def test_wrong_passwords_on_the_password_form_count_like_failed_logins(app, make_user):
    user = make_user()
    with from_address(app) as client:
        _log_in_from(client, user)
        statuses = [
            _change_password(client, "a wrong guess").status_code for _ in range(PER_ACCOUNT)
        ]
        response = _change_password(client, DEFAULT_PASSWORD)

    assert statuses == [422] * PER_ACCOUNT
    assert_html_page(response, 429)
    assert "Too many wrong passwords." in response.text
    assert "retry-after" in response.headers
    with from_address(app) as other:
        assert log_in_as(other, user.email, DEFAULT_PASSWORD).status_code == 429


def test_wrong_passwords_on_the_delete_form_count_like_failed_logins(app, make_user, session):
    user = make_user()
    path = f"/users/{user.id}/delete"
    with from_address(app) as client:
        _log_in_from(client, user)
        fail(client, user.email, PER_ACCOUNT)
        _, token = find_form(client.get(path).text, path)
        response = client.post(path, data={"password": DEFAULT_PASSWORD, "csrf_token": token})

    assert_html_page(response, 429)
    assert count_rows(session, User) == 1
