"""CSRF tokens on every form, security headers on every response, HTML always escaped."""

import json
import re
from base64 import b64encode

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner

from blog.app import create_app
from blog.config import DEVELOPMENT_SECRET_KEY, Settings
from blog.security import LOGIN_SESSION_KEY
from blog.users import open_login_session
from tests.conftest import (
    DEFAULT_PASSWORD,
    assert_html_page,
    csrf_token_of,
    field_error,
    log_in,
    signed_in_name,
    snapshot,
    submit_form,
)

# What this checks does not depend on the database: the PostgreSQL run leaves it out.
pytestmark = pytest.mark.same_on_every_database

XSS = '"><script>alert(1)</script>'
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"

# Every POST route with data that would succeed given a valid token.
POST_ROUTES = [
    ("/register", {"name": "Eve", "email": "eve@example.com", "password": "a-good-password"}),
    ("/login", {"email": "{email}", "password": DEFAULT_PASSWORD}),
    ("/logout", {}),
    ("/blogs", {"title": "Forged", "body": "Forged."}),
    ("/blogs/{blog}/edit", {"title": "Forged", "body": "Forged."}),
    ("/blogs/{blog}/delete", {}),
    ("/users/{me}/edit", {"name": "Forged", "email": "forged@example.com"}),
    ("/users/{me}/delete", {"password": DEFAULT_PASSWORD}),
    ("/account/password", {"current_password": DEFAULT_PASSWORD, "new_password": "a new one!"}),
    ("/account/sessions/sign-out-others", {}),
]


def _bad_token(kind: str, app) -> str | None:
    if kind == "missing":
        return None
    if kind == "another session's":
        with TestClient(app) as stranger:
            return csrf_token_of(stranger)
    return {"empty": "", "wrong": "not-the-token"}[kind]


@pytest.mark.parametrize("kind", ["missing", "empty", "wrong", "another session's"])
@pytest.mark.parametrize(("path", "data"), POST_ROUTES)
def test_a_post_without_this_sessions_csrf_token_is_refused_and_changes_nothing(
    app, client, logged_in, make_blog, session, path, data, kind
):
    blog = make_blog(author=logged_in)
    csrf_token_of(client)  # the session has a token of its own, which is not sent
    path = path.format(blog=blog.id, me=logged_in.id)
    data = {name: value.format(email=logged_in.email) for name, value in data.items()}
    token = _bad_token(kind, app)
    if token is not None:
        data["csrf_token"] = token
    before = snapshot(session)

    response = client.post(path, data=data)

    assert_html_page(response, 403)
    assert snapshot(session) == before
    assert signed_in_name(client.get("/").text) == logged_in.name


CROSS_SITE_HEADERS = [
    {"origin": "http://evil.example"},
    {"origin": "null"},
    {"origin": "http://testserver.evil.example"},
    {"sec-fetch-site": "cross-site"},
    {"origin": "http://testserver", "sec-fetch-site": "cross-site"},
]


@pytest.mark.parametrize("headers", CROSS_SITE_HEADERS)
@pytest.mark.parametrize(("path", "data"), POST_ROUTES)
def test_a_post_from_another_site_is_refused_even_with_a_valid_token(
    client, logged_in, make_blog, session, path, data, headers
):
    blog = make_blog(author=logged_in)
    path = path.format(blog=blog.id, me=logged_in.id)
    data = {name: value.format(email=logged_in.email) for name, value in data.items()}
    before = snapshot(session)

    response = client.post(
        path, data={**data, "csrf_token": csrf_token_of(client)}, headers=headers
    )

    assert_html_page(response, 403)
    assert "another site" in response.text
    assert snapshot(session) == before
    assert signed_in_name(client.get("/").text) == logged_in.name


@pytest.mark.parametrize(
    "headers",
    [{}, {"origin": "http://testserver"}, {"sec-fetch-site": "same-origin"}],
    ids=["no origin", "own origin", "same-origin fetch"],
)
def test_a_post_from_this_site_or_with_no_origin_is_accepted(client, logged_in, headers):
    data = {"title": "Mine", "body": "Written here.", "csrf_token": csrf_token_of(client)}

    assert client.post("/blogs", data=data, headers=headers).status_code == 303


def test_behind_a_proxy_the_base_urls_origin_is_this_site(database_url, make_user):
    app = create_app(
        Settings(database_url=database_url, secret_key="k", base_url="https://blog.example.com")
    )
    try:
        with TestClient(app, follow_redirects=False) as client:
            client.headers["host"] = "blog.example.com"
            log_in(client, make_user())
            data = {"title": "Mine", "body": "Written here.", "csrf_token": csrf_token_of(client)}
            response = client.post(
                "/blogs", data=data, headers={"origin": "https://blog.example.com"}
            )
    finally:
        app.state.engine.dispose()

    assert response.status_code == 303


def test_a_post_from_a_visitor_with_no_session_is_refused(app, make_user, session):
    user = make_user()
    before = snapshot(session)

    with TestClient(app, follow_redirects=False) as stranger:
        response = stranger.post(
            "/login", data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": "x"}
        )

    assert_html_page(response, 403)
    assert snapshot(session) == before


# The session cookie


@pytest.mark.parametrize(
    ("key", "honoured"),
    [("test-secret", True), ("another-key", False), (DEVELOPMENT_SECRET_KEY, False)],
)
def test_only_a_session_cookie_signed_with_the_sites_key_is_honoured(
    app, session, make_user, key, honoured
):
    user = make_user()
    token = open_login_session(session=session, user=user, user_agent="")
    payload = b64encode(json.dumps({LOGIN_SESSION_KEY: token}).encode())
    cookie = TimestampSigner(key).sign(payload).decode()

    with TestClient(app, cookies={"blog_session": cookie}) as visitor:
        name = signed_in_name(visitor.get("/").text)

    assert name == (user.name if honoured else None)


# Headers


# One of each kind of response, made by (client, a blog's id).
RESPONSES = {
    "page": lambda client, blog_id: client.get("/"),
    "blog page": lambda client, blog_id: client.get(f"/blogs/{blog_id}", follow_redirects=True),
    "form page": lambda client, blog_id: client.get("/register"),
    "404 page": lambda client, blog_id: client.get("/blogs/999999"),
    "405 page": lambda client, blog_id: client.get("/logout"),
    "403 page": lambda client, blog_id: client.post("/blogs", data={"title": "x", "body": "y"}),
    "413 page": lambda client, blog_id: client.post("/blogs", data={"body": "x" * 10_000_000}),
    "422 page": lambda client, blog_id: submit_form(client, "/register", {"name": ""}),
    "redirect": lambda client, blog_id: client.get("/blogs/new"),
    "stylesheet": lambda client, blog_id: client.get("/static/style.css"),
    "missing static file": lambda client, blog_id: client.get("/static/nope.css"),
}


@pytest.fixture(params=RESPONSES)
def any_response(request, client, make_blog):
    """One kind of response from the app, for checks that hold on every response."""
    return RESPONSES[request.param](client, make_blog().id)


def test_every_response_forbids_sniffing(any_response):
    assert any_response.headers.get("x-content-type-options") == "nosniff"


def test_every_response_has_a_referrer_policy(any_response):
    assert any_response.headers.get("referrer-policy")


def test_every_response_has_a_csp_with_no_framing_and_no_inline_script(any_response):
    directives = _csp(any_response.headers.get("content-security-policy", ""))
    assert directives.get("frame-ancestors") == ["'none'"]
    script_sources = directives.get("script-src", directives.get("default-src"))
    assert script_sources, "no script-src or default-src"
    assert "'unsafe-inline'" not in script_sources
    assert "'unsafe-eval'" not in script_sources
    assert "*" not in script_sources


def _csp(header: str) -> dict[str, list[str]]:
    directives = {}
    for directive in header.split(";"):
        if directive.strip():
            name, *sources = directive.split()
            directives[name.lower()] = sources
    return directives


def _server_error(app):
    """What a visitor gets when a route fails unexpectedly."""

    def broken():
        raise RuntimeError("secret internals")

    app.add_api_route("/broken", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        return client.get("/broken")


def test_an_unexpected_error_is_an_html_500_page_that_hides_the_details(app, caplog):
    response = _server_error(app)

    assert_html_page(response, 500)
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text


def test_an_unexpected_error_page_has_the_security_headers(app, caplog):
    response = _server_error(app)

    assert response.headers.get("x-content-type-options") == "nosniff"
    assert "frame-ancestors 'none'" in response.headers.get("content-security-policy", "")
    assert response.headers.get("referrer-policy")


def test_no_page_carries_inline_script(client, logged_in, make_blog):
    blog = make_blog(author=logged_in)
    for path in ["/", f"/blogs/{blog.id}", "/users", f"/users/{logged_in.id}", "/blogs/new"]:
        html = client.get(path, follow_redirects=True).text
        assert "<script" not in html.lower(), path
        assert not re.search(r"\son[a-z]+=", html), path


# HTML in what people type is shown as text


def test_html_in_a_blog_is_shown_escaped_everywhere(client, logged_in):
    location = submit_form(client, "/blogs/new", {"title": XSS, "body": XSS}).headers["location"]

    blog_page = location.rsplit("/", 1)[0]
    pages = [location, "/", f"/users/{logged_in.id}", f"{blog_page}/edit", f"{blog_page}/delete"]
    for path in pages:
        html = client.get(path).text
        assert "<script>" not in html, path
        assert ESCAPED_SCRIPT in html, path


def test_html_in_a_name_is_shown_escaped_everywhere(client, logged_in, make_blog):
    make_blog(author=logged_in)
    response = submit_form(
        client, f"/users/{logged_in.id}/edit", {"name": XSS, "email": logged_in.email}
    )
    assert response.status_code == 303

    for path in ["/", "/users", f"/users/{logged_in.id}", f"/users/{logged_in.id}/edit"]:
        html = client.get(path).text
        assert "<script>" not in html, path
        assert ESCAPED_SCRIPT in html, path


@pytest.mark.parametrize(
    ("page", "data", "field"),
    [
        ("/register", {"name": XSS, "email": "", "password": "a-good-password"}, "name"),
        ("/register", {"name": "Ada", "email": XSS, "password": "a-good-password"}, "email"),
        ("/login", {"email": XSS, "password": "p" * 1001}, "email"),
        ("/blogs/new", {"title": XSS, "body": ""}, "title"),
        ("/blogs/new", {"title": "", "body": XSS}, "body"),
        ("/users/{me}/edit", {"name": XSS, "email": "ada@"}, "name"),
        ("/users/{me}/edit", {"name": "Ada", "email": XSS}, "email"),
    ],
)
def test_html_typed_into_a_refused_form_is_shown_escaped(client, logged_in, page, data, field):
    response = submit_form(client, page.format(me=logged_in.id), data)

    assert response.status_code == 422
    assert "<script>" not in response.text
    assert ESCAPED_SCRIPT in response.text
    assert field_error(response.text, field) is None or "<script>" not in field_error(
        response.text, field
    )


def test_a_logged_in_user_sees_their_own_escaped_name_in_the_navigation(client, make_user):
    user = make_user(name=XSS)

    log_in(client, user)

    html = client.get("/").text
    assert "<script>" not in html
    assert signed_in_name(html) == XSS
