"""Writing, editing and deleting blogs through their forms."""

import pytest

from blog.models import Blog
from tests.conftest import (
    as_multipart,
    assert_html_page,
    count_rows,
    csrf_token_of,
    find_form,
    snapshot,
    submit_form,
)


def _blog(session, blog_id: int) -> Blog | None:
    session.expire_all()
    return session.get(Blog, blog_id)


# Write


def test_writing_a_blog_redirects_to_it(client, logged_in, session):
    response = submit_form(client, "/blogs/new", {"title": "Hello", "body": "First words."})

    assert response.status_code == 303
    ((blog_id, *_),) = snapshot(session)[1]
    assert response.headers["location"] == f"/blogs/{blog_id}/hello"


def test_a_written_blog_is_stored_with_its_author(client, logged_in, session):
    submit_form(client, "/blogs/new", {"title": "Hello", "body": "First words."})

    _, blogs = snapshot(session)
    assert [(author, title, body) for _, author, title, body, *_ in blogs] == [
        (logged_in.id, "Hello", "First words.")
    ]


def test_a_written_blog_is_shown_on_its_page_and_the_home_page(client, logged_in):
    location = submit_form(
        client, "/blogs/new", {"title": "Hello", "body": "First words."}
    ).headers["location"]

    page = client.get(location)
    assert_html_page(page, 200)
    assert "Hello" in page.text and "First words." in page.text
    assert "Hello" in client.get("/").text


def test_a_blog_can_be_written_through_a_multipart_form(client, logged_in, session):
    token = csrf_token_of(client)

    response = client.post(
        "/blogs", files=as_multipart({"title": "Multi", "body": "Part.", "csrf_token": token})
    )

    assert response.status_code == 303
    assert response.request.headers["content-type"].startswith("multipart/form-data")
    assert response.headers["location"].startswith("/blogs/")
    assert _blog(session, int(response.headers["location"].split("/")[2])).title == "Multi"


def test_a_body_of_exactly_the_limit_is_accepted(client, logged_in, session):
    body = "b" * 100_000

    response = submit_form(client, "/blogs/new", {"title": "Long", "body": body})

    assert response.status_code == 303
    assert count_rows(session, Blog) == 1
    assert snapshot(session)[1][0][3] == body


def test_a_title_of_exactly_the_limit_is_accepted(client, logged_in, session):
    title = "t" * 200

    response = submit_form(client, "/blogs/new", {"title": title, "body": "Words."})

    assert response.status_code == 303
    assert snapshot(session)[1][0][2] == title


# Edit


def test_the_edit_form_holds_the_blog_as_it_is(client, logged_in, make_blog):
    blog = make_blog(author=logged_in, title="Old title", body="Old body.")

    response = client.get(f"/blogs/{blog.id}/edit")

    assert_html_page(response, 200)
    find_form(response.text, f"/blogs/{blog.id}/edit")
    assert 'value="Old title"' in response.text
    assert ">Old body.</textarea>" in response.text


def test_editing_a_blog_saves_it_and_redirects_to_it(client, logged_in, make_blog, session):
    blog = make_blog(author=logged_in, title="Old title", body="Old body.")
    created_at, updated_at = blog.created_at, blog.updated_at

    response = submit_form(
        client, f"/blogs/{blog.id}/edit", {"title": "New title", "body": "New body."}
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/blogs/{blog.id}/new-title"
    saved = _blog(session, blog.id)
    assert (saved.title, saved.body) == ("New title", "New body.")
    assert saved.created_at == created_at
    assert saved.updated_at > updated_at
    assert "New title" in client.get(f"/blogs/{blog.id}", follow_redirects=True).text


def test_a_blog_can_be_edited_through_a_multipart_form(client, logged_in, make_blog, session):
    blog = make_blog(author=logged_in)
    token = csrf_token_of(client)

    response = client.post(
        f"/blogs/{blog.id}/edit",
        files=as_multipart({"title": "Multi", "body": "Part.", "csrf_token": token}),
    )

    assert response.status_code == 303
    assert _blog(session, blog.id).title == "Multi"


# Delete


def test_the_delete_page_asks_before_deleting(client, logged_in, make_blog, session):
    blog = make_blog(author=logged_in, title="Keep me?")

    response = client.get(f"/blogs/{blog.id}/delete")

    assert_html_page(response, 200)
    find_form(response.text, f"/blogs/{blog.id}/delete")
    assert "Keep me?" in response.text
    assert _blog(session, blog.id) is not None


def test_deleting_a_blog_removes_it_and_redirects_home(client, logged_in, make_blog, session):
    blog = make_blog(author=logged_in)
    other = make_blog()
    blog_id, other_id = blog.id, other.id

    response = submit_form(client, f"/blogs/{blog_id}/delete", action=f"/blogs/{blog_id}/delete")

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert _blog(session, blog_id) is None
    assert _blog(session, other_id) is not None
    assert_html_page(client.get(f"/blogs/{blog_id}"), 404)


def test_a_blog_can_be_deleted_through_a_multipart_form(client, logged_in, make_blog, session):
    blog = make_blog(author=logged_in)
    blog_id = blog.id
    token = csrf_token_of(client)

    response = client.post(f"/blogs/{blog_id}/delete", files=as_multipart({"csrf_token": token}))

    assert response.status_code == 303
    assert _blog(session, blog_id) is None


# Only the author


@pytest.mark.parametrize("path", ["/blogs/{id}/edit", "/blogs/{id}/delete"])
def test_another_author_cannot_open_a_blogs_edit_or_delete_page(client, logged_in, make_blog, path):
    blog = make_blog()

    assert_html_page(client.get(path.format(id=blog.id)), 403)


def test_another_author_cannot_edit_a_blog(client, logged_in, make_blog, session):
    blog = make_blog(title="Theirs")
    before = snapshot(session)

    response = client.post(
        f"/blogs/{blog.id}/edit",
        data={"title": "Mine now", "body": "Mine.", "csrf_token": csrf_token_of(client)},
    )

    assert_html_page(response, 403)
    assert snapshot(session) == before


def test_another_author_cannot_delete_a_blog(client, logged_in, make_blog, session):
    blog = make_blog()
    before = snapshot(session)

    response = client.post(f"/blogs/{blog.id}/delete", data={"csrf_token": csrf_token_of(client)})

    assert_html_page(response, 403)
    assert snapshot(session) == before


def test_only_the_author_sees_edit_and_delete_links(client, logged_in, make_blog):
    own, theirs = make_blog(author=logged_in), make_blog()

    assert (
        f'href="/blogs/{own.id}/edit"' in client.get(f"/blogs/{own.id}", follow_redirects=True).text
    )
    assert (
        f'href="/blogs/{theirs.id}/edit"'
        not in client.get(f"/blogs/{theirs.id}", follow_redirects=True).text
    )
