"""The API's errors across every operation: tokens that are not valid, too-large bodies and
the per-token rate limit, each as application/problem+json."""

from datetime import timedelta

import pytest
from sqlmodel import select

from blog.api import MAX_BODY_BYTES
from blog.config import Settings
from blog.models import ApiToken, Blog
from tests.api_helpers import assert_problem, bearer, make_token
from tests.conftest import count_rows


@pytest.fixture
def token(session, make_user) -> str:
    return make_token(session, make_user())


@pytest.mark.parametrize(
    "authorization",
    ["Bearer blog_" + "x" * 43, "Bearer not-even-a-token", "Basic dXNlcjpwYXNz", "Bearer", ""],
)
def test_a_token_that_is_not_valid_is_a_401_even_for_reads(client, authorization):
    response = client.get("/api/v1/blogs", headers={"Authorization": authorization})

    problem = assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "token" in problem["detail"]


def test_a_body_declared_too_large_is_a_413_problem_before_it_is_read(client, token, session):
    response = client.post(
        "/api/v1/blogs",
        content=b"{}",
        headers={**bearer(token), "Content-Type": "application/json",
                 "Content-Length": str(MAX_BODY_BYTES + 1)},
    )  # fmt: skip

    assert_problem(response, 413)
    assert count_rows(session, Blog) == 0


def test_a_body_sent_without_a_length_is_cut_off_at_the_limit(client, token, session):
    def chunks():
        yield b'{"title": "Big", "body": "'
        for _ in range(MAX_BODY_BYTES // 65536 + 1):
            yield b"x" * 65536
        yield b'"}'

    response = client.post(
        "/api/v1/blogs",
        content=chunks(),
        headers={**bearer(token), "Content-Type": "application/json"},
    )

    assert_problem(response, 413)
    assert count_rows(session, Blog) == 0


def test_a_body_too_large_for_a_read_is_a_413_problem_too(client):
    response = client.request(
        "GET", "/api/v1/blogs", headers={"Content-Length": str(MAX_BODY_BYTES + 1)}, content=b""
    )

    assert_problem(response, 413)


def test_the_longest_valid_blog_fits(client, token):
    body = {"title": "t" * 200, "body": "é" * 100_000}

    response = client.post("/api/v1/blogs", json=body, headers=bearer(token))

    assert response.status_code == 201


@pytest.mark.settings(api_requests_per_minute=3)
def test_a_token_past_its_requests_per_minute_gets_429_with_retry_after(client, token):
    statuses = [client.get("/api/v1/me", headers=bearer(token)).status_code for _ in range(3)]

    response = client.get("/api/v1/blogs", headers=bearer(token))

    assert statuses == [200, 200, 200]
    assert_problem(response, 429)
    assert 1 <= int(response.headers["retry-after"]) <= 60


@pytest.mark.settings(api_requests_per_minute=1)
def test_the_limit_is_per_token(client, token, session, make_user):
    client.get("/api/v1/me", headers=bearer(token))
    other = make_token(session, make_user())

    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 200
    assert_problem(client.get("/api/v1/me", headers=bearer(token)), 429)


@pytest.mark.settings(api_requests_per_minute=1)
def test_a_new_minute_starts_a_new_count(client, token, session):
    client.get("/api/v1/me", headers=bearer(token))
    stored = session.exec(select(ApiToken)).one()
    stored.window_started_at = stored.window_started_at - timedelta(minutes=1)
    session.add(stored)
    session.commit()

    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200


@pytest.mark.settings(api_requests_per_minute=0)
def test_zero_turns_the_limit_off(client, token):
    statuses = {client.get("/api/v1/me", headers=bearer(token)).status_code for _ in range(5)}

    assert statuses == {200}


def test_the_rate_limit_is_on_by_default():
    assert Settings().api_requests_per_minute == 600


def test_a_method_the_address_does_not_take_is_a_405_naming_those_it_does(client):
    response = client.put("/api/v1/blogs/1")

    assert_problem(response, 405)
    assert response.headers["allow"] == "DELETE, GET, PATCH"


def test_an_address_only_the_site_could_take_is_still_a_problem_not_a_page(client):
    # A newline in the path is not taken by the API's mount, so the site's own 404 answers.
    assert_problem(client.get("/api/v1/tags/a%0Ab/blogs"), 404)
    assert_problem(client.get("/api/v1/"), 404)
