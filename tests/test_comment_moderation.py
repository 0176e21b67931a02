"""Which comments wait for approval, the list of those waiting, approving and deleting them,
admins, and a suspended account's comments hidden with its blogs."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from blog.models import Blog, Comment, CommentStatus, User, utc_now
from tests.comment_helpers import (
    comment_id_from,
    comments_section,
    post_comment,
    settled,
    shown_comments,
)
from tests.conftest import (
    assert_html_page,
    csrf_token_of,
    log_in,
    post_back,
    submit_form,
)

FOUR_LINKS = (
    "See [a](https://a.example), [b](https://b.example), https://c.example and www.d.example"
)
THREE_LINKS = "See [a](https://a.example), [b](https://b.example) and https://c.example"


def _status(session, comment_id: int) -> str | None:
    session.expire_all()
    comment = session.get(Comment, comment_id)
    return comment.status if comment is not None else None


def _count(session, blog: Blog) -> int:
    session.expire_all()
    return session.get(Blog, blog.id).comment_count


@pytest.fixture
def author(make_user) -> User:
    return make_user(name="Blog Author")


@pytest.fixture
def blog(make_blog, author) -> Blog:
    return make_blog(author=author, title="Worth discussing")


@pytest.fixture
def make_admin(make_user, session):
    def make_admin() -> User:
        admin = make_user(name="Root Admin")
        admin.is_admin = True
        session.add(admin)
        session.commit()
        return admin

    return make_admin


# Who waits


def test_a_new_accounts_comment_waits_and_its_author_sees_it_marked(
    client, browsers, make_user, blog, session
):
    log_in(client, make_user(created_at=utc_now() - timedelta(hours=23)))

    response = post_comment(client, blog, "Hello from a new account.")

    comment_id = comment_id_from(response)
    assert _status(session, comment_id) == "pending"
    page = client.get(response.headers["location"]).text
    assert "waiting for the author" in page
    assert shown_comments(page) == {comment_id: "<p>Hello from a new account.</p>"}
    assert "Waiting for approval" in comments_section(page)
    assert shown_comments(browsers().get(blog.path).text) == {}
    assert _count(session, blog) == 0


def test_an_account_older_than_a_day_is_not_held(client, make_user, blog, session):
    log_in(client, make_user(created_at=utc_now() - timedelta(days=1, minutes=1)))

    comment_id = comment_id_from(post_comment(client, blog))

    assert _status(session, comment_id) == "approved"
    assert _count(session, blog) == 1


def test_more_than_three_links_wait(client, make_user, blog, session):
    log_in(client, make_user(created_at=settled()))

    comment_id = comment_id_from(post_comment(client, blog, FOUR_LINKS))

    assert _status(session, comment_id) == "pending"


@pytest.mark.parametrize(
    "body",
    [
        THREE_LINKS,
        # Raw HTML links count like Markdown's.
        '<a href="https://a.example">a</a> <a href="https://b.example">b</a> www.c.example',
    ],
)
def test_three_links_do_not_wait(client, make_user, blog, session, body):
    log_in(client, make_user(created_at=settled()))

    comment_id = comment_id_from(post_comment(client, blog, body))

    assert _status(session, comment_id) == "approved"


def test_raw_html_links_are_counted(client, make_user, blog, session):
    log_in(client, make_user(created_at=settled()))
    body = " ".join(f'<a href="https://{n}.example">{n}</a>' for n in range(4))

    comment_id = comment_id_from(post_comment(client, blog, body))

    assert _status(session, comment_id) == "pending"


def test_the_blogs_author_is_never_held_even_new_and_with_links(client, author, blog, session):
    log_in(client, author)

    comment_id = comment_id_from(post_comment(client, blog, FOUR_LINKS))

    assert _status(session, comment_id) == "approved"


def test_an_admin_is_never_held(client, make_admin, blog, session):
    log_in(client, make_admin())

    comment_id = comment_id_from(post_comment(client, blog, FOUR_LINKS))

    assert _status(session, comment_id) == "approved"


def test_editing_links_into_a_shown_comment_makes_it_wait_again(client, make_user, blog, session):
    log_in(client, make_user(created_at=settled()))
    comment_id = comment_id_from(post_comment(client, blog, "Harmless."))

    response = submit_form(client, f"/comments/{comment_id}/edit", {"body": FOUR_LINKS})

    assert response.status_code == 303
    assert _status(session, comment_id) == "pending"
    assert "waits for the author" in client.get(blog.path).text
    assert _count(session, blog) == 0


def test_editing_a_waiting_comment_leaves_it_waiting(client, make_user, blog, session):
    log_in(client, make_user())
    comment_id = comment_id_from(post_comment(client, blog, "Fresh."))

    submit_form(client, f"/comments/{comment_id}/edit", {"body": "Fresher."})

    assert _status(session, comment_id) == "pending"


# The list of comments waiting


def test_the_pending_list_shows_what_waits_on_the_authors_blogs_only(
    client, author, blog, make_blog, make_comment
):
    waiting = make_comment(
        blog=blog, body="Please approve.", status=CommentStatus.PENDING, guest_name="Gus"
    )
    make_comment(blog=blog, body="Already shown.")
    elsewhere = make_blog()
    make_comment(blog=elsewhere, body="Not yours.", status=CommentStatus.PENDING, guest_name="Al")
    log_in(client, author)

    page = client.get("/comments/pending").text

    assert shown_comments(page) == {waiting.id: "<p>Please approve.</p>"}
    assert f'<a href="{blog.path}">Worth discussing</a>' in page
    assert f'action="/comments/{waiting.id}/approve"' in page
    assert f'action="/comments/{waiting.id}/delete"' in page


def test_the_pending_list_says_when_nothing_waits(client, author):
    log_in(client, author)

    assert "No comments are waiting for approval." in client.get("/comments/pending").text


def test_the_pending_list_sends_a_visitor_to_log_in(client):
    response = client.get("/comments/pending")

    assert response.status_code == 303
    assert urlsplit(response.headers["location"]).path == "/login"


def test_an_authors_page_links_them_to_the_pending_list(client, author):
    log_in(client, author)

    assert 'href="/comments/pending"' in client.get(f"/users/{author.id}").text


def test_approving_shows_the_comment_to_everyone_and_counts_it(
    client, browsers, author, blog, make_comment, session
):
    comment = make_comment(
        blog=blog, body="Let me in.", status=CommentStatus.PENDING, guest_name="Gus"
    )
    log_in(client, author)

    response = submit_form(client, "/comments/pending", action=f"/comments/{comment.id}/approve")

    assert response.headers["location"] == "/comments/pending"
    assert "approved" in client.get("/comments/pending").text
    assert shown_comments(browsers().get(blog.path).text) == {comment.id: "<p>Let me in.</p>"}
    assert _count(session, blog) == 1


def test_deleting_from_the_pending_list_comes_back_to_it(
    client, author, blog, make_comment, session
):
    comment = make_comment(blog=blog, status=CommentStatus.PENDING, guest_name="Gus")
    log_in(client, author)
    html = client.get("/comments/pending").text

    response = post_back(client, html, f"/comments/{comment.id}/delete", ["next"])

    assert response.headers["location"] == "/comments/pending"
    assert _status(session, comment.id) is None


def test_a_button_naming_another_site_comes_back_to_a_page_of_ours(
    client, author, blog, make_comment
):
    comment = make_comment(blog=blog, status=CommentStatus.PENDING, guest_name="Gus")
    log_in(client, author)

    response = client.post(
        f"/comments/{comment.id}/approve",
        data={"next": "https://evil.example/", "csrf_token": csrf_token_of(client)},
    )

    assert response.headers["location"] == "/"


def test_someone_else_may_not_approve(client, make_user, blog, make_comment, session):
    comment = make_comment(blog=blog, status=CommentStatus.PENDING, guest_name="Gus")
    log_in(client, make_user())

    response = client.post(
        f"/comments/{comment.id}/approve", data={"csrf_token": csrf_token_of(client)}
    )

    assert_html_page(response, 403)
    assert _status(session, comment.id) == "pending"


def test_a_visitor_approving_is_sent_to_log_in(client, blog, make_comment, session):
    comment = make_comment(blog=blog, status=CommentStatus.PENDING, guest_name="Gus")

    response = client.post(
        f"/comments/{comment.id}/approve", data={"csrf_token": csrf_token_of(client)}
    )

    assert urlsplit(response.headers["location"]).path == "/login"
    assert _status(session, comment.id) == "pending"


# Admins


def test_an_admin_sees_every_pending_comment(client, make_admin, make_blog, make_comment):
    first = make_comment(blog=make_blog(), status=CommentStatus.PENDING, guest_name="One")
    second = make_comment(blog=make_blog(), status=CommentStatus.PENDING, guest_name="Two")
    log_in(client, make_admin())

    page = client.get("/comments/pending").text

    assert list(shown_comments(page)) == [first.id, second.id]


def test_an_admin_approves_and_deletes_any_comment(client, make_admin, blog, make_comment, session):
    waiting = make_comment(blog=blog, status=CommentStatus.PENDING, guest_name="Gus").id
    shown = make_comment(blog=blog).id
    log_in(client, make_admin())

    submit_form(client, "/comments/pending", action=f"/comments/{waiting}/approve")
    response = submit_form(client, blog.path, action=f"/comments/{shown}/delete")

    assert response.status_code == 303
    assert _status(session, waiting) == "approved"
    assert _status(session, shown) is None


def test_an_admin_sees_a_delete_button_on_every_comment(client, make_admin, blog, make_comment):
    comments = [make_comment(blog=blog) for _ in range(2)]
    log_in(client, make_admin())

    section = comments_section(client.get(blog.path).text)

    for comment in comments:
        assert f'action="/comments/{comment.id}/delete"' in section
        assert f"/comments/{comment.id}/edit" not in section


# Suspended accounts


@pytest.fixture
def suspend(session):
    """Suspend or reinstate an account as the admin's buttons do (blog.users)."""
    from blog.users import reinstate_user, suspend_user

    def change(user: User, *, suspended: bool = True) -> None:
        session.expire_all()
        account = session.get(User, user.id)
        (suspend_user if suspended else reinstate_user)(session=session, user=account)

    return change


def test_a_suspended_accounts_comments_are_hidden_uncounted_and_back_when_reinstated(
    client, make_user, blog, make_comment, suspend, session
):
    spammer = make_user()
    spam = make_comment(blog=blog, author=spammer, body="Buy now.")
    other = make_comment(blog=blog, body="Real talk.")

    suspend(spammer)

    page = client.get(blog.path).text
    assert shown_comments(page) == {other.id: "<p>Real talk.</p>"}
    assert _status(session, spam.id) == "held"
    assert _count(session, blog) == 1
    feed = client.get(f"/blogs/{blog.id}/comments.xml").text
    assert "Buy now." not in feed
    assert_html_page(client.get(f"/comments/{spam.id}"), 404)

    suspend(spammer, suspended=False)

    assert _status(session, spam.id) == "approved"
    assert _count(session, blog) == 2
    assert spam.id in shown_comments(client.get(blog.path).text)


def test_a_suspended_accounts_waiting_comments_leave_the_pending_list_and_stay_waiting(
    client, author, make_user, blog, make_comment, suspend, session
):
    spammer = make_user()
    waiting = make_comment(blog=blog, author=spammer, status=CommentStatus.PENDING)
    log_in(client, author)

    suspend(spammer)

    assert shown_comments(client.get("/comments/pending").text) == {}
    suspend(spammer, suspended=False)
    assert _status(session, waiting.id) == "pending"
    assert list(shown_comments(client.get("/comments/pending").text)) == [waiting.id]


def test_a_comment_approved_while_its_author_is_suspended_stays_hidden(
    make_user, blog, make_comment, suspend, session
):
    spammer = make_user()
    waiting = make_comment(blog=blog, author=spammer, status=CommentStatus.PENDING)
    suspend(spammer)

    session.expire_all()
    comment = session.get(Comment, waiting.id)
    comment.status = CommentStatus.APPROVED
    session.commit()

    assert _status(session, waiting.id) == "held"
    assert _count(session, blog) == 0
