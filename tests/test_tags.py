"""Tags: typed as one field, normalized, listed on their own pages."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlmodel import select

from blog.models import Blog, BlogTagLink, Tag, utc_now
from tests.conftest import (
    assert_html_page,
    blog_ids_on,
    count_rows,
    field_error,
    field_value,
    submit_form,
)
from tests.pages_of_lists import follow, page_links

MOMENT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _tag_names(session, blog_id: int) -> list[str]:
    session.expire_all()
    return [tag.name for tag in session.get(Blog, blog_id).tags]


def _write(client, tags: str, title: str = "Tagged"):
    return submit_form(client, "/blogs/new", {"title": title, "body": "Words.", "tags": tags})


def _written_id(response) -> int:
    assert response.status_code == 303, response.text
    return int(response.headers["location"].split("/")[2])


def _tag_links(html: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'<a class="tag" href="([^"]*)"', html)]


# Typing tags


def test_tags_are_trimmed_lower_cased_and_kept_once(client, logged_in, session):
    blog_id = _written_id(_write(client, " Python, python ,PYTHON, web dev"))

    assert _tag_names(session, blog_id) == ["python", "web-dev"]


def test_a_leading_hash_is_not_part_of_the_tag(client, logged_in, session):
    blog_id = _written_id(_write(client, "#python, #Web Dev"))

    assert _tag_names(session, blog_id) == ["python", "web-dev"]


def test_empty_entries_between_commas_are_ignored(client, logged_in, session):
    blog_id = _written_id(_write(client, ",python,, ,web,"))

    assert _tag_names(session, blog_id) == ["python", "web"]


def test_a_blog_without_tags_has_none(client, logged_in, session):
    blog_id = _written_id(_write(client, ""))

    assert _tag_names(session, blog_id) == []
    assert count_rows(session, Tag) == 0


def test_ten_tags_are_accepted(client, logged_in, session):
    names = [f"tag{number}" for number in range(10)]

    blog_id = _written_id(_write(client, ", ".join(names)))

    assert sorted(_tag_names(session, blog_id)) == sorted(names)


def test_eleven_tags_are_refused_at_the_tags_field_with_the_text_kept(client, logged_in, session):
    typed = ", ".join(f"Tag{number}" for number in range(11))

    response = _write(client, typed)

    assert_html_page(response, 422)
    assert field_error(response.text, "tags")
    assert field_value(response.text, "tags") == typed
    assert field_value(response.text, "title") == "Tagged"
    assert (count_rows(session, Blog), count_rows(session, Tag)) == (0, 0)


def test_the_same_tag_typed_eleven_ways_counts_once(client, logged_in, session):
    blog_id = _written_id(_write(client, ", ".join(["Python", "python", "#PYTHON"] * 4)))

    assert _tag_names(session, blog_id) == ["python"]


def test_a_lone_hash_is_an_empty_tag_and_is_ignored(client, logged_in, session):
    blog_id = _written_id(_write(client, "python, #, # "))

    assert _tag_names(session, blog_id) == ["python"]


@pytest.mark.parametrize("typed", ["a/b", "a b/c", "?", "<b>", "tag;drop", "-leading"])
def test_a_tag_with_characters_a_tag_cannot_hold_is_refused(client, logged_in, session, typed):
    response = _write(client, f"fine, {typed}")

    assert_html_page(response, 422)
    assert field_error(response.text, "tags")
    assert field_value(response.text, "tags") == f"fine, {typed}"
    assert count_rows(session, Blog) == 0


def test_a_tag_of_forty_characters_is_accepted(client, logged_in, session):
    blog_id = _written_id(_write(client, "t" * 40))

    assert _tag_names(session, blog_id) == ["t" * 40]


def test_a_tag_longer_than_forty_characters_is_refused(client, logged_in, session):
    response = _write(client, "t" * 41)

    assert_html_page(response, 422)
    assert field_error(response.text, "tags")
    assert count_rows(session, Blog) == 0


def test_tags_with_symbols_and_other_scripts_are_kept_as_typed(client, logged_in, session):
    blog_id = _written_id(_write(client, "C++, C#, Node.js, snake_case, Café"))

    assert _tag_names(session, blog_id) == ["c#", "c++", "café", "node.js", "snake_case"]


def test_two_blogs_sharing_a_tag_share_one_tag_row(client, logged_in, session):
    first = _written_id(_write(client, "python, web", title="First"))
    second = _written_id(_write(client, "Python", title="Second"))

    session.expire_all()
    assert sorted(session.exec(select(Tag.name)).all()) == ["python", "web"]
    assert _tag_names(session, first) == ["python", "web"]
    assert _tag_names(session, second) == ["python"]


def test_editing_tags_replaces_them(client, logged_in, make_blog, session):
    blog = make_blog(author=logged_in, tags=["old", "kept"])

    response = submit_form(
        client,
        f"/blogs/{blog.id}/edit",
        {"title": blog.title, "body": blog.body, "tags": "kept, new"},
    )

    assert response.status_code == 303
    assert _tag_names(session, blog.id) == ["kept", "new"]
    assert client.get("/tags/old").status_code == 404
    assert blog_ids_on(client.get("/tags/new").text) == [blog.id]


def test_editing_with_the_tags_field_emptied_removes_every_tag(
    client, logged_in, make_blog, session
):
    blog = make_blog(author=logged_in, tags=["old"])

    submit_form(
        client, f"/blogs/{blog.id}/edit", {"title": blog.title, "body": blog.body, "tags": ""}
    )

    assert _tag_names(session, blog.id) == []
    assert count_rows(session, BlogTagLink) == 0


def test_an_edit_posted_without_a_tags_field_keeps_the_tags(client, logged_in, make_blog, session):
    blog = make_blog(author=logged_in, tags=["kept"])

    submit_form(client, f"/blogs/{blog.id}/edit", {"title": "Retitled", "body": blog.body})

    assert _tag_names(session, blog.id) == ["kept"]


def test_the_edit_form_holds_the_tags_as_one_field(client, logged_in, make_blog):
    blog = make_blog(author=logged_in, tags=["web-dev", "python"])

    html = client.get(f"/blogs/{blog.id}/edit").text

    assert field_value(html, "tags") == "python, web-dev"


def test_a_refused_edit_of_tags_keeps_the_saved_tags(client, logged_in, make_blog, session):
    blog = make_blog(author=logged_in, tags=["kept"])

    response = submit_form(
        client,
        f"/blogs/{blog.id}/edit",
        {"title": blog.title, "body": blog.body, "tags": "new, a/b"},
    )

    assert_html_page(response, 422)
    assert _tag_names(session, blog.id) == ["kept"]
    assert count_rows(session, Tag) == 1


# Tag pages


def test_a_blog_page_links_its_tags(client, make_blog):
    blog = make_blog(title="Tagged", tags=["python", "web-dev"])

    html = client.get(f"/blogs/{blog.id}/tagged").text

    assert _tag_links(html) == ["/tags/python", "/tags/web-dev"]


def test_a_tag_page_lists_only_published_blogs_with_the_tag_newest_first(
    client, make_user, make_blog
):
    author = make_user()
    old = make_blog(author=author, created_at=MOMENT - timedelta(days=1), tags=["python"])
    new = make_blog(author=author, created_at=MOMENT, tags=["python", "web"])
    make_blog(author=author, created_at=MOMENT, tags=["web"])
    make_blog(author=author, draft=True, tags=["python"])
    make_blog(author=author, published_at=utc_now() + timedelta(days=1), tags=["python"])

    response = client.get("/tags/python")

    assert_html_page(response, 200)
    assert blog_ids_on(response.text) == [new.id, old.id]


def test_a_tag_page_orders_by_publishing_time_not_writing_time(client, make_user, make_blog):
    author = make_user()
    written_first = make_blog(
        author=author, created_at=MOMENT - timedelta(days=9), published_at=MOMENT, tags=["t"]
    )
    written_later = make_blog(author=author, created_at=MOMENT - timedelta(days=1), tags=["t"])

    assert blog_ids_on(client.get("/tags/t").text) == [written_first.id, written_later.id]


def test_a_tag_page_pages_twenty_blogs_at_a_time(client, make_user, make_blog):
    author = make_user()
    blogs = [
        make_blog(author=author, created_at=MOMENT + timedelta(hours=hour), tags=["python"])
        for hour in range(21)
    ]
    newest_first = [blog.id for blog in reversed(blogs)]

    first = client.get("/tags/python")
    second = follow(client, "/tags/python", first.text, "next")

    assert blog_ids_on(first.text) == newest_first[:20]
    assert_html_page(second, 200)
    assert blog_ids_on(second.text) == newest_first[20:]
    assert page_links(second.text) == {"prev": "?page=1"}
    assert blog_ids_on(client.get("/tags/python?page=2").text) == newest_first[20:]
    assert_html_page(client.get("/tags/python?page=3"), 404)


def test_a_tag_page_pages_by_publishing_time_among_blogs_without_the_tag(
    client, make_user, make_blog
):
    author = make_user()
    tagged = []
    for hour in range(45):
        tags = ["python"] if hour % 2 else ["web"]
        blog = make_blog(author=author, created_at=MOMENT + timedelta(hours=hour), tags=tags)
        if hour % 2:
            tagged.append(blog.id)
    tagged.reverse()

    first = client.get("/tags/python").text
    second = follow(client, "/tags/python", first, "next").text

    assert blog_ids_on(first) + blog_ids_on(second) == tagged
    assert page_links(second) == {"prev": "?page=1"}


def test_a_tag_page_follows_a_blog_that_is_rescheduled_or_unpublished(
    client, session, make_user, make_blog
):
    author = make_user()
    old = make_blog(author=author, created_at=MOMENT, tags=["python"])
    moved = make_blog(author=author, created_at=MOMENT + timedelta(hours=1), tags=["python"])
    hidden = make_blog(author=author, created_at=MOMENT + timedelta(hours=2), tags=["python"])
    moved.published_at = MOMENT - timedelta(days=1)
    hidden.published_at = None
    session.add_all([moved, hidden])
    session.commit()

    assert blog_ids_on(client.get("/tags/python").text) == [old.id, moved.id]


@pytest.mark.parametrize(("typed", "tag"), [("Python", "python"), ("Web%20Dev", "web-dev")])
def test_a_tag_address_in_another_form_moves_permanently_to_the_normal_one(
    client, make_blog, typed, tag
):
    make_blog(tags=[tag])

    response = client.get(f"/tags/{typed}")

    assert response.status_code == 301
    assert response.headers["location"] == f"/tags/{tag}"


def test_an_unknown_tag_is_a_404_page(client, make_blog):
    make_blog(tags=["python"])

    assert_html_page(client.get("/tags/cobol"), 404)


def test_an_over_long_tag_address_is_a_404_page(client):
    assert_html_page(client.get("/tags/" + "t" * 500), 404)


@pytest.mark.parametrize("hidden", ["draft", "scheduled"])
def test_a_tag_carried_only_by_unpublished_blogs_is_a_404(client, logged_in, make_blog, hidden):
    if hidden == "draft":
        make_blog(author=logged_in, draft=True, tags=["secret"])
    else:
        make_blog(author=logged_in, published_at=utc_now() + timedelta(days=1), tags=["secret"])

    response = client.get("/tags/secret")

    assert_html_page(response, 404)


def test_the_tags_page_lists_tags_with_counts_of_published_blogs(client, make_user, make_blog):
    author = make_user()
    make_blog(author=author, tags=["python", "web"])
    make_blog(author=author, tags=["python"])
    make_blog(author=author, draft=True, tags=["python", "secret"])
    make_blog(author=author, published_at=utc_now() + timedelta(days=1), tags=["python"])

    response = client.get("/tags")

    assert_html_page(response, 200)
    listed = re.findall(
        r'<a class="tag" href="/tags/([^"]+)">#[^<]*<span class="count">\((\d+)\)</span>',
        response.text,
    )
    assert listed == [("python", "2"), ("web", "1")]


def test_the_tags_page_with_no_tags_says_so(client, make_blog):
    make_blog()

    response = client.get("/tags")

    assert_html_page(response, 200)
    assert _tag_links(response.text) == []
    assert "No tags yet" in response.text


@pytest.mark.parametrize(
    ("tag", "href"),
    [
        ("c++", "/tags/c%2B%2B"),
        ("c#", "/tags/c%23"),
        ("node.js", "/tags/node.js"),
        ("café", "/tags/caf%C3%A9"),
    ],
)
def test_tags_with_symbols_work_from_the_form_to_their_page(client, logged_in, session, tag, href):
    location = _write(client, tag.upper(), title="Symbols").headers["location"]
    blog_id = int(location.split("/")[2])

    blog_page = client.get(location).text
    tag_page = client.get(href)

    assert _tag_links(blog_page) == [href]
    assert _tag_links(client.get("/tags").text) == [href]
    assert_html_page(tag_page, 200)
    assert blog_ids_on(tag_page.text) == [blog_id]
    assert f"#{tag}" in unescape(tag_page.text)


@pytest.mark.parametrize(
    "path",
    [
        "/tags/a%00b",
        "/tags/a%00b/feed.xml",
        "/tags/%C3%28",
        "/tags/%20%20",
        "/tags/a%2Fb",
        "/tags/" + "x" * 200,
        "/tags/" + "x" * 200 + "/feed.xml",
    ],
)
def test_an_address_that_cannot_name_a_tag_is_a_404_page(client, make_blog, path):
    make_blog(tags=["python"])

    assert_html_page(client.get(path), 404)


def test_a_tag_address_keeps_its_page_number_when_redirected(client, make_blog):
    make_blog(tags=["python"])

    response = client.get("/tags/Python?page=2")

    assert response.status_code == 301
    assert response.headers["location"] == "/tags/python?page=2"


@pytest.mark.parametrize(
    ("path", "normal"),
    [
        ("/tags/C%23", "/tags/c%23"),
        ("/tags/%23python", "/tags/python"),
        ("/tags/%23%23python", "/tags/python"),
        ("/tags/%23python/feed.xml", "/tags/python/feed.xml"),
        ("/tags/C%23/feed.xml", "/tags/c%23/feed.xml"),
    ],
)
def test_a_tag_address_with_a_hash_reaches_its_page_in_one_redirect(
    client, make_blog, path, normal
):
    make_blog(tags=["python", "c#"])

    response = client.get(path)

    assert response.status_code == 301
    assert response.headers["location"] == normal
    assert client.get(normal).status_code == 200
