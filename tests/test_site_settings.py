"""Settings a person running the site sets: its name, its public address, the hosts it answers
to, and what production refuses."""

import logging
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import feedparser
import pytest
from fastapi.testclient import TestClient

from blog.app import create_app
from blog.config import Settings, UnsafeSettings
from blog.models import User
from tests.conftest import PROJECT_ROOT, assert_html_page, count_rows, find_form

# What this checks does not depend on the database: the PostgreSQL run leaves it out.
pytestmark = pytest.mark.same_on_every_database

SECRET = "a-secret-key-long-enough-for-production-use"


@contextmanager
def site(database_url: str, **settings) -> Iterator[TestClient]:
    """A client of the app built with these settings on the test's database."""
    app = create_app(Settings(database_url=database_url, secret_key="test-secret", **settings))
    try:
        with TestClient(app, follow_redirects=False) as client:
            yield client
    finally:
        app.state.engine.dispose()


# The site's name and description


def test_the_site_name_titles_every_page_and_heads_the_header(database_url):
    with site(database_url, site_name="Ada's Notes") as client:
        html = client.get("/").text

    assert "<title>Latest blogs · Ada&#39;s Notes</title>" in html
    assert '<a class="site-name" href="/">Ada&#39;s Notes</a>' in html


def test_the_site_is_called_blog_by_default(client):
    assert '<a class="site-name" href="/">Blog</a>' in client.get("/").text


def test_the_site_description_shows_under_the_name_and_as_the_meta_description(database_url):
    with site(database_url, site_description="Notes on <gardens> & code") as client:
        html = client.get("/").text

    assert '<p class="site-description">Notes on &lt;gardens&gt; &amp; code</p>' in html
    assert '<meta name="description" content="Notes on &lt;gardens&gt; &amp; code">' in html


def test_without_a_description_there_is_no_empty_meta_description(client):
    html = client.get("/").text

    assert 'name="description"' not in html
    assert "site-description" not in html


def test_a_blog_page_describes_itself_with_its_excerpt(client, make_blog):
    blog = make_blog(body="Tomatoes want *sun* and patience.")

    html = client.get(blog.path).text

    assert '<meta name="description" content="Tomatoes want sun and patience.">' in html


def test_feeds_carry_the_site_name_and_description(database_url, make_blog):
    make_blog()
    with site(database_url, site_name="Ada's Notes", site_description="Gardens & code") as client:
        feed = feedparser.parse(client.get("/feed.xml").content)

    assert feed.feed.title == "Latest blogs · Ada's Notes"
    assert feed.feed.subtitle == "Gardens & code"
    assert feed.feed.generator == "Ada's Notes"


# BASE_URL: the public address


def test_with_a_base_url_feeds_use_it_whatever_host_was_asked_for(database_url, make_blog):
    blog = make_blog()
    with site(database_url, base_url="https://blog.example.com/") as client:
        feed = feedparser.parse(
            client.get("/feed.xml", headers={"host": "blog.example.com"}).content
        )

    assert feed.feed.link == "https://blog.example.com/"
    assert feed.entries[0].link == f"https://blog.example.com{blog.path}"


def test_with_a_base_url_the_sitemap_and_robots_use_it(database_url, make_blog):
    blog = make_blog()
    with site(database_url, base_url="https://blog.example.com") as client:
        sitemap = client.get("/sitemap.xml", headers={"host": "blog.example.com"}).text
        blogs = client.get("/sitemaps/blogs-1.xml", headers={"host": "blog.example.com"}).text
        robots = client.get("/robots.txt", headers={"host": "blog.example.com"}).text

    assert "<loc>https://blog.example.com/sitemaps/blogs-1.xml</loc>" in sitemap
    assert f"<loc>https://blog.example.com{blog.path}</loc>" in blogs
    assert "testserver" not in sitemap + blogs
    assert "Sitemap: https://blog.example.com/sitemap.xml" in robots


def test_a_blog_page_names_its_absolute_canonical_address(database_url, make_blog):
    blog = make_blog()
    with site(database_url, base_url="https://blog.example.com") as client:
        html = client.get(blog.path, headers={"host": "blog.example.com"}).text

    assert f'<link rel="canonical" href="https://blog.example.com{blog.path}">' in html


def test_without_a_base_url_addresses_follow_the_request(client, make_blog):
    blog = make_blog()

    assert f'<link rel="canonical" href="http://testserver{blog.path}">' in (
        client.get(blog.path).text
    )


@pytest.mark.parametrize("base_url", ["blog.example.com", "ftp://blog.example.com", "https://"])
def test_a_base_url_that_is_not_a_web_address_is_refused(base_url):
    with pytest.raises(ValueError, match="BASE_URL"):
        Settings(base_url=base_url)


# ALLOWED_HOSTS


@pytest.mark.parametrize("path", ["/", "/feed.xml", "/sitemap.xml", "/no-such-page", "/login"])
def test_a_host_that_is_not_allowed_gets_a_400_page(database_url, path):
    with site(database_url, allowed_hosts="blog.example.com") as client:
        response = client.get(path, headers={"host": "evil.example"})

    assert_html_page(response, 400)
    assert "evil.example" not in response.text


def test_a_post_to_a_host_that_is_not_allowed_changes_nothing(database_url, session):
    with site(database_url, allowed_hosts="blog.example.com") as client:
        page = client.get("/register", headers={"host": "blog.example.com"})
        _, token = find_form(page.text, "/register")
        response = client.post(
            "/register",
            headers={"host": "evil.example"},
            data={
                "name": "Eve",
                "email": "eve@example.com",
                "password": "long enough",
                "csrf_token": token,
            },
        )

    assert_html_page(response, 400)
    assert count_rows(session, User) == 0


@pytest.mark.parametrize(
    "host", ["blog.example.com", "Blog.Example.com:8443", "www.example.org", "example.org"]
)
def test_allowed_hosts_are_matched_without_port_or_case_and_dot_names_cover_subdomains(
    database_url, host
):
    with site(database_url, allowed_hosts="blog.example.com, .example.org") as client:
        assert client.get("/", headers={"host": host}).status_code == 200


def test_with_only_a_base_url_its_host_is_the_allowed_one(database_url):
    with site(database_url, base_url="https://blog.example.com") as client:
        assert client.get("/", headers={"host": "blog.example.com"}).status_code == 200
        assert_html_page(client.get("/", headers={"host": "evil.example"}), 400)


def test_a_star_allows_every_host(database_url):
    with site(database_url, base_url="https://blog.example.com", allowed_hosts="*") as client:
        assert client.get("/", headers={"host": "anything.example"}).status_code == 200


def test_by_default_every_host_is_answered(client):
    assert client.get("/", headers={"host": "localhost:8000"}).status_code == 200


def test_allowed_hosts_are_read_from_the_environment_as_a_list(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "blog.example.com, WWW.Example.com")

    assert Settings().host_names() == {"blog.example.com", "www.example.com"}


# Production refuses unsafe settings


@pytest.mark.parametrize("secret_key", [None, "", "x" * 31])
def test_production_refuses_to_start_without_a_long_secret_key(database_url, secret_key):
    settings = Settings(database_url=database_url, environment="production", secret_key=secret_key)

    with pytest.raises(UnsafeSettings, match="SECRET_KEY"):
        create_app(settings)


def test_production_starts_with_a_long_secret_key(database_url):
    app = create_app(
        Settings(database_url=database_url, environment="production", secret_key=SECRET)
    )
    app.state.engine.dispose()


def test_uvicorn_in_production_without_a_secret_key_exits_with_one_line(tmp_path):
    environment = {"ENVIRONMENT": "production", "DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}"}
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "uvicorn", "blog.main:app", "--app-dir", str(PROJECT_ROOT)],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_production_without_a_public_address_warns_that_hosts_are_trusted(database_url, caplog):
    settings = Settings(database_url=database_url, environment="production", secret_key=SECRET)

    with caplog.at_level(logging.WARNING, logger="blog"):
        create_app(settings).state.engine.dispose()

    assert any("BASE_URL" in record.getMessage() for record in caplog.records)


def test_production_with_a_base_url_does_not_warn_about_hosts(database_url, caplog):
    settings = Settings(
        database_url=database_url,
        environment="production",
        secret_key=SECRET,
        base_url="https://blog.example.com",
    )

    with caplog.at_level(logging.WARNING, logger="blog"):
        create_app(settings).state.engine.dispose()

    assert not any("BASE_URL" in record.getMessage() for record in caplog.records)
