"""One log line per request, with a request id that the response carries too."""

import json
import logging
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from blog.app import create_app
from blog.config import LogFormat, Settings
from blog.logs import REQUEST_FIELDS, configure_logging, log_request
from tests.conftest import (
    DEFAULT_PASSWORD,
    engine_on,
    run_coroutine,
    running_server,
    submit_form,
)

# What this checks does not depend on the database: the PostgreSQL run leaves it out.
pytestmark = pytest.mark.same_on_every_database

REQUEST_LOGGER = "blog.requests"
GENERATED_ID = re.compile(r"[0-9a-f]{16}")


def request_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The request lines (not other lines of the "blog.requests" logger)."""
    return [
        record
        for record in caplog.records
        if record.name == REQUEST_LOGGER and hasattr(record, "duration_ms")
    ]


def blog_log_text(caplog: pytest.LogCaptureFixture) -> str:
    """Everything the blog's own loggers wrote (the test client logs its requests too)."""
    return "\n".join(
        caplog.handler.format(record)
        for record in caplog.records
        if record.name == "blog" or record.name.startswith("blog.")
    )


def json_lines(capsys: pytest.CaptureFixture) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line[:1] == "{"]


def _fail() -> None:
    raise RuntimeError("something broke")


@pytest.fixture
def failing_client(app) -> Iterator[TestClient]:
    """A client of an app with a route, /boom, that raises; server errors come back as 500s."""
    app.add_api_route("/boom", _fail)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def json_app(database_url) -> Iterator[FastAPI]:
    """An app with LOG_FORMAT=json; the text format is put back afterwards."""
    app = create_app(
        Settings(database_url=database_url, secret_key="test-secret", log_format=LogFormat.JSON)
    )
    yield app
    app.state.engine.dispose()
    configure_logging(Settings(database_url=database_url, log_format=LogFormat.TEXT))


@pytest.fixture
def json_client(json_app) -> Iterator[TestClient]:
    json_app.add_api_route("/boom", _fail)
    with TestClient(json_app, raise_server_exceptions=False) as client:
        yield client


def test_each_request_is_logged_once_with_method_path_status_duration_and_id(client, caplog):
    caplog.set_level(logging.INFO, logger="blog")

    response = client.get("/tags")

    [record] = request_records(caplog)
    assert record.levelno == logging.INFO
    assert (record.method, record.path, record.status) == ("GET", "/tags", 200)
    assert isinstance(record.duration_ms, float) and record.duration_ms >= 0
    assert record.request_id == response.headers["x-request-id"]


def test_a_generated_request_id_is_sent_back_as_x_request_id(client):
    response = client.get("/")

    assert GENERATED_ID.fullmatch(response.headers["x-request-id"])


def test_each_request_gets_its_own_generated_id(client):
    first = client.get("/").headers["x-request-id"]
    second = client.get("/").headers["x-request-id"]

    assert first != second


@pytest.mark.parametrize("incoming", ["abc", "req-42_7.x", "A" * 64])
def test_a_short_safe_incoming_request_id_is_kept(client, caplog, incoming):
    caplog.set_level(logging.INFO, logger="blog")

    response = client.get("/", headers={"X-Request-ID": incoming})

    assert response.headers["x-request-id"] == incoming
    assert request_records(caplog)[0].request_id == incoming


@pytest.mark.parametrize(
    "incoming",
    ["", "A" * 65, "two words", "id;drop", "<script>", "a/b", b"caf\xc3\xa9"],
    ids=["empty", "65 characters", "space", "semicolon", "markup", "slash", "non-ascii"],
)
def test_an_unsafe_incoming_request_id_is_replaced_by_a_generated_one(client, incoming):
    response = client.get("/", headers={"X-Request-ID": incoming})

    assert GENERATED_ID.fullmatch(response.headers["x-request-id"])


def test_the_query_string_is_not_logged(client, caplog):
    caplog.set_level(logging.DEBUG, logger="blog")

    client.get("/search?q=secret-token-123")

    [record] = request_records(caplog)
    assert record.path == "/search"
    assert "secret-token-123" not in blog_log_text(caplog)


def test_passwords_cookies_and_form_bodies_never_appear_in_the_logs(
    client, make_user, caplog, capsys
):
    caplog.set_level(logging.DEBUG, logger="blog")
    user = make_user(email="logged@example.com")

    response = submit_form(client, "/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 303
    client.get("/")

    written = blog_log_text(caplog) + capsys.readouterr().err
    session_cookie = client.cookies["blog_session"]
    for secret in (DEFAULT_PASSWORD, "correct+horse", session_cookie, "logged@example.com"):
        assert secret not in written
    assert "csrf_token" not in written


def test_a_newline_in_the_path_cannot_start_a_forged_log_line(client, caplog):
    caplog.set_level(logging.INFO, logger="blog")

    client.get("/blogs%0AINFO blog.requests forged")

    [record] = request_records(caplog)
    assert "\n" not in record.getMessage()
    assert record.path == "/blogs\\nINFO blog.requests forged"


def test_head_is_logged_as_head(client, caplog):
    caplog.set_level(logging.INFO, logger="blog")

    client.head("/")

    assert request_records(caplog)[0].method == "HEAD"


def test_a_404_page_carries_the_request_id_it_was_logged_with(client, caplog):
    caplog.set_level(logging.INFO, logger="blog")

    response = client.get("/no/such/page")

    assert response.status_code == 404
    [record] = request_records(caplog)
    assert record.status == 404
    assert response.headers["x-request-id"] == record.request_id


def test_a_500_page_carries_the_request_id_and_is_logged_as_500(failing_client, caplog):
    caplog.set_level(logging.INFO, logger="blog")

    response = failing_client.get("/boom", headers={"X-Request-ID": "failing-1"})

    assert response.status_code == 500
    assert response.headers["x-request-id"] == "failing-1"
    [record] = request_records(caplog)
    assert (record.status, record.request_id) == (500, "failing-1")


def test_a_static_file_carries_a_request_id(client):
    response = client.get("/static/style.css")

    assert response.status_code == 200
    assert GENERATED_ID.fullmatch(response.headers["x-request-id"])


def test_a_304_carries_a_request_id(client):
    etag = client.get("/").headers["etag"]

    response = client.get("/", headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert GENERATED_ID.fullmatch(response.headers["x-request-id"])


def test_json_format_writes_one_object_a_line_with_the_request_fields(json_client, capsys):
    capsys.readouterr()

    json_client.get("/tags", headers={"X-Request-ID": "json-1"})

    [line] = [line for line in json_lines(capsys) if line["logger"] == REQUEST_LOGGER]
    assert line["level"] == "INFO"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/tags", 200)
    assert line["request_id"] == "json-1"
    assert line["client"] == "testclient"
    assert isinstance(line["duration_ms"], float)
    assert "GET /tags 200" in line["message"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])


def test_json_format_keeps_a_traceback_inside_its_one_line(json_client, capsys):
    capsys.readouterr()

    json_client.get("/boom")

    output = capsys.readouterr().err
    [error] = [json.loads(line) for line in output.splitlines() if "Unhandled error" in line]
    assert "RuntimeError: something broke" in error["exception"]
    assert all(line.startswith("{") for line in output.splitlines() if line.strip())


def test_the_unhandled_error_line_carries_the_request_id(json_client, capsys):
    capsys.readouterr()

    json_client.get("/boom", headers={"X-Request-ID": "crash-7"})

    [error] = [line for line in json_lines(capsys) if "Unhandled error" in line["message"]]
    assert error["level"] == "ERROR"
    assert error["request_id"] == "crash-7"


def test_the_database_unavailable_line_carries_the_request_id(json_app, tmp_path, capsys):
    original = json_app.state.engine
    with engine_on(f"sqlite:///{tmp_path / 'missing' / 'blog.db'}") as unreachable:
        json_app.state.engine = unreachable
        try:
            with TestClient(json_app) as client:
                capsys.readouterr()
                response = client.get("/", headers={"X-Request-ID": "db-down-3"})
        finally:
            json_app.state.engine = original

    assert response.status_code == 503
    [line] = [line for line in json_lines(capsys) if "Database unavailable" in line["message"]]
    assert line["request_id"] == "db-down-3"


def test_text_format_writes_a_readable_line_with_the_request_id(client, capsys):
    capsys.readouterr()

    client.get("/tags", headers={"X-Request-ID": "text-1"})

    [line] = [line for line in capsys.readouterr().err.splitlines() if REQUEST_LOGGER in line]
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO blog\.requests \[text-1\] "
        r"GET /tags 200 \d+\.\d\dms client=testclient",
        line,
    )


def test_making_many_apps_leaves_one_handler_on_the_blog_logger(settings):
    for _ in range(3):
        create_app(settings).state.engine.dispose()

    ours = [h for h in logging.getLogger("blog").handlers if type(h).__module__ == "blog.logs"]
    assert len(ours) == 1
    assert logging.getLogger("blog").propagate


# A client that hangs up mid-body, against a real server.

_PARTIAL_POST = (
    b"POST /login HTTP/1.1\r\n"
    b"Host: 127.0.0.1\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\n"
    b"Content-Length: 100000\r\n"
    b"\r\n"
    b"email=someone%40example.com&password=half-a-pass"
)


def _wait_for(path: Path, text: str, seconds: float = 10) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        log = path.read_text()
        if text in log:
            return log
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared in the server log:\n{path.read_text()}")


def test_a_client_that_hangs_up_mid_body_is_one_quiet_line_not_a_crash(tmp_path):
    with running_server(tmp_path, f"sqlite:///{tmp_path / 'blog.db'}") as url:
        port = urlsplit(url).port
        log_path = tmp_path / f"server-{port}.log"
        with socket.create_connection(("127.0.0.1", port)) as connection:
            connection.sendall(_PARTIAL_POST)
            time.sleep(0.2)  # the app is now waiting for the rest of the body
        log = _wait_for(log_path, "POST /login 499")

    assert log.count("Client disconnected") == 1
    assert "Traceback" not in log
    assert "Unhandled error" not in log
    assert "half-a-pass" not in log


# Under uvicorn the blog's own handler is the only one, and the line is written without a
# LogRecord; pytest's handlers (on the root logger, and on "blog" too) take every other test
# the record way.


@contextmanager
def only_our_handler() -> Iterator[None]:
    """The blog's loggers as uvicorn leaves them: nothing but our handler takes their lines."""
    blog_logger = logging.getLogger("blog")
    handlers, propagate = blog_logger.handlers, blog_logger.propagate
    ours = [h for h in handlers if type(h).__module__ == "blog.logs"]
    blog_logger.handlers, blog_logger.propagate = ours, False
    try:
        yield
    finally:
        # Request lines wait for the end of the event loop's turn: written out by now.
        for handler in ours:
            handler.flush()
        blog_logger.handlers, blog_logger.propagate = handlers, propagate


def test_the_line_written_without_a_record_reads_like_any_other(client, capsys):
    capsys.readouterr()

    with only_our_handler():
        client.get("/tags?q=secret", headers={"X-Request-ID": "fast-1"})

    [line] = [line for line in capsys.readouterr().err.splitlines() if REQUEST_LOGGER in line]
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO blog\.requests \[fast-1\] "
        r"GET /tags 200 \d+\.\d\dms client=testclient",
        line,
    )


def test_the_json_line_written_without_a_record_has_every_field(json_client, capsys):
    capsys.readouterr()

    with only_our_handler():
        json_client.get("/no-such-page", headers={"X-Request-ID": "fast-json-1"})

    [line] = [line for line in json_lines(capsys) if line["logger"] == REQUEST_LOGGER]
    assert set(line) == {"time", "level", "logger", "message", *REQUEST_FIELDS}
    assert (line["method"], line["path"], line["status"]) == ("GET", "/no-such-page", 404)
    assert line["request_id"] == "fast-json-1"
    assert re.fullmatch(r"GET /no-such-page 404 \d+\.\d\dms client=testclient", line["message"])


def test_a_handler_of_the_host_still_gets_a_record_of_each_request(client):
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]

    with only_our_handler():
        logging.getLogger("blog").addHandler(handler)
        client.get("/tags")

    [record] = [record for record in records if hasattr(record, "duration_ms")]
    assert (record.method, record.path, record.status) == ("GET", "/tags", 200)


def test_a_request_line_waiting_for_the_loop_still_comes_before_any_later_line(settings, capsys):
    configure_logging(settings)

    async def answer_then_log_another_line() -> None:
        scope = {"method": "GET", "path": "/first", "client": ("127.0.0.1", 1)}
        log_request(scope, 200, 1.0, "order-1")
        logging.getLogger("blog").warning("a later line")

    capsys.readouterr()
    with only_our_handler():
        run_coroutine(answer_then_log_another_line())

    lines = [line for line in capsys.readouterr().err.splitlines() if "blog" in line]
    assert "[order-1] GET /first 200" in lines[0]
    assert "a later line" in lines[1]
