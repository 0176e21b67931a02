"""The API's comments: reading a blog's, writing, editing and deleting them, as the pages do."""

import pytest
from sqlmodel import select

from blog.models import Comment, CommentStatus, utc_now
from tests.api_helpers import assert_problem, bearer, make_token
from tests.comment_helpers import SETTLED
from tests.conftest import count_rows


@pytest.fixture
def commenter(make_user):
    # Older than a day, so their comments are shown at once (see blog.comments).
    return make_user(name="Grace", created_at=utc_now() - SETTLED)


@pytest.fixture
def token(session, commenter) -> str:
    return make_token(session, commenter)


def write(client, blog, token, body="Well said."):
    return client.post(
        f"/api/v1/blogs/{blog.id}/comments", json={"body": body}, headers=bearer(token)
    )


def test_a_blogs_comments_oldest_first_with_their_authors_names(client, make_blog, make_comment):
    blog = make_blog()
    first = make_comment(blog, body="First.")
    second = make_comment(blog, guest_name="Visitor", body="Second.")

    response = client.get(f"/api/v1/blogs/{blog.id}/comments")

    assert response.status_code == 200
    comments = response.json()["data"]
    assert [comment["id"] for comment in comments] == [first.id, second.id]
    assert comments[1]["name"] == "Visitor"
    assert comments[1]["author_id"] is None
    assert response.json()["next"] is None


def test_waiting_comments_are_shown_only_to_their_author(
    client, make_blog, make_comment, commenter, token
):
    blog = make_blog()
    waiting = make_comment(blog, commenter, status=CommentStatus.PENDING)

    assert client.get(f"/api/v1/blogs/{blog.id}/comments").json()["data"] == []
    own = client.get(f"/api/v1/blogs/{blog.id}/comments", headers=bearer(token)).json()["data"]
    assert [comment["id"] for comment in own] == [waiting.id]
    assert_problem(client.get(f"/api/v1/comments/{waiting.id}"), 404)
    assert client.get(f"/api/v1/comments/{waiting.id}", headers=bearer(token)).status_code == 200


def test_writing_a_comment_answers_201_with_its_address(client, make_blog, commenter, token):
    blog = make_blog()

    response = write(client, blog, token)

    assert response.status_code == 201
    comment = response.json()
    assert response.headers["location"] == f"/api/v1/comments/{comment['id']}"
    assert (comment["name"], comment["status"], comment["body"]) == (
        "Grace", "approved", "Well said.",
    )  # fmt: skip
    assert client.get(response.headers["location"]).json() == comment


def test_a_new_accounts_comment_waits_for_approval_as_on_the_pages(
    client, make_blog, make_user, session
):
    token = make_token(session, make_user())

    response = write(client, make_blog(), token)

    assert response.json()["status"] == "pending"


def test_writing_a_comment_needs_a_token(client, make_blog, session):
    response = client.post(f"/api/v1/blogs/{make_blog().id}/comments", json={"body": "Hi"})

    assert_problem(response, 401)
    assert count_rows(session, Comment) == 0


def test_an_empty_comment_is_a_422_at_its_field(client, make_blog, token):
    problem = assert_problem(write(client, make_blog(), token, body="  "), 422)

    assert problem["errors"] == [
        {"location": "body", "field": "body", "detail": "This field is required."}
    ]


def test_no_comments_on_drafts_or_where_they_are_closed(client, make_blog, token, session):
    draft = make_blog(draft=True)
    closed = make_blog()
    closed.comments_open = False
    session.add(closed)
    session.commit()

    assert_problem(write(client, draft, token), 404)
    assert_problem(write(client, closed, token), 403)
    assert count_rows(session, Comment) == 0


@pytest.mark.settings(comments_per_minute=1)
def test_comments_past_the_limit_are_a_429_with_retry_after(client, make_blog, token):
    blog = make_blog()
    write(client, blog, token)

    response = write(client, blog, token)

    assert_problem(response, 429)
    assert int(response.headers["retry-after"]) >= 1


def test_editing_ones_own_comment(client, make_blog, make_comment, commenter, token):
    comment = make_comment(make_blog(), commenter)

    response = client.patch(
        f"/api/v1/comments/{comment.id}", json={"body": "Better."}, headers=bearer(token)
    )

    assert response.status_code == 200
    assert response.json()["body"] == "Better."
    assert response.json()["edited_at"] is not None


def test_only_its_author_may_edit_a_comment(client, make_blog, make_comment, make_user, session):
    comment = make_comment(make_blog())
    other = make_token(session, make_user())

    response = client.patch(
        f"/api/v1/comments/{comment.id}", json={"body": "Mine now."}, headers=bearer(other)
    )

    assert_problem(response, 403)


def test_deleting_a_comment_its_author_or_the_blogs_author(
    client, make_blog, make_comment, commenter, token, session
):
    blog = make_blog()
    own = make_comment(blog, commenter)
    others = make_comment(blog, body="Not yours.")
    blog_author_token = make_token(session, blog.author)

    assert client.delete(f"/api/v1/comments/{own.id}", headers=bearer(token)).status_code == 204
    assert_problem(client.delete(f"/api/v1/comments/{others.id}", headers=bearer(token)), 403)
    response = client.delete(f"/api/v1/comments/{others.id}", headers=bearer(blog_author_token))
    assert response.status_code == 204
    assert count_rows(session, Comment) == 0


def test_a_missing_comment_is_a_404(client, token):
    assert_problem(client.get("/api/v1/comments/999"), 404)
    assert_problem(client.delete("/api/v1/comments/999", headers=bearer(token)), 404)


def test_spam_is_a_404_everywhere(client, make_blog, make_comment, session):
    spam = make_comment(make_blog(), guest_name="Bot", status=CommentStatus.SPAM)

    assert_problem(client.get(f"/api/v1/comments/{spam.id}"), 404)
    assert session.exec(select(Comment)).one().id == spam.id
