"""Real headless Chromium against the app served by uvicorn.

One browser for the whole session, a fresh server, database and browser context per test.
A failing test leaves a screenshot in test-artifacts/<test name>.png.
"""

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from blog.config import PROJECT_ROOT
from blog.db import make_engine
from blog.models import Blog, User
from tests.conftest import DEFAULT_PASSWORD

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

Row = TypeVar("Row", User, Blog)

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


@dataclass
class PageProblems:
    """What must never happen on a page: a dialog (a script ran), an uncaught error, a CSP block."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser, live_server, problems, request):
    """A page in a fresh browser context, with paths relative to the live server."""
    context = browser.new_context(base_url=live_server, viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
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
    yield page
    try:
        call = request.node.stash.get(_reports, {}).get("call")
        if call is not None and call.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    finally:
        context.close()
    assert not problems.dialogs, f"a script opened a dialog: {problems.dialogs}"
    assert not problems.errors, f"errors in the page: {problems.errors}"


@dataclass
class Seeder:
    """Writes users and blogs straight into the live server's database."""

    engine: Engine
    password_hash: str
    _clock: datetime = field(default_factory=lambda: datetime(2024, 1, 1, tzinfo=UTC))

    def author(self, name: str, email: str | None = None) -> User:
        """A user who can log in with DEFAULT_PASSWORD."""
        email = email or f"{re.sub(r'[^a-z0-9]+', '.', name.lower()).strip('.')}@example.com"
        user = User(name=name, email=email, password_hash=self.password_hash)
        return self._save(user)

    def blog(self, author: User, title: str, body: str = "Some words worth reading.") -> Blog:
        """A blog written a minute after the previous one, so the order is known."""
        self._clock += timedelta(minutes=1)
        blog = Blog(
            title=title,
            body=body,
            author_id=author.id,
            created_at=self._clock,
            updated_at=self._clock,
        )
        return self._save(blog)

    def _save(self, row: Row) -> Row:
        with Session(self.engine, expire_on_commit=False) as session:
            session.add(row)
            session.commit()
            session.refresh(row)
        return row


@pytest.fixture
def seed(live_server_database, default_password_hash) -> Iterator[Seeder]:
    engine = make_engine(f"sqlite:///{live_server_database}")
    yield Seeder(engine=engine, password_hash=default_password_hash)
    engine.dispose()


def log_in(page, email: str, password: str = DEFAULT_PASSWORD) -> None:
    """Log in through the form, as a person would."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()
