"""Counts of published blogs on /users and /tags, kept by the database on every write.

Each author and tag keeps a count of its blogs with a publishing time (published or scheduled);
the pages subtract those still scheduled. Every test checks the page a reader sees, and that the
kept counts (and the copy of each blog's time on its tag links) equal a count made from scratch.
"""

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, col, func, select

from blog import blogs as blog_queries
from blog import users as user_queries
from blog.models import Blog, BlogTagLink, Tag, User, utc_now
from blog.seed import seed
from tests.conftest import DEFAULT_PASSWORD, submit_form


@pytest.fixture
def settings(settings):
    """No page cache: some tests move the queries' clock, which the cache's own does not see."""
    return settings.model_copy(update={"page_cache_bytes": 0})


def _author_count(client, author: User) -> int:
    """The count /users shows next to the author."""
    html = client.get("/users").text
    entry = re.search(rf'<a href="/users/{author.id}">.*?</li>', html, re.S)
    assert entry, f"{author.name} is not listed"
    return int(re.search(r"(\d+) blogs?\b", entry.group(0)).group(1))


def _tag_counts(client) -> dict[str, int]:
    """The counts /tags shows, by tag."""
    html = client.get("/tags").text
    listed = re.findall(
        r'<a class="tag" href="/tags/([^"]+)">#[^<]*<span class="count">\((\d+)\)', html
    )
    return {name: int(count) for name, count in listed}


def assert_kept_counts_are_right(session: Session) -> None:
    """Every kept count, and every tag link's copy of its blog's time, as counted afresh."""
    session.expire_all()
    dated = col(Blog.published_at).is_not(None)
    for user in session.exec(select(User)).all():
        recount = session.exec(
            select(func.count()).select_from(Blog).where(Blog.author_id == user.id, dated)
        ).one()
        assert user.dated_blog_count == recount, user.name
    for tag in session.exec(select(Tag)).all():
        recount = session.exec(
            select(func.count())
            .select_from(BlogTagLink)
            .join(Blog, col(Blog.id) == BlogTagLink.blog_id)
            .where(BlogTagLink.tag_id == tag.id, dated)
        ).one()
        assert tag.dated_blog_count == recount, tag.name
    copies = session.exec(
        select(BlogTagLink.published_at, Blog.published_at).join(
            Blog, col(Blog.id) == BlogTagLink.blog_id
        )
    ).all()
    assert all(link_time == blog_time for link_time, blog_time in copies)


def _write(client, **fields: str):
    data = {"title": "Counted", "body": "Words.", "tags": "python, web", **fields}
    response = submit_form(client, "/blogs/new", data)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].split("/")[2])


def _edit(client, blog_id: int, **fields: str) -> None:
    path = f"/blogs/{blog_id}/edit"
    response = submit_form(client, path, {"title": "Counted", "body": "Words.", **fields}, path)
    assert response.status_code == 303, response.text


def test_writing_a_published_blog_counts_it_for_its_author_and_tags(client, logged_in, session):
    _write(client)

    assert _author_count(client, logged_in) == 1
    assert _tag_counts(client) == {"python": 1, "web": 1}
    assert_kept_counts_are_right(session)


@pytest.mark.parametrize(
    "fields", [{"status": "draft"}, {"status": "scheduled", "publish_at": "2030-01-02T03:04"}]
)
def test_a_draft_or_scheduled_blog_is_not_counted(client, logged_in, session, fields):
    _write(client, **fields)

    assert _author_count(client, logged_in) == 0
    assert _tag_counts(client) == {}
    assert_kept_counts_are_right(session)


def test_publishing_a_draft_counts_it(client, logged_in, session):
    blog_id = _write(client, status="draft")

    _edit(client, blog_id, status="published", tags="python, web")

    assert _author_count(client, logged_in) == 1
    assert _tag_counts(client) == {"python": 1, "web": 1}
    assert_kept_counts_are_right(session)


def test_making_a_published_blog_a_draft_again_uncounts_it(client, logged_in, session):
    blog_id = _write(client)

    _edit(client, blog_id, status="draft", tags="python, web")

    assert _author_count(client, logged_in) == 0
    assert _tag_counts(client) == {}
    assert_kept_counts_are_right(session)


def test_scheduling_a_published_blog_for_later_uncounts_it(client, logged_in, session):
    blog_id = _write(client)

    _edit(client, blog_id, status="scheduled", publish_at="2030-01-02T03:04", tags="python")

    assert _author_count(client, logged_in) == 0
    assert _tag_counts(client) == {}
    assert_kept_counts_are_right(session)


def test_editing_the_text_alone_keeps_the_counts(client, logged_in, session):
    blog_id = _write(client)

    _edit(client, blog_id, body="Other words.", tags="python, web")

    assert _author_count(client, logged_in) == 1
    assert _tag_counts(client) == {"python": 1, "web": 1}
    assert_kept_counts_are_right(session)


def test_changing_a_blogs_tags_moves_its_count(client, logged_in, session):
    blog_id = _write(client)

    _edit(client, blog_id, tags="web, rust")

    assert _tag_counts(client) == {"rust": 1, "web": 1}
    assert_kept_counts_are_right(session)


def test_changing_the_tags_of_a_draft_counts_nothing(client, logged_in, session):
    blog_id = _write(client, status="draft")

    _edit(client, blog_id, status="draft", tags="rust")

    assert _tag_counts(client) == {}
    assert_kept_counts_are_right(session)


def test_deleting_a_blog_uncounts_it(client, logged_in, session):
    kept = _write(client)
    deleted = _write(client, tags="python")

    response = submit_form(client, f"/blogs/{deleted}/delete", action=f"/blogs/{deleted}/delete")

    assert response.status_code == 303
    assert _author_count(client, logged_in) == 1
    assert _tag_counts(client) == {"python": 1, "web": 1}
    assert kept != deleted
    assert_kept_counts_are_right(session)


def test_deleting_an_account_uncounts_its_blogs_from_the_tags(
    client, logged_in, session, make_user, make_blog
):
    other = make_user()
    make_blog(author=other, tags=["python"])
    _write(client)
    _write(client, status="draft", tags="rust")

    path = f"/users/{logged_in.id}/delete"
    assert submit_form(client, path, {"password": DEFAULT_PASSWORD}, action=path).status_code == 303

    assert _tag_counts(client) == {"python": 1}
    assert _author_count(client, other) == 1
    assert_kept_counts_are_right(session)


def test_a_scheduled_blog_is_counted_once_its_time_has_come(
    client, session, make_user, make_blog, monkeypatch
):
    author = make_user()
    soon = utc_now() + timedelta(hours=1)
    make_blog(author=author, published_at=soon, tags=["python"])
    assert _author_count(client, author) == 0
    assert _tag_counts(client) == {}

    # Nothing is written when the time comes: only the clock moves.
    later = soon + timedelta(minutes=1)
    for module in (blog_queries, user_queries):
        monkeypatch.setattr(module, "utc_now", lambda: later, raising=False)

    assert _author_count(client, author) == 1
    assert _tag_counts(client) == {"python": 1}
    assert_kept_counts_are_right(session)


def test_a_tag_with_scheduled_blogs_stands_where_its_published_count_puts_it(
    client, make_user, make_blog
):
    author = make_user()
    for _ in range(3):
        make_blog(author=author, published_at=utc_now() + timedelta(days=1), tags=["future"])
    make_blog(author=author, tags=["future"])
    for _ in range(2):
        make_blog(author=author, tags=["present"])

    assert list(_tag_counts(client).items()) == [("present", 2), ("future", 1)]


def test_the_tags_page_shows_the_most_used_tags_when_there_are_more_than_it_lists(
    client, make_user, make_blog, monkeypatch
):
    author = make_user()
    make_blog(author=author, tags=["a", "b", "c"])
    make_blog(author=author, tags=["b", "c"])
    make_blog(author=author, tags=["c"])
    # The most used tag has scheduled blogs that would put it first if they were counted.
    for _ in range(5):
        make_blog(author=author, published_at=utc_now() + timedelta(days=1), tags=["a"])
    real_popular_tags = blog_queries.popular_tags
    monkeypatch.setattr(
        "blog.routes.tags.popular_tags",
        lambda *, session: real_popular_tags(session=session, limit=2),
    )

    assert list(_tag_counts(client).items()) == [("c", 3), ("b", 2)]


def test_seeded_blogs_are_counted(app, client, session):
    seed(app.state.engine, users=3, blogs=60, random_seed=7)

    counts = _tag_counts(client)

    assert sum(counts.values()) >= 60
    assert_kept_counts_are_right(session)
