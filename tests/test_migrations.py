"""Alembic migrations own the schema: they agree with the models, keep data both ways, bring
old and new databases to the newest schema, and the app upgrades SQLite (only) by itself."""

import gc
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, inspect, select, text
from sqlmodel import Session, SQLModel

from blog.app import create_app
from blog.cli import main
from blog.config import Settings
from blog.migrate import (
    SchemaBehind,
    current_revision,
    downgrade,
    ensure_schema,
    include_object,
    upgrade,
)
from blog.models import Blog, User
from tests.conftest import PROJECT_ROOT, engine_on, newest_revision

FIRST_REVISION = "0001"
TABLES = ("user", "blog")


@pytest.fixture(autouse=True)
def _collect_garbage() -> Iterator[None]:
    """Collect after each test, so a connection someone left open fails the test that left it."""
    yield
    gc.collect()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path) -> str:
    """The URL of a new, empty database: a SQLite file, or one on the PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'blog.db'}"
    return request.getfixturevalue("postgres_database")


def _differences(engine: Engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "include_object": include_object},
        )
        return compare_metadata(context, SQLModel.metadata)


def _rows(engine: Engine) -> dict[str, list[dict]]:
    """Every row of the blog's tables, read through the schema the database has now."""
    with engine.connect() as connection:
        metadata = MetaData()
        metadata.reflect(bind=connection, only=TABLES)
        return {
            name: [
                dict(row._mapping)
                for row in connection.execute(
                    select(metadata.tables[name]).order_by(metadata.tables[name].c.id)
                )
            ]
            for name in TABLES
        }


def _common_columns(rows: dict[str, list[dict]], other: dict[str, list[dict]]):
    """Both snapshots cut down to the columns they share, for schemas one step apart."""

    def cut(snapshot, name, keys):
        return [{key: row[key] for key in keys} for row in snapshot[name]]

    result, other_result = {}, {}
    for name in TABLES:
        keys = set(rows[name][0]) & set(other[name][0])
        result[name], other_result[name] = cut(rows, name, keys), cut(other, name, keys)
    return result, other_result


def _assert_kept_and_published(before: dict, after: dict) -> None:
    """Every old value is kept, and blogs written before drafts existed count as published."""
    expected, kept = _common_columns(before, after)
    assert kept == expected
    assert all(blog["published_at"] == blog["created_at"] for blog in after["blog"])


def _add_content(engine: Engine) -> None:
    """Users and blogs with values that are easy to damage: unicode, newlines, exact times."""
    written = datetime(2025, 3, 9, 1, 59, 58, 123456, tzinfo=timezone(timedelta(hours=-5)))
    with Session(engine) as session:
        ada = User(name="Ada Lovelace", email="ada@example.com", password_hash="$argon2id$ada")
        zoe = User(name="Zoë Ωmega 🐍", email="zoe@example.com", password_hash="$argon2id$zoe")
        session.add_all([ada, zoe])
        session.flush()
        session.add_all(
            [
                Blog(
                    title="Notes on engines",
                    body="Line one.\n\nLine 'two' with \"quotes\" and a tab\there.",
                    author_id=ada.id,
                    created_at=written,
                    updated_at=written + timedelta(minutes=3),
                    published_at=written,
                ),
                Blog(
                    title="Ωmega 🐍",
                    body="x" * 5_000,
                    author_id=zoe.id,
                    created_at=written + timedelta(days=1),
                    published_at=written + timedelta(days=1),
                ),
                Blog(
                    title="Same moment",
                    body="Tied.",
                    author_id=zoe.id,
                    created_at=written,
                    published_at=written,
                ),
            ]
        )
        session.commit()


def _insert_at_first_revision(engine: Engine) -> None:
    """Rows written with plain SQL against the first schema, as an old deployment holds them."""
    with engine.begin() as connection:
        connection.execute(
            text(
                'INSERT INTO "user" (id, name, email, password_hash, created_at) '
                "VALUES (1, 'Grace Hopper', 'grace@example.com', 'hash', :at)"
            ),
            {"at": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)},
        )
        connection.execute(
            text(
                "INSERT INTO blog (id, title, body, author_id, created_at, updated_at) "
                "VALUES (1, 'Nanoseconds', 'Eleven point eight inches.', 1, :at, :at), "
                "(2, 'Bugs', 'A moth, taped in.', 1, :at, :at)"
            ),
            {"at": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)},
        )


def test_the_models_and_the_migrations_agree(empty_database):
    with engine_on(empty_database) as engine:
        upgrade(engine)

        assert _differences(engine) == []


def test_downgrading_one_step_and_upgrading_again_keeps_every_row(empty_database):
    with engine_on(empty_database) as engine:
        upgrade(engine)
        _add_content(engine)
        at_head = _rows(engine)

        downgrade(engine, "-1")
        assert current_revision(engine) != newest_revision()
        one_step_down = _rows(engine)
        upgrade(engine)
        back_at_head = _rows(engine)

    assert [len(at_head[name]) for name in TABLES] == [2, 3]
    expected, kept = _common_columns(at_head, one_step_down)
    assert kept == expected
    assert back_at_head == at_head


def test_every_migration_downgrades_to_an_empty_database_and_upgrades_again(empty_database):
    with engine_on(empty_database) as engine:
        upgrade(engine)
        downgrade(engine, "base")
        assert current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) & set(TABLES) == set()

        upgrade(engine)
        assert current_revision(engine) == newest_revision()
        assert _differences(engine) == []


def test_blog_db_upgrade_brings_an_old_database_to_the_newest_schema_keeping_its_data(
    empty_database, monkeypatch, capsys
):
    with engine_on(empty_database) as engine:
        upgrade(engine, FIRST_REVISION)
        _insert_at_first_revision(engine)
        before = _rows(engine)
    monkeypatch.setenv("DATABASE_URL", empty_database)

    assert main(["db", "upgrade"]) == 0

    assert newest_revision() in capsys.readouterr().out
    with engine_on(empty_database) as engine:
        assert current_revision(engine) == newest_revision()
        assert _differences(engine) == []
        after = _rows(engine)
    assert [len(after[name]) for name in TABLES] == [1, 2]
    _assert_kept_and_published(before, after)


def test_blog_db_upgrade_brings_a_new_database_to_the_newest_schema(empty_database, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", empty_database)

    assert main(["db", "upgrade"]) == 0

    with engine_on(empty_database) as engine:
        assert current_revision(engine) == newest_revision()
        assert _differences(engine) == []


def test_the_app_upgrades_a_new_sqlite_file_by_itself_at_start(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'new.db'}"
    app = create_app(Settings(database_url=database_url, secret_key="test-secret"))
    try:
        with TestClient(app) as client:
            assert client.get("/").status_code == 200
    finally:
        app.state.engine.dispose()

    with engine_on(database_url) as engine:
        assert current_revision(engine) == newest_revision()
        assert _differences(engine) == []


def test_the_app_upgrades_an_old_sqlite_file_by_itself_keeping_its_data(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'old.db'}"
    with engine_on(database_url) as engine:
        upgrade(engine, FIRST_REVISION)
        _insert_at_first_revision(engine)
        before = _rows(engine)
    app = create_app(Settings(database_url=database_url, secret_key="test-secret"))
    try:
        with TestClient(app) as client:
            assert "Nanoseconds" in client.get("/").text
    finally:
        app.state.engine.dispose()

    with engine_on(database_url) as engine:
        assert current_revision(engine) == newest_revision()
        _assert_kept_and_published(before, _rows(engine))


# Each process imports everything, says it is ready, then waits for the signal to migrate, so
# the migrations really start together rather than one after the other's slow imports.
_ENSURE_SCHEMA = """
import sys, time
from pathlib import Path
from blog.db import make_engine
from blog.migrate import ensure_schema
database_url, ready, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
engine = make_engine(database_url)
ready.touch()
while not go.exists():
    time.sleep(0.001)
ensure_schema(engine)
engine.dispose()
"""
_PROCESSES = 6


def test_processes_starting_at_once_on_a_new_sqlite_file_all_succeed(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'shared.db'}"
    go = tmp_path / "go"
    readies = [tmp_path / f"ready-{number}" for number in range(_PROCESSES)]
    processes = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", _ENSURE_SCHEMA, database_url, str(ready), str(go)],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for ready in readies
    ]
    try:
        _wait_for(readies, processes)
        go.touch()
        results = [(process.wait(timeout=60), *process.communicate()) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()

    assert [(code, error.decode()) for code, _, error in results] == [(0, "")] * _PROCESSES
    with engine_on(database_url) as engine:
        assert current_revision(engine) == newest_revision()
        assert _differences(engine) == []


def _wait_for(paths: list[Path], processes: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + 60
    while not all(path.exists() for path in paths):
        for process in processes:
            if process.poll() is not None:
                _, error = process.communicate()
                raise AssertionError(f"a process exited before it was ready:\n{error.decode()}")
        assert time.monotonic() < deadline, "the processes did not get ready in time"
        time.sleep(0.01)


def test_ensure_schema_on_sqlite_at_the_newest_schema_changes_nothing(tmp_path):
    with engine_on(f"sqlite:///{tmp_path / 'blog.db'}") as engine:
        upgrade(engine)
        _add_content(engine)
        before = _rows(engine)

        ensure_schema(engine)

        assert current_revision(engine) == newest_revision()
        assert _rows(engine) == before


def _start(database_url: str) -> None:
    """Start the app on this database and stop it again."""
    app = create_app(Settings(database_url=database_url, secret_key="test-secret"))
    try:
        with TestClient(app):
            pass
    finally:
        app.state.engine.dispose()


def test_on_postgresql_the_app_refuses_an_empty_database_and_creates_no_table(
    postgres_database,
):
    with pytest.raises(SchemaBehind, match="blog db upgrade"):
        _start(postgres_database)

    with engine_on(postgres_database) as engine:
        assert inspect(engine).get_table_names() == []
        assert current_revision(engine) is None


def test_on_postgresql_the_app_refuses_a_schema_one_step_behind_and_changes_nothing(
    postgres_database,
):
    with engine_on(postgres_database) as engine:
        upgrade(engine, FIRST_REVISION)
        _insert_at_first_revision(engine)
        before = _rows(engine)

    with pytest.raises(SchemaBehind, match="blog db upgrade"):
        _start(postgres_database)

    with engine_on(postgres_database) as engine:
        assert current_revision(engine) == FIRST_REVISION
        assert _rows(engine) == before


def test_on_postgresql_the_app_starts_once_the_schema_is_upgraded(postgres_database):
    with engine_on(postgres_database) as engine:
        upgrade(engine)
    app = create_app(Settings(database_url=postgres_database, secret_key="test-secret"))
    try:
        with TestClient(app) as client:
            assert client.get("/").status_code == 200
    finally:
        app.state.engine.dispose()


def _insert_tagged_blogs_at_0004(engine: Engine) -> None:
    """Published, scheduled and draft blogs with tags, written as an 0004 deployment holds them."""
    at = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    later = datetime(2099, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            text(
                'INSERT INTO "user" (id, name, email, password_hash, created_at) VALUES '
                "(1, 'Grace Hopper', 'grace@example.com', 'hash', :at), "
                "(2, 'Ada Lovelace', 'ada@example.com', 'hash', :at)"
            ),
            {"at": at},
        )
        connection.execute(
            text(
                "INSERT INTO blog (id, title, body, author_id, created_at, updated_at, "
                "published_at, version) VALUES "
                "(1, 'Out', 'x', 1, :at, :at, :at, 1), "
                "(2, 'Also out', 'x', 1, :at, :at, :at, 1), "
                "(3, 'Later', 'x', 1, :at, :at, :later, 1), "
                "(4, 'Draft', 'x', 2, :at, :at, NULL, 1)"
            ),
            {"at": at, "later": later},
        )
        connection.execute(text("INSERT INTO tag (id, name) VALUES (1, 'python'), (2, 'web')"))
        connection.execute(
            text(
                "INSERT INTO blog_tag (blog_id, tag_id) VALUES (1, 1), (1, 2), (2, 1), (3, 1), "
                "(4, 2)"
            )
        )


def _kept_counts(engine: Engine) -> tuple[dict, dict, int]:
    with engine.connect() as connection:
        users = dict(connection.execute(text('SELECT id, dated_blog_count FROM "user"')).all())
        tags = dict(connection.execute(text("SELECT name, dated_blog_count FROM tag")).all())
        unlike = connection.execute(
            text(
                "SELECT count(*) FROM blog_tag JOIN blog ON blog.id = blog_tag.blog_id "
                "WHERE blog_tag.published_at IS NOT blog.published_at"
                if engine.dialect.name == "sqlite"
                else "SELECT count(*) FROM blog_tag JOIN blog ON blog.id = blog_tag.blog_id "
                "WHERE blog_tag.published_at IS DISTINCT FROM blog.published_at"
            )
        ).scalar_one()
    return users, tags, unlike


def test_upgrading_to_0005_counts_the_blogs_already_there_and_keeps_counting(empty_database):
    with engine_on(empty_database) as engine:
        upgrade(engine, "0004")
        _insert_tagged_blogs_at_0004(engine)

        upgrade(engine, "0005")
        # Counted: blogs with a publishing time (the scheduled one too), never the draft.
        assert _kept_counts(engine) == ({1: 3, 2: 0}, {"python": 3, "web": 1}, 0)

        with engine.begin() as connection:
            connection.execute(text("UPDATE blog SET published_at = created_at WHERE id = 4"))
            connection.execute(text("DELETE FROM blog WHERE id = 1"))
        assert _kept_counts(engine) == ({1: 2, 2: 1}, {"python": 2, "web": 1}, 0)


def test_downgrading_0005_keeps_every_row_and_upgrading_again_counts_them(empty_database):
    with engine_on(empty_database) as engine:
        upgrade(engine, "0004")
        _insert_tagged_blogs_at_0004(engine)
        before = _rows(engine)
        upgrade(engine, "0005")

        downgrade(engine, "0004")
        assert _rows(engine) == before
        columns = {column["name"] for column in inspect(engine).get_columns("blog_tag")}
        assert columns == {"blog_id", "tag_id"}
        with engine.begin() as connection:  # no trigger is left behind to fail a write
            connection.execute(text("DELETE FROM blog WHERE id = 2"))

        upgrade(engine)
        assert _kept_counts(engine) == ({1: 2, 2: 0}, {"python": 2, "web": 1}, 0)
        assert _differences(engine) == []
