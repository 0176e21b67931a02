"""The engine, built from settings, and the one session per request."""

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import URL, Engine, event, make_url
from sqlmodel import Session, create_engine

# SQLite waits this long for another writer's lock before giving up, so concurrent
# requests queue instead of failing with "database is locked".
SQLITE_BUSY_TIMEOUT_SECONDS = 30


def sqlite_file(url: str | URL) -> Path | None:
    """The file an SQLite URL names; None for other databases and in-memory SQLite."""
    url = make_url(url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def make_engine(
    database_url: str, *, connect_timeout: int = 5, **pool_options: int | float
) -> Engine:
    """Build an engine; SQLite gets foreign keys, WAL and a busy timeout on every connection.

    `pool_options` (pool_size, max_overflow, ...) apply to server databases; SQLAlchemy's
    defaults stand for any not given.
    """
    if not database_url.startswith("sqlite"):
        return create_engine(
            database_url,
            # A connection that died while idle (database restarted) is replaced, not used.
            pool_pre_ping=True,
            connect_args={"connect_timeout": connect_timeout},
            **pool_options,
        )

    engine = create_engine(
        database_url,
        # Requests run in a thread pool, so a connection may move between threads.
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
    )

    @event.listens_for(engine, "connect")
    def _configure_sqlite(dbapi_connection, _connection_record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL lets readers carry on while one request writes; only a file can hold it.
        if sqlite_file(database_url) is not None:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.close()

    return engine


def get_session(request: Request) -> Iterator[Session]:
    """Yield one session for this request and always close it."""
    with Session(request.app.state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
