"""Addresses made from route names: every route has a name of its own, every link on a page
goes to a route, and no template writes a path by hand."""

import re
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import Match, Mount, NoMatchFound

from blog.config import resource_dir
from blog.models import CommentStatus
from tests.conftest import log_in

# What this checks does not depend on the database: the PostgreSQL run leaves it out.
pytestmark = pytest.mark.same_on_every_database

# A quote, then one slash (not `//`, not the `/>` that closes an XML element): the start of a
# path written by hand, in an attribute (`href="/users"`) or a Jinja string (`"/blogs"`).
HAND_WRITTEN_PATH = re.compile(r"""["']/(?![/>])""")


def _named_routes(app):
    return [route for route in iter_route_contexts(app.routes) if route.name is not None]


def test_every_route_has_a_name_no_other_route_has(app):
    names = Counter(route.name for route in _named_routes(app))

    assert {name: count for name, count in names.items() if count > 1} == {}
    assert all(route.name for route in iter_route_contexts(app.routes))


def test_the_path_of_every_route_is_the_one_starlette_gives(app):
    for route in _named_routes(app):
        params = dict.fromkeys(route.param_convertors, "7")

        assert app.state.route_path(route.name, **params) == app.url_path_for(route.name, **params)


@pytest.mark.parametrize(
    ("tag", "path"),
    [
        ("python", "/tags/python"),
        ("c#", "/tags/c%23"),
        ("c++", "/tags/c%2B%2B"),
        ("café", "/tags/caf%C3%A9"),
        ("web dev", "/tags/web%20dev"),
        ("a/b", "/tags/a%2Fb"),
    ],
)
def test_parameters_are_escaped_into_one_segment(app, tag, path):
    assert app.state.route_path("tag_page", tag=tag) == path


def test_a_blog_address_holds_its_id_and_slug(app, make_blog):
    blog = make_blog(title="Hello, World!")

    path = app.state.route_path("blog_page", blog_id=blog.id, slug=blog.slug)

    assert path == f"/blogs/{blog.id}/hello-world" == blog.path


def test_a_static_file_keeps_its_slashes(app):
    assert app.state.route_path("static", path="style.css") == "/static/style.css"
    assert app.state.route_path("static", path="/fonts/a b.woff2") == "/static/fonts/a%20b.woff2"


def test_true_is_not_taken_for_one(app):
    assert app.state.route_path("author_page", user_id=1) == "/users/1"
    assert app.state.route_path("author_page", user_id=True) == "/users/True"


def test_templates_reach_addresses_without_the_request(app):
    """Through the environment: `_blogs.html` is imported without the page's context."""
    environment = app.state.templates.env
    template = environment.from_string('{{ "home"|url }} {{ url("tag_page", tag="c#") }}')

    assert template.render() == "/ /tags/c%23"


@pytest.mark.parametrize(
    ("name", "params"),
    [("no_such_route", {}), ("author_page", {}), ("author_page", {"user_id": 1, "slug": "x"})],
)
def test_an_unknown_name_or_other_parameters_are_an_error(app, name, params):
    with pytest.raises(NoMatchFound):
        app.state.route_path(name, **params)


# Every link on the pages goes to a route


class _Links(HTMLParser):
    """Every (method, path) a page links or posts to on this site."""

    def __init__(self) -> None:
        super().__init__()
        self.links: set[tuple[str, str]] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        method = (attributes.get("method") or "get").upper() if tag == "form" else "GET"
        for name in ("href", "action", "src"):
            value = attributes.get(name)
            if value and value.startswith("/") and not value.startswith("//"):
                self.links.add((method, urlsplit(value).path))


def _links_on(html: str) -> set[tuple[str, str]]:
    parser = _Links()
    parser.feed(html)
    return parser.links


def _route_for(app, method: str, path: str):
    """The route the router would send this request to, or None."""
    scope = {"type": "http", "method": method, "path": unquote(path), "root_path": ""}
    for route in app.router.routes:
        match, child_scope = route.matches(scope)
        if match == Match.FULL:
            return child_scope.get("route", route)
    return None


@pytest.fixture
def site(client, session, make_user, make_blog, make_comment):
    """An admin author with a published blog (tags that need escaping, comments, one waiting)
    and a draft, and a reader's comment on it."""
    author = make_user(name="Ada")
    author.is_admin = True
    session.add(author)
    session.commit()
    blog = make_blog(author=author, title="Tags, escaped", tags=["c#", "café", "web-dev"])
    make_blog(author=author, title="Not yet", draft=True)
    own = make_comment(blog=blog, author=author)
    make_comment(blog=blog, guest_name="Guest", status=CommentStatus.PENDING)
    return {"author": author, "blog": blog, "comment": own}


def test_every_link_and_form_on_the_main_pages_goes_to_a_route(app, client, site):
    author, blog, comment = site["author"], site["blog"], site["comment"]
    public = [
        "/",
        blog.path,
        f"/users/{author.id}",
        "/users",
        "/tags",
        "/tags/c%23",
        "/search?q=escaped",
        "/login",
        "/register",
        "/no-such-page",
    ]
    own = [
        "/blogs/new",
        f"/blogs/{blog.id}/edit",
        f"/blogs/{blog.id}/delete",
        f"/users/{author.id}/edit",
        f"/users/{author.id}/delete",
        "/account/sessions",
        "/account/password",
        "/comments/pending",
        f"/comments/{comment.id}/edit",
        "/admin/users",
    ]
    links = set()
    for page in public:
        links |= _links_on(client.get(page).text)
    log_in(client, author)
    for page in public + own:
        links |= _links_on(client.get(page).text)

    unrouted = {(method, path) for method, path in links if _route_for(app, method, path) is None}
    assert unrouted == set()
    # Enough of them that the pages above were really drawn, with their lists and forms.
    assert len(links) > 40
    assert ("GET", "/tags/c%23") in links and ("POST", "/logout") in links
    for method, path in links:
        if isinstance(_route_for(app, method, path), Mount):
            assert client.get(path).status_code == 200, path


# No template writes a path by hand


def test_no_template_writes_an_internal_path_by_hand():
    templates = resource_dir("templates")
    found = [
        f"{path.relative_to(templates)}:{number}: {line.strip()}"
        for path in sorted(templates.rglob("*.*"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        # Starlette's url_for also finds a route by its name, but walks every route each time.
        if HAND_WRITTEN_PATH.search(line) or "url_for(" in line
    ]

    assert found == []
