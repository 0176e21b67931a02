"""Two app processes serving one SQLite file: a session ended in one is ended in the other, and
failed logins counted by either add up."""

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import httpx2
import pytest

from tests.conftest import find_form, running_server

PER_ACCOUNT = 3
PASSWORD = "a good password"


@dataclass(frozen=True)
class Workers:
    first: str
    second: str


@pytest.fixture(scope="module")
def workers(tmp_path_factory) -> Iterator[Workers]:
    """Two uvicorn processes on one SQLite file, started one after the other (the first
    brings the new file's schema up to date), with login throttling on."""
    directory = tmp_path_factory.mktemp("workers")
    database_url = f"sqlite:///{directory / 'blog.db'}"
    environment = {"LOGIN_FAILURES_PER_ACCOUNT": str(PER_ACCOUNT)}
    with ExitStack() as servers:
        first = servers.enter_context(
            running_server(directory, database_url, environment=environment)
        )
        second = servers.enter_context(
            running_server(directory, database_url, environment=environment)
        )
        yield Workers(first, second)


def _post_form(browser: httpx2.Client, base_url: str, page: str, action: str, data: dict):
    _, token = find_form(browser.get(f"{base_url}{page}").text, action)
    return browser.post(f"{base_url}{action}", data={**data, "csrf_token": token})


def _sign_up(base_url: str, email: str) -> None:
    with httpx2.Client(timeout=30) as browser:
        data = {"name": "Wanda", "email": email, "password": PASSWORD}
        assert _post_form(browser, base_url, "/register", "/register", data).status_code == 303


def _is_logged_in(browser: httpx2.Client, base_url: str) -> bool:
    return browser.get(f"{base_url}/blogs/new").status_code == 200


def test_a_session_logged_out_in_one_worker_is_logged_out_in_the_other(workers):
    _sign_up(workers.first, "wanda@example.com")
    with (
        httpx2.Client(follow_redirects=False, timeout=30) as browser,
        httpx2.Client(follow_redirects=False, timeout=30) as copy,
    ):
        data = {"email": "wanda@example.com", "password": PASSWORD}
        assert _post_form(browser, workers.first, "/login", "/login", data).status_code == 303
        # A copy of the cookie, as a shared computer or a thief would keep it.
        copy.cookies.update(browser.cookies)
        assert _is_logged_in(copy, workers.first)
        assert _is_logged_in(copy, workers.second)

        response = _post_form(browser, workers.second, "/", "/logout", {})

        assert response.status_code == 303
        assert not _is_logged_in(copy, workers.first)
        assert not _is_logged_in(copy, workers.second)


def test_failed_logins_counted_by_both_workers_add_up(workers):
    _sign_up(workers.first, "otto@example.com")
    alternating = [workers.first, workers.second] * PER_ACCOUNT
    with httpx2.Client(follow_redirects=False, timeout=30) as browser:
        wrong = {"email": "otto@example.com", "password": "a wrong password"}
        statuses = [
            _post_form(browser, worker, "/login", "/login", wrong).status_code
            for worker in alternating[:PER_ACCOUNT]
        ]
        right = {"email": "otto@example.com", "password": PASSWORD}
        response = _post_form(browser, alternating[PER_ACCOUNT], "/login", "/login", right)

    assert statuses == [400] * PER_ACCOUNT
    assert response.status_code == 429
    assert "retry-after" in response.headers
