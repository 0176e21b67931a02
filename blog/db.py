"""The engine, built from settings, and the one session per request."""

import contextlib
import gc
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import URL, Engine, event, make_url
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DatabaseError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.pool import QueuePool
from sqlmodel import Session, create_engine

# SQLite waits this long for another writer's lock before giving up, so concurrent
# requests queue instead of failing with "database is locked".
SQLITE_BUSY_TIMEOUT_SECONDS = 30
# Connections kept open to an SQLite file: about as many as requests a worker serves at once.
SQLITE_POOL_SIZE = 32

# SQLite's (primary) result codes that say the connection itself is no good, whatever it is
# asked next: opened read-only (the file was not writable then), I/O failing, the file not a
# database (any more). Such a connection is dropped, so the next one sees the file as it is now.
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26
BROKEN_CONNECTION_CODES = frozenset(
    {SQLITE_READONLY, SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_CANTOPEN, SQLITE_NOTADB}
)
# Marks, in a connection record's `info`, a connection opened while its file was not writable.
READ_ONLY = "blog_opened_read_only"


def sqlite_file(url: str | URL) -> Path | None:
    """The file an SQLite URL names; None for other databases and in-memory SQLite."""
    url = make_url(url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def database_is_unavailable(error: BaseException) -> bool:
    """Whether an error says the database cannot be used just now (unreachable, unwritable,
    not a database, its file deleted) rather than that a query is wrong.

    `IntegrityError`, `DataError`, `ProgrammingError` and the rest are `DatabaseError`s too,
    but they are bugs, not outages: only the plain `DatabaseError` (SQLite's "file is not a
    database", "database disk image is malformed") counts.
    """
    return isinstance(error, OperationalError | InterfaceError) or type(error) is DatabaseError


def one_line(error: BaseException) -> str:
    """An error's message on one line (drivers' messages may span several), for the log."""
    return " ".join(str(error).split())


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

    database = sqlite_file(database_url)
    engine = create_engine(
        database_url,
        # Requests run in a thread pool, so a connection may move between threads.
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
        # A connection per request in flight, kept: SQLAlchemy's default keeps 5 and closes
        # the rest when returned, so under load every request opened (and set up) a new one.
        **({"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_POOL_SIZE} if database else {}),
    )

    @event.listens_for(engine, "connect")
    def _configure_sqlite(dbapi_connection, _connection_record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL lets readers carry on while one request writes; only a file can hold it.
        if database is not None:
            _switch_to_wal(cursor)
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.close()

    event.listen(engine, "handle_error", _drop_broken_sqlite_connections)
    if database is not None:
        _watch_the_file(engine, database.absolute())
    return engine


def _switch_to_wal(cursor: sqlite3.Cursor) -> None:
    """Turn WAL on, waiting out the others: on a new file, several workers starting at once
    may each try, and SQLite answers "database is locked" at once, without its busy wait,
    to all but the one that holds the lock."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _drop_broken_sqlite_connections(context: ExceptionContext) -> None:
    """Treat a connection SQLite says is broken as lost, so the pool replaces it.

    A connection opened while the file could not be written stays read-only after the
    permissions are fixed, one that met an I/O error or a file that is not a database may
    keep failing: marked as a disconnect, it is thrown away, with the rest of the pool
    opened before it, and the next request opens a new one that sees the file as it is now.
    """
    code = getattr(context.original_exception, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in BROKEN_CONNECTION_CODES:
        context.is_disconnect = True


def _watch_the_file(engine: Engine, path: Path) -> None:
    """Checks on the database file where a connection is opened or taken from the pool.

    Deleted or replaced: SQLite keeps writing to the file it has open even after it is
    unlinked, so every save would seem to work and be lost at the next start, and a new
    connection would create a new, empty file at the same path. The file's identity (device
    and inode) is noted at the first connection; each checkout compares the path's (one
    `os.stat`), and a connection to a file that is no longer there is dropped and no new one
    is opened: every request gets the 503 page, logged with one line saying why, until the
    file is restored and the site restarted. Before the first connection anything goes, so
    the first start creates a missing file.

    Not writable: SQLite then opens the file read-only for good, and while any connection
    that opened it so is open, the process's later connections to the file are read-only
    too (they share its `-shm` mapping). So a connection opened while the file was not
    writable (one `os.access` per new connection) is closed when it is returned, never
    pooled: once the file is writable again, the next request opens it read-write.
    """
    first_seen: list[tuple[int, int]] = []
    # Set when a read-only connection was closed: its cursors may still hold the file open,
    # read-only, until they are collected, and the next connection would be read-only too.
    dropped_read_only: list[bool] = []

    def what_happened() -> str | None:
        """What became of the file since the first connection; None if nothing (known)."""
        if not first_seen:
            return None
        try:
            status = os.stat(path)
        except FileNotFoundError:
            change = "deleted"
        except OSError:
            return None  # it cannot be looked at (permissions): SQLite says what it finds
        else:
            if (status.st_dev, status.st_ino) == first_seen[0]:
                return None
            change = "replaced by another file"
        return (
            f"the database file {path} was {change} while the site was running; "
            "restore it and restart the site (nothing can be saved until then)"
        )

    @event.listens_for(engine, "do_connect")
    def _refuse_to_open(_dialect, _connection_record, _cargs, _cparams):
        if dropped_read_only:
            dropped_read_only.clear()
            gc.collect()
        if problem := what_happened():
            # A driver error, so it reaches the app as an OperationalError: the 503 page.
            raise sqlite3.OperationalError(problem)

    @event.listens_for(engine, "connect")
    def _note_the_file(_dbapi_connection, connection_record):
        if not first_seen:
            with contextlib.suppress(OSError):
                status = os.stat(path)
                first_seen.append((status.st_dev, status.st_ino))
        connection_record.info[READ_ONLY] = not os.access(path, os.W_OK)

    @event.listens_for(engine, "checkout")
    def _check_the_file(_dbapi_connection, _connection_record, _connection_proxy):
        if problem := what_happened():
            # The pool drops this connection and opens another, which `_refuse_to_open` stops.
            raise DisconnectionError(problem)

    @event.listens_for(engine, "checkin")
    def _close_a_read_only_connection(_dbapi_connection, connection_record):
        if connection_record.info.get(READ_ONLY):
            # Closed now; the pool opens a new connection in its place when next asked.
            connection_record.invalidate()
            dropped_read_only.append(True)


# Reads on the event loop.
# Dependencies and routes that only read are `async` and run their queries right on the event
# loop, as a hand-written asyncio page over sqlite3 would: every read the pages make is a short
# range of an index, and a hop to a thread costs more than that (see blog.deps). The one thing
# the loop must never do is wait for a connection: the connections it waits for would be handed
# back by requests whose endings run on that same loop. So plain routes (the thread pool) are
# held to half the pool, less one (each may hold two: its session, and a write on a connection
# of its own), and a read on the loop always finds a connection free.
def thread_pool_size(engine: Engine) -> int | None:
    """How many plain routes may run at once, or None when the pool never makes anyone wait."""
    pool = engine.pool
    if not isinstance(pool, QueuePool) or pool._max_overflow < 0:
        return None
    return max(1, (pool.size() + pool._max_overflow - 1) // 2)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """Yield one session for this request and always close it.

    An async generator for a session that is not async: making one does no I/O (it connects
    at its first query, on the loop or in the route's thread), and closing it hands the
    connection back to the pool with a rollback, microseconds on SQLite and one short round
    trip on a server. Both are cheaper here than the two hops to the thread pool a plain
    generator would cost every request.
    """
    session = Session(request.app.state.engine)
    try:
        yield session
    finally:
        session.close()


# Closed when the route returns (its page is rendered by then), before the response is sent,
# so the connection is back in the pool before the client can send its next request: a
# connection SQLite opened read-only is closed by then too (see `_watch_the_file`).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
