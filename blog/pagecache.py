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

import os
import sqlite3
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from sqlalchemy import Engine, func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from blog.caching import CACHEABLE_TYPES, etag_matches
from blog.db import sqlite_file
from blog.models import Blog, ChangeCounter, utc_now

# One page larger than this share of the cache is not worth evicting everything else for.
LARGEST_SHARE = 8
# Sent with a cached answer, so an operator (and a test) can see where it came from.
HIT = (b"x-cache", b"hit")
BODY_HEADERS = frozenset({b"content-type", b"content-length"})

Key = tuple[bytes, bytes, str, bytes]


@dataclass
class CachedPage:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: str | None

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
        self.database_file = sqlite_file(engine.url)
        self._connection: sqlite3.Connection | None = None
        self._data_version: int | None = None
        self._counter: int | None = None
        self._next_due: float | None = None  # when the next scheduled blog comes out
        self._epoch = 0  # goes up each time a scheduled blog comes out

    def generation(self) -> tuple[int, int] | None:
        """A value that changes whenever any page may have changed; None when it cannot tell
        (the database is failing), and then nothing is served from or kept in the cache."""
        try:
            if self._anything_committed():
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
        if self._connection is not None:
            self._connection.close()
        self._connection = None
        self._data_version = self._counter = self._next_due = None

    def _anything_committed(self) -> bool:
        """SQLite's data_version changes when another connection commits; elsewhere, ask."""
        if self.database_file is None:
            return True
        if self._connection is None:
            # Kept open, a connection to a file SQLite could not write would make every later
            # connection of this process read-only too (blog.db explains): such a one is used
            # once and closed, and as a new connection's data_version says nothing about the
            # old one's, each check while the file is read-only counts as a change.
            writable = os.access(self.database_file, os.W_OK)
            connection = sqlite3.connect(self.database_file, check_same_thread=False)
            (data_version,) = connection.execute("PRAGMA data_version").fetchone()
            if not writable:
                connection.close()
                return True
            self._connection = connection
            self._data_version = data_version
            return True
        (data_version,) = self._connection.execute("PRAGMA data_version").fetchone()
        changed = data_version != self._data_version
        self._data_version = data_version
        return changed

    def _read_counter(self) -> int:
        with Session(self.engine) as session:
            return session.exec(select(ChangeCounter.value)).first() or 0

    def _next_scheduled(self) -> float | None:
        statement = select(func.min(Blog.published_at)).where(col(Blog.published_at) > utc_now())
        with Session(self.engine) as session:
            moment = session.exec(statement).one()
        return moment.timestamp() if moment is not None else None


class PageCacheMiddleware:
    """Answers anonymous GETs from `store` while `watch` says nothing changed."""

    def __init__(
        self, app: ASGIApp, *, store: PageStore, watch: ChangeWatch, session_cookie: str
    ) -> None:
        self.app = app
        self.store = store
        self.watch = watch
        self.session_cookie = f"{session_cookie}=".encode()
        self.generation: tuple[int, int] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or self._has_session(scope):
            await self.app(scope, receive, send)
            return
        generation = self.watch.generation()
        if generation is None:
            self.store.clear()
            await self.app(scope, receive, send)
            return
        if generation != self.generation:
            self.store.clear()
            self.generation = generation

        key = _key(scope)
        page = self.store.get(key)
        if page is not None:
            await _answer(scope, page, send)
            return

        shareable = False
        kept: list[Message] = []

        async def send_and_keep(message: Message) -> None:
            nonlocal shareable
            if message["type"] == "http.response.start":
                shareable = _is_shareable(message)
            if shareable:
                kept.append(message)
            await send(message)

        await self.app(scope, receive, send_and_keep)
        # Kept only if nothing changed while it was drawn: it may show the older data.
        if shareable and self.watch.generation() == generation:
            self.store.put(key, _page_from(kept))

    def _has_session(self, scope: Scope) -> bool:
        return any(
            name == b"cookie" and self.session_cookie in value for name, value in scope["headers"]
        )


def _key(scope: Scope) -> Key:
    """What tells two answers apart: the host (addresses in feeds and canonical links may
    come from it), the path and the query."""
    host = next((value for name, value in scope["headers"] if name == b"host"), b"")
    return (scope["scheme"].encode(), host, scope["path"], scope["query_string"])


def _is_shareable(start: Message) -> bool:
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


async def _answer(scope: Scope, page: CachedPage, send: Send) -> None:
    if_none_match = b",".join(value for name, value in scope["headers"] if name == b"if-none-match")
    if (
        page.etag is not None
        and if_none_match
        and etag_matches(if_none_match.decode("latin-1"), page.etag)
    ):
        # What the 200 says about itself, not its body's type and length (RFC 9110 §15.4.5).
        headers = [(name, value) for name, value in page.headers if name not in BODY_HEADERS]
        await send({"type": "http.response.start", "status": 304, "headers": [*headers, HIT]})
        await send({"type": "http.response.body", "body": b""})
        return
    headers = [*page.headers, HIT]
    await send({"type": "http.response.start", "status": page.status, "headers": headers})
    await send({"type": "http.response.body", "body": page.body})
