"""Faults a real deployment meets: the database going away, unwritable, corrupt or deleted
under the running site, and two sign-ups racing."""

import contextlib
import json
import logging
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from base64 import b64encode
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from threading import Barrier

import httpx2
import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from sqlalchemy import make_url
from sqlalchemy.exc import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
)
from sqlmodel import Session, func, select

from blog.app import SESSION_COOKIE, create_app
from blog.config import Settings
from blog.db import make_engine
from blog.migrate import upgrade
from blog.models import User
from blog.security import LOGIN_SESSION_KEY
from blog.users import open_login_session
from tests.conftest import (
    DEFAULT_PASSWORD,
    PROJECT_ROOT,
    assert_html_page,
    engine_on,
    find_form,
    running_server,
    signed_in_name,
)


class TcpProxy:
    """Forwards a local port to a server; `cut` drops every connection and refuses new ones,
    as a database that went down would; `restore` brings it back on the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        # shutdown wakes the thread blocked in accept(); close alone would leave it listening.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            for connection in self._connections:
                # shutdown, not just close: it ends both directions at once, as a crash would.
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self._connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._connections += [client, upstream]
            for source, destination in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, destination), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, destination: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                destination.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, destination):
                end.close()


def test_an_unreachable_database_gives_a_503_page_and_the_site_recovers(migrated_postgres, caplog):
    url = make_url(migrated_postgres)
    proxy = TcpProxy(url.host, url.port)
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = create_app(Settings(database_url=proxied, secret_key="k", database_connect_timeout=2))
    try:
        with TestClient(app) as client:
            assert client.get("/").status_code == 200

            proxy.cut()
            started = time.monotonic()
            with caplog.at_level(logging.ERROR, logger="blog"):
                response = client.get("/")
            elapsed = time.monotonic() - started

            assert_html_page(response, 503)
            assert "cannot use its database" in response.text
            assert elapsed < 10, f"took {elapsed:.1f}s: a dead database must not hang pages"
            assert any("Database unavailable" in record.message for record in caplog.records)

            proxy.restore()
            assert client.get("/").status_code == 200
    finally:
        proxy.cut()
        app.state.engine.dispose()


def _register(base_url: str, email: str, start: Barrier) -> httpx2.Response:
    with httpx2.Client(base_url=base_url, follow_redirects=False, timeout=60) as browser:
        _, token = find_form(browser.get("/register").text, "/register")
        data = {"name": "Twin", "email": email, "password": "twin-password", "csrf_token": token}
        start.wait()
        return browser.post("/register", data=data)


@pytest.fixture(params=["sqlite", "postgresql"])
def served_database(request, tmp_path):
    """(base URL, database URL) of the app served by uvicorn on each database."""
    if request.param == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'blog.db'}"
    else:
        database_url = request.getfixturevalue("migrated_postgres")
    with running_server(tmp_path, database_url) as base_url:
        yield base_url, database_url


def test_registrations_racing_for_one_email_end_in_one_account_and_clear_errors(
    served_database,
):
    base_url, database_url = served_database
    racers = 6
    start = Barrier(racers)
    with ThreadPoolExecutor(racers) as pool:
        responses = list(
            pool.map(lambda _: _register(base_url, "twin@example.com", start), range(racers))
        )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [303] + [422] * (racers - 1)
    for response in responses:
        if response.status_code == 422:
            assert "An account with this email already exists" in response.text
    engine = make_engine(database_url)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(User)).one() == 1
    engine.dispose()


def test_only_a_database_that_cannot_be_used_gives_the_503_page(app):
    # SQLite's "file is not a database" is a plain DatabaseError; IntegrityError, DataError and
    # ProgrammingError are DatabaseErrors too, but they are bugs: the 500 page, not "try later".
    errors = {
        "operational": (OperationalError, 503),
        "interface": (InterfaceError, 503),
        "not-a-database": (DatabaseError, 503),
        "integrity": (IntegrityError, 500),
        "data": (DataError, 500),
        "programming": (ProgrammingError, 500),
    }

    @app.get("/fails/{kind}")
    def fails(kind: str):
        raise errors[kind][0]("SELECT 1", {}, Exception("what the driver said"))

    with TestClient(app, raise_server_exceptions=False) as client:
        statuses = {kind: client.get(f"/fails/{kind}").status_code for kind in errors}

    assert statuses == {kind: status for kind, (_, status) in errors.items()}


# Faults of the SQLite file itself, met by the app served by uvicorn.

AUTHOR_NAME = "Ann Author"
AUTHOR_EMAIL = "ann@example.com"
# Pages that read the database for anyone, logged in or not.
PAGES_THAT_READ = ("/", "/tags", "/users", "/search?q=words", "/feed.xml", "/sitemap.xml")


def _server_log(directory: Path) -> str:
    (log,) = directory.glob("server-*.log")
    return log.read_text()


def _log_in(browser: httpx2.Client) -> None:
    _, token = find_form(browser.get("/login").text, "/login")
    data = {"email": AUTHOR_EMAIL, "password": DEFAULT_PASSWORD, "csrf_token": token}
    response = browser.post("/login", data=data)
    assert response.status_code == 303, response.text


def _login_cookie(database: Path) -> str:
    """The session cookie a login of the author's on the served app (SECRET_KEY
    "live-secret") would give, its login session written straight to the database."""
    with engine_on(f"sqlite:///{database}") as engine, Session(engine) as session:
        author = session.exec(select(User).where(User.email == AUTHOR_EMAIL)).one()
        token = open_login_session(session=session, user=author, user_agent="")
    payload = b64encode(json.dumps({LOGIN_SESSION_KEY: token}).encode())
    return TimestampSigner("live-secret").sign(payload).decode()


def _new_blog_form(browser: httpx2.Client) -> dict[str, str]:
    """The new-blog form, filled in: post it to /blogs, as often as needed."""
    _, token = find_form(browser.get("/blogs/new").text, "/blogs")
    return {"title": "Worth keeping", "body": "Words worth keeping.", "csrf_token": token}


@pytest.fixture
def author_database(tmp_path, default_password_hash) -> Path:
    """A migrated SQLite file, alone in a folder of its own, with one author who can log in."""
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "blog.db"
    with engine_on(f"sqlite:///{path}") as engine:
        upgrade(engine)
        with Session(engine) as session:
            author = User(name=AUTHOR_NAME, email=AUTHOR_EMAIL, password_hash=default_password_hash)
            session.add(author)
            session.commit()
    return path


def _serve_as_an_ordinary_user() -> list[str]:
    """The command serving the app so that file permissions bind it, as they bind any user.

    They bind an ordinary user already. Root may write any file: as root, util-linux's setpriv
    serves the app without the capabilities that let root ignore permissions, so a file 444 in
    a folder 555 is as unwritable to it as to anyone. (Not `runuser -u nobody`: nobody cannot
    run an interpreter kept under a private home, such as root's pyenv.)
    """
    serve = [sys.executable, "-m", "uvicorn", "blog.main:app", "--app-dir", str(PROJECT_ROOT)]
    if os.geteuid() != 0:
        return serve
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        reason = "root without setpriv (util-linux): the server would ignore file permissions"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run this test: {reason}")
        pytest.skip(reason)
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--", *serve]


def _make_writable(folder: Path, writable: bool) -> None:
    """Every file in the folder and the folder itself: 644 and 755, or 444 and 555."""
    for path in folder.iterdir():
        path.chmod(0o644 if writable else 0o444)
    folder.chmod(0o755 if writable else 0o555)


@dataclass(frozen=True)
class UnwritableSite:
    browser: httpx2.Client  # logged in as the author
    folder: Path  # the database's folder
    log_directory: Path


@pytest.fixture
def unwritable_site(tmp_path, author_database) -> Iterator[UnwritableSite]:
    """The app served as an ordinary user on a database file it may read but not write
    (files 444, folder 555), with the author logged in."""
    folder = author_database.parent
    # Logging in writes the login session, so it is done before the file is made unwritable.
    cookie = _login_cookie(author_database)
    # Another process keeps the file open, as another worker would, so its -wal and -shm
    # files are there: without them SQLite cannot even read a WAL file it may not write.
    with contextlib.closing(sqlite3.connect(author_database)) as other_worker:
        other_worker.execute("SELECT count(*) FROM user").fetchall()
        _make_writable(folder, False)
        try:
            with (
                running_server(
                    tmp_path, f"sqlite:///{author_database}", _serve_as_an_ordinary_user()
                ) as base_url,
                httpx2.Client(base_url=base_url, follow_redirects=False, timeout=30) as browser,
            ):
                browser.cookies.set(SESSION_COOKIE, cookie)
                yield UnwritableSite(browser, folder, tmp_path)
        finally:
            _make_writable(folder, True)


def test_an_unwritable_database_gives_a_logged_in_visitor_the_503_page_with_their_name(
    unwritable_site,
):
    response = unwritable_site.browser.post("/blogs", data=_new_blog_form(unwritable_site.browser))

    assert_html_page(response, 503)
    assert response.headers["retry-after"] == "5"
    # Drawn after the session failed, the page still shows who is logged in.
    assert signed_in_name(response.text) == AUTHOR_NAME
    log = _server_log(unwritable_site.log_directory)
    assert "Database unavailable on POST /blogs: attempt to write a readonly database" in log
    assert "Traceback" not in log


def test_a_write_refused_by_an_unwritable_database_succeeds_once_it_is_writable_again(
    unwritable_site,
):
    browser = unwritable_site.browser
    form = _new_blog_form(browser)
    assert browser.post("/blogs", data=form).status_code == 503
    # A read meanwhile opens a new connection, read-only as the file still is.
    assert browser.get("/").status_code == 200

    _make_writable(unwritable_site.folder, True)
    response = browser.post("/blogs", data=form)

    assert response.status_code == 303, response.text
    blog_page = browser.get(response.headers["location"])
    assert blog_page.status_code == 200
    assert "Worth keeping" in blog_page.text


def test_a_database_file_corrupted_under_the_server_gives_the_503_page_on_every_page(tmp_path):
    path = tmp_path / "blog.db"
    with (
        running_server(tmp_path, f"sqlite:///{path}") as base_url,
        httpx2.Client(base_url=base_url, follow_redirects=False, timeout=30) as browser,
    ):
        for page in PAGES_THAT_READ:
            assert browser.get(page).status_code == 200
        # The server's connections (and its page cache) keep what they have read until the
        # write-ahead log moves on; another writer's write and checkpoint make them read the
        # file again. A checkpoint alone moves nothing when the log holds nothing: whether the
        # start-up's writes were still in it made this test pass or fail by chance.
        with contextlib.closing(sqlite3.connect(path)) as other_writer:
            with other_writer:
                other_writer.execute("UPDATE change_counter SET value = value")
            busy, _, _ = other_writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            assert busy == 0
        with path.open("r+b") as database:
            database.write(b"Not SQLite at all")  # over the header, "SQLite format 3"

        responses = [browser.get(page) for page in PAGES_THAT_READ]

    for response in responses:
        assert_html_page(response, 503)
    log = _server_log(tmp_path)
    assert "Traceback" not in log
    unavailable = [line for line in log.splitlines() if "Database unavailable" in line]
    assert len(unavailable) == len(PAGES_THAT_READ), log
    assert all(line.endswith(": file is not a database") for line in unavailable), log


@pytest.mark.parametrize(
    "command",
    [
        pytest.param([sys.executable, "-m", "blog.cli", "serve"], id="blog serve"),
        pytest.param(
            [sys.executable, "-m", "uvicorn", "blog.main:app", "--app-dir", str(PROJECT_ROOT)],
            id="uvicorn",
        ),
    ],
)
def test_starting_on_a_corrupt_database_file_exits_with_one_clear_line(tmp_path, command):
    path = tmp_path / "blog.db"
    path.write_bytes(b"Not SQLite at all. " * 300)
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "live-secret"}

    finished = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [*command, "--host", "127.0.0.1", "--port", "0"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    output = finished.stdout + finished.stderr
    assert finished.returncode != 0, output
    assert "Traceback" not in output
    (line,) = [line for line in output.splitlines() if "file is not a database" in line]
    assert "cannot use the database" in line.lower()
    assert str(path) in line


def test_writes_to_a_deleted_database_file_answer_503_and_nothing_claims_success(
    tmp_path, author_database
):
    with (
        running_server(tmp_path, f"sqlite:///{author_database}") as base_url,
        httpx2.Client(base_url=base_url, follow_redirects=False, timeout=30) as browser,
    ):
        _log_in(browser)
        form = _new_blog_form(browser)
        author_database.unlink()

        write = browser.post("/blogs", data=form)
        read = browser.get("/")

    assert_html_page(write, 503)
    assert_html_page(read, 503)
    # No new, empty file in its place, to be taken for the site's data at the next start.
    assert not author_database.exists()
    log = _server_log(tmp_path)
    assert "Traceback" not in log
    assert f"POST /blogs: the database file {author_database} was deleted" in log
