"""Faults a real deployment meets: the database going away, and two sign-ups racing."""

import contextlib
import logging
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import make_url
from sqlmodel import Session, func, select

from blog.app import create_app
from blog.config import Settings
from blog.db import make_engine
from blog.models import User
from tests.conftest import assert_html_page, find_form, running_server


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
            assert "cannot reach its database" in response.text
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
