"""A cache of rendered pages for readers who are not logged in.

Most visitors are anonymous readers who all get the same bytes for the same address, so the
page is rendered once and then answered from memory, in front of the rest of the stack.

It is exact, not time-based. The database counts its own changes: triggers on every table a
page shows bump one row (`change_counter`, migration 0006), so every write, from any worker, any
process or the `blog` command, is seen by the next request anywhere. Checking that counter is
the price of a hit: on SQLite, `PRAGMA data_version` on a connection of the cache's own says in
microseconds whether anything was committed at all, and the counter is read only when it was;
other databases read the counter on each request. A scheduled blog shows up by time alone, so
the cache also knows the next moment a blog is due and starts afresh then.

Only answers that are the same for everyone are kept: GETs without the session cookie (a
logged-in visitor, or one with a flash message or a form's CSRF token, has one), answered 200
with no Set-Cookie and not marked `no-store`. The cache is bounded in bytes, per worker.
"""

import mmap
import os
import sqlite3
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from sqlalchemy import Engine, func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select
from starlette.datastructures import Headers
from starlette.types import Message, Scope

from blog.caching import CACHEABLE_TYPES
from blog.db import sqlite_file
from blog.models import Blog, ChangeCounter, utc_now

# One page larger than this share of the cache is not worth evicting everything else for.
LARGEST_SHARE = 8
# Sent with a cached answer, so an operator (and a test) can see where it came from.
HIT = (b"x-cache", b"hit")
BODY_HEADERS = frozenset({b"content-type", b"content-length"})
# The first copy of the WAL-index header in an SQLite `-shm` file (see SqliteCommits).
WAL_INDEX_HEADER_BYTES = 48

Key = tuple[bytes, bytes, str, bytes]
# The change counter and how many scheduled blogs came out: moves when any page may change.
Generation = tuple[int, int]


@dataclass
class CachedPage:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: str | None
    # What a hit sends, made once when the page is kept rather than on every hit.
    headers_on_hit: list[tuple[bytes, bytes]] = field(init=False)
    headers_on_304: list[tuple[bytes, bytes]] = field(init=False)

    def __post_init__(self) -> None:
        self.headers_on_hit = [*self.headers, HIT]
        # What the 200 says about itself, not its body's type and length (RFC 9110 §15.4.5).
        self.headers_on_304 = [
            *((name, value) for name, value in self.headers if name not in BODY_HEADERS),
            HIT,
        ]

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(name) + len(value) for name, value in self.headers)


@dataclass
class PageStore:
    """The pages one worker keeps, least recently used first, within `max_bytes`."""

    max_bytes: int
    pages: OrderedDict[Key, CachedPage] = field(default_factory=OrderedDict)
    size: int = 0

    def get(self, key: Key) -> CachedPage | None:
        page = self.pages.get(key)
        if page is not None:
            self.pages.move_to_end(key)
        return page

    def put(self, key: Key, page: CachedPage) -> None:
        if page.size * LARGEST_SHARE > self.max_bytes:
            return
        if (old := self.pages.pop(key, None)) is not None:
            self.size -= old.size
        self.pages[key] = page
        self.size += page.size
        while self.size > self.max_bytes:
            _, evicted = self.pages.popitem(last=False)
            self.size -= evicted.size

    def clear(self) -> None:
        self.pages.clear()
        self.size = 0


class ChangeWatch:
    """Says cheaply whether what pages show may have changed since it last looked."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        database_file = sqlite_file(engine.url)
        self._commits = SqliteCommits(database_file) if database_file is not None else None
        self._counter: int | None = None
        self._next_due: float | None = None  # when the next scheduled blog comes out
        self._epoch = 0  # goes up each time a scheduled blog comes out

    async def generation(self) -> Generation | None:
        """A value that changes whenever any page may have changed; None when it cannot tell
        (the database is failing), and then nothing is served from or kept in the cache."""
        try:
            if self._commits is None or self._commits.anything_committed():
                counter = self._read_counter()
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
        self._counter = self._next_due = None

    def _read_counter(self) -> int:
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
    data_version` takes SQLite's read locks: it was a sixth of a cached page's whole cost.

    A header read while a commit is writing it differs from the last one already, so at worst
    it reports a change that is not there yet, and the counter is read once more; bytes that
    change without a commit (a checkpoint restarting the log) do the same. The mapping stays
    valid because our own connection stays open: SQLite truncates or removes the `-shm` file
    only when no connection has it open. Without WAL, `PRAGMA data_version` on that
    connection says the same, at the cost of a query.
    """

    def __init__(self, database_file: str) -> None:
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


def _map_wal_index(connection: sqlite3.Connection, database_file: str) -> mmap.mmap | None:
    """The WAL-index header of the database, mapped read-only; None when it has no WAL."""
    (journal_mode,) = connection.execute("PRAGMA journal_mode").fetchone()
    if journal_mode != "wal":
        return None
    try:
        with open(f"{database_file}-shm", "rb") as index_file:
            return mmap.mmap(index_file.fileno(), WAL_INDEX_HEADER_BYTES, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # no such file, or not yet as long as a header
        return None


class PageCache:
    """The pages of one worker, kept only while the database says nothing changed."""

    def __init__(self, store: PageStore, watch: ChangeWatch) -> None:
        self.store = store
        self.watch = watch
        self.generation: Generation | None = None

    async def current_generation(self) -> Generation | None:
        """What the database is at now, the store emptied if that moved; None when it cannot
        tell, and then nothing is answered from or kept in the cache."""
        generation = await self.watch.generation()
        if generation is None or generation != self.generation:
            self.store.clear()
            self.generation = generation
        return generation

    def get(self, key: Key) -> CachedPage | None:
        return self.store.get(key)

    async def keep(self, key: Key, messages: list[Message], generation: Generation) -> None:
        # Kept only if nothing changed while it was drawn: it may show the older data.
        if await self.watch.generation() == generation:
            self.store.put(key, _page_from(messages))

    def close(self) -> None:
        self.watch.close()


def page_key(scope: Scope, host: bytes) -> Key:
    """What tells two answers apart: the host (addresses in feeds and canonical links may
    come from it), the path and the query."""
    return (scope["scheme"].encode(), host, scope["path"], scope["query_string"])


def is_shareable(start: Message) -> bool:
    """Whether an answer is the same for everyone: a 200 page, with no cookie, not `no-store`."""
    headers = Headers(raw=start["headers"])
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    return (
        start["status"] == 200
        and media_type in CACHEABLE_TYPES
        and "set-cookie" not in headers
        and "no-store" not in headers.get("cache-control", "")
    )


def _page_from(messages: list[Message]) -> CachedPage:
    start, *bodies = messages
    headers = list(start["headers"])
    etag = Headers(raw=headers).get("etag")
    body = b"".join(message.get("body", b"") for message in bodies)
    return CachedPage(status=start["status"], headers=headers, body=body, etag=etag)
