"""ETags on pages and feeds, and 304 Not Modified for a browser that already has the page."""

import hashlib

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from blog.caching import ConditionalGetMiddleware
from tests.conftest import find_form

# What this checks does not depend on the database: the PostgreSQL run leaves it out.
pytestmark = pytest.mark.same_on_every_database

PAGES = {
    "home": lambda blog: "/",
    "users": lambda blog: "/users",
    "blog": lambda blog: f"/blogs/{blog.id}",
    "user": lambda blog: f"/users/{blog.author_id}",
}


@pytest.fixture
def page(request, client, make_blog, session) -> str:
    blog = make_blog()
    # Published, so every visitor sees it (make_blog may make a draft).
    blog.published_at = blog.created_at
    session.commit()
    path = PAGES[request.param](blog)
    # A blog's short address may redirect to its full one; the page is where it lands.
    return client.get(path).headers.get("location", path)


def weak_etag(body: bytes) -> str:
    return f'W/"{hashlib.sha256(body).hexdigest()[:32]}"'


# The real app's pages.


@pytest.mark.parametrize("page", PAGES, indirect=True)
def test_a_page_sends_a_weak_etag_no_cache_and_vary_cookie(client, page):
    response = client.get(page)

    assert response.status_code == 200
    assert response.headers["etag"] == weak_etag(response.content)
    assert response.headers["cache-control"] == "no-cache"
    assert "cookie" in response.headers["vary"].lower()


@pytest.mark.parametrize("page", PAGES, indirect=True)
def test_a_matching_if_none_match_answers_304_without_a_body(client, page):
    etag = client.get(page).headers["etag"]

    response = client.get(page, headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert response.headers["cache-control"] == "no-cache"
    assert "cookie" in response.headers["vary"].lower()
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-type" not in response.headers


def test_a_different_etag_gets_the_full_page(client):
    full = client.get("/")

    response = client.get("/", headers={"If-None-Match": 'W/"something-else"'})

    assert response.status_code == 200
    assert response.content == full.content
    assert response.headers["etag"] == full.headers["etag"]


@pytest.mark.parametrize(
    "if_none_match",
    [
        lambda etag: "*",
        lambda etag: f'"other", {etag}, W/"more"',
        lambda etag: f'W/"other",{etag.removeprefix("W/")}',  # the strong form matches weakly
    ],
    ids=["star", "list", "strong form in a list"],
)
def test_a_star_or_a_list_holding_the_etag_matches(client, if_none_match):
    etag = client.get("/").headers["etag"]

    response = client.get("/", headers={"If-None-Match": if_none_match(etag)})

    assert response.status_code == 304


def test_the_etag_changes_when_the_content_changes(client, make_user):
    # A new author, not a new blog: whether a new blog shows yet is the drafts' business.
    before = client.get("/users").headers["etag"]
    make_user(name="Fresh Author")

    response = client.get("/users", headers={"If-None-Match": before})

    assert response.status_code == 200
    assert "Fresh Author" in response.text
    assert response.headers["etag"] != before


def test_head_with_a_matching_etag_answers_304(client):
    etag = client.get("/").headers["etag"]

    head = client.head("/")
    response = client.head("/", headers={"If-None-Match": etag})

    assert head.status_code == 200
    assert head.headers["etag"] == etag  # hashed on the GET body, not HEAD's empty one
    assert response.status_code == 304
    assert response.headers["etag"] == etag


def test_a_logged_in_page_answers_304_too(client, logged_in):
    client.get("/")  # shows the "logged in" flash once, which sets the cookie
    etag = client.get("/").headers["etag"]

    response = client.get("/", headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert "set-cookie" not in response.headers


def test_a_response_setting_a_cookie_is_not_turned_into_a_304(client):
    # A first visit to the login page makes a CSRF token and the cookie that keeps it.
    response = client.get("/login", headers={"If-None-Match": "*"})

    assert response.status_code == 200
    assert "blog_session=" in response.headers["set-cookie"]
    assert response.headers["etag"] == weak_etag(response.content)


def test_the_404_page_gets_no_etag_and_no_304(client):
    response = client.get("/blogs/999999", headers={"If-None-Match": "*"})

    assert response.status_code == 404
    assert "etag" not in response.headers


def test_a_post_response_gets_no_etag(client, logged_in):
    _, token = find_form(client.get("/blogs/new").text, "/blogs")

    response = client.post(
        "/blogs",
        data={"title": "Posted", "body": "Words.", "csrf_token": token},
        headers={"If-None-Match": "*"},
    )

    assert response.status_code == 303
    assert "etag" not in response.headers


def test_a_static_file_keeps_its_own_etag_and_304(client):
    response = client.get("/static/style.css")
    etag = response.headers["etag"]

    again = client.get("/static/style.css", headers={"If-None-Match": etag})

    assert response.status_code == 200
    assert not etag.startswith("W/")  # StaticFiles' own tag, not a hash of ours
    assert "cookie" not in response.headers.get("vary", "").lower()
    assert again.status_code == 304
    assert again.headers["etag"] == etag


# A tiny app, for what the blog's pages do not show.


def tiny_client(*routes: Route) -> TestClient:
    app = Starlette(routes=list(routes), middleware=[Middleware(ConditionalGetMiddleware)])
    return TestClient(app)


@pytest.mark.parametrize(
    ("media_type", "gets_an_etag"),
    [
        ("text/html", True),
        ("application/atom+xml", True),
        ("application/xml", True),
        ("text/xml", True),
        ("text/plain", True),
        ("application/json", False),
        ("text/css", False),
        ("image/png", False),
    ],
)
def test_only_pages_and_feeds_get_an_etag(media_type, gets_an_etag):
    client = tiny_client(Route("/", lambda request: Response("content", media_type=media_type)))

    response = client.get("/", headers={"If-None-Match": "*"})

    assert ("etag" in response.headers) is gets_an_etag
    assert response.status_code == (304 if gets_an_etag else 200)


def test_json_is_left_alone():
    client = tiny_client(Route("/", lambda request: JSONResponse({"a": 1})))

    response = client.get("/", headers={"If-None-Match": "*"})

    assert response.status_code == 200
    assert response.json() == {"a": 1}
    assert "etag" not in response.headers
    assert "cache-control" not in response.headers
    assert "vary" not in response.headers


def test_a_body_sent_in_chunks_gets_one_etag_of_the_whole():
    async def chunks():
        yield b"<p>one</p>"
        yield b"<p>two</p>"

    client = tiny_client(
        Route("/", lambda request: StreamingResponse(chunks(), media_type="text/html"))
    )

    response = client.get("/")
    again = client.get("/", headers={"If-None-Match": response.headers["etag"]})

    assert response.content == b"<p>one</p><p>two</p>"
    assert response.headers["etag"] == weak_etag(b"<p>one</p><p>two</p>")
    assert again.status_code == 304
    assert again.content == b""


def test_a_cookie_set_by_the_route_still_gets_an_etag_but_no_304():
    def page(request):
        response = HTMLResponse("<p>hello</p>")
        response.set_cookie("seen", "yes")
        return response

    client = tiny_client(Route("/", page))

    response = client.get("/", headers={"If-None-Match": weak_etag(b"<p>hello</p>")})

    assert response.status_code == 200
    assert response.headers["etag"] == weak_etag(b"<p>hello</p>")
    assert response.headers["set-cookie"].startswith("seen=yes")


def test_an_existing_vary_and_cache_control_are_kept_and_merged():
    headers = {"Vary": "Accept-Encoding", "Cache-Control": "max-age=60"}
    client = tiny_client(Route("/", lambda request: HTMLResponse("<p>hi</p>", headers=headers)))

    response = client.get("/")

    assert response.headers["vary"] == "Accept-Encoding, Cookie"
    assert response.headers["cache-control"] == "max-age=60"


def test_a_response_with_its_own_etag_is_left_alone():
    headers = {"ETag": '"v1"'}
    client = tiny_client(Route("/", lambda request: HTMLResponse("<p>hi</p>", headers=headers)))

    response = client.get("/", headers={"If-None-Match": '"v1"'})

    assert response.status_code == 200
    assert response.headers["etag"] == '"v1"'
    assert "cache-control" not in response.headers


@pytest.mark.parametrize("status_code", [201, 404, 500])
def test_only_200_responses_get_an_etag(status_code):
    client = tiny_client(
        Route("/", lambda request: HTMLResponse("<p>hi</p>", status_code=status_code))
    )

    response = client.get("/", headers={"If-None-Match": "*"})

    assert response.status_code == status_code
    assert "etag" not in response.headers


def test_a_post_answered_with_a_page_gets_no_etag():
    client = tiny_client(Route("/", lambda request: HTMLResponse("<p>hi</p>"), methods=["POST"]))

    response = client.post("/", headers={"If-None-Match": "*"})

    assert response.status_code == 200
    assert "etag" not in response.headers
