"""An author's own account: editing the profile and deleting it with every blog."""

import pytest
from sqlmodel import select

from blog.models import Blog, User
from tests.conftest import (
    DEFAULT_PASSWORD,
    as_multipart,
    assert_html_page,
    count_rows,
    csrf_token_of,
    field_error,
    find_form,
    signed_in_name,
    snapshot,
    submit_form,
)


def _user(session, user_id: int) -> User | None:
    session.expire_all()
    return session.get(User, user_id)


# Edit


def test_the_profile_form_holds_the_name_and_email(client, logged_in):
    response = client.get(f"/users/{logged_in.id}/edit")

    assert_html_page(response, 200)
    find_form(response.text, f"/users/{logged_in.id}/edit")
    assert f'value="{logged_in.name}"' in response.text
    assert f'value="{logged_in.email}"' in response.text


def test_editing_the_profile_saves_it_and_redirects_to_the_author_page(client, logged_in, session):
    response = submit_form(
        client, f"/users/{logged_in.id}/edit", {"name": "New Name", "email": "New@Example.com"}
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/users/{logged_in.id}"
    saved = _user(session, logged_in.id)
    assert (saved.name, saved.email) == ("New Name", "new@example.com")
    page = client.get(f"/users/{logged_in.id}").text
    assert "New Name" in page
    assert signed_in_name(page) == "New Name"


def test_keeping_ones_own_email_is_not_taken(client, logged_in, session):
    email = logged_in.email

    response = submit_form(
        client, f"/users/{logged_in.id}/edit", {"name": "Renamed", "email": email.upper()}
    )

    assert response.status_code == 303
    assert _user(session, logged_in.id).email == email


def test_the_profile_can_be_edited_through_a_multipart_form(client, logged_in, session):
    token = csrf_token_of(client)

    response = client.post(
        f"/users/{logged_in.id}/edit",
        files=as_multipart({"name": "Multi", "email": "multi@example.com", "csrf_token": token}),
    )

    assert response.status_code == 303
    assert _user(session, logged_in.id).name == "Multi"


def test_taking_another_users_email_in_any_case_is_refused(client, logged_in, make_user, session):
    make_user(email="taken@example.com")
    before = snapshot(session)

    response = submit_form(
        client, f"/users/{logged_in.id}/edit", {"name": "Thief", "email": "TAKEN@Example.com"}
    )

    assert_html_page(response, 422)
    assert field_error(response.text, "email")
    assert 'value="Thief"' in response.text
    assert snapshot(session) == before


@pytest.mark.parametrize("path", ["/users/{id}/edit", "/users/{id}/delete"])
def test_another_user_cannot_open_someone_elses_account_pages(client, logged_in, make_user, path):
    other = make_user()

    assert_html_page(client.get(path.format(id=other.id)), 403)


def test_another_user_cannot_edit_a_profile(client, logged_in, make_user, session):
    other = make_user()
    before = snapshot(session)

    response = client.post(
        f"/users/{other.id}/edit",
        data={
            "name": "Hijacked",
            "email": "hijack@example.com",
            "csrf_token": csrf_token_of(client),
        },
    )

    assert_html_page(response, 403)
    assert snapshot(session) == before


# Delete


def test_the_delete_page_asks_before_deleting_the_account(client, logged_in, session):
    response = client.get(f"/users/{logged_in.id}/delete")

    assert_html_page(response, 200)
    find_form(response.text, f"/users/{logged_in.id}/delete")
    assert _user(session, logged_in.id) is not None


def test_deleting_the_account_removes_the_user_and_their_blogs(
    client, logged_in, make_blog, session
):
    user_id = logged_in.id
    for _ in range(3):
        make_blog(author=logged_in)
    other_blog = make_blog()
    other_blog_id, other_author_id = other_blog.id, other_blog.author_id

    response = submit_form(
        client,
        f"/users/{user_id}/delete",
        {"password": DEFAULT_PASSWORD},
        action=f"/users/{user_id}/delete",
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert _user(session, user_id) is None
    assert session.exec(select(Blog.id).where(Blog.author_id == user_id)).all() == []
    assert session.exec(select(Blog.id)).all() == [other_blog_id]
    assert _user(session, other_author_id) is not None
    assert count_rows(session, User) == 1


def test_deleting_the_account_logs_the_user_out(client, logged_in):
    user_id = logged_in.id

    submit_form(
        client,
        f"/users/{user_id}/delete",
        {"password": DEFAULT_PASSWORD},
        action=f"/users/{user_id}/delete",
    )

    assert signed_in_name(client.get("/").text) is None
    assert client.get("/blogs/new").status_code == 303
    assert_html_page(client.get(f"/users/{user_id}"), 404)


def test_the_account_can_be_deleted_through_a_multipart_form(client, logged_in, session):
    user_id = logged_in.id
    token = csrf_token_of(client)

    response = client.post(
        f"/users/{user_id}/delete",
        files=as_multipart({"csrf_token": token, "password": DEFAULT_PASSWORD}),
    )

    assert response.status_code == 303
    assert _user(session, user_id) is None


def test_another_user_cannot_delete_an_account(client, logged_in, make_user, make_blog, session):
    other = make_user()
    make_blog(author=other)
    before = snapshot(session)

    response = client.post(f"/users/{other.id}/delete", data={"csrf_token": csrf_token_of(client)})

    assert_html_page(response, 403)
    assert snapshot(session) == before
    assert signed_in_name(client.get("/").text) == logged_in.name
