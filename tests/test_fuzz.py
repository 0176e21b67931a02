"""Never a 500: every form and every number or name in an address, fuzzed with Hypothesis.

Each test sends whatever a browser (or anyone with curl) can send: any text, NUL, numbers no
column holds, blanks, very long values, fields repeated, left out or unknown, url-encoded,
multipart, or as file parts. The client reports a server error as a 500 response rather than
raising it, so a failure names the request (and Hypothesis the smallest example) that caused
it, and the app's log in the captured output has the traceback. The examples are fixed
(derandomized) and bounded in number (tests/forms_fuzz.py: FUZZ), so CI runs the same requests
in bounded time; FUZZ_EXAMPLES=500 searches deeper.
"""

import unicodedata
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import example, given
from hypothesis import strategies as st

from blog.models import User
from tests.conftest import DEFAULT_PASSWORD, csrf_token_of, field_error, log_in, post_back
from tests.forms_fuzz import (
    FUZZ,
    actions,
    address_text,
    assert_no_server_error,
    datetimes_as_text,
    describe,
    encodings,
    field_text,
    form_fields,
    in_path,
    numbers_as_text,
    post_form,
    statuses,
    tag_lists,
)

EDIT_FORM_FIELDS = ("title", "body", "tags", "status", "publish_at", "version")
# Tags the site holds, each spelled as one would type it in an address.
SAVED_TAGS = ("python", "c#", "c++", "node.js", "web-dev", "café")

emails = st.one_of(st.emails(), field_text)
ids = st.one_of(numbers_as_text, address_text)
# One segment of a path: no '/' (a trailing one is test_a_trailing_slash_…), and not one that a
# browser resolves ('.' and '..').
segments = address_text.filter(lambda text: text not in {"", ".", ".."} and "/" not in text)


@pytest.fixture
def fuzz_client(app: FastAPI) -> Iterator[TestClient]:
    """A client that shows a server error as its 500 response instead of raising it."""
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def author(fuzz_client, make_user) -> User:
    user = make_user()
    log_in(fuzz_client, user)
    return user


def _follow(client: TestClient, response: httpx2.Response) -> None:
    """Where a successful form sends the browser must be a page too."""
    if response.is_redirect:
        assert_no_server_error(client.get(response.headers["location"]))


# Forms


@FUZZ
@given(
    fields=form_fields({"name": field_text, "email": emails, "password": field_text}),
    encoding=encodings,
)
def test_any_register_form_is_never_a_server_error(fuzz_client, fields, encoding):
    response = post_form(fuzz_client, "/register", csrf_token_of(fuzz_client), fields, encoding)

    assert_no_server_error(response)
    _follow(fuzz_client, response)


@FUZZ
@given(data=st.data(), encoding=encodings)
def test_any_login_form_is_never_a_server_error(fuzz_client, make_user, data, encoding):
    user = make_user()
    fields = data.draw(
        form_fields(
            {
                "email": st.one_of(st.sampled_from([user.email, user.email.upper()]), emails),
                "password": st.one_of(st.just(DEFAULT_PASSWORD), field_text),
                "next": st.one_of(st.sampled_from(["/", "//evil.example", "/\\x"]), field_text),
            }
        )
    )

    response = post_form(fuzz_client, "/login", csrf_token_of(fuzz_client), fields, encoding)

    assert_no_server_error(response)
    _follow(fuzz_client, response)


@FUZZ
@given(fields=form_fields({}), encoding=encodings)
def test_any_logout_form_is_never_a_server_error(fuzz_client, make_user, fields, encoding):
    log_in(fuzz_client, make_user())

    response = post_form(fuzz_client, "/logout", csrf_token_of(fuzz_client), fields, encoding)

    assert_no_server_error(response)


@FUZZ
@given(
    fields=form_fields(
        {
            "title": field_text,
            "body": field_text,
            "tags": tag_lists,
            "status": statuses,
            "publish_at": st.one_of(datetimes_as_text, field_text),
            "action": actions,
        }
    ),
    encoding=encodings,
)
def test_any_new_blog_form_is_never_a_server_error(fuzz_client, author, fields, encoding):
    response = post_form(fuzz_client, "/blogs", csrf_token_of(fuzz_client), fields, encoding)

    assert_no_server_error(response)
    _follow(fuzz_client, response)


@FUZZ
@given(data=st.data(), encoding=encodings)
def test_any_edit_blog_form_is_never_a_server_error(fuzz_client, author, make_blog, data, encoding):
    blog = make_blog(author=author, tags=["python"])
    fields = data.draw(
        form_fields(
            {
                "title": field_text,
                "body": field_text,
                "tags": tag_lists,
                "status": statuses,
                "publish_at": st.one_of(datetimes_as_text, field_text),
                "version": st.one_of(st.sampled_from(["1", "2"]), numbers_as_text, field_text),
                "action": actions,
            }
        )
    )

    response = post_form(
        fuzz_client, f"/blogs/{blog.id}/edit", csrf_token_of(fuzz_client), fields, encoding
    )

    assert_no_server_error(response)
    _follow(fuzz_client, response)


@FUZZ
@given(version=st.one_of(numbers_as_text, field_text))
# Once a 500 (SQLite: OverflowError; PostgreSQL, whose INTEGER is 32 bits: "integer out of
# range"), and a 422 that drew the form again with the same "²" in its hidden field, so it
# could never be saved.
@example(version=str(2**31 - 1))
@example(version=str(2**64))
@example(version=str(2**63 - 1))
@example(version=str(10**40))
@example(version="²")
def test_any_version_lets_the_author_save_at_the_latest_on_the_second_try(
    fuzz_client, author, make_blog, version
):
    """A version the blog is not at is a conflict (409) whose form saves when sent again; one
    that cannot be a version at all skips the check. Either way the author is never stuck."""
    blog = make_blog(author=author)
    path = f"/blogs/{blog.id}/edit"
    fields = [("title", "Title"), ("body", "Body."), ("version", version)]

    response = post_form(fuzz_client, path, csrf_token_of(fuzz_client), fields, "urlencoded")
    if response.status_code == 409:
        response = post_back(fuzz_client, response.text, path, EDIT_FORM_FIELDS)

    assert response.status_code == 303, describe(response)


@FUZZ
@given(
    status=statuses,
    publish_at=st.one_of(datetimes_as_text, numbers_as_text, field_text),
    encoding=encodings,
)
# Once a 500: in UTC these are outside the calendar (OverflowError: date value out of range).
@example(status="scheduled", publish_at="0001-01-01T00:00+14:00", encoding="urlencoded")
@example(status="published", publish_at="9999-12-31T23:59-14:00", encoding="multipart")
def test_any_status_and_publishing_time_on_the_edit_form_is_saved_or_refused_at_the_field(
    fuzz_client, author, make_blog, status, publish_at, encoding
):
    blog = make_blog(author=author)
    fields = [("title", "Title"), ("body", "Body."), ("status", status), ("publish_at", publish_at)]

    response = post_form(
        fuzz_client, f"/blogs/{blog.id}/edit", csrf_token_of(fuzz_client), fields, encoding
    )

    assert response.status_code in {303, 422}, describe(response)
    _follow(fuzz_client, response)


@pytest.mark.parametrize("publish_at", ["0001-01-01T00:00+14:00", "9999-12-31T23:59-14:00"])
def test_a_publishing_time_outside_the_calendar_in_utc_is_refused_at_the_field(
    fuzz_client, author, publish_at
):
    fields = [("title", "T"), ("body", "B."), ("status", "scheduled"), ("publish_at", publish_at)]

    response = post_form(fuzz_client, "/blogs", csrf_token_of(fuzz_client), fields, "urlencoded")

    assert response.status_code == 422, describe(response)
    assert field_error(response.text, "publish_at") == (
        "Choose a time between the years 1 and 9999 (UTC)."
    )


@FUZZ
@given(fields=form_fields({}), encoding=encodings)
def test_any_delete_blog_form_is_never_a_server_error(
    fuzz_client, author, make_blog, fields, encoding
):
    blog = make_blog(author=author)

    response = post_form(
        fuzz_client, f"/blogs/{blog.id}/delete", csrf_token_of(fuzz_client), fields, encoding
    )

    assert_no_server_error(response)


@FUZZ
@given(data=st.data(), encoding=encodings)
def test_any_edit_account_form_is_never_a_server_error(
    fuzz_client, author, make_user, data, encoding
):
    other = make_user()
    fields = data.draw(
        form_fields({"name": field_text, "email": st.one_of(st.just(other.email.upper()), emails)})
    )

    response = post_form(
        fuzz_client, f"/users/{author.id}/edit", csrf_token_of(fuzz_client), fields, encoding
    )

    assert_no_server_error(response)
    _follow(fuzz_client, response)


@FUZZ
@given(fields=form_fields({}), encoding=encodings)
def test_any_delete_account_form_is_never_a_server_error(
    fuzz_client, make_user, make_blog, fields, encoding
):
    user = make_user()
    make_blog(author=user, tags=["python"])
    log_in(fuzz_client, user)

    response = post_form(
        fuzz_client, f"/users/{user.id}/delete", csrf_token_of(fuzz_client), fields, encoding
    )

    assert_no_server_error(response)


@FUZZ
@given(
    title=st.text(min_size=1, max_size=200),
    body=st.text(min_size=1),
    tags=st.lists(st.text(min_size=1, max_size=40), max_size=10),
)
def test_whatever_a_form_saves_shows_on_every_page_without_a_server_error(
    fuzz_client, author, title, body, tags
):
    fields = [("title", title), ("body", body), ("tags", ",".join(tags))]
    created = post_form(fuzz_client, "/blogs", csrf_token_of(fuzz_client), fields, "urlencoded")
    assert_no_server_error(created)
    if created.status_code != 303:
        return  # refused at a field: nothing was saved
    blog_path = created.headers["location"]
    tag_paths = [f"/tags/{in_path(tag)}" for tag in tags]
    search = urlencode({"q": f"{title} {body}"})

    for path in [
        blog_path, f"{blog_path.rsplit('/', 1)[0]}/edit",
        "/", "/feed.xml", "/sitemap.xml", "/tags", "/users", f"/users/{author.id}",
        f"/users/{author.id}/feed.xml", f"/search?{search}",
        *tag_paths, *(f"{path}/feed.xml" for path in tag_paths),
    ]:  # fmt: skip
        response = fuzz_client.get(path)
        assert_no_server_error(response)
        _follow(fuzz_client, response)


# Numbers and names in addresses


@FUZZ
@given(
    page=st.one_of(numbers_as_text, address_text),
    path=st.sampled_from(["/", "/users/{author}", "/tags/python", "/tags/Python", "/search"]),
)
def test_any_page_number_on_any_list_is_never_a_server_error(
    fuzz_client, author, make_blog, page, path
):
    make_blog(author=author, tags=["python"])
    query = urlencode({"q": "words", "page": page} if path == "/search" else {"page": page})

    response = fuzz_client.get(f"{path.format(author=author.id)}?{query}")

    assert_no_server_error(response)
    _follow(fuzz_client, response)


@FUZZ
@given(query=address_text, page=st.one_of(st.none(), numbers_as_text))
def test_any_search_is_never_a_server_error(fuzz_client, author, make_blog, query, page):
    make_blog(author=author, title="Some words", body="Worth reading.")
    parameters = {"q": query} if page is None else {"q": query, "page": page}

    assert_no_server_error(fuzz_client.get(f"/search?{urlencode(parameters)}"))


@FUZZ
@given(
    blog_or_user_id=ids,
    address=st.sampled_from(
        [
            ("GET", "/blogs/{}"),
            ("GET", "/blogs/{}/some-slug"),
            ("GET", "/blogs/{}/edit"),
            ("GET", "/blogs/{}/delete"),
            ("POST", "/blogs/{}/edit"),
            ("POST", "/blogs/{}/delete"),
            ("GET", "/users/{}"),
            ("GET", "/users/{}/feed.xml"),
            ("GET", "/users/{}/edit"),
            ("GET", "/users/{}/delete"),
            ("POST", "/users/{}/edit"),
            ("POST", "/users/{}/delete"),
        ]
    ),
)
# A 500 on PostgreSQL, whose Integer ids are 32 bits ("integer out of range"): past 2**31 - 1,
# an id must be a 404 as it is past 2**63 - 1.
@example(blog_or_user_id=str(2**31), address=("GET", "/blogs/{}"))
@example(blog_or_user_id=str(2**31), address=("GET", "/users/{}/feed.xml"))
@example(blog_or_user_id=str(2**62), address=("POST", "/blogs/{}/edit"))
def test_any_id_in_any_address_is_never_a_server_error(
    fuzz_client, make_user, make_blog, blog_or_user_id, address
):
    # A new author each time: an id that happens to be theirs may delete their account.
    author = make_user()
    make_blog(author=author)
    log_in(fuzz_client, author)
    method, template = address
    path = template.format(in_path(blog_or_user_id))

    if method == "GET":
        response = fuzz_client.get(path)
    else:
        fields = [("title", "Title"), ("body", "Body."), ("name", "Name"), ("email", "a@b.example")]
        response = post_form(fuzz_client, path, csrf_token_of(fuzz_client), fields, "urlencoded")

    assert_no_server_error(response)


@FUZZ
@given(slug=segments)
def test_any_slug_reaches_the_blog_in_at_most_one_redirect(fuzz_client, make_blog, slug):
    blog = make_blog(title="A title")

    response = fuzz_client.get(f"/blogs/{blog.id}/{in_path(slug)}")
    if response.is_redirect:
        assert response.headers["location"] == blog.path, describe(response)
        response = fuzz_client.get(response.headers["location"])

    assert response.status_code == 200, describe(response)


def _spellings(tag: str) -> st.SearchStrategy[str]:
    """Ways to write a saved tag in an address that the site should still find."""
    return st.sampled_from(
        [
            tag,
            tag.upper(),
            f"#{tag}",
            f"##{tag}",
            f" {tag} ",
            f"#{tag.upper()}",
            unicodedata.normalize("NFD", tag),
        ]
    )


@FUZZ
@given(tag=st.one_of(st.sampled_from(SAVED_TAGS).flatmap(_spellings), segments), feed=st.booleans())
def test_every_tag_address_reaches_a_page_or_a_404_in_at_most_one_redirect(
    fuzz_client, make_blog, tag, feed
):
    make_blog(tags=SAVED_TAGS)
    path = f"/tags/{in_path(tag)}" + ("/feed.xml" if feed else "")

    response = fuzz_client.get(path)
    assert_no_server_error(response)
    if response.is_redirect:
        response = fuzz_client.get(response.headers["location"])

    assert response.status_code in {200, 404}, f"{describe(response)}\nfirst asked: {path}"


@pytest.mark.parametrize("path", ["/tags/Python/", "/tags/%23python/", "/tags/C%23/"])
def test_a_tag_address_with_a_trailing_slash_reaches_its_page_in_one_redirect(
    fuzz_client, make_blog, path
):
    make_blog(tags=SAVED_TAGS)

    response = fuzz_client.get(path)
    assert response.is_redirect, describe(response)
    response = fuzz_client.get(response.headers["location"])

    assert response.status_code == 200, f"{describe(response)}\nfirst asked: {path}"
