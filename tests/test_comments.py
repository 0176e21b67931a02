"""Readers comment on published blogs: writing, reading a page at a time, guests, editing,
deleting, closing comments, counts on cards, the comments feed and the page cache."""

import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from sqlalchemy import event
from sqlmodel import select

from blog.comments import COMMENTS_PER_PAGE
from blog.models import Blog, Comment, CommentStatus, utc_now
from tests.comment_helpers import (
    comment_id_from,
    comments_section,
    post_comment,
    settled,
    shown_comments,
)
from tests.conftest import (
    assert_html_page,
    count_rows,
    csrf_token_of,
    field_error,
    field_value,
    find_form,
    log_in,
    submit_form,
)

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def reader(client, make_user):
    """A reader with an account older than a day, logged in on `client`."""
    user = make_user(name="Rita Reader", created_at=settled())
    log_in(client, user)
    return user


def _fresh_comment(session, comment_id: int) -> Comment | None:
    session.expire_all()
    return session.get(Comment, comment_id)


# Writing


def test_a_comment_goes_to_the_blog_page_at_its_anchor(client, reader, make_blog):
    blog = make_blog()

    response = post_comment(client, blog, "Lovely **bold** words.")

    comment_id = comment_id_from(response)
    assert urlsplit(response.headers["location"]).path == blog.path
    page = client.get(blog.path).text
    assert shown_comments(page) == {comment_id: "<p>Lovely <strong>bold</strong> words.</p>"}
    assert f'id="comment-{comment_id}"' in page


def test_a_comment_shows_its_authors_name_linked_and_its_date(client, reader, make_blog):
    blog = make_blog()
    comment_id = comment_id_from(post_comment(client, blog))

    section = comments_section(client.get(blog.path).text)

    assert f'<a class="comment-author" href="/users/{reader.id}">Rita Reader</a>' in section
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT[^"]+">\w+ \d+, \d{4}', section)
    assert f'href="#comment-{comment_id}"' in section


def test_comments_are_shown_oldest_first(client, reader, make_blog):
    blog = make_blog()
    ids = [comment_id_from(post_comment(client, blog, f"Number {n}.")) for n in range(3)]

    shown = shown_comments(client.get(blog.path).text)

    assert list(shown) == ids
    assert list(shown.values()) == ["<p>Number 0.</p>", "<p>Number 1.</p>", "<p>Number 2.</p>"]


def test_the_comment_is_saved_as_typed(client, reader, make_blog, session):
    blog = make_blog()
    body = "Line one\r\n\r\n* a list"

    comment_id = comment_id_from(post_comment(client, blog, body))

    comment = _fresh_comment(session, comment_id)
    assert (comment.body, comment.author_id, comment.blog_id) == (
        "Line one\n\n* a list",
        reader.id,
        blog.id,
    )
    assert comment.guest_name is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "This field is required."),
        ("   \n ", "This field is required."),
        ("x" * 5_001, "Must be at most 5,000 characters."),
        ("nul \x00 inside", "Must not contain NUL characters."),
    ],
)
def test_a_bad_comment_comes_back_on_the_blog_page_with_the_text_kept(
    client, reader, make_blog, session, body, message
):
    blog = make_blog(title="The page itself")

    response = post_comment(client, blog, body)

    assert_html_page(response, 422)
    assert "<h1>The page itself</h1>" in response.text
    assert field_error(response.text, "body") == message
    if body.strip() and "\x00" not in body:
        assert field_value(response.text, "body") == body
    assert count_rows(session, Comment) == 0


def test_a_comment_of_exactly_5000_characters_is_taken(client, reader, make_blog):
    blog = make_blog()

    assert post_comment(client, blog, "y" * 5_000).status_code == 303


def test_a_comment_form_without_a_body_is_a_422_not_an_error(client, reader, make_blog):
    blog = make_blog()
    token = csrf_token_of(client)

    response = client.post(f"/blogs/{blog.id}/comments", data={"csrf_token": token})

    assert_html_page(response, 422)
    assert field_error(response.text, "body") == "This field is required."


def test_a_comment_without_the_csrf_token_is_refused(client, reader, make_blog, session):
    blog = make_blog()

    response = client.post(f"/blogs/{blog.id}/comments", data={"body": "Sneaky."})

    assert_html_page(response, 403)
    assert count_rows(session, Comment) == 0


@pytest.mark.parametrize("kind", ["draft", "scheduled", "missing"])
def test_a_comment_on_a_draft_scheduled_or_missing_blog_is_a_404(
    client, make_user, make_blog, session, kind
):
    author = make_user(created_at=settled())
    log_in(client, author)
    blog = {
        "draft": lambda: make_blog(author=author, draft=True),
        "scheduled": lambda: make_blog(author=author, published_at=utc_now().replace(year=2999)),
        "missing": lambda: Blog(id=424242, title="Gone", body="x", author_id=author.id),
    }[kind]()
    token = csrf_token_of(client)

    response = client.post(
        f"/blogs/{blog.id}/comments", data={"body": "Hello?", "csrf_token": token}
    )

    assert_html_page(response, 404)
    assert count_rows(session, Comment) == 0


def test_a_draft_shows_its_author_no_comment_form(client, make_user, make_blog):
    author = make_user()
    log_in(client, author)
    blog = make_blog(author=author, draft=True)

    page = client.get(blog.path).text

    assert 'class="comments"' not in page
    assert f'action="/blogs/{blog.id}/comments"' not in page


# Visitors who are not logged in


def test_without_guest_comments_a_visitor_is_asked_to_log_in_and_sees_no_form(client, make_blog):
    blog = make_blog()

    section = comments_section(client.get(blog.path).text)

    assert f'href="/login?next={blog.path}"' in section
    assert "to comment" in section
    assert "<form" not in section


def test_without_guest_comments_a_visitor_posting_is_sent_to_log_in(client, make_blog, session):
    blog = make_blog()
    token = csrf_token_of(client)

    response = client.post(
        f"/blogs/{blog.id}/comments", data={"body": "Hi!", "name": "Guest", "csrf_token": token}
    )

    assert response.status_code == 303
    assert urlsplit(response.headers["location"]).path == "/login"
    assert count_rows(session, Comment) == 0


@pytest.mark.settings(guest_comments=True)
def test_with_guest_comments_a_visitor_gets_a_form_with_a_name(client, make_blog):
    blog = make_blog()

    page = client.get(blog.path).text

    action, _ = find_form(page, f"/blogs/{blog.id}/comments")
    assert action == f"/blogs/{blog.id}/comments"
    assert field_value(page, "name") == ""
    assert field_value(page, "body") == ""


@pytest.mark.settings(guest_comments=True)
def test_a_guests_comment_waits_and_the_guest_is_told_so(client, make_blog, session):
    blog = make_blog()

    response = post_comment(client, blog, "From outside.", name="Gus Guest")

    comment = _fresh_comment(session, comment_id_from(response))
    assert (comment.status, comment.guest_name, comment.author_id) == ("pending", "Gus Guest", None)
    page = client.get(response.headers["location"]).text
    assert "waiting for the author" in page
    assert shown_comments(page) == {}


@pytest.mark.settings(guest_comments=True)
def test_a_guests_waiting_comment_is_shown_to_nobody_else(client, browsers, make_blog):
    blog = make_blog()
    post_comment(client, blog, "Not yet, please.", name="Gus Guest")

    page = browsers().get(blog.path).text

    assert "Not yet, please." not in page
    assert "waiting for the author" not in page


@pytest.mark.settings(guest_comments=True)
def test_an_approved_guests_comment_shows_the_name_as_given_without_a_link(
    client, browsers, make_user, make_blog
):
    author = make_user()
    blog = make_blog(author=author)
    comment_id = comment_id_from(post_comment(client, blog, "Hello.", name="Gus Guest"))
    author_browser = browsers()
    log_in(author_browser, author)
    response = submit_form(
        author_browser, "/comments/pending", action=f"/comments/{comment_id}/approve"
    )
    assert response.status_code == 303

    section = comments_section(client.get(blog.path).text)

    assert '<span class="comment-author">Gus Guest</span>' in section
    assert "(guest)" in section
    assert shown_comments(section) == {comment_id: "<p>Hello.</p>"}


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "This field is required."), ("x" * 101, "Must be at most 100 characters.")],
)
@pytest.mark.settings(guest_comments=True)
def test_a_guest_without_a_good_name_gets_the_form_back_with_the_text_kept(
    client, make_blog, session, name, message
):
    blog = make_blog()

    response = post_comment(client, blog, "My words stay.", name=name)

    assert_html_page(response, 422)
    assert field_error(response.text, "name") == message
    assert field_value(response.text, "body") == "My words stay."
    assert count_rows(session, Comment) == 0


@pytest.mark.settings(guest_comments=True)
def test_a_logged_in_reader_needs_no_name_when_guests_may_comment(
    client, reader, make_blog, session
):
    blog = make_blog()

    comment = _fresh_comment(session, comment_id_from(post_comment(client, blog)))

    assert (comment.author_id, comment.guest_name, comment.status) == (reader.id, None, "approved")


# Pages of comments


def _many_comments(session, blog: Blog, count: int) -> list[int]:
    comments = [
        Comment(blog_id=blog.id, author_id=blog.author_id, body=f"Comment {n}", status="approved")
        for n in range(count)
    ]
    session.add_all(comments)
    session.commit()
    return [comment.id for comment in comments]


def test_more_than_100_comments_are_paged(client, make_blog, session):
    blog = make_blog()
    ids = _many_comments(session, blog, COMMENTS_PER_PAGE + 1)

    first = client.get(blog.path).text
    second = client.get(f"{blog.path}?comments=2").text

    assert list(shown_comments(first)) == ids[:COMMENTS_PER_PAGE]
    assert list(shown_comments(second)) == ids[COMMENTS_PER_PAGE:]
    assert f'href="{blog.path}?comments=2#comments">Later comments' in first
    assert f'href="{blog.path}#comments">← Earlier comments' in second
    assert "101 comments" in first


@pytest.mark.parametrize("page", ["2", "0", "-1", "abc", "10001"])
def test_a_page_of_comments_that_is_not_there_is_a_404(client, make_blog, make_comment, page):
    blog = make_blog()
    make_comment(blog=blog)

    assert_html_page(client.get(f"{blog.path}?comments={page}"), 404)


def test_an_old_address_keeps_the_page_of_comments(client, make_blog, session):
    blog = make_blog(title="Long talk")
    _many_comments(session, blog, COMMENTS_PER_PAGE + 1)

    response = client.get(f"/blogs/{blog.id}?comments=2")

    assert response.status_code == 301
    assert response.headers["location"] == f"{blog.path}?comments=2"


def test_posting_the_101st_comment_goes_to_the_second_page(client, reader, make_blog, session):
    blog = make_blog()
    _many_comments(session, blog, COMMENTS_PER_PAGE)

    response = post_comment(client, blog, "Number 101.")

    comment_id = comment_id_from(response)
    assert response.headers["location"] == f"{blog.path}?comments=2#comment-{comment_id}"


def test_a_comments_lasting_address_finds_its_page(client, make_blog, session):
    blog = make_blog()
    ids = _many_comments(session, blog, COMMENTS_PER_PAGE + 1)

    first, last = client.get(f"/comments/{ids[0]}"), client.get(f"/comments/{ids[-1]}")

    assert first.headers["location"] == f"{blog.path}#comment-{ids[0]}"
    assert last.headers["location"] == f"{blog.path}?comments=2#comment-{ids[-1]}"


def test_a_waiting_comments_lasting_address_is_a_404_to_others(client, make_blog, make_comment):
    comment = make_comment(status=CommentStatus.PENDING, guest_name="Gus")

    assert_html_page(client.get(f"/comments/{comment.id}"), 404)


# Editing


def test_the_author_edits_a_comment_and_it_says_so(client, reader, make_blog, session):
    blog = make_blog()
    comment_id = comment_id_from(post_comment(client, blog, "Frist!"))
    form_page = client.get(f"/comments/{comment_id}/edit")
    assert field_value(form_page.text, "body") == "Frist!"

    response = submit_form(client, f"/comments/{comment_id}/edit", {"body": "First!"})

    assert response.headers["location"] == f"{blog.path}#comment-{comment_id}"
    page = client.get(blog.path).text
    assert shown_comments(page) == {comment_id: "<p>First!</p>"}
    assert '<span class="comment-edited">edited</span>' in page
    assert _fresh_comment(session, comment_id).edited_at is not None


def test_an_unedited_comment_does_not_say_edited(client, reader, make_blog):
    blog = make_blog()
    post_comment(client, blog)

    assert "comment-edited" not in client.get(blog.path).text


def test_a_bad_edit_comes_back_with_the_message_and_the_text(client, reader, make_blog, session):
    blog = make_blog()
    comment_id = comment_id_from(post_comment(client, blog, "Keep me."))

    response = submit_form(client, f"/comments/{comment_id}/edit", {"body": "z" * 5_001})

    assert_html_page(response, 422)
    assert field_error(response.text, "body") == "Must be at most 5,000 characters."
    assert field_value(response.text, "body") == "z" * 5_001
    assert _fresh_comment(session, comment_id).body == "Keep me."


@pytest.mark.parametrize("who", ["someone else", "the blog's author"])
def test_only_its_author_may_edit_a_comment(
    client, make_user, make_blog, make_comment, session, who
):
    blog_author = make_user()
    comment = make_comment(blog=make_blog(author=blog_author), author=make_user(), body="Mine.")
    log_in(client, blog_author if who == "the blog's author" else make_user())

    assert_html_page(client.get(f"/comments/{comment.id}/edit"), 403)
    response = client.post(
        f"/comments/{comment.id}/edit", data={"body": "Yours.", "csrf_token": csrf_token_of(client)}
    )
    assert_html_page(response, 403)
    assert _fresh_comment(session, comment.id).body == "Mine."


def test_a_visitor_editing_or_deleting_a_comment_is_sent_to_log_in(client, make_comment, session):
    comment = make_comment()
    token = csrf_token_of(client)

    for action, data in (("edit", {"body": "Changed."}), ("delete", {})):
        response = client.post(
            f"/comments/{comment.id}/{action}", data={**data, "csrf_token": token}
        )
        assert response.status_code == 303
        assert urlsplit(response.headers["location"]).path == "/login"
    assert urlsplit(client.get(f"/comments/{comment.id}/edit").headers["location"]).path == "/login"
    assert _fresh_comment(session, comment.id).body == comment.body


@pytest.mark.parametrize("bad_id", ["424242", "abc", "0", str(2**31)])
@pytest.mark.parametrize("action", ["edit", "delete", "approve"])
def test_an_unknown_comment_is_a_404(client, reader, action, bad_id):
    token = csrf_token_of(client)

    response = client.post(f"/comments/{bad_id}/{action}", data={"body": "x", "csrf_token": token})

    assert_html_page(response, 404)


# Deleting


def test_the_author_deletes_a_comment(client, reader, make_blog, session):
    blog = make_blog()
    comment_id = comment_id_from(post_comment(client, blog, "Oops."))

    response = submit_form(client, blog.path, action=f"/comments/{comment_id}/delete")

    assert response.status_code == 303
    assert response.headers["location"] == f"{blog.path}#comments"
    assert "The comment is deleted." in client.get(blog.path).text
    assert _fresh_comment(session, comment_id) is None


def test_the_blogs_author_deletes_a_readers_comment(
    client, browsers, reader, make_user, make_blog, session
):
    author = make_user()
    blog = make_blog(author=author)
    comment_id = comment_id_from(post_comment(client, blog, "Rude words."))
    author_browser = browsers()
    log_in(author_browser, author)

    response = submit_form(author_browser, blog.path, action=f"/comments/{comment_id}/delete")

    assert response.status_code == 303
    assert _fresh_comment(session, comment_id) is None


def test_someone_else_may_not_delete_a_comment(client, make_user, make_comment, session):
    comment = make_comment()
    log_in(client, make_user())

    response = client.post(
        f"/comments/{comment.id}/delete", data={"csrf_token": csrf_token_of(client)}
    )

    assert_html_page(response, 403)
    assert _fresh_comment(session, comment.id) is not None


def test_someone_else_sees_no_edit_or_delete_button(client, reader, make_blog, make_comment):
    blog = make_blog()
    comment = make_comment(blog=blog)

    section = comments_section(client.get(blog.path).text)

    assert f"/comments/{comment.id}/edit" not in section
    assert f"/comments/{comment.id}/delete" not in section


def test_deleting_a_blog_deletes_its_comments(client, make_user, make_blog, make_comment, session):
    author = make_user()
    blog = make_blog(author=author)
    other = make_blog()
    make_comment(blog=blog)
    kept = make_comment(blog=other)
    log_in(client, author)

    assert submit_form(client, f"/blogs/{blog.id}/delete").status_code == 303

    session.expire_all()
    assert session.exec(select(Comment.id)).all() == [kept.id]


def test_deleting_an_account_deletes_its_comments_and_their_count(
    client, make_user, make_blog, make_comment, session
):
    reader = make_user()
    blog = make_blog()
    make_comment(blog=blog, author=reader)
    make_comment(blog=blog)
    log_in(client, reader)

    response = submit_form(
        client, f"/users/{reader.id}/delete", {"password": "correct horse battery"}
    )

    assert response.status_code == 303
    assert count_rows(session, Comment) == 1
    assert session.get(Blog, blog.id).comment_count == 1


# Closing comments


def test_the_blog_form_has_comments_open_by_default(client, logged_in):
    page = client.get("/blogs/new").text

    assert re.search(r'<input id="field-comments_open" type="checkbox"[^>]*\bchecked\b', page)
    assert "Readers may comment" in page


def test_a_blog_written_without_the_field_takes_comments(client, logged_in, session):
    submit_form(client, "/blogs/new", {"title": "Open", "body": "Talk to me."}, action="/blogs")

    assert session.exec(select(Blog.comments_open)).one() is True


def _close_comments(client, blog: Blog) -> None:
    page = client.get(f"/blogs/{blog.id}/edit").text
    _, token = find_form(page, f"/blogs/{blog.id}/edit")
    data = {name: field_value(page, name) for name in ("title", "body", "tags", "version")}
    # An unticked box sends only the hidden "false" before it.
    response = client.post(
        f"/blogs/{blog.id}/edit",
        data={**data, "status": "published", "comments_open": "false", "csrf_token": token},
    )
    assert response.status_code == 303, response.text


def test_an_author_closes_comments_and_the_form_is_gone(client, make_user, make_blog, browsers):
    author = make_user()
    blog = make_blog(author=author)
    log_in(client, author)

    _close_comments(client, blog)

    reader = browsers()
    log_in(reader, make_user(created_at=settled()))
    section = comments_section(reader.get(blog.path).text)
    assert "Comments are closed." in section
    assert "<textarea" not in section
    assert field_value(client.get(f"/blogs/{blog.id}/edit").text, "comments_open") == "false"


def test_a_comment_on_a_closed_blog_is_a_403_page(client, reader, make_blog, session):
    blog = make_blog()
    token = csrf_token_of(client)
    session.get(Blog, blog.id).comments_open = False
    session.commit()

    response = client.post(f"/blogs/{blog.id}/comments", data={"body": "Hi", "csrf_token": token})

    assert_html_page(response, 403)
    assert "Comments are closed" in response.text
    assert count_rows(session, Comment) == 0


def test_closed_comments_keep_the_ones_already_there(client, make_user, make_blog, make_comment):
    author = make_user()
    blog = make_blog(author=author)
    comment = make_comment(blog=blog, body="Before closing.")
    log_in(client, author)

    _close_comments(client, blog)

    assert shown_comments(client.get(blog.path).text) == {comment.id: "<p>Before closing.</p>"}


def test_an_edit_form_without_the_field_keeps_comments_as_they_were(
    client, make_user, make_blog, session
):
    author = make_user()
    blog = make_blog(author=author)
    log_in(client, author)
    _close_comments(client, blog)

    submit_form(client, f"/blogs/{blog.id}/edit", {"title": "New title", "body": "Same."})

    session.expire_all()
    assert session.get(Blog, blog.id).comments_open is False


# Counts on cards


@pytest.mark.parametrize("path", ["/", "/tags/gardening", "/users/{author}", "/search?q=tomatoes"])
def test_cards_show_how_many_comments_a_blog_has(client, make_blog, make_comment, path):
    blog = make_blog(title="Tomatoes", body="About tomatoes.", tags=["gardening"])
    quiet = make_blog(
        author=None, title="Quiet tomatoes", body="About tomatoes.", tags=["gardening"]
    )
    for _ in range(3):
        make_comment(blog=blog)
    make_comment(blog=blog, status=CommentStatus.PENDING, guest_name="Not counted")

    page = client.get(path.format(author=blog.author_id)).text

    assert f'<a href="{blog.path}#comments">3 comments</a>' in page
    assert f'<a href="{quiet.path}#comments">' not in page


def test_one_comment_is_one_comment(client, make_blog, make_comment):
    blog = make_blog()
    make_comment(blog=blog)

    assert f'<a href="{blog.path}#comments">1 comment</a>' in client.get("/").text


# The feed


def _feed(client, blog: Blog) -> ET.Element:
    response = client.get(f"/blogs/{blog.id}/comments.xml")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    return ET.fromstring(response.content)  # noqa: S314 - our own output


def test_the_comments_feed_has_the_shown_comments_newest_first(client, make_blog, make_comment):
    blog = make_blog(title="Talked about")
    first = make_comment(blog=blog, body="First *one*.")
    second = make_comment(blog=blog, body="Second.")
    make_comment(blog=blog, body="Waiting.", status=CommentStatus.PENDING, guest_name="G")
    make_comment(blog=blog, body="Trapped.", status=CommentStatus.SPAM, guest_name="Bot")

    feed = _feed(client, blog)

    entries = feed.findall(f"{ATOM}entry")
    links = [entry.find(f"{ATOM}link").get("href") for entry in entries]
    assert links == [
        f"http://testserver/comments/{second.id}",
        f"http://testserver/comments/{first.id}",
    ]
    assert entries[1].find(f"{ATOM}content").text.strip() == "<p>First <em>one</em>.</p>"
    assert feed.find(f"{ATOM}title").text == "Comments on Talked about · Blog"


def test_a_guests_feed_entry_has_a_name_and_no_address(client, make_blog, make_comment):
    blog = make_blog()
    make_comment(blog=blog, guest_name="Gus Guest")

    author = _feed(client, blog).find(f"{ATOM}entry/{ATOM}author")

    assert author.find(f"{ATOM}name").text == "Gus Guest"
    assert author.find(f"{ATOM}uri") is None


def test_the_blog_page_links_to_its_comments_feed(client, make_blog):
    blog = make_blog()

    page = client.get(blog.path).text

    assert (
        f'<link rel="alternate" type="application/atom+xml" title="Comments on {blog.title}" '
        f'href="/blogs/{blog.id}/comments.xml">'
    ) in page


def test_a_drafts_comments_feed_is_a_404_even_for_its_author(client, make_user, make_blog):
    author = make_user()
    blog = make_blog(author=author, draft=True)
    log_in(client, author)

    assert_html_page(client.get(f"/blogs/{blog.id}/comments.xml"), 404)


# The page cache and the page's cost


def test_a_new_comment_shows_on_the_very_next_request(client, browsers, reader, make_blog):
    blog = make_blog()
    visitor = browsers()
    visitor.get(blog.path)
    assert visitor.get(blog.path).headers.get("x-cache") == "hit"

    post_comment(client, blog, "Fresh off the press.")

    response = visitor.get(blog.path)
    assert response.headers.get("x-cache") != "hit"
    assert "Fresh off the press." in response.text


def test_an_approval_and_a_deletion_show_on_the_very_next_request(
    client, browsers, make_user, make_blog, make_comment
):
    author = make_user()
    blog = make_blog(author=author)
    comment = make_comment(blog=blog, status=CommentStatus.PENDING, guest_name="Gus")
    visitor = browsers()
    visitor.get(blog.path)
    log_in(client, author)

    submit_form(client, "/comments/pending", action=f"/comments/{comment.id}/approve")
    assert comment.id in shown_comments(visitor.get(blog.path).text)
    submit_form(client, blog.path, action=f"/comments/{comment.id}/delete")
    assert comment.id not in shown_comments(visitor.get(blog.path).text)


def test_without_guest_comments_a_visitors_blog_page_is_kept(client, make_blog):
    blog = make_blog()

    first = client.get(blog.path)

    assert "set-cookie" not in first.headers
    assert client.get(blog.path).headers.get("x-cache") == "hit"


@pytest.mark.settings(guest_comments=True)
def test_a_guests_waiting_message_never_reaches_another_visitor(client, browsers, make_blog):
    blog = make_blog()
    others = [browsers(), browsers()]
    for other in others:
        other.get(blog.path)

    redirected = post_comment(client, blog, "Held back.", name="Gus")
    assert "waiting for the author" in client.get(redirected.headers["location"]).text

    for other in others:
        page = other.get(blog.path).text
        assert "waiting for the author" not in page
        assert "Held back." not in page


@pytest.mark.settings(guest_comments=True)
def test_with_guest_comments_the_form_carries_a_token_so_the_page_is_never_kept(
    client, browsers, make_blog
):
    blog = make_blog()

    for visitor in (browsers(), browsers()):
        first, second = visitor.get(blog.path), visitor.get(blog.path)
        assert "x-cache" not in first.headers and "x-cache" not in second.headers
        assert find_form(second.text, f"/blogs/{blog.id}/comments")[1]


def test_the_blog_page_reads_the_same_few_queries_with_100_comments(
    app, client, reader, make_blog, session
):
    blog = make_blog()
    path = blog.path
    _many_comments(session, blog, 1)
    statements: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    def queries() -> int:
        statements.clear()
        event.listen(app.state.engine, "before_cursor_execute", record)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(app.state.engine, "before_cursor_execute", record)
        return len(statements)

    with_one = queries()
    _many_comments(session, blog, COMMENTS_PER_PAGE - 1)

    assert queries() == with_one
    assert with_one <= 3  # the user, the blog, its page of comments
