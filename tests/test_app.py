"""The app factory: settings in, an app on its own database out."""

import logging

from fastapi.testclient import TestClient

from blog.app import create_app
from blog.config import Settings
from tests.conftest import blog_ids_on


def test_without_a_secret_key_the_app_warns_loudly_and_still_serves(tmp_path, caplog):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'blog.db'}", secret_key=None)

    with caplog.at_level(logging.WARNING):
        app = create_app(settings)
    try:
        with TestClient(app) as client:
            assert client.get("/").status_code == 200
    finally:
        app.state.engine.dispose()

    warnings = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert any("SECRET_KEY" in record.getMessage() for record in warnings)


def test_each_app_keeps_to_its_own_database(tmp_path, app, client, make_blog):
    make_blog()
    other = create_app(
        Settings(database_url=f"sqlite:///{tmp_path / 'other.db'}", secret_key="other")
    )
    try:
        with TestClient(other) as other_client:
            assert blog_ids_on(other_client.get("/").text) == []
    finally:
        other.state.engine.dispose()
    assert len(blog_ids_on(client.get("/").text)) == 1


def test_head_on_a_page_answers_like_get_without_a_body(client):
    response = client.head("/")

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["x-content-type-options"] == "nosniff"
