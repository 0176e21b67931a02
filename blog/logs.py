"""Logging: one line per request with a request id, as readable text or one JSON object a line.

Only the method, the path (never the query string, which can hold tokens), the status, the
time taken, the request id and the client's address are logged: never a header, a cookie or a
body, so passwords and sessions cannot end up in the logs.
"""

import asyncio
import json
import logging
import re
import sys
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from random import getrandbits

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Scope

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
REQUEST_MESSAGE = "%s %s %s %.2fms client=%s"
_INFO = logging.getLevelName(logging.INFO)


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


def request_id_for(incoming: bytes | None) -> str:
    """The client's X-Request-ID when it cannot garble a log line or a header; else a new one.

    A new one only has to tell lines apart, not be unguessable: `random` (reseeded in each
    forked worker) makes one in a fraction of the time `secrets` takes to ask the kernel.
    """
    if incoming is not None and _SAFE_REQUEST_ID.fullmatch(incoming):
        return incoming.decode("ascii")
    return f"{getrandbits(64):016x}"


def _loggable_path(path: str) -> str:
    # A password reset link's token is as good as the password for its hour: never logged.
    if path.startswith(RESET_LINK_PREFIX):
        return RESET_LINK_PREFIX + "…"
    # A decoded path can hold a newline (%0A) and forge a second log line; escape such paths.
    return path if path.isprintable() else path.encode("unicode_escape").decode("ascii")


def log_request(scope: Scope, status: int, duration_ms: float, request_id: str) -> None:
    """The request's one line on "blog.requests", at INFO.

    It runs for every request, a cached page's included, so it skips what it can: when the
    only handler that would take the line is our own (as under uvicorn, which configures its
    own loggers and not the root one), the line is made without a record, the same bytes the
    record would have become, and written with the others of the event loop's turn. Anything
    else (pytest's caplog, a host's own handlers, a filter) gets a real record, as logging's
    documentation promises.
    """
    if not logger.isEnabledFor(logging.INFO):
        return
    client = scope.get("client")
    fields = {
        "method": scope["method"],
        "path": _loggable_path(scope["path"]),
        "status": status,
        "duration_ms": round(duration_ms, 2),
        "request_id": request_id,
        "client": client[0] if client else None,
    }
    handler = _the_only_handler()
    if handler is not None:
        handler.emit_request(fields)
    else:
        logger.handle(_request_record(fields))


def _the_only_handler() -> "_StderrHandler | None":
    """Our stderr handler, when it alone would take an INFO line of "blog.requests"."""
    ours = None
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters:
            return None
        for handler in current.handlers:
            if handler.level > logging.INFO:
                continue
            if ours is not None or not isinstance(handler, _StderrHandler):
                return None
            ours = handler
        current = current.parent if current.propagate else None
    # With no handler at all, logging would use its last-resort handler: leave that to it.
    return ours


def _request_record(fields: dict) -> logging.LogRecord:
    # Made directly rather than through logger.info, which would first walk the stack to
    # find the calling line: a third of a cached page's whole cost, for a line that is known.
    return logger.makeRecord(
        logger.name,
        logging.INFO,
        __file__,
        0,
        REQUEST_MESSAGE,
        _message_arguments(fields),
        None,
        extra=fields,
    )


def _message_arguments(fields: dict) -> tuple:
    return (
        fields["method"],
        fields["path"],
        fields["status"],
        fields["duration_ms"],
        fields["client"] or "-",
    )


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
        return self._time(record.created)

    def format_request(self, fields: dict, created: float) -> str:
        """The line `format` makes of a request's record, made from its fields."""
        message = REQUEST_MESSAGE % _message_arguments(fields)
        return f"{self._time(created)} {_INFO} {logger.name} [{fields['request_id']}] {message}"

    def _time(self, created: float) -> str:
        # The date and time change once a second, not once a line: formatted once a second.
        second = int(created)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime(self.default_time_format, self.converter(second))
        return f"{self._stamp},{int((created - second) * 1000):03d}"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and the request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = _json_line(record.created, record.levelname, record.name, record.getMessage())
        values = record.__dict__
        for name in REQUEST_FIELDS:
            if name in values:
                line[name] = values[name]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str)

    def format_request(self, fields: dict, created: float) -> str:
        """The line `format` makes of a request's record, made from its fields."""
        message = REQUEST_MESSAGE % _message_arguments(fields)
        line = _json_line(created, _INFO, logger.name, message)
        line.update(fields)
        return json.dumps(line, default=str)


def _json_line(created: float, level: str, name: str, message: str) -> dict[str, object]:
    return {
        "time": datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds"),
        "level": level,
        "logger": name,
        "message": message,
    }


class _RequestIdFilter(logging.Filter):
    """Marks each line written while a request is served with that request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            request_id = current_request_id.get()
            if request_id is not None:
                record.request_id = request_id
        return True


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when a line is written (test runners replace it).

    The request lines it is handed by `emit_request` wait for the end of the event loop's
    turn and go out together, one write for all the requests answered in that turn: written
    one by one, the writing was a good part of a cached page's cost. Any other line, and
    `flush` (which logging calls at exit), writes the waiting ones first, so the order holds.
    """

    def __init__(self) -> None:
        logging.Handler.__init__(self)
        self.addFilter(_RequestIdFilter())
        self._waiting_lines: list[str] = []

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    def emit_request(self, fields: dict) -> None:
        """Write a request's line as `handle` would write its record, without the record.

        A LogRecord is costly to make (the thread, the process, the time in three forms) and
        this runs for every request; our formatters make the same line from the fields.
        """
        format_request = getattr(self.formatter, "format_request", None)
        if format_request is None:  # a formatter set by someone else: give it a record
            self.handle(_request_record(fields))
            return
        try:
            line = format_request(fields, time.time()) + self.terminator
        except Exception:
            self.handleError(_request_record(fields))
            return
        with self.lock:  # type: ignore[union-attr]
            self._waiting_lines.append(line)
            first = len(self._waiting_lines) == 1
        if first:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # not on an event loop: nothing to wait for
                self.flush()

    def emit(self, record: logging.LogRecord) -> None:
        self._write_waiting_lines()
        super().emit(record)

    def flush(self) -> None:
        self._write_waiting_lines()
        super().flush()

    def _write_waiting_lines(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            if not self._waiting_lines:
                return
            lines, self._waiting_lines = "".join(self._waiting_lines), []
            try:
                self.stream.write(lines)
            except Exception:
                self.handleError(logging.makeLogRecord({"name": logger.name, "msg": lines}))


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
