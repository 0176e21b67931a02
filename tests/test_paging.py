"""Pages of long lists: cursors in the address, numbered first pages, the authors list."""

import base64
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blog.paging import MAX_ID, decode_cursor, encode_cursor
from tests.conftest import assert_html_page, blog_ids_on
from tests.pages_of_lists import follow, link_queries, page_links, page_number

MOMENT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
BLOG_KEY = (datetime, int)
AUTHOR_KEY = (str, int)


def _token(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


# Tokens

moments = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
)
ids = st.integers(min_value=1, max_value=MAX_ID)
numbers = st.integers(min_value=2, max_value=10**9)


@given(number=numbers, moment=moments, blog_id=ids)
def test_a_blog_cursor_reads_back_as_it_was_written(number, moment, blog_id):
    token = encode_cursor(number, (moment, blog_id))

    assert decode_cursor(token, BLOG_KEY) == (number, (moment, blog_id))


@given(number=numbers, name=st.text(max_size=100).filter(lambda text: "\x00" not in text), id_=ids)
def test_an_author_cursor_reads_back_as_it_was_written(number, name, id_):
    name = name.encode("utf-8", "ignore").decode()  # no lone surrogates: names never hold them

    token = encode_cursor(number, (name, id_))

    assert decode_cursor(token, AUTHOR_KEY) == (number, (name, id_))


def test_a_cursor_is_one_url_safe_word():
    token = encode_cursor(3, (MOMENT, 42))

    assert token.replace("-", "").replace("_", "").isalnum()


@pytest.mark.parametrize(
    "token",
    [
        "",
        "x",
        "!!!!",
        "a" * 5000,
        _token([3, 1_000_000, 5, 6]),  # one value too many
        _token([3, 1_000_000]),  # one too few
        _token([1, 1_000_000, 5]),  # the first page has no cursor
        _token([0, 1_000_000, 5]),
        _token([3, 1_000_000, 0]),
        _token([3, 1_000_000, 2**31]),  # no such id on PostgreSQL
        _token([3, 10**30, 5]),  # past the year 9999
        _token([3, -(10**20), 5]),
        _token([3, 1.5, 5]),
        _token([3, "1000000", 5]),
        _token([3, True, 5]),
        _token([3, None, 5]),
        _token({"page": 3}),
        base64.urlsafe_b64encode(b"[3, NaN, 5]").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_malformed_blog_cursor_reads_as_none(token):
    assert decode_cursor(token, BLOG_KEY) is None


@pytest.mark.parametrize(
    "values",
    [[3, "a\x00b", 5], [3, "\ud800", 5], [3, "x" * 401, 5], [3, 7, 5]],
)
def test_a_malformed_author_cursor_reads_as_none(values):
    assert decode_cursor(_token(values), AUTHOR_KEY) is None


# In the address


@pytest.mark.parametrize("path", ["/", "/users/{author}", "/tags/python", "/users"])
@pytest.mark.parametrize("side", ["before", "after"])
@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "%00",
        "a" * 2000,
        _token([3, 10**30, 5]),
        _token([3, 1_000_000, 2**40]),
        _token([3, "\ud800", 5]),
        _token([3, "a\x00b", 5]),
        "4pyT",
    ],
)
def test_a_cursor_no_link_carries_is_a_404_page(client, make_user, make_blog, path, side, token):
    author = make_user()
    make_blog(author=author, tags=["python"])

    response = client.get(f"{path.format(author=author.id)}?{side}={token}")

    assert_html_page(response, 404)


@pytest.mark.parametrize("path", ["/", "/users"])
def test_both_sides_at_once_is_a_404_page(client, make_blog, path):
    make_blog()
    token = encode_cursor(2, (MOMENT, 1)) if path == "/" else encode_cursor(2, ("a", 1))

    assert_html_page(client.get(f"{path}?before={token}&after={token}"), 404)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4),
    max_leaves=6,
)
# Any text, and tokens that hold JSON of any shape (a cursor's own encoding, wrong inside).
cursor_texts = st.one_of(
    st.text(max_size=300),
    st.lists(json_values, max_size=5).map(_token),
    st.tuples(st.integers(), st.integers(), st.integers()).map(list).map(_token),
    st.tuples(st.integers(), st.text(max_size=50), st.integers()).map(list).map(_token),
)


@pytest.fixture
def fuzz_client(app, make_user, make_blog):
    """A client that shows a server error as its 500 response, on a site with a blog."""
    make_blog(author=make_user(), tags=["python"])
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        yield client


@settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=60,
    # One app and database for all examples, on purpose: the pages only read.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(token=cursor_texts, side=st.sampled_from(["before", "after"]))
def test_any_text_as_a_cursor_is_a_page_or_a_404(fuzz_client, token, side):
    for path in ("/", "/users", "/users/1", "/tags/python"):
        response = fuzz_client.get(path, params={side: token})
        assert response.status_code in (200, 404), (path, token, response.text[-2000:])


def test_a_cursor_past_the_oldest_blog_is_a_404_page(client, make_blog):
    make_blog(created_at=MOMENT)

    token = encode_cursor(2, (MOMENT - timedelta(days=1), 1))

    assert_html_page(client.get(f"/?before={token}"), 404)


def test_a_cursor_page_shows_the_number_it_carries(client, make_user, make_blog):
    author = make_user()
    blogs = [make_blog(author=author, created_at=MOMENT + timedelta(hours=h)) for h in range(3)]

    html = client.get(f"/?before={encode_cursor(7, (blogs[2].published_at, blogs[2].id))}").text

    assert page_number(html) == 7
    assert blog_ids_on(html) == [blogs[1].id, blogs[0].id]


# The authors list


def _authors_on(html: str) -> list[str]:
    return re.findall(r'<li>\s*<a href="/users/\d+">([^<]*)</a>', html)


def test_the_authors_list_is_in_name_order_whatever_the_case(client, make_user):
    for name in ["bea", "Carl", "Ada", "ada", "Émile"]:
        make_user(name=name)

    names = _authors_on(client.get("/users").text)

    assert names[:4] == ["Ada", "ada", "bea", "Carl"]
    assert sorted(names) == sorted(["bea", "Carl", "Ada", "ada", "Émile"])


def test_the_authors_list_shows_twenty_a_page_with_links_both_ways(client, make_user):
    users = [make_user(name=f"Author {number:02d}") for number in range(45)]
    names = [user.name for user in users]

    first = client.get("/users").text
    second = follow(client, "/users", first, "next").text
    third = follow(client, "/users", second, "next").text

    assert _authors_on(first) + _authors_on(second) + _authors_on(third) == names
    assert [page_number(html) for html in (first, second, third)] == [1, 2, 3]
    assert set(link_queries(first)) == {"next"}
    assert "after" in link_queries(first)["next"]
    assert page_links(second)["prev"] == "?page=1"
    assert set(link_queries(third)) == {"prev"}
    assert _authors_on(follow(client, "/users", third, "prev").text) == _authors_on(second)
    assert "Next" in first and "Previous" in second


def test_the_authors_list_answers_old_page_numbers(client, make_user):
    users = [make_user(name=f"Author {number:02d}") for number in range(25)]

    html = client.get("/users?page=2").text

    assert _authors_on(html) == [user.name for user in users[20:]]
    assert_html_page(client.get("/users?page=3"), 404)


def test_the_authors_list_with_one_page_has_no_page_links(client, make_user):
    make_user()

    assert page_links(client.get("/users").text) == {}


def test_a_renamed_author_moves_to_their_new_place(client, session, make_user):
    ada, zoe = make_user(name="Ada"), make_user(name="Zoë")
    ada.name = "Zed"
    session.add(ada)
    session.commit()

    assert _authors_on(client.get("/users").text) == ["Zed", "Zoë"]
    assert zoe.id != ada.id
