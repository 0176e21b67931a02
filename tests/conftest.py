"""Shared fixtures: an app on a fresh database per test, a client, factories and form helpers."""

import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from html import unescape
from itertools import count
from pathlib import Path

import httpx2
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, make_url
from sqlmodel import Session, SQLModel, col, func, select

from blog.app import create_app
from blog.config import Settings
from blog.db import make_engine
from blog.migrate import head_revision, upgrade
from blog.models import Blog, Comment, CommentStatus, Tag, User

# The source checkout: the tests run the app from here, not from an installed wheel.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PASSWORD = "correct horse battery"
_FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.DOTALL | re.IGNORECASE)
_ACTION = re.compile(r'action="([^"]*)"')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session")
def default_password_hash() -> str:
    """Hashing is slow on purpose; factories reuse one hash of DEFAULT_PASSWORD.

    Argon2 verifies with the cost written in the hash, so a cheap-cost hash keeps every
    log-in in the suite fast while the app's own verify code runs unchanged. Registering
    still hashes at the app's real cost, and the register tests check that hash.
    """
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(DEFAULT_PASSWORD)


# A PostgreSQL server's database, set by `.ci/with-postgres` (which `make test` uses). Tests
# that need PostgreSQL make databases of their own on that server.
POSTGRES_SERVER_URL = os.environ.get("TEST_DATABASE_URL")
# TEST_BACKEND=postgresql runs the whole suite with every app on that PostgreSQL database.
SUITE_ON_POSTGRES = os.environ.get("TEST_BACKEND") == "postgresql"
if SUITE_ON_POSTGRES and not POSTGRES_SERVER_URL:
    raise RuntimeError("TEST_BACKEND=postgresql needs TEST_DATABASE_URL")


def _need_postgres() -> str:
    """The server URL, or skip; in CI a missing server is a failure, never a silent skip."""
    if POSTGRES_SERVER_URL:
        return POSTGRES_SERVER_URL
    if os.environ.get("CI"):
        pytest.fail("CI must run the PostgreSQL tests: run them through .ci/with-postgres")
    pytest.skip("no PostgreSQL server: set TEST_DATABASE_URL (`make test` starts one)")


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards."""
    server_url = make_url(_need_postgres())
    name = f"blog_test_{uuid.uuid4().hex[:12]}"
    maintenance = make_engine(server_url.render_as_string(hide_password=False))
    with maintenance.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with maintenance.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        maintenance.dispose()


@contextmanager
def engine_on(database_url: str) -> Iterator[Engine]:
    """An engine for a test's own use, always disposed (an open connection fails the run)."""
    engine = make_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def newest_revision() -> str:
    with engine_on("sqlite://") as engine:
        head = head_revision(engine)
    assert head is not None
    return head


@pytest.fixture
def migrated_postgres(postgres_database) -> str:
    """A new PostgreSQL database at the newest schema."""
    with engine_on(postgres_database) as engine:
        upgrade(engine)
    return postgres_database


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> str:
    """A database at the newest schema, migrated once for the whole run; its URL."""
    if SUITE_ON_POSTGRES:
        database_url = POSTGRES_SERVER_URL
    else:
        database_url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'blog.db'}"
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    return database_url


@pytest.fixture
def database_url(migrated_database, tmp_path) -> str:
    """A fresh, empty database at the newest schema for this test."""
    if SUITE_ON_POSTGRES:
        engine = make_engine(migrated_database)
        tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        engine.dispose()
        return migrated_database
    # Copying the migrated file is much faster than migrating a new one for every test.
    path = tmp_path / "blog.db"
    shutil.copyfile(migrated_database.removeprefix("sqlite:///"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def settings(database_url, request) -> Settings:
    """The app's settings; a test marked `@pytest.mark.settings(guest_comments=True)` gets
    those fields changed."""
    # Every test client comes from one address: per-address limits are off, except in the
    # tests of those limits.
    fields = {
        "database_url": database_url,
        "secret_key": "test-secret",
        "registrations_per_address": 0,
        "login_failures_per_account": 0,
        "login_failures_per_address": 0,
        "comments_per_minute": 0,
        "comments_per_day": 0,
        "api_requests_per_minute": 0,
    }
    if marker := request.node.get_closest_marker("settings"):
        fields |= marker.kwargs
    return Settings(**fields)


@pytest.fixture
def app(settings) -> Iterator[FastAPI]:
    app = create_app(settings)
    yield app
    app.state.engine.dispose()


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client


@pytest.fixture
def browsers(app) -> Iterator[Callable[[], TestClient]]:
    """Opens more browsers on the same site, each with its own cookies; all closed after."""
    with ExitStack() as stack:
        yield lambda: stack.enter_context(TestClient(app, follow_redirects=False))


@pytest.fixture
def session(app) -> Iterator[Session]:
    """A session of the test's own, on the same database the app uses."""
    with Session(app.state.engine) as session:
        yield session


_numbers = count(1)


@pytest.fixture
def make_user(session, default_password_hash):
    """Create a user straight in the database; log in with DEFAULT_PASSWORD."""

    def make_user(
        name: str | None = None, email: str | None = None, created_at: datetime | None = None
    ) -> User:
        number = next(_numbers)
        user = User(
            name=name or f"Author {number}",
            email=email or f"author{number}@example.com",
            password_hash=default_password_hash,
        )
        if created_at is not None:
            user.created_at = created_at
        session.add(user)
        session.commit()
        session.refresh(user)
        return user

    return make_user


@pytest.fixture
def make_blog(session, make_user):
    """Create a blog straight in the database, by a new author unless one is given."""

    def make_blog(
        author: User | None = None,
        title: str | None = None,
        body: str = "Some words worth reading.",
        created_at: datetime | None = None,
        *,
        draft: bool = False,
        published_at: datetime | None = None,
        tags: Sequence[str] = (),
    ) -> Blog:
        """Published when written, unless a draft or given another publishing time."""
        author = author or make_user()
        blog = Blog(title=title or f"Blog {next(_numbers)}", body=body, author_id=author.id)
        if created_at is not None:
            blog.created_at = blog.updated_at = created_at
        if not draft:
            blog.published_at = published_at or blog.created_at
        blog.tags = [_tag(session, name) for name in tags]
        session.add(blog)
        session.commit()
        session.refresh(blog)
        return blog

    return make_blog


@pytest.fixture
def make_comment(session, make_blog):
    """Create a comment straight in the database: approved, by a new account unless a guest
    name or an author is given, on a new blog unless one is given."""

    def make_comment(
        blog: Blog | None = None,
        author: User | None = None,
        body: str = "A thoughtful comment.",
        *,
        guest_name: str | None = None,
        status: CommentStatus = CommentStatus.APPROVED,
    ) -> Comment:
        blog = blog or make_blog()
        if author is None and guest_name is None:
            author = session.get(User, blog.author_id)
        comment = Comment(
            blog_id=blog.id,
            author_id=author.id if author is not None else None,
            guest_name=guest_name,
            body=body,
            status=status,
        )
        session.add(comment)
        session.commit()
        session.refresh(comment)
        return comment

    return make_comment


def _tag(session: Session, name: str) -> Tag:
    return session.exec(select(Tag).where(Tag.name == name)).first() or Tag(name=name)


def find_form(html: str, action: str | None = None) -> tuple[str, str]:
    """The (action, csrf_token) of the page's POST form with that action, or its last one."""
    forms = [form for form in _FORM.findall(html) if 'method="post"' in form]
    for form in reversed(forms):
        form_action = unescape(_ACTION.search(form).group(1))
        if action is None or form_action == action:
            return form_action, unescape(_CSRF.search(form).group(1))
    raise AssertionError(f"no POST form with action {action!r} on the page")


def submit_form(
    client: TestClient,
    page: str,
    data: dict[str, str] | None = None,
    action: str | None = None,
    files: dict | None = None,
) -> httpx2.Response:
    """Open the page, fill its form (the one posting to `action`) and submit it with its token."""
    response = client.get(page)
    assert response.status_code == 200, response.text
    form_action, token = find_form(response.text, action)
    return client.post(form_action, data={**(data or {}), "csrf_token": token}, files=files)


def log_in(client: TestClient, user: User, password: str = DEFAULT_PASSWORD) -> None:
    response = submit_form(client, "/login", {"email": user.email, "password": password})
    assert response.status_code == 303, response.text


@pytest.fixture
def logged_in(client, make_user) -> User:
    """A new user, logged in on `client`."""
    user = make_user()
    log_in(client, user)
    return user


# Assertions and small readers shared by the test modules.


def assert_html_page(response: httpx2.Response, status_code: int) -> None:
    """The response is an HTML page with this status, never FastAPI's JSON error."""
    assert response.status_code == status_code, response.text[:2000]
    assert response.headers["content-type"].startswith("text/html")
    assert '{"detail"' not in response.text


def field_error(html: str, name: str) -> str | None:
    """The message shown next to the field `name`, or None when it has none."""
    match = re.search(rf'<p class="field-error" id="error-{re.escape(name)}">(.*?)</p>', html, re.S)
    return unescape(match.group(1)).strip() if match else None


def csrf_token_of(client: TestClient) -> str:
    """The CSRF token of the client's session, read from a page that always has a form."""
    return find_form(client.get("/login").text, "/login")[1]


def blog_ids_on(html: str) -> list[int]:
    """The ids of the blogs a page links to, in the order it shows them."""
    return [int(blog_id) for blog_id in re.findall(r'<a href="/blogs/(\d+)/[^"/]+">', html)]


def signed_in_name(html: str) -> str | None:
    """The name the navigation shows as logged in, or None when it offers to log in."""
    header = re.search(r"<header\b.*?</header>", html, re.S)
    assert header is not None, "the page has no header"
    if 'action="/logout"' not in header.group(0):
        return None
    link = re.search(r'<a href="/users/\d+"[^>]*>(.*?)</a>', header.group(0), re.S)
    return unescape(link.group(1)).strip() if link else ""


def as_multipart(data: dict[str, str]) -> dict[str, tuple[None, str]]:
    """Form fields as multipart parts without a file name, as a browser sends text fields."""
    return {name: (None, value) for name, value in data.items()}


def snapshot(session: Session) -> tuple[list[tuple], list[tuple]]:
    """Every user and blog row as plain tuples, to check that a request changed nothing."""
    session.expire_all()
    users = session.exec(
        select(User.id, User.name, User.email, User.password_hash).order_by(col(User.id))
    ).all()
    blogs = session.exec(
        select(
            Blog.id, Blog.author_id, Blog.title, Blog.body, Blog.created_at, Blog.updated_at
        ).order_by(col(Blog.id))
    ).all()
    return [tuple(row) for row in users], [tuple(row) for row in blogs]


def count_rows(session: Session, model: type[SQLModel]) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


# A real server, for tests that need real concurrency or a real browser.

# Generous: two workers starting on a busy 2-core machine took longer than 20 s.
_SERVER_START_SECONDS = 60


@dataclass(frozen=True)
class LiveServer:
    """The app served by uvicorn in a subprocess, on its own SQLite file."""

    url: str
    database_path: Path

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database_path}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(process: subprocess.Popen, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + _SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{log_path.read_text()}")
        try:
            if httpx2.get(f"{url}/static/style.css", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the server did not answer in time:\n{log_path.read_text()}")


@contextmanager
def running_server(
    directory: Path,
    database_url: str,
    command: list[str] | None = None,
    environment: dict[str, str] | None = None,
) -> Iterator[str]:
    """Serve the app in a subprocess on 127.0.0.1 (uvicorn unless `command` says otherwise,
    given without --host/--port) with `environment` added to its settings; yield its base URL
    and always stop it."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = directory / f"server-{port}.log"
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "live-secret",
        # Every test request comes from 127.0.0.1: per-address limits are off unless asked for.
        "REGISTRATIONS_PER_ADDRESS": "0",
        "LOGIN_FAILURES_PER_ACCOUNT": "0",
        "LOGIN_FAILURES_PER_ADDRESS": "0",
        "COMMENTS_PER_MINUTE": "0",
        "COMMENTS_PER_DAY": "0",
        "API_REQUESTS_PER_MINUTE": "0",
        **(environment or {}),
    }
    command = command or [
        sys.executable, "-m", "uvicorn", "blog.main:app", "--app-dir", str(PROJECT_ROOT),
    ]  # fmt: skip
    command = [*command, "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, cwd=directory, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_serving(process, url, log_path)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def live_server_instance(tmp_path_factory) -> Iterator[LiveServer]:
    """Serve the app with uvicorn on 127.0.0.1 and a fresh SQLite file; always stop it."""
    directory = tmp_path_factory.mktemp("live")
    database_path = directory / "blog.db"
    with running_server(directory, f"sqlite:///{database_path}") as url:
        yield LiveServer(url=url, database_path=database_path)


@pytest.fixture
def live_server(live_server_instance) -> str:
    """The base URL of the app served by uvicorn, e.g. http://127.0.0.1:54321."""
    return live_server_instance.url


@pytest.fixture
def live_server_database(live_server_instance) -> Path:
    """The SQLite file the live server writes to."""
    return live_server_instance.database_path


def field_value(html: str, name: str) -> str | None:
    """What the form's field `name` holds as drawn: an input's value or a textarea's text.

    None when the page has no such field; for radio buttons, the value of the checked one.
    """
    for tag in re.findall(rf'<input\b[^>]*\bname="{re.escape(name)}"[^>]*>', html):
        if 'type="radio"' in tag and not re.search(r"\schecked\b", tag):
            continue
        value = re.search(r'\bvalue="([^"]*)"', tag)
        return unescape(value.group(1)) if value else ""
    textarea = re.search(
        rf'<textarea\b[^>]*\bname="{re.escape(name)}"[^>]*>(.*?)</textarea>', html, re.S
    )
    return unescape(textarea.group(1)) if textarea else None


def post_back(client: TestClient, html: str, action: str, names: Sequence[str]) -> httpx2.Response:
    """Post a page's form again as it was drawn: its CSRF token and the named fields' values."""
    _, token = find_form(html, action)
    data = {"csrf_token": token, **{name: field_value(html, name) for name in names}}
    return client.post(action, data=data)


def run_coroutine(coroutine):
    """`asyncio.run` in a thread of its own: a browser test run earlier by the same worker may
    have left Playwright's event loop running in this one, where asyncio.run refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL run, only the tests whose database follows TEST_BACKEND (they use
    `database_url`, directly or through a fixture). The others work on SQLite files of their
    own, on no database, or on PostgreSQL by name (`migrated_postgres`, which the SQLite run
    of `make test` has too): they ran alike in the SQLite run, and would only run again. So
    would the tests marked `same_on_every_database` (headers, escaping, addresses, the
    schema): they use a database only to have something to show."""
    if not SUITE_ON_POSTGRES:
        return
    kept = [
        item
        for item in items
        if "database_url" in getattr(item, "fixturenames", ())
        and item.get_closest_marker("same_on_every_database") is None
    ]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept
