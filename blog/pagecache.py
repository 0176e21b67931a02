"""A cache of rendered pages for readers who are not logged in.

Most visitors are anonymous readers who all get the same bytes for the same address, so the
page is rendered once and then answered from memory, in front of the rest of the stack (the
front door, blog/front.py, looks here before anything else runs).

It is exact, not time-based: before every lookup the watch (blog/changes.py) says, from a
read made after the request arrived, whether anything a page shows has changed since the pages
were drawn, and the store is emptied when it has.

Only answers that are the same for everyone are kept: GETs (and HEADs) without the session
cookie (a logged-in visitor, or one with a flash message or a form's CSRF token, has one),
answered 200 with no Set-Cookie and not marked `no-store`. The cache is bounded in bytes, per
worker.
"""

from collections import OrderedDict
from dataclasses import dataclass, field

from starlette.datastructures import Headers
from starlette.types import Message, Scope

from blog.caching import CACHEABLE_TYPES
from blog.changes import ChangeWatch, Generation

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
        # Kept only if nothing changed while it was drawn (it may show the older data), and
        # put in the same step as the store learns that, so it never holds a page of another
        # generation than its own.
        if await self.current_generation() == generation:
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
