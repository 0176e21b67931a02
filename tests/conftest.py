"""Shared fixtures: an app on a fresh database per test, a client, factories and form helpers."""

import re
from collections.abc import Iterator
from datetime import datetime
from html import unescape
from itertools import count

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from blog.app import create_app
from blog.config import Settings
from blog.models import Blog, User
from blog.security import hash_password

DEFAULT_PASSWORD = "correct horse battery"
_FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.DOTALL | re.IGNORECASE)
_ACTION = re.compile(r'action="([^"]*)"')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session")
def default_password_hash() -> str:
    """Hashing is slow on purpose; factories reuse one hash of DEFAULT_PASSWORD."""
    return hash_password(DEFAULT_PASSWORD)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'blog.db'}", secret_key="test-secret")


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
def session(app) -> Iterator[Session]:
    """A session of the test's own, on the same database the app uses."""
    with Session(app.state.engine) as session:
        yield session


_numbers = count(1)


@pytest.fixture
def make_user(session, default_password_hash):
    """Create a user straight in the database; log in with DEFAULT_PASSWORD."""

    def make_user(name: str | None = None, email: str | None = None) -> User:
        number = next(_numbers)
        user = User(
            name=name or f"Author {number}",
            email=email or f"author{number}@example.com",
            password_hash=default_password_hash,
        )
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
    ) -> Blog:
        author = author or make_user()
        blog = Blog(title=title or f"Blog {next(_numbers)}", body=body, author_id=author.id)
        if created_at is not None:
            blog.created_at = blog.updated_at = created_at
        session.add(blog)
        session.commit()
        session.refresh(blog)
        return blog

    return make_blog


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
