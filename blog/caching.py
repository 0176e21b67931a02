"""Conditional GET: pages and feeds carry an ETag, and a browser that has them gets a 304."""

import hashlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Pages, feeds, the sitemap and robots.txt. Anything else (JSON, static files) is left alone.
CACHEABLE_TYPES = frozenset(
    {"text/html", "application/atom+xml", "application/xml", "text/xml", "text/plain"}
)
# What a 304 repeats of the 200 it stands for (RFC 9110 §15.4.5); the body's own headers,
# Content-Type and Content-Length, are left out. SecurityHeadersMiddleware wraps this one,
# so the 304 gets the security headers like any other response.
KEPT_ON_304 = frozenset(
    {b"cache-control", b"content-location", b"date", b"etag", b"expires", b"vary"}
)


class ConditionalGetMiddleware:
    """Adds a weak ETag to successful pages and answers a matching If-None-Match with 304.

    The ETag is a hash of the body, so it changes exactly when the page does, whatever in
    the database changed it. The page is still rendered every time: a 304 saves the bytes
    on the wire and the browser's re-rendering, not the server's work.

    Only GET is handled: the front door (blog/front.py), outside this one, turns HEAD into GET
    underneath, so a HEAD gets the same ETag and 304 as a GET of the full body would.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return

        held_start: Message | None = None
        chunks: list[bytes] = []

        async def send_with_etag(message: Message) -> None:
            nonlocal held_start
            if message["type"] == "http.response.start" and _is_cacheable(message):
                # The ETag depends on the whole body, so the start waits until it is here.
                held_start = message
                return
            if message["type"] == "http.response.body" and held_start is not None:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await _finish(scope, held_start, b"".join(chunks), send)
                return
            await send(message)

        await self.app(scope, receive, send_with_etag)


def _is_cacheable(start: Message) -> bool:
    headers = Headers(raw=start.setdefault("headers", []))
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    if "no-store" in headers.get("cache-control", "").lower():
        return False  # not to be kept by anyone (the health checks): no ETag, no 304
    # A response with an ETag of its own (StaticFiles) already answers conditional requests.
    return start["status"] == 200 and media_type in CACHEABLE_TYPES and "etag" not in headers


async def _finish(scope: Scope, start: Message, body: bytes, send: Send) -> None:
    headers = MutableHeaders(scope=start)  # edits the start message's headers
    etag = f'W/"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers["ETag"] = etag
    # The browser may keep the page but must ask each time; most answers are then a 304.
    headers.setdefault("Cache-Control", "no-cache")
    # A logged-in visitor sees their name and their own links: the page depends on the cookie.
    vary = [token.strip() for token in headers.get("vary", "").split(",") if token.strip()]
    if "cookie" not in {token.lower() for token in vary}:
        headers["Vary"] = ", ".join([*vary, "Cookie"])

    # A response that sets a cookie (a new CSRF token, a flash message shown) is always sent
    # whole: the cookie belongs with the page made alongside it (the form holding that token),
    # and caches in between need not pass a Set-Cookie on from a 304. Such responses are rare.
    if_none_match = ",".join(Headers(scope=scope).getlist("if-none-match"))
    if "set-cookie" not in headers and etag_matches(if_none_match, etag):
        kept = [(name, value) for name, value in headers.raw if name.lower() in KEPT_ON_304]
        await send({"type": "http.response.start", "status": 304, "headers": kept})
        await send({"type": "http.response.body", "body": b""})
        return
    await send(start)
    await send({"type": "http.response.body", "body": body})


def etag_matches(if_none_match: str, etag: str) -> bool:
    """If-None-Match uses weak comparison (RFC 9110 §13.1.2): W/"x" and "x" are the same tag."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags
