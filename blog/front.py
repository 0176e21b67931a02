"""The front door: the one layer every request passes first, around all of the app.

It gives each request its id and its log line, answers HEAD as GET without the body, and
answers anonymous readers from the page cache. Done in one layer, a cached page costs one pass
over the request's headers, a look in the cache and the log line, and never enters Starlette:
every layer a request passes through is paid on every request, the cached ones included.

It wraps the app's built middleware stack, Starlette's ServerErrorMiddleware included
(`add_front_door`), because `add_middleware` would place it inside that one: a 500 page
would then go to the server without an id or a log line.
"""

from time import perf_counter

from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from blog.caching import etag_matches
from blog.logs import REQUEST_ID_HEADER, current_request_id, log_request, request_id_for
from blog.pagecache import CachedPage, PageCache, is_shareable, page_key

EMPTY_BODY: Message = {"type": "http.response.body", "body": b""}
API_PATHS = "/api/"


class FrontDoor:
    """Request id and log line, HEAD as GET, and the page cache, in one ASGI layer."""

    def __init__(self, app: ASGIApp, *, page_cache: PageCache | None, session_cookie: str) -> None:
        self.app = app
        self.page_cache = page_cache
        self.session_cookie = f"{session_cookie}=".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        request = _RequestHeaders(scope["headers"], self.session_cookie)
        response = _Response(send, request_id_for(request.request_id), scope["method"] == "HEAD")
        token = current_request_id.set(response.request_id)
        try:
            page_cache = self._cache_for(scope, request)
            if page_cache is not None:
                await self._answer_through_cache(page_cache, scope, receive, request, response)
            else:
                await self._answer_from_app(scope, receive, response)
        finally:
            duration_ms = (perf_counter() - started) * 1000
            log_request(scope, response.status, duration_ms, response.request_id)
            current_request_id.reset(token)

    def _cache_for(self, scope: Scope, request: "_RequestHeaders") -> PageCache | None:
        # A visitor with the session cookie may see their own name, a flash message or a
        # form's CSRF token: their pages are neither kept nor answered from the cache.
        if scope["method"] not in ("GET", "HEAD") or request.has_session:
            return None
        # The API (and its docs) is never cached: its answers depend on a token, not a cookie.
        if scope["path"].startswith(API_PATHS):
            return None
        return self.page_cache

    async def _answer_through_cache(
        self,
        page_cache: PageCache,
        scope: Scope,
        receive: Receive,
        request: "_RequestHeaders",
        response: "_Response",
    ) -> None:
        generation = await page_cache.current_generation()
        if generation is None:  # the database cannot say what changed: no cache this time
            await self._answer_from_app(scope, receive, response)
            return
        # The Host is part of the key: only a host the site answers to is ever answered 200,
        # and only 200s are kept, so a Host that is not allowed finds nothing and gets its 400.
        key = page_key(scope, request.host)
        page = page_cache.get(key)
        if page is not None:
            await response.send_page(page, request.if_none_match)
            return
        response.keep_for_cache()
        await self._answer_from_app(scope, receive, response)
        if response.kept is not None:
            await page_cache.keep(key, response.kept, generation)

    async def _answer_from_app(self, scope: Scope, receive: Receive, response: "_Response") -> None:
        if scope["method"] == "HEAD":
            # Routes declared with `get` answer HEAD with 405; as GET they give the real answer
            # (its ETag too), and _Response drops the body.
            scope = {**scope, "method": "GET"}
        await self.app(scope, receive, response.send)


def add_front_door(app: Starlette, *, page_cache: PageCache | None, session_cookie: str) -> None:
    """Put a FrontDoor around the app's whole middleware stack, ServerErrorMiddleware included."""
    build_inner_stack = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        return FrontDoor(build_inner_stack(), page_cache=page_cache, session_cookie=session_cookie)

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]


class _RequestHeaders:
    """What the front door needs of a request's headers, found in one pass over them."""

    __slots__ = ("has_session", "host", "if_none_match", "request_id")

    def __init__(self, headers: list[tuple[bytes, bytes]], session_cookie: bytes) -> None:
        self.host = b""
        self.request_id: bytes | None = None
        self.has_session = False
        tags: list[bytes] = []
        for name, value in headers:
            if name == b"host":
                # The first, as Starlette's `request.headers["host"]` takes it.
                self.host = self.host or value
            elif name == b"cookie":
                self.has_session = self.has_session or session_cookie in value
            elif name == b"if-none-match":
                tags.append(value)
            elif name == REQUEST_ID_HEADER and self.request_id is None:
                self.request_id = value
        self.if_none_match = b",".join(tags).decode("latin-1")


class _Response:
    """The way back to the client: adds the request id, drops a HEAD's body, notes the status
    for the log line and, when asked, keeps a copy of a shareable answer for the cache."""

    __slots__ = ("client_send", "head", "id_header", "kept", "request_id", "status")

    def __init__(self, client_send: Send, request_id: str, head: bool) -> None:
        self.client_send = client_send
        self.request_id = request_id
        self.id_header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        self.head = head
        # What the server answers when the app fails before starting a response.
        self.status = 500
        self.kept: list[Message] | None = None

    def keep_for_cache(self) -> None:
        self.kept = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            if self.kept is not None and not is_shareable(message):
                self.kept = None
            if self.kept is not None:
                self.kept.append(message)
            # A new message and list: the kept one stays without the id, and a response
            # object may send the same headers again.
            message = {**message, "headers": [*message.get("headers", ()), self.id_header]}
        elif message["type"] == "http.response.body":
            if self.kept is not None:
                self.kept.append(message)
            if self.head:
                if message.get("more_body", False):
                    return
                message = EMPTY_BODY
        await self.client_send(message)

    async def send_page(self, page: CachedPage, if_none_match: str) -> None:
        """Answer with a kept page, or with 304 when the client already has it."""
        if page.etag is not None and if_none_match and etag_matches(if_none_match, page.etag):
            self.status = 304
            headers, body = page.headers_on_304, b""
        else:
            self.status = page.status
            headers, body = page.headers_on_hit, b"" if self.head else page.body
        start = {"type": "http.response.start", "status": self.status}
        await self.client_send({**start, "headers": [*headers, self.id_header]})
        await self.client_send({"type": "http.response.body", "body": body})
