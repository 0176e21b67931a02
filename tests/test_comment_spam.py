"""Spam kept out: the honeypot, throttling per account and per guest address, and no live
markup from comment bodies or guest names anywhere they show, the feed included."""

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, delete, select, update

from blog.models import Attempt, Blog, Comment, CommentStatus, User
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
    field_value,
    log_in,
)
from tests.test_text import XSS_PAYLOADS, parse, url_scheme

ATOM = "{http://www.w3.org/2005/Atom}"
GUEST_ADDRESS = "203.0.113.7"


def _guest(app, address: str = GUEST_ADDRESS) -> TestClient:
    return TestClient(app, follow_redirects=False, client=(address, 50000))


def _age_attempts(session, by: timedelta) -> None:
    """Move every counted comment back in time, as if `by` had passed."""
    for attempt in session.exec(select(Attempt)).all():
        attempt.created_at -= by
    session.commit()


def _flashes(html: str) -> str:
    match = re.search(r'<div class="flashes".*?</div>', html, re.S)
    return match.group(0) if match else ""


def _count(session, blog: Blog) -> int:
    session.expire_all()
    return session.get(Blog, blog.id).comment_count


# The honeypot


def test_the_form_has_a_honeypot_people_never_see_and_screen_readers_leave_empty(
    client, make_user, make_blog, app
):
    blog = make_blog()
    log_in(client, make_user())

    section = comments_section(client.get(blog.path).text)

    assert re.search(
        r'<div class="honeypot">\s*<label for="field-website">Leave this empty</label>\s*'
        r'<input id="field-website" name="website" type="text" tabindex="-1" autocomplete="off">',
        section,
    )
    stylesheet = (app.state.settings.static_dir / "style.css").read_text()
    rule = re.search(r"\.honeypot \{(.*?)\}", stylesheet, re.S).group(1)
    assert "position: absolute" in rule and "left: -10000px" in rule


@pytest.mark.settings(guest_comments=True)
def test_a_guest_filling_the_honeypot_is_answered_like_any_guest_and_shown_nowhere(
    app, make_user, make_blog, session
):
    author = make_user()
    blog = make_blog(author=author)
    with _guest(app) as person, _guest(app, "198.51.100.9") as bot:
        honest = post_comment(person, blog, "A real comment.", name="Person")
        trapped = post_comment(bot, blog, "Cheap pills!", name="Bot", website="https://pills.x")

        assert trapped.status_code == honest.status_code == 303
        assert re.fullmatch(rf"{blog.path}#comment-\d+", trapped.headers["location"])
        told = _flashes(bot.get(trapped.headers["location"]).text)
        assert told == _flashes(person.get(honest.headers["location"]).text)
        assert "waiting for the author" in told
        spam_id = comment_id_from(trapped)

    with TestClient(app, follow_redirects=False) as author_browser:
        log_in(author_browser, author)
        pending = author_browser.get("/comments/pending").text
        assert list(shown_comments(pending)) == [comment_id_from(honest)]
        assert "Cheap pills!" not in author_browser.get(blog.path).text
        assert "Cheap pills!" not in author_browser.get(f"/blogs/{blog.id}/comments.xml").text
        assert_html_page(author_browser.get(f"/comments/{spam_id}"), 404)
    session.expire_all()
    assert session.get(Comment, spam_id).status == CommentStatus.SPAM
    assert _count(session, blog) == 0


def test_an_account_filling_the_honeypot_sees_nothing_shown_either(
    client, make_user, make_blog, session
):
    blog = make_blog()
    log_in(client, make_user(created_at=settled()))

    response = post_comment(client, blog, "Buy now!", website="spam")

    page = client.get(response.headers["location"]).text
    assert "waiting for the author" in page
    assert shown_comments(page) == {}
    assert _count(session, blog) == 0


def test_a_trapped_comment_is_not_there_even_for_the_blogs_author(
    client, make_user, make_blog, make_comment, session
):
    author = make_user()
    spam = make_comment(blog=make_blog(author=author), status=CommentStatus.SPAM, guest_name="Bot")
    log_in(client, author)

    for action in ("approve", "delete"):
        response = client.post(
            f"/comments/{spam.id}/{action}", data={"csrf_token": csrf_token_of(client)}
        )
        assert_html_page(response, 404)
    assert_html_page(client.get(f"/comments/{spam.id}"), 404)
    session.expire_all()
    assert session.get(Comment, spam.id).status == CommentStatus.SPAM


# Throttling


@pytest.mark.settings(comments_per_minute=2, comments_per_day=3)
def test_one_comment_past_the_minutes_limit_gets_429_with_the_text_kept(
    client, make_user, make_blog, session
):
    blog = make_blog()
    log_in(client, make_user(created_at=settled()))
    assert [post_comment(client, blog, f"No. {n}").status_code for n in range(2)] == [303, 303]

    response = post_comment(client, blog, "One too many, kept.")

    assert_html_page(response, 429)
    assert 0 < int(response.headers["retry-after"]) <= 60
    assert "Try again in a minute" in response.text
    assert field_value(response.text, "body") == "One too many, kept."
    assert count_rows(session, Comment) == 2


@pytest.mark.settings(comments_per_minute=2, comments_per_day=3)
def test_the_minutes_limit_lets_the_next_comment_through_once_the_minute_is_over(
    client, make_user, make_blog, session
):
    blog = make_blog()
    log_in(client, make_user(created_at=settled()))
    for n in range(2):
        post_comment(client, blog, f"No. {n}")
    _age_attempts(session, timedelta(seconds=61))

    assert post_comment(client, blog, "After a pause.").status_code == 303


@pytest.mark.settings(comments_per_minute=2, comments_per_day=3)
def test_the_days_limit_holds_after_the_minute(client, make_user, make_blog, session):
    blog = make_blog()
    log_in(client, make_user(created_at=settled()))
    for n in range(3):
        post_comment(client, blog, f"No. {n}")
        # Each a minute apart, so only the day's limit is left to reach.
        _age_attempts(session, timedelta(minutes=2))

    response = post_comment(client, blog, "Tomorrow, maybe.")

    assert_html_page(response, 429)
    assert 23 * 3600 < int(response.headers["retry-after"]) <= 24 * 3600
    assert count_rows(session, Comment) == 3


@pytest.mark.settings(comments_per_minute=2, comments_per_day=3)
def test_one_accounts_limit_leaves_another_account_free(client, browsers, make_user, make_blog):
    blog = make_blog()
    log_in(client, make_user(created_at=settled()))
    for n in range(2):
        post_comment(client, blog, f"No. {n}")
    other = browsers()
    log_in(other, make_user(created_at=settled()))

    assert post_comment(client, blog).status_code == 429
    assert post_comment(other, blog).status_code == 303


@pytest.mark.settings(guest_comments=True, comments_per_minute=2, comments_per_day=3)
def test_guests_are_counted_by_address(app, make_blog):
    blog = make_blog()
    with _guest(app) as first, _guest(app) as second, _guest(app, "198.51.100.9") as elsewhere:
        assert post_comment(first, blog, name="A").status_code == 303
        assert post_comment(second, blog, name="B").status_code == 303

        third = post_comment(first, blog, "Mine, kept.", name="A")
        assert_html_page(third, 429)
        assert field_value(third.text, "name") == "A"
        assert field_value(third.text, "body") == "Mine, kept."
        assert post_comment(elsewhere, blog, name="C").status_code == 303


@pytest.mark.settings(guest_comments=True, comments_per_minute=2, comments_per_day=3)
def test_trapped_comments_count_against_the_limit(app, make_blog):
    blog = make_blog()
    with _guest(app) as bot:
        for _ in range(2):
            assert post_comment(bot, blog, name="Bot", website="x").status_code == 303

        assert post_comment(bot, blog, name="Bot", website="x").status_code == 429


def test_a_limit_of_zero_is_no_limit(client, make_user, make_blog, session):
    blog = make_blog()
    log_in(client, make_user(created_at=settled()))

    statuses = [post_comment(client, blog, f"No. {n}").status_code for n in range(7)]

    assert statuses == [303] * 7
    assert count_rows(session, Attempt) == 0


# No live markup


# Posted through the form, so those the form refuses (NUL) are left out; names are cut to
# the 100 characters a name may have.
PAYLOADS = [payload for payload in XSS_PAYLOADS if "\x00" not in payload]
ALLOWED_IN_BODIES = {
    *("p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code"),
    *("pre", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th"),
    *("td", "sub", "sup", "kbd", "abbr", "details", "summary", "mark"),
}
_AUTHOR = re.compile(r'<span class="comment-author">(.*?)</span>', re.S)
_BODY = re.compile(r'<div class="blog-body comment-body">(.*?)</div>', re.S)


def _assert_no_live_markup(body_html: str) -> None:
    for element in parse(body_html).elements:
        assert element.tag in ALLOWED_IN_BODIES, body_html
        for name, value in element.attrs.items():
            assert not name.startswith("on"), body_html
            assert name not in {"style", "id", "name", "srcdoc", "srcset"}, body_html
            if name in {"href", "src"}:
                assert url_scheme(value or "") in {None, "http", "https", "mailto"}, body_html


@pytest.fixture
def payload_comments(app, make_user, make_blog) -> tuple[Blog, User]:
    """Every payload posted as a guest's comment, with the payload as the guest's name too
    (the test is marked for guest comments)."""
    author = make_user()
    blog = make_blog(author=author)
    with _guest(app) as guest:
        for payload in PAYLOADS:
            response = post_comment(
                guest, blog, f"Before.\n\n{payload}\n\nAfter.", name=payload[:100]
            )
            assert response.status_code == 303, response.text
    return blog, author


@pytest.mark.settings(guest_comments=True)
def test_payloads_wait_in_the_pending_list_without_live_markup(app, payload_comments):
    _, author = payload_comments
    with TestClient(app, follow_redirects=False) as browser:
        log_in(browser, author)
        page = browser.get("/comments/pending").text

    names = [unescape(name) for name in _AUTHOR.findall(page)]
    assert names == [payload[:100] for payload in PAYLOADS]
    assert all("<" not in raw for raw in _AUTHOR.findall(page))
    bodies = _BODY.findall(page)
    assert len(bodies) == len(PAYLOADS)
    for body in bodies:
        _assert_no_live_markup(body)


@pytest.mark.settings(guest_comments=True)
def test_payloads_shown_on_the_blog_page_have_no_live_markup(client, payload_comments, session):
    blog, _ = payload_comments
    session.execute(update(Comment).values(status=CommentStatus.APPROVED))
    session.commit()

    section = comments_section(client.get(blog.path).text)

    raw_names = _AUTHOR.findall(section)
    assert [unescape(name) for name in raw_names] == [payload[:100] for payload in PAYLOADS]
    assert all("<" not in raw and '"' not in raw for raw in raw_names)
    bodies = _BODY.findall(section)
    assert len(bodies) == len(PAYLOADS)
    for body in bodies:
        _assert_no_live_markup(body)
        assert "Before." in body and "After." in body
    # Nothing but the page's own markup: no script element, no handler anywhere in it.
    elements = parse(section).elements
    assert not {element.tag for element in elements} & {"script", "iframe", "object", "embed"}
    assert not any(name.startswith("on") for e in elements for name in e.attrs)


@pytest.mark.settings(guest_comments=True)
def test_payloads_in_the_feed_are_text_and_escaped_html(client, payload_comments, session):
    blog, _ = payload_comments
    session.execute(update(Comment).values(status=CommentStatus.APPROVED))
    session.commit()
    # XML cannot carry control characters at all: the feed leaves them out.
    expected = [
        re.sub("[\x01-\x08\x0b\x0c\x0e-\x1f]", "", payload[:100]) for payload in reversed(PAYLOADS)
    ]

    # The feed holds the newest 50: those seen are deleted to see the ones before them.
    while expected:
        feed = ET.fromstring(client.get(f"/blogs/{blog.id}/comments.xml").content)  # noqa: S314
        entries = feed.findall(f"{ATOM}entry")
        names = [entry.find(f"{ATOM}author/{ATOM}name") for entry in entries]
        assert [name.text for name in names] == expected[: len(entries)]
        assert all(len(name) == 0 for name in names)  # text, no child elements
        for entry in entries:
            content = entry.find(f"{ATOM}content")
            assert content.get("type") == "html" and len(content) == 0
            _assert_no_live_markup(content.text)
        seen = [int(entry.find(f"{ATOM}id").text.rpartition("/")[2]) for entry in entries]
        session.execute(delete(Comment).where(col(Comment.id).in_(seen)))
        session.commit()
        expected = expected[len(entries) :]
