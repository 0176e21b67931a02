"""Schema migrations, run from inside the installed package (no alembic.ini needed)."""

import fcntl
from collections.abc import Callable
from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from blog.db import sqlite_file


class SchemaBehind(RuntimeError):
    """The database's schema is older than this code expects."""


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", "blog:migrations")
    # ConfigParser would read "%" as interpolation.
    config.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return config


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    _migrate(command.upgrade, engine, revision)


def downgrade(engine: Engine, revision: str = "-1") -> None:
    _migrate(command.downgrade, engine, revision)


def _migrate(alembic_command: Callable[[Config, str], None], engine: Engine, revision: str) -> None:
    """Run an Alembic command in one transaction on our engine (so SQLite keeps its pragmas)."""
    with _migration_lock(engine), engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        alembic_command(config, revision)


def ensure_schema(engine: Engine) -> None:
    """Bring SQLite up to date by itself; on any other database only check, never change."""
    current, head = current_revision(engine), head_revision(engine)
    if current == head:
        # Nothing to write, so no lock file either: an up-to-date file the site may only read
        # (a read-only mount, permissions being fixed) still serves its pages.
        return
    if engine.dialect.name == "sqlite":
        # Under the lock, Alembic reads the revision again: another worker may have just
        # upgraded, and then there is nothing left to do.
        upgrade(engine)
        return
    raise SchemaBehind(
        f"The database schema is at revision {current or 'none'}, this code needs {head}. "
        "Run `blog db upgrade` (with the same DATABASE_URL), then start again."
    )


@contextmanager
def _migration_lock(engine: Engine):
    """One migrator at a time per SQLite file, so two workers starting at once cannot collide.

    PostgreSQL needs no lock file: its DDL is transactional and `blog db upgrade` is run once.
    """
    database = sqlite_file(engine.url)
    if database is None:
        yield
        return
    lock_path = database.with_name(database.name + ".migrate-lock")
    with open(lock_path, "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


# The full-text search index is the database's own machinery, made by migration 0003 and kept
# out of the models: an FTS5 table (and its shadow tables) on SQLite, a generated column on
# PostgreSQL. Autogenerate must neither drop nor recreate it.
SEARCH_OBJECTS = ("blog_search", "search_vector", "ix_blog_search_vector")


def include_object(object, name, type_, reflected, compare_to) -> bool:
    return not (reflected and compare_to is None and str(name).startswith(SEARCH_OBJECTS))
