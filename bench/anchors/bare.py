"""The ceiling: a raw ASGI app that answers every request with the blog's own home page bytes.

No routing, no templates, no database: what is left is uvicorn, the HTTP parser and the
socket. Whatever the blog does per request can at best approach this figure. The bytes are
fetched once at start from the running blog (BENCH_PAGE_URL), so the response is the same size
and content-type as the page it stands in for.
"""

import os
import urllib.request

from starlette.types import Receive, Scope, Send

with urllib.request.urlopen(os.environ["BENCH_PAGE_URL"], timeout=30) as response:  # noqa: S310
    BODY: bytes = response.read()
    HEADERS: list[tuple[bytes, bytes]] = [
        (b"content-type", response.headers["Content-Type"].encode("latin-1")),
        (b"content-length", str(len(BODY)).encode("latin-1")),
    ]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        # Nothing to set up or tear down, but uvicorn asks; answering keeps its log quiet.
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
