"""Real headless Chromium against the app served by uvicorn.

One browser and one server for the whole session; every test starts on an emptied database
and opens pages in browser contexts of its own (a context is a visitor: its own cookies).
A failing test leaves a screenshot of each page it opened in test-artifacts/<test name>*.png.
"""

import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, select

from blog.db import make_engine
from blog.models import Blog, Tag, User, slug_for
from tests.conftest import DEFAULT_PASSWORD, PROJECT_ROOT, LiveServer, running_server

CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
# Generous for a page load, short enough that a missing element fails fast.
TIMEOUT_MS = 5_000
# Settings.page_size, which the served app keeps at its default.
PAGE_SIZE = 20

_reports = pytest.StashKey[dict[str, pytest.TestReport]]()


def _unavailable(reason: str) -> None:
    """Skip on a developer's machine; in CI a missing browser is a failure, never a silent skip."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the end-to-end tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the test, so fixtures can tell whether it failed."""
    report = yield
    item.stash.setdefault(_reports, {})[report.when] = report
    return report


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM}; install it or set E2E_CHROMIUM")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# One server for the session: starting uvicorn costs about two seconds, emptying its tables
# a few milliseconds. The app keeps no state of its own between requests besides the database.


@pytest.fixture(scope="session")
def _e2e_server(tmp_path_factory) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("e2e")
    database_path = directory / "blog.db"
    with running_server(directory, f"sqlite:///{database_path}") as url:
        yield LiveServer(url=url, database_path=database_path)


@pytest.fixture(scope="session")
def _e2e_engine(_e2e_server) -> Iterator[Engine]:
    engine = make_engine(_e2e_server.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def live_server_instance(_e2e_server, _e2e_engine) -> LiveServer:
    """The session's server, its database emptied for this test (search index included:
    the database's own triggers keep it in step with the blog table)."""
    with _e2e_engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())
    return _e2e_server


@dataclass
class PageProblems:
    """What must never happen on a page: a dialog (a script ran), an uncaught error, a CSP block."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def open_page(browser, live_server, problems, request) -> Iterator[Callable]:
    """Opens a guarded page: in a new browser context (a new visitor) unless given one
    (another tab of the same visitor). Paths are relative to the live server."""
    contexts = []
    pages = []

    def open_page(context=None, viewport: dict[str, int] = DESKTOP):
        if context is None:
            context = browser.new_context(base_url=live_server, viewport=viewport)
            context.set_default_timeout(TIMEOUT_MS)
            contexts.append(context)
        page = context.new_page()

        def on_dialog(dialog) -> None:
            problems.dialogs.append(dialog.message)
            dialog.dismiss()

        def on_console(message) -> None:
            # A Content-Security-Policy violation means an inline script or style reached a page.
            if message.type == "error" and "Content Security Policy" in message.text:
                problems.errors.append(message.text)

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: problems.errors.append(str(error)))
        page.on("console", on_console)
        pages.append(page)
        return page

    yield open_page
    try:
        call = request.node.stash.get(_reports, {}).get("call")
        if call is not None and call.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            for number, page in enumerate(pages, start=1):
                if not page.is_closed():
                    suffix = "" if number == 1 else f"-{number}"
                    page.screenshot(path=str(ARTIFACTS / f"{name}{suffix}.png"), full_page=True)
    finally:
        for context in contexts:
            context.close()
    assert not problems.dialogs, f"a script opened a dialog: {problems.dialogs}"
    assert not problems.errors, f"errors in the page: {problems.errors}"


@pytest.fixture
def page(open_page):
    """A page in a fresh browser context."""
    return open_page()


@dataclass
class Seeder:
    """Writes users and blogs straight into the live server's database."""

    engine: Engine
    password_hash: str
    _clock: datetime = field(default_factory=lambda: datetime(2024, 1, 1, tzinfo=UTC))

    def author(
        self, name: str, email: str | None = None, *, joined: datetime | None = None
    ) -> User:
        """A user who can log in with DEFAULT_PASSWORD, signed up now unless `joined` says."""
        email = email or f"{re.sub(r'[^a-z0-9]+', '.', name.lower()).strip('.')}@example.com"
        user = User(name=name, email=email, password_hash=self.password_hash)
        if joined is not None:
            user.created_at = joined
        with Session(self.engine, expire_on_commit=False) as session:
            session.add(user)
            session.commit()
        return user

    def blog(
        self,
        author: User,
        title: str,
        body: str = "Some words worth reading.",
        *,
        tags: Sequence[str] = (),
        draft: bool = False,
        publish_at: datetime | None = None,
    ) -> Blog:
        """A blog written a minute after the previous one, so the order is known.

        Published when written, unless a draft or given a (future) publishing time.
        """
        self._clock += timedelta(minutes=1)
        blog = Blog(
            title=title,
            body=body,
            author_id=author.id,
            created_at=self._clock,
            updated_at=self._clock,
            published_at=None if draft else publish_at or self._clock,
        )
        with Session(self.engine, expire_on_commit=False) as session:
            blog.tags = [
                session.exec(select(Tag).where(Tag.name == name)).first() or Tag(name=name)
                for name in tags
            ]
            session.add(blog)
            session.commit()
        return blog


@pytest.fixture
def seed(live_server_instance, _e2e_engine, default_password_hash) -> Seeder:
    return Seeder(engine=_e2e_engine, password_hash=default_password_hash)


def path_of(blog: Blog) -> str:
    """A blog's address, /blogs/{id}/{slug}."""
    return f"/blogs/{blog.id}/{slug_for(blog.title)}"


def log_in(page, email: str, password: str = DEFAULT_PASSWORD) -> None:
    """Log in through the form, as a person would."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()


def path(page) -> str:
    """The page's path and query, without the server's origin."""
    return re.sub(r"^https?://[^/]+", "", page.url)
