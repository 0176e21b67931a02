"""Logging: one line per request with a request id, as readable text or one JSON object a line.

Only the method, the path (never the query string, which can hold tokens), the status, the
time taken, the request id and the client's address are logged: never a header, a cookie or a
body, so passwords and sessions cannot end up in the logs.
"""

import json
import logging
import re
import sys
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from secrets import token_hex
from time import perf_counter

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from blog.config import LogFormat, Settings

logger = logging.getLogger("blog.requests")

REQUEST_ID_HEADER = b"x-request-id"
# An incoming id is kept only when it cannot garble a log line or a header.
_SAFE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
# Paths under this hold a secret token (blog/routes/reset.py).
RESET_LINK_PREFIX = "/reset/"
# nginx's status for a client that closed the connection before it was answered.
CLIENT_CLOSED_REQUEST = 499

# The id of the request being served, for every log line written while serving it.
current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)

# What a JSON line carries of a request, when the record is the request's own line.
REQUEST_FIELDS = ("method", "path", "status", "duration_ms", "request_id", "client")


class RequestLogMiddleware:
    """Logs one line per request to "blog.requests" and answers with its `X-Request-ID`.

    Pure ASGI, so it costs one wrapped `send` and a log call per request. It belongs outside
    everything else, Starlette's ServerErrorMiddleware included (see `add_request_log`), so a
    500 page is logged with its status and carries the id too.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = perf_counter()
        request_id = _incoming_request_id(scope["headers"]) or token_hex(8)
        id_header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        # What the server answers when the app fails before starting a response.
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # A new message and list: a response object may send the same headers again.
                message = {**message, "headers": [*message.get("headers", ()), id_header]}
            await send(message)

        token = current_request_id.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if logger.isEnabledFor(logging.INFO):
                _log_request(scope, status, (perf_counter() - started) * 1000, request_id)
            current_request_id.reset(token)


def add_request_log(app: Starlette) -> None:
    """Put RequestLogMiddleware around the app's whole middleware stack.

    `add_middleware` places a middleware inside ServerErrorMiddleware, whose 500 page goes
    straight to the server; wrapping the built stack is the only way to see that page too.
    """
    build_inner_stack = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        return RequestLogMiddleware(build_inner_stack())

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]


async def client_disconnected(request: Request, error: ClientDisconnect) -> Response:
    """A client that hung up mid-request is no crash: one quiet line, and nobody to answer.

    The response goes nowhere (the server drops it); its status marks the request's log line.
    """
    logger.info(
        "Client disconnected before sending the whole request: %s %s",
        request.method,
        _loggable_path(request.url.path),
    )
    return Response(status_code=CLIENT_CLOSED_REQUEST)


def _incoming_request_id(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            return value.decode("ascii") if _SAFE_REQUEST_ID.fullmatch(value) else None
    return None


def _loggable_path(path: str) -> str:
    # A password reset link's token is as good as the password for its hour: never logged.
    if path.startswith(RESET_LINK_PREFIX):
        return RESET_LINK_PREFIX + "…"
    # A decoded path can hold a newline (%0A) and forge a second log line; escape such paths.
    return path if path.isprintable() else path.encode("unicode_escape").decode("ascii")


def _log_request(scope: Scope, status: int, duration_ms: float, request_id: str) -> None:
    method = scope["method"]
    path = _loggable_path(scope["path"])
    client = scope.get("client")
    client_host = client[0] if client else None
    duration_ms = round(duration_ms, 2)
    if not logger.isEnabledFor(logging.INFO):
        return
    # Made directly rather than through logger.info, which would first walk the stack to
    # find the calling line: a third of a cached page's whole cost, for a line that is known.
    record = logger.makeRecord(
        logger.name,
        logging.INFO,
        __file__,
        0,
        "%s %s %s %.2fms client=%s",
        (method, path, status, duration_ms, client_host or "-"),
        None,
        extra={
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
            "request_id": request_id,
            "client": client_host,
        },
    )
    logger.handle(record)


class TextFormatter(logging.Formatter):
    """`2025-06-01 12:00:00,123 INFO blog.requests [3f9c2a7b1d4e5f60] GET / 200 4.20ms …`"""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
            defaults={"request_id": "-"},
        )
        self._second: int | None = None
        self._stamp = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        # The date and time change once a second, not once a line: formatted once a second.
        second = int(record.created)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime(self.default_time_format, self.converter(second))
        return f"{self._stamp},{int(record.msecs):03d}"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and the request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        values = record.__dict__
        for name in REQUEST_FIELDS:
            if name in values:
                line[name] = values[name]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str)


class _RequestIdFilter(logging.Filter):
    """Marks each line written while a request is served with that request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            request_id = current_request_id.get()
            if request_id is not None:
                record.request_id = request_id
        return True


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when a line is written (test runners replace it)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)
        self.addFilter(_RequestIdFilter())

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr


def configure_logging(settings: Settings) -> None:
    """Give the "blog" loggers one handler to stderr in the configured format.

    Safe to call for every app made: the one handler is found again and only its format set.
    The loggers still propagate, so the root logger's handlers (pytest's caplog, a host's own
    logging set-up) see the same records; a set-up that also prints the root logger's records
    to stderr can turn that off with `logging.getLogger("blog").propagate = False`.
    """
    blog_logger = logging.getLogger("blog")
    handler = next((h for h in blog_logger.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        blog_logger.addHandler(handler)
    handler.setFormatter(
        JsonFormatter() if settings.log_format == LogFormat.JSON else TextFormatter()
    )
    # INFO, for the request lines, unless something already chose a level.
    if blog_logger.level == logging.NOTSET:
        blog_logger.setLevel(logging.INFO)
