"""A suspended account cannot log in, its sessions end, and its blogs are hidden from everyone
but admins, on every page, list, count, feed and sitemap, until an admin reinstates it."""

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from blog.models import Blog, User, utc_now
from tests.conftest import (
    assert_html_page,
    blog_ids_on,
    count_rows,
    log_in,
    post_back,
    signed_in_name,
    submit_form,
)
from tests.test_counts import assert_kept_counts_are_right

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def admin_client(app, make_user, session) -> Iterator[TestClient]:
    """An admin's browser, logged in."""
    admin = make_user(name="Root Admin")
    admin.is_admin = True
    session.add(admin)
    session.commit()
    with TestClient(app, follow_redirects=False) as client:
        log_in(client, admin)
        yield client


def _press(admin_client: TestClient, action: str) -> None:
    html = admin_client.get("/admin/users").text
    response = post_back(admin_client, html, action, ["next"])
    assert response.status_code == 303, response.text


@pytest.fixture
def suspend(admin_client) -> Callable[[User], None]:
    """Suspend the account as an admin does: the button on /admin/users."""
    return lambda user: _press(admin_client, f"/admin/users/{user.id}/suspend")


@pytest.fixture
def reinstate(admin_client) -> Callable[[User], None]:
    return lambda user: _press(admin_client, f"/admin/users/{user.id}/reinstate")


@pytest.fixture
def spammer(make_user) -> User:
    return make_user(name="Spammer", email="spammer@example.com")


def _fresh(session, model, id_):
    session.expire_all()
    return session.get(model, id_)


def _sitemap_locations(client) -> set[str]:
    """Every address in every part of the sitemap."""
    index = ET.fromstring(client.get("/sitemap.xml").content)  # noqa: S314 - our own output
    locations = set()
    for part in index.iter(f"{SITEMAP}loc"):
        response = client.get(part.text.removeprefix("http://testserver"))
        locations |= {loc.text for loc in ET.fromstring(response.content).iter(f"{SITEMAP}loc")}  # noqa: S314
    return locations


# Logging in and sessions


def test_a_suspended_account_cannot_log_in_and_is_told_why(client, spammer, suspend):
    suspend(spammer)

    response = submit_form(
        client, "/login", {"email": spammer.email, "password": "correct horse battery"}
    )

    assert_html_page(response, 403)
    assert "This account is suspended" in response.text
    assert "Wrong email or password" not in response.text
    assert signed_in_name(client.get("/").text) is None


def test_a_wrong_password_for_a_suspended_account_says_only_that_it_is_wrong(
    client, spammer, suspend
):
    suspend(spammer)

    response = submit_form(client, "/login", {"email": spammer.email, "password": "not it at all"})

    assert response.status_code == 400
    assert "Wrong email or password" in response.text
    assert "suspended" not in response.text


def test_an_open_session_of_a_suspended_account_is_logged_out(client, spammer, suspend):
    log_in(client, spammer)
    assert signed_in_name(client.get("/").text) == "Spammer"

    suspend(spammer)

    assert signed_in_name(client.get("/").text) is None
    response = client.get("/blogs/new")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_a_session_ended_by_suspension_stays_ended_after_reinstatement(
    client, spammer, suspend, reinstate
):
    log_in(client, spammer)
    suspend(spammer)
    client.get("/")

    reinstate(spammer)

    assert signed_in_name(client.get("/").text) is None


def test_a_suspended_account_cannot_post_from_an_open_session(client, spammer, suspend, session):
    log_in(client, spammer)
    form_page = client.get("/blogs/new").text
    suspend(spammer)

    response = post_back(client, form_page, "/blogs", [])

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert count_rows(session, Blog) == 0


def test_a_reinstated_account_can_log_in_again(client, spammer, suspend, reinstate):
    suspend(spammer)
    reinstate(spammer)

    log_in(client, spammer)

    assert signed_in_name(client.get("/").text) == "Spammer"


# Hidden from readers


@pytest.fixture
def spam(make_blog, spammer) -> Blog:
    return make_blog(author=spammer, title="Buy cheap watches", tags=["deals"])


@pytest.fixture
def other_blog(make_blog, make_user) -> Blog:
    return make_blog(author=make_user(name="Honest"), title="Honest watches", tags=["deals"])


def test_a_suspended_authors_blogs_leave_the_home_page(client, spam, other_blog, suspend):
    assert spam.id in blog_ids_on(client.get("/").text)

    suspend(spam.author)

    assert blog_ids_on(client.get("/").text) == [other_blog.id]


def test_a_suspended_authors_blog_page_is_a_404(client, spam, suspend):
    suspend(spam.author)

    assert_html_page(client.get(spam.path), 404)
    assert_html_page(client.get(f"/blogs/{spam.id}"), 404)


def test_a_suspended_authors_page_and_feed_are_404s(client, spam, suspend):
    suspend(spam.author)

    assert_html_page(client.get(f"/users/{spam.author_id}"), 404)
    assert_html_page(client.get(f"/users/{spam.author_id}/feed.xml"), 404)


def test_a_suspended_author_leaves_the_authors_list(client, spam, other_blog, suspend):
    suspend(spam.author)

    html = client.get("/users").text
    assert "Spammer" not in html
    assert "Honest" in html


def test_a_suspended_authors_blogs_leave_tags_and_their_counts(
    client, spam, other_blog, make_blog, suspend, session
):
    make_blog(author=spam.author, tags=["spam-only"])

    suspend(spam.author)

    assert blog_ids_on(client.get("/tags/deals").text) == [other_blog.id]
    assert_html_page(client.get("/tags/spam-only"), 404)
    tags = client.get("/tags").text
    assert "spam-only" not in tags
    assert re.search(r"#deals\s*<span class=\"count\">\(1\)", tags), tags
    assert_kept_counts_are_right(session)


def test_a_suspended_authors_blogs_leave_search(client, spam, other_blog, suspend):
    suspend(spam.author)

    assert blog_ids_on(client.get("/search", params={"q": "watches"}).text) == [other_blog.id]


def test_a_suspended_authors_blogs_leave_the_feeds(client, spam, other_blog, suspend):
    suspend(spam.author)

    for path in ("/feed.xml", "/tags/deals/feed.xml"):
        feed = client.get(path).text
        assert "Buy cheap watches" not in feed
        assert "Honest watches" in feed


def test_a_suspended_authors_blogs_and_page_leave_the_sitemap(client, spam, other_blog, suspend):
    suspend(spam.author)

    locations = _sitemap_locations(client)
    assert f"http://testserver{other_blog.path}" in locations
    assert f"http://testserver{spam.path}" not in locations
    assert f"http://testserver/users/{spam.author_id}" not in locations


def test_the_home_page_is_full_although_a_suspended_author_wrote_the_newest_blogs(
    client, make_blog, make_user, spammer, suspend, settings
):
    honest = make_user()
    older = [make_blog(author=honest) for _ in range(settings.page_size)]
    for _ in range(settings.page_size + 5):
        make_blog(author=spammer)

    suspend(spammer)

    assert blog_ids_on(client.get("/").text) == [blog.id for blog in reversed(older)]


def test_the_page_cache_notices_a_suspension_and_a_reinstatement(
    app, spam, other_blog, suspend, reinstate
):
    with TestClient(app) as reader:
        reader.get("/")
        assert reader.get("/").headers.get("x-cache") == "hit"

        suspend(spam.author)
        assert spam.id not in blog_ids_on(reader.get("/").text)

        reader.get("/")
        reinstate(spam.author)
        assert spam.id in blog_ids_on(reader.get("/").text)


# Seen by admins


def test_an_admin_sees_a_suspended_authors_page_with_the_hidden_blogs(admin_client, spam, suspend):
    suspend(spam.author)

    response = admin_client.get(f"/users/{spam.author_id}")

    assert_html_page(response, 200)
    assert "This account was suspended" in response.text
    assert spam.id in blog_ids_on(response.text)


def test_an_admin_sees_a_hidden_blog_marked_as_hidden_and_may_delete_it(
    admin_client, spam, suspend, session
):
    suspend(spam.author)

    response = admin_client.get(spam.path)

    assert_html_page(response, 200)
    assert "Hidden: its author is suspended" in response.text
    assert submit_form(admin_client, f"/blogs/{spam.id}/delete").status_code == 303
    assert _fresh(session, Blog, spam.id) is None


# Reinstated


def test_reinstating_brings_every_blog_back_as_it_was(
    client, make_blog, spammer, suspend, reinstate, session
):
    published = make_blog(author=spammer, tags=["deals"])
    later = utc_now() + timedelta(days=3)
    scheduled = make_blog(author=spammer, published_at=later)
    draft = make_blog(author=spammer, draft=True)
    before = {blog.id: blog.published_at for blog in (published, scheduled, draft)}

    suspend(spammer)
    reinstate(spammer)

    session.expire_all()
    after = {id_: session.get(Blog, id_).published_at for id_ in before}
    assert after == before
    assert blog_ids_on(client.get("/").text) == [published.id]
    assert blog_ids_on(client.get("/tags/deals").text) == [published.id]
    assert "Spammer" in client.get("/users").text
    assert_kept_counts_are_right(session)


def test_suspending_counts_nothing_while_and_everything_after(
    make_blog, spammer, suspend, reinstate, session
):
    for tags in (["a"], ["a", "b"], []):
        make_blog(author=spammer, tags=tags)
    make_blog(author=spammer, draft=True, tags=["a"])

    suspend(spammer)
    assert _fresh(session, User, spammer.id).dated_blog_count == 0
    assert_kept_counts_are_right(session)

    reinstate(spammer)
    assert _fresh(session, User, spammer.id).dated_blog_count == 3
    assert_kept_counts_are_right(session)


# Written while suspended


def test_a_blog_written_for_a_suspended_author_is_held_back_too(
    client, make_blog, spammer, suspend, reinstate, session
):
    suspend(spammer)

    blog = make_blog(author=spammer, tags=["deals"])

    assert_html_page(client.get(blog.path), 404)
    assert blog_ids_on(client.get("/").text) == []
    assert_kept_counts_are_right(session)
    reinstate(spammer)
    assert blog_ids_on(client.get("/").text) == [blog.id]


def test_a_draft_published_while_its_author_is_suspended_is_held_back(
    client, make_blog, spammer, suspend, session
):
    draft = make_blog(author=spammer, draft=True)
    suspend(spammer)

    stored = _fresh(session, Blog, draft.id)
    stored.published_at = utc_now()
    session.add(stored)
    session.commit()

    assert _fresh(session, Blog, draft.id).published_at is None
    assert blog_ids_on(client.get("/").text) == []
    assert_kept_counts_are_right(session)


def test_suspending_twice_from_one_page_changes_nothing_more(
    client, admin_client, spam, reinstate, session
):
    page = admin_client.get("/admin/users").text
    action = f"/admin/users/{spam.author_id}/suspend"
    post_back(admin_client, page, action, ["next"])
    first = _fresh(session, User, spam.author_id).suspended_at

    response = post_back(admin_client, page, action, ["next"])

    assert response.status_code == 303
    assert _fresh(session, User, spam.author_id).suspended_at == first
    reinstate(spam.author)
    assert blog_ids_on(client.get("/").text) == [spam.id]


def test_an_admins_suspend_button_shows_as_reinstate_afterwards(admin_client, spammer, suspend):
    suspend(spammer)

    html = admin_client.get("/admin/users").text

    assert f'action="/admin/users/{spammer.id}/reinstate"' in html
    assert f'action="/admin/users/{spammer.id}/suspend"' not in html
