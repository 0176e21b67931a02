"""/healthz (the process is up) and /readyz (the database answers with a current schema)."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from blog.app import create_app
from blog.config import Settings
from blog.migrate import current_revision, downgrade, upgrade
from tests.conftest import engine_on, newest_revision

HEALTH_PATHS = ["/healthz", "/readyz"]


@contextmanager
def database_swapped(app: FastAPI, engine: Engine) -> Iterator[None]:
    """Serve the app from another engine for a while, as if its database had changed under it."""
    original = app.state.engine
    app.state.engine = engine
    try:
        yield
    finally:
        app.state.engine = original


@pytest.fixture
def unreachable_database(tmp_path) -> Iterator[Engine]:
    """An engine on a file SQLite cannot open (its folder does not exist)."""
    with engine_on(f"sqlite:///{tmp_path / 'gone' / 'blog.db'}") as engine:
        yield engine


@pytest.fixture
def corrupt_database(tmp_path) -> Iterator[Engine]:
    """An engine on a file that is not a database at all."""
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"this is not an SQLite file\n" * 200)
    with engine_on(f"sqlite:///{path}") as engine:
        yield engine


@pytest.fixture
def schema_one_behind(app, client) -> Iterator[str]:
    """The app's database stepped back one migration after start-up; the revision it is at."""
    engine = app.state.engine
    downgrade(engine, "-1")
    try:
        revision = current_revision(engine)
        assert revision is not None
        yield revision
    finally:
        upgrade(engine)  # a shared PostgreSQL database must be whole again for the next test


def test_healthz_answers_ok_as_plain_text(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "ok"


@pytest.mark.parametrize("path", HEALTH_PATHS)
def test_health_checks_are_never_stored_nor_given_an_etag(client, path):
    response = client.get(path)

    assert response.headers["cache-control"] == "no-store"
    assert "etag" not in response.headers


@pytest.mark.parametrize("path", HEALTH_PATHS)
def test_health_checks_set_no_cookie_even_for_a_visitor_with_a_session(client, path):
    client.get("/login")  # starts a session (its CSRF token)
    assert "blog_session" in client.cookies

    response = client.get(path)

    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("path", HEALTH_PATHS)
def test_head_on_a_health_check_answers_like_get_without_a_body(client, path):
    response = client.head(path)

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["cache-control"] == "no-store"


def test_healthz_answers_ok_while_the_database_cannot_be_opened(app, client, unreachable_database):
    with database_swapped(app, unreachable_database):
        response = client.get("/healthz")

    assert (response.status_code, response.text) == (200, "ok")


def test_healthz_answers_ok_while_the_database_file_is_corrupt(app, client, corrupt_database):
    with database_swapped(app, corrupt_database):
        response = client.get("/healthz")

    assert (response.status_code, response.text) == (200, "ok")


def test_readyz_answers_200_on_a_database_at_the_newest_schema(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "ready"


def test_readyz_answers_503_naming_blog_db_upgrade_when_the_schema_is_behind(
    client, schema_one_behind
):
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/plain")
    assert "blog db upgrade" in response.text
    assert schema_one_behind in response.text
    assert newest_revision() in response.text
    assert "\n" not in response.text


def test_readyz_answers_503_in_one_line_when_the_database_cannot_be_opened(
    app, client, unreachable_database
):
    with database_swapped(app, unreachable_database):
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "Database unavailable (OperationalError)"
    assert response.headers["cache-control"] == "no-store"


def test_readyz_answers_503_in_one_line_when_the_database_file_is_corrupt(
    app, client, corrupt_database
):
    with database_swapped(app, corrupt_database):
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.text == "Database unavailable (DatabaseError)"


def test_readyz_answers_503_when_the_database_was_never_migrated(app, client, tmp_path):
    with (
        engine_on(f"sqlite:///{tmp_path / 'empty.db'}") as empty,
        database_swapped(app, empty),
    ):
        response = client.get("/readyz")

    assert response.status_code == 503
    assert "revision none" in response.text
    assert "blog db upgrade" in response.text


def test_readyz_logs_a_lost_database_once_at_warning_with_the_cause_and_no_traceback(
    app, client, corrupt_database, caplog
):
    with database_swapped(app, corrupt_database):
        for _ in range(3):
            assert client.get("/readyz").status_code == 503

    [warning] = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert warning.name == "blog"
    assert "Not ready: Database unavailable (DatabaseError)" in warning.getMessage()
    assert "not a database" in warning.getMessage()
    assert warning.exc_info is None


def test_readyz_logs_once_when_ready_again(app, client, unreachable_database, caplog):
    caplog.set_level(logging.INFO, logger="blog")
    with database_swapped(app, unreachable_database):
        client.get("/readyz")

    client.get("/readyz")
    client.get("/readyz")

    recovered = [record for record in caplog.records if "Ready again" in record.getMessage()]
    assert len(recovered) == 1


def test_readyz_answers_every_probe_the_same_while_the_database_is_down(
    app, client, unreachable_database
):
    with database_swapped(app, unreachable_database):
        statuses = {client.get("/readyz").status_code for _ in range(3)}

    assert statuses == {503}


def test_readyz_answers_200_again_once_the_database_is_back(app, client, unreachable_database):
    with database_swapped(app, unreachable_database):
        assert client.get("/readyz").status_code == 503

    assert client.get("/readyz").status_code == 200


@pytest.mark.parametrize("path", HEALTH_PATHS)
def test_health_checks_are_not_in_the_sitemap(client, path):
    sitemap = client.get("/sitemap.xml").text

    assert path not in sitemap


@pytest.mark.parametrize("path", HEALTH_PATHS)
def test_health_checks_answer_a_probe_by_any_host_name(database_url, path):
    app = create_app(
        Settings(database_url=database_url, secret_key="test-secret", allowed_hosts="blog.example")
    )
    try:
        with TestClient(app) as client:
            response = client.get(path, headers={"Host": "10.0.0.7:8000"})
    finally:
        app.state.engine.dispose()

    assert response.status_code == 200
