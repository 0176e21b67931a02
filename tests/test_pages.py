"""The pages a reader opens: what each shows, in what order, and how it pages."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from blog import paging
from tests.conftest import assert_html_page, blog_ids_on, find_form
from tests.pages_of_lists import follow, link_queries, page_links, page_number

MOMENT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _link_kinds(html: str) -> dict[str, str]:
    """What each previous/next link of the page carries: "page=N", "before" or "after"."""
    kinds = {}
    for rel, query in link_queries(html).items():
        (name,) = query
        kinds[rel] = f"page={query['page'][0]}" if name == "page" else name
    return kinds


def _blogs_an_hour_apart(make_blog, author, count: int) -> list:
    return [
        make_blog(author=author, created_at=MOMENT + timedelta(hours=hour)) for hour in range(count)
    ]


# Home page


def test_home_shows_newest_blogs_first(client, make_blog):
    old = make_blog(created_at=MOMENT - timedelta(days=2))
    new = make_blog(created_at=MOMENT)
    middle = make_blog(created_at=MOMENT - timedelta(days=1))

    response = client.get("/")

    assert_html_page(response, 200)
    assert blog_ids_on(response.text) == [new.id, middle.id, old.id]


def test_home_breaks_ties_in_created_time_by_id(client, make_blog):
    first, second, third = (make_blog(created_at=MOMENT) for _ in range(3))
    newer = make_blog(created_at=MOMENT + timedelta(seconds=1))

    ids = blog_ids_on(client.get("/").text)

    assert ids == [newer.id, third.id, second.id, first.id]


def test_home_pages_of_blogs_with_equal_times_hold_each_blog_once(client, make_user, make_blog):
    author = make_user()
    blogs = [make_blog(author=author, created_at=MOMENT) for _ in range(25)]

    first = blog_ids_on(client.get("/").text)
    second = blog_ids_on(client.get("/?page=2").text)

    assert first + second == sorted((blog.id for blog in blogs), reverse=True)


def test_home_shows_twenty_blogs_and_a_link_to_the_next_page(client, make_user, make_blog):
    blogs = _blogs_an_hour_apart(make_blog, make_user(), 45)

    html = client.get("/").text

    assert blog_ids_on(html) == [blog.id for blog in reversed(blogs[-20:])]
    # Older blogs are those published before the last one shown.
    assert _link_kinds(html) == {"next": "before"}


def test_home_older_link_leads_to_the_next_twenty_and_links_both_ways(client, make_user, make_blog):
    blogs = _blogs_an_hour_apart(make_blog, make_user(), 45)

    html = follow(client, "/", client.get("/").text, "next").text

    assert blog_ids_on(html) == [blog.id for blog in reversed(blogs[5:25])]
    assert page_number(html) == 2
    assert _link_kinds(html) == {"prev": "page=1", "next": "before"}


def test_home_last_page_links_only_back(client, make_user, make_blog):
    blogs = _blogs_an_hour_apart(make_blog, make_user(), 45)
    second = follow(client, "/", client.get("/").text, "next").text

    html = follow(client, "/", second, "next").text

    assert blog_ids_on(html) == [blog.id for blog in reversed(blogs[:5])]
    assert page_number(html) == 3
    assert _link_kinds(html) == {"prev": "after"}


def test_home_newer_link_from_a_third_page_leads_back_to_the_second(client, make_user, make_blog):
    _blogs_an_hour_apart(make_blog, make_user(), 45)
    second = follow(client, "/", client.get("/").text, "next").text
    third = follow(client, "/", second, "next").text

    back = follow(client, "/", third, "prev").text

    assert blog_ids_on(back) == blog_ids_on(second)
    assert page_number(back) == 2
    assert page_links(back) == page_links(second)


def test_home_newer_link_back_to_the_top_shows_a_full_first_page(
    client, session, make_user, make_blog
):
    blogs = _blogs_an_hour_apart(make_blog, make_user(), 45)
    second = follow(client, "/", client.get("/").text, "next").text
    third = follow(client, "/", second, "next").text
    # Blogs deleted meanwhile leave no more than a page newer than the third page's.
    for blog in blogs[20:40]:
        session.delete(blog)
    session.commit()

    back = follow(client, "/", third, "prev").text

    assert blog_ids_on(back) == [blog.id for blog in reversed(blogs[5:20] + blogs[40:])]
    assert page_number(back) == 1
    assert _link_kinds(back) == {"next": "before"}


def test_home_next_page_holds_the_same_blogs_whatever_is_published_meanwhile(
    client, make_user, make_blog
):
    author = make_user()
    blogs = _blogs_an_hour_apart(make_blog, author, 45)
    first = client.get("/").text
    for hour in range(1, 4):
        make_blog(author=author, created_at=MOMENT + timedelta(days=10, hours=hour))

    second = follow(client, "/", first, "next").text

    assert blog_ids_on(second) == [blog.id for blog in reversed(blogs[5:25])]


def test_home_old_page_number_links_still_work(client, make_user, make_blog):
    blogs = _blogs_an_hour_apart(make_blog, make_user(), 45)

    second = client.get("/?page=2").text
    third = client.get("/?page=3").text

    assert blog_ids_on(second) == [blog.id for blog in reversed(blogs[5:25])]
    assert _link_kinds(second) == {"prev": "page=1", "next": "before"}
    assert blog_ids_on(third) == [blog.id for blog in reversed(blogs[:5])]
    assert _link_kinds(third) == {"prev": "after"}


def test_home_page_numbers_past_the_numbered_pages_are_a_404(
    client, make_user, make_blog, monkeypatch
):
    _blogs_an_hour_apart(make_blog, make_user(), 45)
    monkeypatch.setattr(paging, "MAX_NUMBERED_PAGE", 2)

    response = client.get("/?page=3")

    assert_html_page(response, 404)
    assert "Follow the links" in response.text


def test_home_with_exactly_one_page_of_blogs_has_no_page_links(client, make_user, make_blog):
    _blogs_an_hour_apart(make_blog, make_user(), 20)

    html = client.get("/").text

    assert len(blog_ids_on(html)) == 20
    assert page_links(html) == {}


def test_home_with_no_blogs_says_so(client):
    response = client.get("/")

    assert_html_page(response, 200)
    assert blog_ids_on(response.text) == []
    assert "No blogs yet" in response.text


@pytest.mark.parametrize("path", ["/", "/users/{author}"])
@pytest.mark.parametrize(
    "page", ["0", "-1", "abc", "1e9", "", "1.5", "4", "1000000", "1000001", str(10**30)]
)
def test_a_page_number_out_of_range_is_a_404_or_an_empty_page(
    client, make_user, make_blog, path, page
):
    author = make_user()
    _blogs_an_hour_apart(make_blog, author, 45)

    response = client.get(path.format(author=author.id), params={"page": page})

    assert response.status_code in (200, 404), response.text[:500]
    assert_html_page(response, response.status_code)
    if response.status_code == 200:
        assert blog_ids_on(response.text) == []


# One blog


def test_blog_page_shows_title_body_author_and_dates(client, make_user, make_blog, session):
    author = make_user(name="Grace Hopper")
    blog = make_blog(
        author=author,
        title="On compilers",
        body="First paragraph.\n\nSecond paragraph.",
        created_at=datetime(2024, 1, 2, 9, 30, tzinfo=UTC),
    )
    blog.updated_at = datetime(2024, 3, 4, 10, 0, tzinfo=UTC)
    session.add(blog)
    session.commit()

    response = client.get(f"/blogs/{blog.id}", follow_redirects=True)

    assert_html_page(response, 200)
    html = response.text
    assert "<h1>On compilers</h1>" in html
    assert "First paragraph." in html and "Second paragraph." in html
    assert re.search(rf'<a href="/users/{author.id}">\s*Grace Hopper\s*</a>', html)
    assert "January 2, 2024" in html
    assert "March 4, 2024" in html


def test_blog_page_of_an_unknown_blog_is_a_404_page(client):
    assert_html_page(client.get("/blogs/12345"), 404)


# Authors


def _blog_count(entry: str) -> int:
    match = re.search(r"(\d+) blogs?\b", entry)
    assert match, entry
    return int(match.group(1))


def test_authors_page_lists_every_author_with_their_blog_count(client, make_user, make_blog):
    prolific, occasional, silent = make_user(), make_user(), make_user()
    for _ in range(3):
        make_blog(author=prolific)
    make_blog(author=occasional)

    response = client.get("/users")

    assert_html_page(response, 200)

    def entry(author) -> str:
        match = re.search(rf'<a href="/users/{author.id}">.*?</li>', response.text, re.S)
        assert match, f"{author.name} is not listed"
        return re.sub(r"\s+", " ", match.group(0))

    assert _blog_count(entry(prolific)) == 3
    assert _blog_count(entry(occasional)) == 1
    assert _blog_count(entry(silent)) == 0
    assert prolific.name in response.text and silent.name in response.text


def test_author_page_shows_the_author_and_only_their_blogs_newest_first(
    client, make_user, make_blog
):
    author = make_user(name="Ada Lovelace")
    old = make_blog(author=author, created_at=MOMENT - timedelta(days=3))
    new = make_blog(author=author, created_at=MOMENT)
    make_blog(created_at=MOMENT + timedelta(days=1))

    response = client.get(f"/users/{author.id}")

    assert_html_page(response, 200)
    assert "Ada Lovelace" in response.text
    assert blog_ids_on(response.text) == [new.id, old.id]


def test_author_page_shows_twenty_blogs_a_page(client, make_user, make_blog):
    author = make_user()
    blogs = _blogs_an_hour_apart(make_blog, author, 25)

    path = f"/users/{author.id}"
    first = client.get(path).text
    second = follow(client, path, first, "next").text

    assert blog_ids_on(first) == [blog.id for blog in reversed(blogs[5:])]
    assert _link_kinds(first) == {"next": "before"}
    assert blog_ids_on(second) == [blog.id for blog in reversed(blogs[:5])]
    assert _link_kinds(second) == {"prev": "page=1"}
    assert blog_ids_on(client.get(f"{path}?page=2").text) == blog_ids_on(second)


def test_author_page_of_an_unknown_author_is_a_404_page(client):
    assert_html_page(client.get("/users/12345"), 404)


# Forms


@pytest.mark.parametrize(
    ("path", "fields"),
    [("/register", ["name", "email", "password"]), ("/login", ["email", "password", "next"])],
)
def test_account_forms_are_shown_with_their_fields_and_a_csrf_token(client, path, fields):
    response = client.get(path)

    assert_html_page(response, 200)
    _, token = find_form(response.text, path)
    assert token
    for name in fields:
        assert f'name="{name}"' in response.text
    assert 'type="password"' in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/blogs/new",
        "/blogs/{blog}/edit",
        "/blogs/{blog}/delete",
        "/users/{author}/edit",
        "/users/{author}/delete",
    ],
)
def test_a_form_page_sends_a_visitor_who_is_not_logged_in_to_login(client, make_blog, path):
    blog = make_blog()
    path = path.format(blog=blog.id, author=blog.author_id)

    response = client.get(path)

    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/login"
    assert parse_qs(location.query) == {"next": [path]}


def test_write_form_is_shown_to_a_logged_in_author(client, logged_in):
    response = client.get("/blogs/new")

    assert_html_page(response, 200)
    find_form(response.text, "/blogs")
    assert 'name="title"' in response.text and 'name="body"' in response.text


def test_an_unknown_address_is_a_404_page(client):
    assert_html_page(client.get("/no/such/page"), 404)


def test_a_wrong_method_is_an_html_page(client):
    assert_html_page(client.get("/logout"), 405)


def test_the_stylesheet_is_served_and_needs_no_network(client):
    response = client.get("/static/style.css")

    assert response.status_code == 200
    assert "text/css" in response.headers["content-type"]
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", response.text)


def test_pages_link_no_outside_resources(client, make_blog):
    blog = make_blog()
    for path in ["/", f"/blogs/{blog.id}", "/users", "/register"]:
        html = client.get(path).text
        assert not re.search(r'(src|href)="(https?:)?//', html), path
