"""The engine, built from settings, and the one session per request."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine, event
from sqlmodel import Session, create_engine

# SQLite waits this long for another writer's lock before giving up, so concurrent
# requests queue instead of failing with "database is locked".
SQLITE_BUSY_TIMEOUT_SECONDS = 30


def make_engine(
    database_url: str,
    *,
    pool_size: int = 5,
    max_overflow: int = 10,
    pool_timeout: float = 10,
    pool_recycle: int = 1800,
    connect_timeout: int = 5,
) -> Engine:
    """Build an engine; SQLite gets foreign keys, WAL and a busy timeout on every connection."""
    if not database_url.startswith("sqlite"):
        return create_engine(
            database_url,
            # A connection that died while idle (database restarted) is replaced, not used.
            pool_pre_ping=True,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            pool_recycle=pool_recycle,
            connect_args={"connect_timeout": connect_timeout},
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
        if ":memory:" not in database_url and database_url not in ("sqlite://", "sqlite:///"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.close()

    return engine


def get_session(request: Request) -> Iterator[Session]:
    """Yield one session for this request and always close it."""
    with Session(request.app.state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
