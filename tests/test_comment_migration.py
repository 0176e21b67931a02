"""Migration 0010 on both databases: it adds comments to an existing site without touching
its blogs, its triggers keep each blog's count of shown comments through every write
(cascades and suspensions included), and it steps back down cleanly."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, inspect, text

from blog.migrate import current_revision, downgrade, upgrade
from tests.conftest import engine_on, newest_revision

AT = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path) -> Iterator[Engine]:
    """An engine on a new, empty database: a SQLite file, or one on the PostgreSQL server."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'blog.db'}"
    else:
        url = request.getfixturevalue("postgres_database")
    with engine_on(url) as engine:
        yield engine


def _site_at_0008(engine: Engine) -> None:
    upgrade(engine, "0008")
    with engine.begin() as connection:
        connection.execute(
            text(
                'INSERT INTO "user" (id, name, email, password_hash, created_at) VALUES '
                "(1, 'Ada', 'ada@example.com', 'hash', :at), "
                "(2, 'Grace', 'grace@example.com', 'hash', :at)"
            ),
            {"at": AT},
        )
        connection.execute(
            text(
                "INSERT INTO blog (id, title, body, author_id, created_at, updated_at, "
                "published_at, version) VALUES (1, 'One', 'x', 1, :at, :at, :at, 1), "
                "(2, 'Two', 'y', 2, :at, :at, :at, 1)"
            ),
            {"at": AT},
        )


def _run(engine: Engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), {"at": AT})


def _counts(engine: Engine) -> dict[int, int]:
    with engine.connect() as connection:
        return dict(connection.execute(text("SELECT id, comment_count FROM blog")).all())


def _add_comments(engine: Engine, *rows: tuple[int, int, int | None, str]) -> None:
    """Comments as (id, blog id, author id or None for a guest, status)."""
    with engine.begin() as connection:
        for comment_id, blog_id, author_id, status in rows:
            connection.execute(
                text(
                    "INSERT INTO comment (id, blog_id, author_id, guest_name, body, status, "
                    "created_at) VALUES (:id, :blog_id, :author_id, :guest_name, 'Hi', :status, "
                    ":at)"
                ),
                {
                    "id": comment_id,
                    "blog_id": blog_id,
                    "author_id": author_id,
                    "guest_name": "Guest" if author_id is None else None,
                    "status": status,
                    "at": AT,
                },
            )


def test_upgrading_opens_comments_on_every_blog_with_none_counted(engine):
    _site_at_0008(engine)

    upgrade(engine)

    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT id, title, comments_open, comment_count FROM blog ORDER BY id")
        ).all()
    assert [tuple(row) for row in rows] == [(1, "One", True, 0), (2, "Two", True, 0)]


def test_the_count_follows_inserts_approvals_deletions_and_cascades(engine):
    _site_at_0008(engine)
    upgrade(engine)

    _add_comments(
        engine,
        (1, 1, 2, "approved"),
        (2, 1, None, "pending"),
        (3, 1, None, "spam"),
        (4, 2, 1, "approved"),
        (5, 2, 2, "approved"),
    )
    assert _counts(engine) == {1: 1, 2: 2}

    _run(engine, "UPDATE comment SET status = 'approved' WHERE id = 2")
    _run(engine, "UPDATE comment SET body = 'edited' WHERE id = 1")
    assert _counts(engine) == {1: 2, 2: 2}

    _run(engine, "DELETE FROM comment WHERE id = 1")
    assert _counts(engine) == {1: 1, 2: 2}

    # Grace's account goes, and her comment on Ada's blog with it; so does her blog.
    _run(engine, "DELETE FROM blog WHERE author_id = 2", 'DELETE FROM "user" WHERE id = 2')
    assert _counts(engine) == {1: 1}
    with engine.connect() as connection:
        left = connection.execute(text("SELECT id FROM comment ORDER BY id")).scalars().all()
    assert left == [2, 3]


def test_a_suspension_holds_an_accounts_comments_and_a_reinstatement_releases_them(engine):
    _site_at_0008(engine)
    upgrade(engine)
    _add_comments(engine, (1, 1, 2, "approved"), (2, 1, 2, "pending"), (3, 1, 1, "approved"))

    _run(engine, 'UPDATE "user" SET suspended_at = :at WHERE id = 2')
    assert _counts(engine)[1] == 1
    # Approved while suspended, and written while suspended: held all the same.
    _run(engine, "UPDATE comment SET status = 'approved' WHERE id = 2")
    _add_comments(engine, (4, 1, 2, "approved"))
    assert _counts(engine)[1] == 1

    _run(engine, 'UPDATE "user" SET suspended_at = NULL WHERE id = 2')
    assert _counts(engine)[1] == 4
    with engine.connect() as connection:
        statuses = connection.execute(text("SELECT status FROM comment ORDER BY id")).scalars()
        assert list(statuses) == ["approved"] * 4


def test_a_comment_bumps_the_page_caches_change_counter(engine):
    _site_at_0008(engine)
    upgrade(engine)

    def counter() -> int:
        with engine.connect() as connection:
            return connection.execute(text("SELECT value FROM change_counter")).scalar_one()

    before = counter()
    _add_comments(engine, (1, 1, None, "pending"))
    after_insert = counter()
    _run(engine, "UPDATE comment SET body = 'x' WHERE id = 1")
    after_update = counter()
    _run(engine, "DELETE FROM comment WHERE id = 1")

    assert before < after_insert < after_update < counter()


def test_downgrading_0010_keeps_the_blogs_and_leaves_no_trigger_behind(engine):
    _site_at_0008(engine)
    upgrade(engine)
    _add_comments(engine, (1, 1, 2, "approved"))

    downgrade(engine, "0008")

    assert "comment" not in inspect(engine).get_table_names()
    columns = {column["name"] for column in inspect(engine).get_columns("blog")}
    assert not columns & {"comments_open", "comment_count"}
    # No trigger is left to fail a write on the tables that stay.
    _run(
        engine,
        'UPDATE "user" SET suspended_at = :at WHERE id = 2',
        'UPDATE "user" SET suspended_at = NULL WHERE id = 2',
        "DELETE FROM blog WHERE id = 2",
    )
    upgrade(engine)
    assert _counts(engine) == {1: 0}
    # Back at the newest schema (0010, or a later migration on top of it).
    assert current_revision(engine) == newest_revision()
