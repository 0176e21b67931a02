"""Knowing, for the page cache, that nothing a page shows has changed: cheaply, and exactly.

The database counts its own changes: triggers on every table a page shows bump one row
(`change_counter`, migration 0006), so every write, from any worker, any process or the `blog`
command, moves it. A request may be answered from the cache only when the counter is the one
its pages were drawn at, as read after the request arrived. That read is the price of every
hit, so each database gets the cheapest read that still sees every commit that returned before
the request came in:

- SQLite: a glance at the WAL-index header in shared memory says whether anything was
  committed at all, and the counter is read only when something was (SqliteCommits);
- PostgreSQL: one query on a connection of the cache's own answers every request that arrived
  before it was sent (PostgresCounter);
- anything else: the counter is read through the engine on every request.

A scheduled blog shows up by time alone, so the watch also knows the next moment a blog is due.
"""

import asyncio
import mmap
import os
import sqlite3
import threading
import time
from pathlib import Path

from psycopg import OperationalError as PsycopgOperationalError
from psycopg import pq
from psycopg.conninfo import make_conninfo
from sqlalchemy import Engine, func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from blog.db import sqlite_file
from blog.models import Blog, ChangeCounter, utc_now

# The change counter and how many scheduled blogs came out: moves when any page may change.
Generation = tuple[int, int]
# The first copy of the WAL-index header in an SQLite `-shm` file (see SqliteCommits).
WAL_INDEX_HEADER_BYTES = 48
COUNTER_STATEMENT = b"read_change_counter"
COUNTER_QUERY = b"SELECT value FROM change_counter"


class ChangeWatch:
    """Says cheaply whether what pages show may have changed since it last looked."""

    def __init__(self, engine: Engine, *, connect_timeout: float = 5) -> None:
        self.engine = engine
        database_file = sqlite_file(engine.url)
        self._commits = SqliteCommits(database_file) if database_file is not None else None
        postgresql = engine.dialect.name == "postgresql"
        self._postgres = PostgresCounter(engine, connect_timeout) if postgresql else None
        self._counter: int | None = None
        self._next_due: float | None = None  # when the next scheduled blog comes out
        self._epoch = 0  # goes up each time a scheduled blog comes out

    async def generation(self) -> Generation | None:
        """A value that changes whenever any page may have changed; None when it cannot tell
        (the database is failing), and then nothing is served from or kept in the cache."""
        try:
            if self._commits is None or self._commits.anything_committed():
                counter = await self._read_counter()
                if counter is None:
                    return None
                if counter != self._counter:
                    self._counter = counter
                    self._next_due = self._next_scheduled()
            if self._next_due is not None and time.time() >= self._next_due:
                self._epoch += 1
                self._next_due = self._next_scheduled()
        except (SQLAlchemyError, sqlite3.Error, OSError):
            # The request goes on to the database, whose error page says what is wrong.
            self.close()
            return None
        return (self._counter or 0, self._epoch)

    def close(self) -> None:
        if self._commits is not None:
            self._commits.close()
        if self._postgres is not None:
            self._postgres.close()
        self._counter = self._next_due = None

    async def _read_counter(self) -> int | None:
        if self._postgres is not None:
            return await self._postgres.read()
        with Session(self.engine) as session:
            return session.exec(select(ChangeCounter.value)).first() or 0

    def _next_scheduled(self) -> float | None:
        statement = select(func.min(Blog.published_at)).where(col(Blog.published_at) > utc_now())
        with Session(self.engine) as session:
            moment = session.exec(statement).one()
        return moment.timestamp() if moment is not None else None


class SqliteCommits:
    """Whether anything was committed to an SQLite file since the last look, without a query.

    In WAL mode (blog.db sets it) every commit rewrites the WAL-index header at the start of
    the `-shm` file, which every connection to the database maps into memory: two copies of a
    48-byte header whose frame count, checksums and salts change with every transaction, written
    before the commit returns (https://www.sqlite.org/walformat.html, "The WAL-Index Header").
    Reading those bytes from our own mapping costs no system call and no lock, where `PRAGMA
    data_version` takes SQLite's read locks: it was about a fifth of a cached page's cost.

    A header read while a commit is writing it differs from the last one already, so at worst
    it reports a change that is not there yet, and the counter is read once more; bytes that
    change without a commit (a checkpoint restarting the log) do the same. The mapping stays
    valid because our own connection stays open: SQLite truncates or removes the `-shm` file
    only when no connection has it open. Without WAL, `PRAGMA data_version` on that
    connection says the same, at the cost of a query.
    """

    def __init__(self, database_file: Path) -> None:
        self.database_file = database_file
        self._connection: sqlite3.Connection | None = None
        self._wal_index: mmap.mmap | None = None
        self._last_seen: object = None

    def anything_committed(self) -> bool:
        if self._connection is None:
            return self._open()
        seen = self._look(self._connection)
        changed = seen != self._last_seen
        self._last_seen = seen
        return changed

    def close(self) -> None:
        # The mapping first: it must never outlive the connection that keeps the file.
        if self._wal_index is not None:
            self._wal_index.close()
        if self._connection is not None:
            self._connection.close()
        self._wal_index = self._connection = self._last_seen = None

    def _open(self) -> bool:
        """Start watching; the first look always counts as a change."""
        # Kept open, a connection to a file SQLite could not write would make every later
        # connection of this process read-only too (blog.db explains): such a one is used
        # once and closed, and as a new connection says nothing about an old one's reads,
        # each check while the file is read-only counts as a change.
        writable = os.access(self.database_file, os.W_OK)
        connection = sqlite3.connect(self.database_file, check_same_thread=False)
        # A read, which also opens the write-ahead log and its index for this connection.
        connection.execute("PRAGMA data_version").fetchone()
        if not writable:
            connection.close()
            return True
        self._connection = connection
        self._wal_index = _map_wal_index(connection, self.database_file)
        self._last_seen = self._look(connection)
        return True

    def _look(self, connection: sqlite3.Connection) -> object:
        if self._wal_index is not None:
            return self._wal_index[:WAL_INDEX_HEADER_BYTES]
        return connection.execute("PRAGMA data_version").fetchone()[0]


def _map_wal_index(connection: sqlite3.Connection, database_file: Path) -> mmap.mmap | None:
    """The WAL-index header of the database, mapped read-only; None when it has no WAL."""
    (journal_mode,) = connection.execute("PRAGMA journal_mode").fetchone()
    if journal_mode != "wal":
        return None
    try:
        with open(f"{database_file}-shm", "rb") as index_file:
            return mmap.mmap(index_file.fileno(), WAL_INDEX_HEADER_BYTES, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # no such file, or not yet as long as a header
        return None


class PostgresCounter:
    """The change counter read on PostgreSQL, with one query for many requests.

    A request must see every commit that returned before it arrived, so its answer must come
    from a query sent after it arrived. While one query is on its way, the requests that come
    in wait for the next one, which is sent as soon as the first is answered, and that one
    query answers all of them: under load one round trip serves a whole batch of requests, and
    the event loop serves others meanwhile. The query is prepared, on a connection of the
    cache's own in autocommit (it never holds a lock), driven by libpq's non-blocking calls.

    LISTEN/NOTIFY would cost less, but it is not exact: PostgreSQL delivers a notification
    once the writer has committed, and its documentation promises nothing about it reaching
    the listener before the writer's COMMIT returns (the listening server process is told
    after the commit and passes it on when it next gets to run), so a reader could come
    between the two and be answered a stale page.

    Each thread has its own connection: uvicorn runs one event loop, but a test may drive one
    app from several loops in several threads at once.
    """

    def __init__(self, engine: Engine, connect_timeout: float) -> None:
        self.connect_timeout = connect_timeout
        url = engine.url
        options = {
            "host": url.host,
            "port": url.port,
            "user": url.username,
            "password": url.password,
            "dbname": url.database,
            **url.query,
        }
        given = {name: value for name, value in options.items() if value is not None}
        self._conninfo = make_conninfo(**given).encode()
        self._per_thread = threading.local()

    async def read(self) -> int | None:
        """The counter as a query sent after this call read it; None when it cannot be read."""
        loop = asyncio.get_running_loop()
        reader: _CounterReader | None = getattr(self._per_thread, "reader", None)
        if reader is None or reader.loop is not loop or reader.broken:
            if reader is not None:
                reader.close()
            reader = _CounterReader(self._conninfo, loop, self.connect_timeout)
            self._per_thread.reader = reader
        return await reader.read()

    def close(self) -> None:
        """Close this thread's connection; another thread's closes when that thread ends."""
        reader: _CounterReader | None = getattr(self._per_thread, "reader", None)
        if reader is not None:
            reader.close()
            self._per_thread.reader = None


class _CounterReader:
    """One connection reading the counter for the requests of one event loop."""

    def __init__(
        self, conninfo: bytes, loop: asyncio.AbstractEventLoop, connect_timeout: float
    ) -> None:
        self.conninfo = conninfo
        self.loop = loop
        self.connect_timeout = connect_timeout
        self.broken = False
        self._pgconn: pq.PGconn | None = None
        self._socket = -1  # kept: libpq no longer says which it was once the server is gone
        self._connecting: asyncio.Task[None] | None = None
        self._waiting: list[asyncio.Future[int | None]] = []  # for the next query to be sent
        self._in_flight: list[asyncio.Future[int | None]] | None = None  # for the one sent
        self._send_scheduled = False

    async def read(self) -> int | None:
        if self._pgconn is None and not await self._connected():
            return None
        # A future each, so that a request that gives up (its client left) cancels only its own.
        answer: asyncio.Future[int | None] = self.loop.create_future()
        self._waiting.append(answer)
        if self._in_flight is None and not self._send_scheduled:
            # Sent once the loop has started every request that came in with this one, so
            # that they all share it.
            self._send_scheduled = True
            self.loop.call_soon(self._send)
        return await answer

    def close(self) -> None:
        """Drop the connection; whoever waits for an answer gets None (no cache this time)."""
        self.broken = True
        waiting = [*(self._in_flight or ()), *self._waiting]
        self._in_flight, self._waiting = None, []
        if not self.loop.is_closed():
            _answer(waiting, None)
        if self._pgconn is not None:
            if not self.loop.is_closed():
                self.loop.remove_reader(self._socket)
            self._pgconn.finish()
            self._pgconn = None

    async def _connected(self) -> bool:
        """Connect once, however many requests are waiting for it; whether that worked."""
        if self._connecting is None:
            self._connecting = self.loop.create_task(self._connect())
        try:
            await asyncio.shield(self._connecting)
        except (PsycopgOperationalError, OSError, TimeoutError):
            self.close()
            return False
        return not self.broken

    async def _connect(self) -> None:
        async with asyncio.timeout(self.connect_timeout):
            pgconn = pq.PGconn.connect_start(self.conninfo)
            while (status := pgconn.connect_poll()) != pq.PollingStatus.OK:
                if status == pq.PollingStatus.FAILED:
                    raise PsycopgOperationalError(_error_message(pgconn))
                await _ready(self.loop, pgconn.socket, writing=status == pq.PollingStatus.WRITING)
            pgconn.nonblocking = 1
            pgconn.send_prepare(COUNTER_STATEMENT, COUNTER_QUERY)
            while pgconn.flush():
                await _ready(self.loop, pgconn.socket, writing=True)
            pgconn.consume_input()
            while pgconn.is_busy():
                await _ready(self.loop, pgconn.socket)
                pgconn.consume_input()
            prepared = _results(pgconn)
            if not prepared or prepared[0].status != pq.ExecStatus.COMMAND_OK:
                raise PsycopgOperationalError(_error_message(pgconn))
        self._pgconn, self._socket = pgconn, pgconn.socket
        # From now on the answers arrive through the loop, whenever the socket is readable.
        self.loop.add_reader(self._socket, self._on_readable)

    def _send(self) -> None:
        """Send the query that answers every request waiting now."""
        self._send_scheduled = False
        if self._in_flight is not None or not self._waiting or self._pgconn is None:
            return
        self._in_flight, self._waiting = self._waiting, []
        try:
            self._pgconn.send_query_prepared(COUNTER_STATEMENT, None)
            # A few bytes: they go out whole at once unless the socket is full.
            if self._pgconn.flush():
                raise PsycopgOperationalError("the query could not be sent at once")
        except (PsycopgOperationalError, OSError):
            self.close()

    def _on_readable(self) -> None:
        pgconn = self._pgconn
        if pgconn is None:
            return
        try:
            pgconn.consume_input()
        except PsycopgOperationalError:  # the server went away
            self.close()
            return
        if pgconn.is_busy() or self._in_flight is None:
            return
        counter = _counter(_results(pgconn))
        if counter is None:  # a failed read: start again on a new connection next time
            self.close()
            return
        answered, self._in_flight = self._in_flight, None
        _answer(answered, counter)
        # Whoever came while that query was on its way gets the next one, sent now.
        self._send()


def _answer(futures: list[asyncio.Future[int | None]], counter: int | None) -> None:
    for future in futures:
        if not future.done():  # not given up
            future.set_result(counter)


async def _ready(loop: asyncio.AbstractEventLoop, socket: int, *, writing: bool = False) -> None:
    """Wait until the socket can be read (or written)."""
    ready = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    if writing:
        loop.add_writer(socket, wake)
    else:
        loop.add_reader(socket, wake)
    try:
        await ready
    finally:
        (loop.remove_writer if writing else loop.remove_reader)(socket)


def _results(pgconn: pq.PGconn) -> list[pq.abc.PGresult]:
    results = []
    while (result := pgconn.get_result()) is not None:
        results.append(result)
    return results


def _counter(results: list) -> int | None:
    """The counter from a read's results; None if the read failed."""
    if not results or results[0].status != pq.ExecStatus.TUPLES_OK:
        return None
    if results[0].ntuples == 0:  # the row is gone (tests empty every table): nothing counted
        return 0
    return int(results[0].get_value(0, 0))


def _error_message(pgconn: pq.PGconn) -> str:
    return pgconn.error_message.decode("utf-8", "replace").strip() or "cannot connect"
