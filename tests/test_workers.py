"""Several app processes on one database: no state lives in a process, so any can answer, and
no process answers from a page cache that another one's write has made stale."""

import sys
from collections.abc import Iterator
from itertools import cycle

import httpx2
import pytest

from tests.conftest import find_form, running_server

BLOG_COMMAND = [sys.executable, "-c", "import sys; from blog.cli import main; sys.exit(main())"]


def _fetch_form(browser: httpx2.Client, base_url: str, page: str, action: str) -> str:
    response = browser.get(f"{base_url}{page}")
    assert response.status_code == 200, f"{base_url}{page}: {response.status_code}"
    return find_form(response.text, action)[1]


def test_two_workers_serve_one_logged_in_user_alternately(migrated_postgres, tmp_path):
    with (
        running_server(tmp_path, migrated_postgres) as first,
        running_server(tmp_path, migrated_postgres) as second,
        httpx2.Client(follow_redirects=False, timeout=30) as browser,
    ):
        # Sign up on one worker; every later step goes to the other one of the two.
        token = _fetch_form(browser, first, "/register", "/register")
        response = browser.post(
            f"{first}/register",
            data={
                "name": "Wanda",
                "email": "w@example.com",
                "password": "pass-word",
                "csrf_token": token,
            },
        )
        assert response.status_code == 303

        workers = cycle([second, first])
        titles = []
        for number in range(4):
            form_worker, post_worker = next(workers), next(workers)
            # The form (and its CSRF token) from one worker, the post to the other.
            token = _fetch_form(browser, form_worker, "/blogs/new", "/blogs")
            title = f"Written across workers, {number}"
            response = browser.post(
                f"{post_worker}/blogs", data={"title": title, "body": "Hello.", "csrf_token": token}
            )
            assert response.status_code == 303, response.text
            titles.append(title)

        for worker in (first, second):
            home = browser.get(f"{worker}/").text
            assert "Wanda" in home  # logged in here too
            assert all(title in home for title in titles)


def test_blog_serve_with_two_workers_keeps_a_user_logged_in_on_every_request(
    migrated_postgres, tmp_path
):
    command = [*BLOG_COMMAND, "serve", "--workers", "2"]
    with (
        running_server(tmp_path, migrated_postgres, command=command) as base_url,
        httpx2.Client(base_url=base_url, follow_redirects=False, timeout=30) as browser,
    ):
        token = _fetch_form(browser, base_url, "/register", "/register")
        browser.post(
            "/register",
            data={
                "name": "Otto",
                "email": "o@example.com",
                "password": "pass-word",
                "csrf_token": token,
            },
        )
        # Connections are not reused, so the two workers share these requests between them.
        statuses = [
            httpx2.get(f"{base_url}/blogs/new", cookies=browser.cookies).status_code
            for _ in range(20)
        ]
        assert statuses == [200] * 20


@pytest.fixture(params=["sqlite", "postgresql"])
def two_workers(request, tmp_path) -> Iterator[str]:
    """The base URL of `blog serve --workers 2` on each database."""
    if request.param == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'blog.db'}"
    else:
        database_url = request.getfixturevalue("migrated_postgres")
    with running_server(tmp_path, database_url, [*BLOG_COMMAND, "serve", "--workers", "2"]) as url:
        yield url


def test_no_worker_serves_a_kept_page_after_a_write_anywhere(two_workers):
    with httpx2.Client(base_url=two_workers, follow_redirects=False, timeout=30) as writer:
        token = _fetch_form(writer, two_workers, "/register", "/register")
        data = {"name": "Wanda", "email": "w@example.com", "password": "pass-word"}
        assert writer.post("/register", data={**data, "csrf_token": token}).status_code == 303

        for round_number in range(3):
            # Each reader request on a new connection, so both workers answer some.
            before = [httpx2.get(f"{two_workers}/") for _ in range(12)]
            assert any(page.headers.get("x-cache") == "hit" for page in before)

            token = _fetch_form(writer, two_workers, "/blogs/new", "/blogs")
            title = f"Round {round_number}"
            data = {"title": title, "body": "Hello.", "csrf_token": token}
            assert writer.post("/blogs", data=data).status_code == 303

            after = [httpx2.get(f"{two_workers}/").text for _ in range(12)]
            assert all(title in page for page in after)
