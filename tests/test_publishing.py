"""Drafts and scheduled blogs: who sees them, where they are listed, and how status changes."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from blog.models import Blog, BlogTagLink, Tag, utc_now
from tests.conftest import (
    assert_html_page,
    blog_ids_on,
    count_rows,
    field_error,
    field_value,
    find_form,
    log_in,
    submit_form,
)

MOMENT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
# A time typed into the form's datetime-local field, read as UTC.
LATER = "2030-01-02T03:04"
LATER_UTC = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)


def _blog(session, blog_id: int) -> Blog:
    session.expire_all()
    return session.get(Blog, blog_id)


def _only_blog(session) -> Blog:
    session.expire_all()
    (blog,) = session.exec(select(Blog)).all()
    return blog


def _flashes(html: str) -> list[str]:
    return [text.strip() for text in re.findall(r'<p class="flash">(.*?)</p>', html, re.S)]


def _unpublished(make_blog, author, kind: str, **kwargs) -> Blog:
    """A draft, or a blog scheduled for tomorrow."""
    if kind == "draft":
        return make_blog(author=author, draft=True, **kwargs)
    return make_blog(author=author, published_at=utc_now() + timedelta(days=1), **kwargs)


UNPUBLISHED_KINDS = ["draft", "scheduled"]


# Writing with a status


def test_a_form_posted_without_status_publishes_at_once(client, logged_in, session):
    before = utc_now()

    response = submit_form(client, "/blogs/new", {"title": "Old form", "body": "Words."})

    assert response.status_code == 303
    blog = _only_blog(session)
    assert before <= blog.published_at <= utc_now()
    assert blog.id in blog_ids_on(client.get("/").text)


def test_publishing_now_sets_the_published_time_to_now(client, logged_in, session):
    before = utc_now()

    submit_form(client, "/blogs/new", {"title": "Now", "body": "Words.", "status": "published"})

    assert before <= _only_blog(session).published_at <= utc_now()


def test_a_draft_is_saved_with_no_published_time(client, logged_in, session):
    response = submit_form(
        client, "/blogs/new", {"title": "Draft", "body": "Words.", "status": "draft"}
    )

    assert response.status_code == 303
    blog = _only_blog(session)
    assert blog.published_at is None
    assert response.headers["location"] == f"/blogs/{blog.id}/draft"


def test_a_scheduled_blog_is_saved_with_its_time_read_as_utc(client, logged_in, session):
    response = submit_form(
        client,
        "/blogs/new",
        {"title": "Later", "body": "Words.", "status": "scheduled", "publish_at": LATER},
    )

    assert response.status_code == 303
    assert _only_blog(session).published_at == LATER_UTC


def test_a_time_given_with_publish_now_is_ignored(client, logged_in, session):
    before = utc_now()

    submit_form(
        client,
        "/blogs/new",
        {"title": "Now", "body": "Words.", "status": "published", "publish_at": LATER},
    )

    assert before <= _only_blog(session).published_at <= utc_now()


@pytest.mark.parametrize(
    ("status", "word"),
    [("published", "published"), ("draft", "draft"), ("scheduled", "scheduled")],
)
def test_the_message_after_saving_says_what_happened(client, logged_in, status, word):
    data = {"title": "Hello", "body": "Words.", "status": status, "publish_at": LATER}

    location = submit_form(client, "/blogs/new", data).headers["location"]

    (message,) = _flashes(client.get(location).text)
    assert word in message.lower()
    others = {"published", "draft", "scheduled"} - {word}
    assert not any(other in message.lower() for other in others), message


# Refused forms


@pytest.mark.parametrize(
    "publish_at",
    [
        pytest.param(None, id="no time"),
        pytest.param(f"{utc_now() - timedelta(minutes=5):%Y-%m-%dT%H:%M}", id="in the past"),
        pytest.param("tomorrow", id="not a time"),
    ],
)
def test_scheduling_without_a_future_time_is_refused_at_the_time_field(
    client, logged_in, session, publish_at
):
    fields = {"title": "Later", "body": "Words.", "status": "scheduled"}
    if publish_at is not None:
        fields["publish_at"] = publish_at

    response = submit_form(client, "/blogs/new", fields)

    assert_html_page(response, 422)
    assert field_error(response.text, "publish_at")
    assert count_rows(session, Blog) == 0


def test_an_unknown_status_is_refused_with_a_message(client, logged_in, session):
    response = submit_form(
        client, "/blogs/new", {"title": "Hello", "body": "Words.", "status": "secret"}
    )

    assert_html_page(response, 422)
    assert field_error(response.text, "status")
    assert count_rows(session, Blog) == 0


def test_a_refused_form_keeps_everything_typed_and_writes_nothing(client, logged_in, session):
    typed = {
        "title": "Kept title",
        "body": "Kept **body**.",
        "tags": "Gardening, roses",
        "status": "scheduled",
        "publish_at": "2020-01-02T03:04",
    }

    response = submit_form(client, "/blogs/new", typed)

    assert_html_page(response, 422)
    assert {name: field_value(response.text, name) for name in typed} == typed
    assert (count_rows(session, Blog), count_rows(session, Tag)) == (0, 0)
    assert count_rows(session, BlogTagLink) == 0


def test_a_refused_edit_changes_nothing(client, logged_in, make_blog, session):
    blog = make_blog(author=logged_in, title="Kept", created_at=MOMENT, tags=["roses"])

    response = submit_form(
        client,
        f"/blogs/{blog.id}/edit",
        {"title": "Changed", "body": "Changed.", "tags": "tulips", "status": "scheduled"},
    )

    assert_html_page(response, 422)
    saved = _blog(session, blog.id)
    assert (saved.title, saved.published_at, saved.version) == ("Kept", MOMENT, 1)
    assert [tag.name for tag in saved.tags] == ["roses"]
    assert count_rows(session, Tag) == 1


# Who sees a draft or a scheduled blog


@pytest.mark.parametrize(
    ("kind", "badge"), [("draft", "badge-draft"), ("scheduled", "badge-scheduled")]
)
def test_the_author_sees_their_unpublished_blog_with_a_badge(
    client, logged_in, make_blog, kind, badge
):
    blog = _unpublished(make_blog, logged_in, kind, title="Not yet")

    response = client.get(f"/blogs/{blog.id}/not-yet")

    assert_html_page(response, 200)
    assert "Not yet" in response.text
    assert f'class="badge {badge}"' in response.text


def test_a_scheduled_badge_says_when(client, logged_in, make_blog):
    blog = make_blog(author=logged_in, title="Later", published_at=LATER_UTC)

    html = client.get(f"/blogs/{blog.id}/later").text

    badge = re.search(r'<span class="badge badge-scheduled">(.*?)</span>', html, re.S).group(1)
    assert "January 2, 2030" in badge and "03:04" in badge


def test_a_published_blog_has_no_status_badge(client, logged_in, make_blog):
    blog = make_blog(author=logged_in, title="Out")

    html = client.get(f"/blogs/{blog.id}/out").text

    assert "badge-draft" not in html and "badge-scheduled" not in html


@pytest.mark.parametrize("kind", UNPUBLISHED_KINDS)
def test_the_author_page_seen_by_others_lists_only_published_blogs(
    client, make_user, make_blog, kind
):
    author, reader = make_user(), make_user()
    published = make_blog(author=author)
    _unpublished(make_blog, author, kind)

    anonymous_ids = blog_ids_on(client.get(f"/users/{author.id}").text)
    log_in(client, reader)
    reader_ids = blog_ids_on(client.get(f"/users/{author.id}").text)

    assert anonymous_ids == reader_ids == [published.id]


@pytest.mark.parametrize("kind", UNPUBLISHED_KINDS)
def test_the_author_page_lists_the_authors_own_unpublished_blogs_with_a_badge(
    client, logged_in, make_blog, kind
):
    published = make_blog(author=logged_in)
    hidden = _unpublished(make_blog, logged_in, kind)

    html = client.get(f"/users/{logged_in.id}").text

    assert sorted(blog_ids_on(html)) == sorted([published.id, hidden.id])
    assert f"badge-{kind}" in html


def test_the_authors_list_counts_only_published_blogs(client, make_user, make_blog):
    author = make_user(name="Counted")
    make_blog(author=author)
    make_blog(author=author, draft=True)
    make_blog(author=author, published_at=LATER_UTC)

    html = client.get("/users").text

    entry = re.search(r'>Counted</a>\s*<span class="meta">(.*?)</span>', html).group(1)
    assert entry == "1 blog"


@pytest.mark.parametrize("kind", UNPUBLISHED_KINDS)
def test_unpublished_blogs_are_not_on_the_home_page_even_for_their_author(
    client, logged_in, make_blog, kind
):
    published = make_blog(author=logged_in)
    _unpublished(make_blog, logged_in, kind)

    assert blog_ids_on(client.get("/").text) == [published.id]


@pytest.mark.parametrize("kind", UNPUBLISHED_KINDS)
def test_unpublished_blogs_are_not_on_tag_pages_even_for_their_author(
    client, logged_in, make_blog, kind
):
    published = make_blog(author=logged_in, tags=["roses"])
    _unpublished(make_blog, logged_in, kind, tags=["roses"])

    assert blog_ids_on(client.get("/tags/roses").text) == [published.id]


@pytest.mark.parametrize("kind", UNPUBLISHED_KINDS)
def test_unpublished_blogs_are_never_found_by_search_even_by_their_author(
    client, logged_in, make_blog, kind
):
    published = make_blog(author=logged_in, title="Roses in bloom")
    _unpublished(make_blog, logged_in, kind, title="Roses in winter")

    assert blog_ids_on(client.get("/search?q=roses").text) == [published.id]


@pytest.mark.parametrize("kind", UNPUBLISHED_KINDS)
@pytest.mark.parametrize("suffix", ["", "/not-yet"])
def test_an_unpublished_blog_is_a_404_for_anonymous_visitors(
    client, make_user, make_blog, kind, suffix
):
    blog = _unpublished(make_blog, make_user(), kind, title="Not yet")

    response = client.get(f"/blogs/{blog.id}{suffix}")

    assert_html_page(response, 404)
    assert "Not yet" not in response.text


@pytest.mark.parametrize("kind", UNPUBLISHED_KINDS)
@pytest.mark.parametrize("suffix", ["", "/not-yet", "/edit", "/delete"])
def test_an_unpublished_blog_is_a_404_for_other_users_everywhere(
    client, logged_in, make_user, make_blog, kind, suffix
):
    blog = _unpublished(make_blog, make_user(), kind, title="Not yet")

    response = client.get(f"/blogs/{blog.id}{suffix}")

    assert_html_page(response, 404)
    assert "Not yet" not in response.text


@pytest.mark.parametrize("kind", UNPUBLISHED_KINDS)
@pytest.mark.parametrize("action", ["edit", "delete"])
def test_another_user_posting_to_an_unpublished_blog_gets_a_404_and_changes_nothing(
    client, logged_in, make_user, make_blog, session, kind, action
):
    blog = _unpublished(make_blog, make_user(), kind, title="Not yet")
    _, token = find_form(client.get("/blogs/new").text, "/blogs")

    response = client.post(
        f"/blogs/{blog.id}/{action}",
        data={"title": "Taken", "body": "Over.", "status": "published", "csrf_token": token},
    )

    assert_html_page(response, 404)
    assert _blog(session, blog.id).title == "Not yet"


@pytest.mark.parametrize("kind", UNPUBLISHED_KINDS)
@pytest.mark.parametrize("action", ["edit", "delete"])
def test_an_anonymous_visitor_learns_no_more_of_an_unpublished_blog_than_of_a_missing_one(
    client, make_user, make_blog, kind, action
):
    blog = _unpublished(make_blog, make_user(), kind)
    missing_id = blog.id + 1000

    hidden = client.get(f"/blogs/{blog.id}/{action}")
    missing = client.get(f"/blogs/{missing_id}/{action}")

    assert hidden.status_code == missing.status_code
    assert hidden.status_code in (303, 404)
    if hidden.status_code == 303:
        assert hidden.headers["location"] == missing.headers["location"].replace(
            str(missing_id), str(blog.id)
        )


def test_the_author_can_open_the_edit_form_of_a_draft(client, logged_in, make_blog):
    blog = make_blog(author=logged_in, draft=True)

    response = client.get(f"/blogs/{blog.id}/edit")

    assert_html_page(response, 200)
    assert field_value(response.text, "status") == "draft"


def test_the_edit_form_of_a_scheduled_blog_holds_its_time(client, logged_in, make_blog):
    blog = make_blog(author=logged_in, published_at=LATER_UTC)

    html = client.get(f"/blogs/{blog.id}/edit").text

    assert field_value(html, "status") == "scheduled"
    assert field_value(html, "publish_at") == LATER


# A scheduled blog's time comes


def test_a_blog_whose_scheduled_time_has_passed_is_shown_everywhere(client, make_user, make_blog):
    author = make_user()
    blog = make_blog(
        author=author,
        title="Roses at dawn",
        tags=["roses"],
        published_at=utc_now() - timedelta(seconds=1),
    )

    assert client.get(f"/blogs/{blog.id}/roses-at-dawn").status_code == 200
    assert blog_ids_on(client.get("/").text) == [blog.id]
    assert blog_ids_on(client.get(f"/users/{author.id}").text) == [blog.id]
    assert blog_ids_on(client.get("/tags/roses").text) == [blog.id]
    assert blog_ids_on(client.get("/search?q=roses").text) == [blog.id]


def test_a_scheduled_blog_appears_once_its_time_comes_with_no_job_to_run(
    client, logged_in, make_user, session
):
    tomorrow = f"{utc_now() + timedelta(days=1):%Y-%m-%dT%H:%M}"
    submit_form(
        client,
        "/blogs/new",
        {
            "title": "Roses at dawn",
            "body": "Words.",
            "tags": "roses",
            "status": "scheduled",
            "publish_at": tomorrow,
        },
    )
    blog = _only_blog(session)
    log_in(client, make_user())
    assert client.get(f"/blogs/{blog.id}/roses-at-dawn").status_code == 404

    # Time passes: the row is as it will be once the chosen moment is behind us.
    blog.published_at = utc_now() - timedelta(seconds=1)
    session.add(blog)
    session.commit()

    assert client.get(f"/blogs/{blog.id}/roses-at-dawn").status_code == 200
    assert blog_ids_on(client.get("/").text) == [blog.id]
    assert blog_ids_on(client.get(f"/users/{logged_in.id}").text) == [blog.id]
    assert blog_ids_on(client.get("/tags/roses").text) == [blog.id]
    assert blog_ids_on(client.get("/search?q=roses").text) == [blog.id]


# Changing the status of a saved blog


def test_publishing_a_draft_publishes_it_now(client, logged_in, make_blog, session):
    blog = make_blog(author=logged_in, draft=True, created_at=MOMENT)
    before = utc_now()

    response = submit_form(
        client,
        f"/blogs/{blog.id}/edit",
        {"title": blog.title, "body": blog.body, "status": "published"},
    )

    assert response.status_code == 303
    assert before <= _blog(session, blog.id).published_at <= utc_now()
    assert blog_ids_on(client.get("/").text) == [blog.id]


def test_publishing_a_scheduled_blog_publishes_it_now(client, logged_in, make_blog, session):
    blog = make_blog(author=logged_in, published_at=LATER_UTC)
    before = utc_now()

    submit_form(
        client,
        f"/blogs/{blog.id}/edit",
        {"title": blog.title, "body": blog.body, "status": "published"},
    )

    assert before <= _blog(session, blog.id).published_at <= utc_now()


def test_saving_a_published_blog_keeps_its_original_published_date(
    client, logged_in, make_blog, session
):
    blog = make_blog(author=logged_in, created_at=MOMENT)

    response = submit_form(
        client,
        f"/blogs/{blog.id}/edit",
        {"title": "Retitled", "body": blog.body, "status": "published"},
    )

    assert response.status_code == 303
    saved = _blog(session, blog.id)
    assert (saved.title, saved.published_at) == ("Retitled", MOMENT)


def test_switching_a_published_blog_to_draft_hides_it(
    client, logged_in, make_user, make_blog, session
):
    blog = make_blog(author=logged_in, title="Second thoughts", tags=["roses"])

    response = submit_form(
        client,
        f"/blogs/{blog.id}/edit",
        {"title": blog.title, "body": blog.body, "status": "draft"},
    )

    assert response.status_code == 303
    assert _blog(session, blog.id).published_at is None
    assert "badge-draft" in client.get(f"/blogs/{blog.id}/second-thoughts").text
    log_in(client, make_user())
    assert client.get(f"/blogs/{blog.id}/second-thoughts").status_code == 404
    assert blog_ids_on(client.get("/").text) == []
    assert client.get("/tags/roses").status_code == 404
    assert blog_ids_on(client.get("/search?q=thoughts").text) == []


def test_scheduling_a_draft_from_the_edit_form(client, logged_in, make_blog, session):
    blog = make_blog(author=logged_in, draft=True)

    response = submit_form(
        client,
        f"/blogs/{blog.id}/edit",
        {"title": blog.title, "body": blog.body, "status": "scheduled", "publish_at": LATER},
    )

    assert response.status_code == 303
    assert _blog(session, blog.id).published_at == LATER_UTC


@pytest.mark.parametrize("kind", ["draft", "scheduled", "published"])
def test_an_edit_posted_without_status_keeps_the_status(
    client, logged_in, make_blog, session, kind
):
    if kind == "published":
        blog = make_blog(author=logged_in, created_at=MOMENT)
    else:
        blog = _unpublished(make_blog, logged_in, kind)
    published_at = blog.published_at

    response = submit_form(
        client, f"/blogs/{blog.id}/edit", {"title": "Retitled", "body": blog.body}
    )

    assert response.status_code == 303
    saved = _blog(session, blog.id)
    assert (saved.title, saved.published_at) == ("Retitled", published_at)
