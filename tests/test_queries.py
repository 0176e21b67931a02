"""Pages that list blogs run a fixed number of queries, however many blogs and authors exist."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from blog.config import Settings


@contextmanager
def _counting_queries(engine) -> Iterator[list[str]]:
    """Collect every SQL statement the engine runs inside the block."""
    statements: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def settings(settings) -> Settings:
    """The page's own queries: no page cache, which adds its own checks (and hides the page's
    queries once a page is kept)."""
    return settings.model_copy(update={"page_cache_bytes": 0})


def _queries_for(app, client, path: str) -> int:
    with _counting_queries(app.state.engine) as statements:
        response = client.get(path)
    assert response.status_code == 200
    return len(statements)


def test_home_page_queries_do_not_grow_with_blogs_by_many_authors(app, client, make_blog):
    for _ in range(3):
        make_blog()
    with_three = _queries_for(app, client, "/")
    for _ in range(17):
        make_blog()

    with_twenty = _queries_for(app, client, "/")

    assert with_twenty == with_three
    assert with_three <= 3


def test_author_page_queries_do_not_grow_with_their_blogs(app, client, make_user, make_blog):
    author = make_user()
    for _ in range(3):
        make_blog(author=author)
    with_three = _queries_for(app, client, f"/users/{author.id}")
    for _ in range(17):
        make_blog(author=author)

    with_twenty = _queries_for(app, client, f"/users/{author.id}")

    assert with_twenty == with_three
    assert with_three <= 4


def test_authors_page_queries_do_not_grow_with_authors(app, client, make_blog):
    for _ in range(3):
        make_blog()
    with_three = _queries_for(app, client, "/users")
    for _ in range(17):
        make_blog()

    with_twenty = _queries_for(app, client, "/users")

    assert with_twenty == with_three
    assert with_three <= 2


def test_home_page_queries_do_not_grow_for_a_logged_in_reader(app, client, logged_in, make_blog):
    for _ in range(3):
        make_blog()
    with_three = _queries_for(app, client, "/")
    for _ in range(17):
        make_blog()

    assert _queries_for(app, client, "/") == with_three
