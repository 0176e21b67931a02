"""Who may do what: logged-out visitors are sent to log in, unknown ids are 404 pages."""

from urllib.parse import urlsplit

import pytest

from tests.conftest import DEFAULT_PASSWORD, assert_html_page, csrf_token_of, snapshot

# What this checks does not depend on the database: the PostgreSQL run leaves it out.
pytestmark = pytest.mark.same_on_every_database

PROTECTED_POSTS = [
    ("/blogs", {"title": "New", "body": "Words."}),
    ("/blogs/{blog}/edit", {"title": "Changed", "body": "Changed."}),
    ("/blogs/{blog}/delete", {}),
    ("/users/{author}/edit", {"name": "Changed", "email": "changed@example.com"}),
    ("/users/{author}/delete", {"password": DEFAULT_PASSWORD}),
]

# Missing, not a number, zero, negative, one past a 64-bit integer, and far past it.
BAD_IDS = ["424242", "abc", "0", "-1", str(2**31), str(2**63), str(10**30)]


@pytest.mark.parametrize(("path", "data"), PROTECTED_POSTS)
def test_a_protected_post_sends_a_visitor_who_is_not_logged_in_to_login(
    client, make_blog, session, path, data
):
    blog = make_blog()
    token = csrf_token_of(client)
    before = snapshot(session)

    response = client.post(
        path.format(blog=blog.id, author=blog.author_id), data={**data, "csrf_token": token}
    )

    assert response.status_code == 303
    assert urlsplit(response.headers["location"]).path == "/login"
    assert snapshot(session) == before


@pytest.mark.parametrize("bad_id", BAD_IDS)
@pytest.mark.parametrize("path", ["/blogs/{id}", "/users/{id}"])
def test_a_page_for_an_id_that_names_nothing_is_a_404_page(client, make_blog, path, bad_id):
    make_blog()

    assert_html_page(client.get(path.format(id=bad_id)), 404)


@pytest.mark.parametrize("bad_id", BAD_IDS)
@pytest.mark.parametrize(
    "path", ["/blogs/{id}/edit", "/blogs/{id}/delete", "/users/{id}/edit", "/users/{id}/delete"]
)
def test_a_form_page_for_an_id_that_names_nothing_is_a_404_page(client, logged_in, path, bad_id):
    assert_html_page(client.get(path.format(id=bad_id)), 404)


@pytest.mark.parametrize("bad_id", BAD_IDS)
@pytest.mark.parametrize(("path", "data"), PROTECTED_POSTS[1:])
def test_a_post_to_an_id_that_names_nothing_is_a_404_page(
    client, logged_in, make_blog, session, path, data, bad_id
):
    make_blog(author=logged_in)
    before = snapshot(session)

    response = client.post(
        path.format(blog=bad_id, author=bad_id), data={**data, "csrf_token": csrf_token_of(client)}
    )

    assert_html_page(response, 404)
    assert snapshot(session) == before
