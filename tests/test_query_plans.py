"""The queries behind long lists read an index, never the whole table, on both databases.

Each test opens a page, takes the statement that reads its list (as the app sent it, with its
parameters) and asks the database how it would run it: SQLite's EXPLAIN QUERY PLAN, or
PostgreSQL's EXPLAIN with sequential scans, bitmap scans and sorts priced out (its planner
rightly prefers them for the few rows a test holds; what matters is that an index can serve the
query, in its order).
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import Engine, event

from blog.models import utc_now
from blog.paging import encode_cursor
from tests.conftest import SUITE_ON_POSTGRES


@pytest.fixture
def settings(settings):
    """No page cache: every request here must reach the database, to be seen."""
    return settings.model_copy(update={"page_cache_bytes": 0})


@contextmanager
def _statements(engine: Engine) -> Iterator[list[tuple[str, object]]]:
    sent: list[tuple[str, object]] = []

    def record(connection, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _plan(engine: Engine, statement: str, parameters) -> str:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return "\n".join(row[-1] for row in rows)
        # Whatever can be read in an index's order is then read so: a Sort left in the plan
        # means no index serves the order.
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            connection.exec_driver_sql(f"SET {setting} = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        return "\n".join(row[0] for row in rows)


def _plan_of_page(app, client, path: str, *markers: str, leaving_out: str | None = None) -> str:
    """The plan of the first statement the page sends that holds every marker (and not
    `leaving_out`); table names are compared without their quotes."""
    with _statements(app.state.engine) as sent:
        response = client.get(path)
    assert response.status_code == 200, response.text[:500]
    statement, parameters = next(
        (statement, parameters)
        for statement, parameters in sent
        if all(marker in statement.replace('"', "") for marker in markers)
        and (leaving_out is None or leaving_out not in statement.replace('"', ""))
    )
    return _plan(app.state.engine, statement, parameters)


@pytest.fixture
def blogs(make_user, make_blog):
    """A few published blogs by one author under one tag, a draft and a scheduled one."""
    author = make_user(name="Ada")
    made = [make_blog(author=author, tags=["python"]) for _ in range(3)]
    make_blog(author=author, draft=True, tags=["python"])
    make_blog(author=author, published_at=utc_now() + timedelta(days=1), tags=["python"])
    return made


def _assert_reads(plan: str, *indexes: str) -> None:
    for index in indexes:
        assert re.search(rf"\b{index}\b", plan), f"{index} is not used:\n{plan}"
    # No table read whole, and no sort of the rows read: the index gives their order.
    if SUITE_ON_POSTGRES:
        assert "Seq Scan" not in plan, plan
        # An incremental sort only orders the ties of an index's order (tags by count, name).
        assert not re.search(r"(^|-> +)Sort\b", plan, re.M), plan
    else:
        assert not re.search(r"^SCAN (blog|user|tag|blog_tag)$", plan, re.M), plan
        assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan


# Whether an author has a published blog: SQLite asks the author's index. PostgreSQL, on the
# handful of rows a test has, may ask the published_at index instead, as its statistics (not
# the schema) decide; either is an index read, and a whole-table read still fails.
AUTHOR_HAS_A_BLOG = (
    r"ix_blog_(author_id_)?published_at_id"
    if SUITE_ON_POSTGRES
    else "ix_blog_author_id_published_at_id"
)


def _cursor(blog) -> str:
    return encode_cursor(2, (blog.published_at, blog.id))


def test_the_home_page_reads_the_published_at_index(app, client, blogs):
    plan = _plan_of_page(app, client, "/", "LIMIT")
    _assert_reads(plan, "ix_blog_published_at_id")


def test_a_page_further_on_reads_the_same_index_from_its_cursor(app, client, blogs):
    plan = _plan_of_page(app, client, f"/?before={_cursor(blogs[-1])}", "LIMIT")
    _assert_reads(plan, "ix_blog_published_at_id")


def test_an_author_page_reads_the_author_index(app, client, blogs):
    author_id = blogs[0].author_id
    plan = _plan_of_page(app, client, f"/users/{author_id}?before={_cursor(blogs[-1])}", "LIMIT")
    _assert_reads(plan, "ix_blog_author_id_published_at_id")


def test_a_tag_page_reads_the_tag_links_index(app, client, blogs):
    plan = _plan_of_page(app, client, f"/tags/python?before={_cursor(blogs[-1])}", "LIMIT")
    _assert_reads(plan, "ix_blog_tag_tag_id_published_at_blog_id")


def test_the_authors_page_reads_the_name_index_and_counts_from_the_author_index(app, client, blogs):
    cursor = encode_cursor(2, ("a", 1))
    plan = _plan_of_page(app, client, f"/users?after={cursor}", "LIMIT")
    _assert_reads(plan, "ix_user_name_key_id", "ix_blog_author_id_published_at_id")


def test_the_tags_page_reads_the_count_index(app, client, blogs):
    plan = _plan_of_page(app, client, "/tags", "LIMIT")
    _assert_reads(plan, "ix_tag_dated_blog_count", "ix_blog_tag_tag_id_published_at_blog_id")


def _primary_key(table: str) -> str:
    return f"{table}_pkey" if SUITE_ON_POSTGRES else "PRIMARY KEY"


def test_the_sitemap_index_steps_along_the_primary_keys(app, client, blogs):
    blog_parts = _plan_of_page(app, client, "/sitemap.xml", "RECURSIVE", leaving_out="user")
    author_parts = _plan_of_page(app, client, "/sitemap.xml", "RECURSIVE", "user")

    _assert_reads(blog_parts, _primary_key("blog"))
    _assert_reads(author_parts, _primary_key("user"), AUTHOR_HAS_A_BLOG)


def test_a_sitemap_part_of_blogs_reads_a_range_of_the_primary_key(app, client, blogs):
    plan = _plan_of_page(app, client, "/sitemaps/blogs-1.xml", "blog.id >=")
    _assert_reads(plan, _primary_key("blog"))


def test_a_sitemap_part_of_authors_reads_a_range_of_the_primary_key(app, client, blogs):
    plan = _plan_of_page(app, client, "/sitemaps/authors-1.xml", "user.id >=")
    _assert_reads(plan, _primary_key("user"), AUTHOR_HAS_A_BLOG)


def test_a_search_reads_the_full_text_index_and_blogs_by_primary_key(app, client, blogs):
    plan = _plan_of_page(app, client, "/search?q=words", "candidates")

    if SUITE_ON_POSTGRES:
        assert "ix_blog_search_vector" in plan or "blog_pkey" in plan, plan
        assert "Seq Scan on blog" not in plan, plan
    else:
        assert re.search(r"SCAN blog_search VIRTUAL TABLE INDEX \d+:M", plan), plan
        assert "SEARCH blog USING INTEGER PRIMARY KEY" in plan, plan
        assert not re.search(r"^SCAN blog$", plan, re.M), plan


def test_a_numbered_tag_page_skips_through_the_tag_index_alone(app, client, make_user, make_blog):
    author = make_user()
    for _ in range(21):
        make_blog(author=author, tags=["python"])

    plan = _plan_of_page(app, client, "/tags/python?page=2", "OFFSET")

    _assert_reads(plan, "ix_blog_tag_tag_id_published_at_blog_id")
    if SUITE_ON_POSTGRES:
        assert "on blog " not in plan, plan
    else:
        assert "COVERING INDEX ix_blog_tag_tag_id_published_at_blog_id" in plan, plan
        assert not re.search(r"^SEARCH blog ", plan, re.M), plan
