"""The page cache: anonymous readers get kept pages, never stale ones and never anyone else's."""

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from blog.app import create_app
from blog.changes import PostgresCounter, SqliteCommits
from blog.config import Settings
from blog.migrate import upgrade
from blog.models import Blog, utc_now
from tests.conftest import (
    csrf_token_of,
    engine_on,
    log_in,
    run_coroutine,
    signed_in_name,
    submit_form,
)

HIT = "hit"


def cached(response) -> bool:
    return response.headers.get("x-cache") == HIT


def warm(client: TestClient, path: str) -> str:
    """Fetch a page until it comes from the cache; its text."""
    client.get(path)
    response = client.get(path)
    assert response.status_code == 200
    assert cached(response), f"{path} was not kept"
    return response.text


@contextmanager
def another_worker(settings: Settings) -> Iterator[TestClient]:
    """A second app on the same database, as a second worker process would be."""
    app = create_app(settings)
    try:
        with TestClient(app, follow_redirects=False) as client:
            yield client
    finally:
        app.state.engine.dispose()


@pytest.fixture
def reader(app) -> Iterator[TestClient]:
    """A visitor who never logs in and so never holds a session cookie."""
    with TestClient(app, follow_redirects=False) as client:
        yield client


def test_an_anonymous_page_is_answered_from_the_cache_the_second_time(reader, make_blog):
    blog = make_blog(title="Kept")

    first, second = reader.get(blog.path), reader.get(blog.path)

    assert not cached(first)
    assert cached(second)
    assert second.text == first.text
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "path", ["/", "/tags", "/users", "/feed.xml", "/sitemap.xml", "/robots.txt", "/tags/python"]
)
def test_public_pages_are_kept_and_never_carry_a_cookie(reader, make_blog, path):
    make_blog(tags=["python"])

    warm(reader, path)

    assert "set-cookie" not in reader.get(path).headers


def test_a_kept_page_answers_a_matching_if_none_match_with_304(reader, make_blog):
    make_blog()
    etag = reader.get("/").headers["etag"]

    response = reader.get("/", headers={"if-none-match": etag})

    assert response.status_code == 304
    assert cached(response)
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert "content-type" not in response.headers


def test_head_of_a_kept_page_has_no_body(reader, make_blog):
    make_blog()
    warm(reader, "/")

    response = reader.head("/")

    assert response.status_code == 200
    assert response.content == b""


def test_a_logged_in_visitor_gets_their_own_page_not_the_kept_one(app, reader, client, make_user):
    warm(reader, "/")
    user = make_user(name="Grace")
    log_in(client, user)

    response = client.get("/")

    assert not cached(response)
    assert signed_in_name(response.text) == "Grace"
    assert signed_in_name(reader.get("/").text) is None


def test_a_page_that_gives_the_visitor_a_cookie_is_not_kept(app):
    for _ in range(2):
        with TestClient(app) as newcomer:
            response = newcomer.get("/login")
            assert "set-cookie" in response.headers
            assert not cached(response)


def test_a_flash_message_is_shown_only_to_its_visitor(reader, client, logged_in):
    warm(reader, "/")
    client.post("/logout", data={"csrf_token": csrf_token_of(client)})

    page = client.get("/")

    assert "You are logged out." in page.text
    assert "You are logged out." not in reader.get("/").text


def test_error_pages_and_redirects_are_not_kept(reader, make_blog):
    blog = make_blog()
    for path in ("/no-such-page", f"/blogs/{blog.id}"):
        reader.get(path)
        assert not cached(reader.get(path))


def test_a_host_that_is_not_allowed_gets_its_400_even_for_a_kept_page(database_url, make_blog):
    make_blog()
    app = create_app(Settings(database_url=database_url, secret_key="k", allowed_hosts="a.test"))
    try:
        with TestClient(app, follow_redirects=False) as reader:
            reader.headers["host"] = "a.test"
            warm(reader, "/")
            assert reader.get("/", headers={"host": "evil.example"}).status_code == 400
    finally:
        app.state.engine.dispose()


def test_pages_for_another_host_are_kept_apart(reader, make_blog):
    blog = make_blog()
    warm(reader, blog.path)

    other = reader.get(blog.path, headers={"host": "other.example"})

    assert not cached(other)
    assert 'href="http://other.example/blogs/' in other.text


# Never stale: a write through one worker shows on the very next request to another.


Write = Callable[[TestClient, Blog], None]


def _create(author: TestClient, blog: Blog) -> None:
    data = {"title": "Freshly written", "body": "New.", "tags": "garden"}
    submit_form(author, "/blogs/new", data, "/blogs")


def _edit(author: TestClient, blog: Blog) -> None:
    page = f"/blogs/{blog.id}/edit"
    data = {"title": "Freshly written", "body": "Changed.", "tags": "garden"}
    submit_form(author, page, data, page)


def _unpublish(author: TestClient, blog: Blog) -> None:
    page = f"/blogs/{blog.id}/edit"
    data = {"title": blog.title, "body": blog.body, "status": "draft"}
    submit_form(author, page, data, page)


def _delete(author: TestClient, blog: Blog) -> None:
    submit_form(author, f"/blogs/{blog.id}/delete", {}, f"/blogs/{blog.id}/delete")


def _rename(author: TestClient, blog: Blog) -> None:
    page = f"/users/{blog.author_id}/edit"
    data = {"name": "Freshly written", "email": f"renamed{blog.author_id}@example.com"}
    submit_form(author, page, data, page)


def _delete_account(author: TestClient, blog: Blog) -> None:
    page = f"/users/{blog.author_id}/delete"
    submit_form(author, page, {"password": "correct horse battery"}, page)


# What each write must change on a page: a text that must appear, or one that must go.
WRITES = [
    (_create, "Freshly written", True),
    (_edit, "Freshly written", True),
    (_rename, "Freshly written", True),
    (_unpublish, "First title", False),
    (_delete, "First title", False),
    (_delete_account, "First title", False),
]


@pytest.mark.parametrize(
    ("write", "text", "shown"),
    WRITES,
    ids=["create", "edit", "rename", "unpublish", "delete", "delete account"],
)
# The sitemap's part that lists the blog: /sitemap.xml, the index of parts, stays the same.
@pytest.mark.parametrize("path", ["/", "/feed.xml", "/tags/garden", "/sitemaps/blogs-1.xml"])
def test_a_write_through_another_worker_shows_on_the_next_request(
    settings, reader, make_user, make_blog, write, text, shown, path
):
    author = make_user(name="Ada")
    blog = make_blog(author=author, title="First title", tags=["garden"])
    before = warm(reader, path)
    if path == "/sitemaps/blogs-1.xml" and write is _rename:
        pytest.skip("the sitemap names no authors")
    assert "Freshly written" not in before

    with another_worker(settings) as worker:
        log_in(worker, author)
        write(worker, blog)

    after = reader.get(path)

    assert not cached(after)
    if path == "/sitemaps/blogs-1.xml":
        assert after.text != before
    else:
        assert (text in after.text) is shown


def test_a_renamed_author_shows_in_the_authors_list_on_the_next_request(
    settings, reader, make_user, make_blog
):
    author = make_user(name="Ada")
    blog = make_blog(author=author)
    assert "Ada" in warm(reader, "/users")

    with another_worker(settings) as worker:
        log_in(worker, author)
        _rename(worker, blog)

    assert "Freshly written" in reader.get("/users").text


def test_publishing_a_draft_shows_it_on_the_next_request(settings, reader, make_user, make_blog):
    author = make_user()
    draft = make_blog(author=author, title="Out now", draft=True)
    assert "Out now" not in warm(reader, "/")

    with another_worker(settings) as worker:
        log_in(worker, author)
        page = f"/blogs/{draft.id}/edit"
        submit_form(worker, page, {"title": "Out now", "body": "Hi.", "status": "published"}, page)

    assert "Out now" in reader.get("/").text


def test_a_scheduled_blog_appears_at_its_time_without_any_write(reader, make_blog):
    # Far enough ahead that warming the cache is done before it on a busy machine.
    due = utc_now() + timedelta(seconds=4)
    make_blog(title="Right on time", published_at=due)
    assert "Right on time" not in warm(reader, "/")

    time.sleep(max(0.0, (due - utc_now()).total_seconds()) + 0.05)

    assert "Right on time" in reader.get("/").text


# Bounded


def test_the_cache_keeps_within_its_byte_bound(database_url, make_blog):
    for number in range(30):
        make_blog(title=f"Blog number {number}", body="Words. " * 200)
    bound = 40_000
    app = create_app(Settings(database_url=database_url, secret_key="k", page_cache_bytes=bound))
    try:
        with TestClient(app) as reader:
            for page in range(1, 3):
                reader.get(f"/?page={page}")
            for blog_id in range(1, 31):
                reader.get(f"/blogs/{blog_id}")
                reader.get(
                    reader.get(f"/blogs/{blog_id}", follow_redirects=False).headers["location"]
                )
            store = app.state.page_cache
            assert 0 < store.size <= bound
            assert store.size == sum(page.size for page in store.pages.values())
    finally:
        app.state.engine.dispose()


def test_a_bound_of_zero_turns_the_cache_off(database_url, make_blog):
    make_blog()
    app = create_app(Settings(database_url=database_url, secret_key="k", page_cache_bytes=0))
    try:
        with TestClient(app) as reader:
            responses = [reader.get("/") for _ in range(3)]
    finally:
        app.state.engine.dispose()

    assert not any(cached(response) for response in responses)


# In front of everything


def test_a_kept_page_is_answered_without_entering_the_app(app, reader):
    warm(reader, "/")

    async def app_that_must_not_be_reached(scope, receive, send):
        raise AssertionError(f"the app was asked for {scope['path']}")

    front_door = app.middleware_stack
    front_door.app = app_that_must_not_be_reached
    response = reader.get("/")

    assert response.status_code == 200
    assert cached(response)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-request-id"]


def test_a_head_keeps_the_full_page_for_the_next_get(reader, make_blog):
    make_blog(title="Kept by a HEAD")
    assert reader.head("/").content == b""

    response = reader.get("/")

    assert cached(response)
    assert "Kept by a HEAD" in response.text


def test_a_kept_page_never_carries_the_request_id_of_the_request_that_drew_it(reader, make_blog):
    make_blog()
    first = reader.get("/", headers={"x-request-id": "drawn-1"})

    second = reader.get("/", headers={"x-request-id": "served-2"})

    assert first.headers["x-request-id"] == "drawn-1"
    assert cached(second)
    assert second.headers.get_list("x-request-id") == ["served-2"]


# How a change is seen: the WAL-index on SQLite, one query for many requests on PostgreSQL


def _bump(database_url: str) -> None:
    """A write from another process's connection, as the `blog` command would make one."""
    with engine_on(database_url) as engine, engine.begin() as connection:
        connection.execute(text("UPDATE change_counter SET value = value + 1"))


def test_sqlite_commits_from_another_connection_are_seen_and_nothing_else(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'blog.db'}"
    with engine_on(database_url) as engine:
        upgrade(engine)
    commits = SqliteCommits(tmp_path / "blog.db")
    try:
        commits.anything_committed()  # the first look
        assert not commits.anything_committed()

        _bump(database_url)

        assert commits.anything_committed()
        assert not commits.anything_committed()
    finally:
        commits.close()


def test_a_postgresql_read_sent_after_a_commit_sees_it_even_with_one_on_its_way(
    migrated_postgres,
):
    async def reads() -> tuple[int | None, int | None]:
        with engine_on(migrated_postgres) as engine:
            counter = PostgresCounter(engine, connect_timeout=5)
            try:
                before = await counter.read()
                on_its_way = asyncio.ensure_future(counter.read())
                for _ in range(2):  # the loop starts that read, then sends its query
                    await asyncio.sleep(0)
                # Blocking the loop: that query's answer (most likely the old value) waits
                # unread while the commit returns.
                _bump(migrated_postgres)
                after = await counter.read()
                assert await on_its_way in (before, after)
            finally:
                counter.close()
        return before, after

    before, after = run_coroutine(reads())

    assert before is not None and after == before + 1


def test_the_cache_recovers_when_postgresql_drops_its_connection(migrated_postgres, make_blog):
    app = create_app(Settings(database_url=migrated_postgres, secret_key="k"))
    try:
        with TestClient(app) as reader:
            warm(reader, "/")
            with engine_on(migrated_postgres) as engine, engine.begin() as connection:
                dropped = connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE query = 'SELECT value FROM change_counter'"
                    )
                ).all()
            assert dropped

            responses = [reader.get("/") for _ in range(3)]

            assert all(response.status_code == 200 for response in responses)
            assert cached(responses[-1])
    finally:
        app.state.engine.dispose()
