"""Blog addresses (/blogs/{id}/{slug}) and what list pages show of each blog."""

import re
from html import unescape

import pytest

from tests.conftest import assert_html_page, submit_form

# What this checks does not depend on the database: the PostgreSQL run leaves it out.
pytestmark = pytest.mark.same_on_every_database

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _written(client, title: str, body: str = "Words.") -> tuple[int, str]:
    """Write a blog through the form; its id and the address the 303 names."""
    response = submit_form(client, "/blogs/new", {"title": title, "body": body})
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    return int(location.split("/")[2]), location


def _slug_of(location: str) -> str:
    match = re.fullmatch(r"/blogs/\d+/([^/]+)", location)
    assert match, location
    return match.group(1)


# Addresses


def test_writing_a_blog_redirects_to_its_address_with_a_slug(client, logged_in):
    blog_id, location = _written(client, "Hello, World!")

    assert location == f"/blogs/{blog_id}/hello-world"
    assert_html_page(client.get(location), 200)


def test_editing_a_blog_redirects_to_its_address_with_the_new_slug(client, logged_in, make_blog):
    blog = make_blog(author=logged_in, title="Before")

    response = submit_form(
        client, f"/blogs/{blog.id}/edit", {"title": "After the edit", "body": blog.body}
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/blogs/{blog.id}/after-the-edit"


def test_the_short_address_moves_permanently_to_the_one_with_the_slug(client, make_blog):
    blog = make_blog(title="Short and sweet")

    response = client.get(f"/blogs/{blog.id}")

    assert response.status_code == 301
    assert response.headers["location"] == f"/blogs/{blog.id}/short-and-sweet"


@pytest.mark.parametrize("stale", ["wrong-slug", "Short-And-Sweet", "short-and-swee"])
def test_a_stale_slug_moves_permanently_to_the_current_one(client, make_blog, stale):
    blog = make_blog(title="Short and sweet")

    response = client.get(f"/blogs/{blog.id}/{stale}")

    assert response.status_code == 301
    assert response.headers["location"] == f"/blogs/{blog.id}/short-and-sweet"


def test_after_a_title_edit_the_old_address_moves_to_the_new_one(client, logged_in):
    blog_id, old_location = _written(client, "First title")

    submit_form(client, f"/blogs/{blog_id}/edit", {"title": "Second title", "body": "Words."})
    response = client.get(old_location)

    assert response.status_code == 301
    assert response.headers["location"] == f"/blogs/{blog_id}/second-title"
    assert_html_page(client.get(response.headers["location"]), 200)


def test_the_blog_page_names_its_current_address_as_canonical(client, make_blog):
    blog = make_blog(title="Canonical")

    html = client.get(f"/blogs/{blog.id}/canonical").text

    assert f'<link rel="canonical" href="http://testserver/blogs/{blog.id}/canonical">' in html


@pytest.mark.parametrize("suffix", ["", "/any-slug"])
def test_an_unknown_blog_is_a_404_at_either_address(client, suffix):
    assert_html_page(client.get(f"/blogs/999{suffix}"), 404)


@pytest.mark.parametrize("title", ["Edit", "Delete", "EDIT", " delete "])
def test_a_title_that_reads_like_a_page_of_the_blog_gets_a_slug_of_its_own(
    client, logged_in, title
):
    blog_id, location = _written(client, title)

    slug = _slug_of(location)
    assert slug not in ("edit", "delete")
    page = client.get(location)
    assert_html_page(page, 200)
    assert '<div class="blog-body"><p>Words.</p>' in page.text
    # The blog's own edit and delete pages are still those pages.
    for page in ("edit", "delete"):
        form_page = client.get(f"/blogs/{blog_id}/{page}").text
        assert f'action="/blogs/{blog_id}/{page}"' in form_page


@pytest.mark.parametrize(
    "title",
    [
        "Über Straße",
        "Ça va très bien",
        "你好世界",
        "Привет мир",
        "🎉🎉🎉",
        "!!!",
        "مرحبا بالعالم",
    ],
)
def test_a_title_in_any_script_gets_a_usable_address(client, logged_in, title):
    blog_id, location = _written(client, title)

    assert SLUG.fullmatch(_slug_of(location))
    page = client.get(location)
    assert_html_page(page, 200)
    assert title in unescape(page.text)
    assert client.get(f"/blogs/{blog_id}").headers["location"] == location


def test_a_long_title_gets_a_slug_of_at_most_eighty_characters_on_a_word_boundary(
    client, logged_in
):
    title = " ".join(["wonderful"] * 20)

    _, location = _written(client, title)

    slug = _slug_of(location)
    assert len(slug) <= 80
    assert set(slug.split("-")) == {"wonderful"}


# What list pages show of each blog


def _card(html: str, blog_id: int) -> str:
    """The list entry of one blog."""
    match = re.search(
        rf'<li class="(?:blog-card|search-result)">\s*<article>\s*<h[23] class="blog-card-title">'
        rf'<a href="/blogs/{blog_id}/.*?</li>',
        html,
        re.S,
    )
    assert match, f"blog {blog_id} is not listed"
    return match.group(0)


def _excerpt(card: str) -> str:
    return unescape(re.search(r'<p class="excerpt">(.*?)</p>', card, re.S).group(1))


LIST_PAGES = ["/", "/users/{author}", "/tags/listed"]


@pytest.mark.parametrize("page", LIST_PAGES)
def test_list_pages_show_an_excerpt_as_plain_text(client, make_blog, page):
    blog = make_blog(
        body="Some **bold** and _slanted_ words with `code`,\n\n<em>raw</em> & a [link](https://example.com).",
        tags=["listed"],
    )

    card = _card(client.get(page.format(author=blog.author_id)).text, blog.id)

    assert _excerpt(card) == "Some bold and slanted words with code, raw & a link."
    assert "<strong>" not in card and "<em>" not in card and "**" not in card


def test_an_excerpt_of_a_long_body_is_cut_on_a_whole_word(client, make_blog):
    blog = make_blog(body="word " * 100 + "lastword")

    excerpt = _excerpt(_card(client.get("/").text, blog.id))

    assert excerpt.endswith("…")
    assert len(excerpt) <= 201
    assert set(excerpt.removesuffix("…").split()) == {"word"}


def test_an_excerpt_never_carries_markup_from_the_body(client, make_blog):
    blog = make_blog(body='<script>alert("x")</script><img src=x onerror=alert(1)>Hello')

    card = _card(client.get("/").text, blog.id)

    assert "<script" not in card and "<img" not in card and "onerror" not in _excerpt(card)


@pytest.mark.parametrize(("words", "minutes"), [(1, 1), (200, 1), (201, 2), (1000, 5), (1001, 6)])
def test_list_pages_show_the_reading_time_in_whole_minutes(client, make_blog, words, minutes):
    blog = make_blog(body=" ".join(["word"] * words))

    card = _card(client.get("/").text, blog.id)

    assert re.search(rf"\b{minutes} min read\b", card)


@pytest.mark.parametrize("page", [*LIST_PAGES, "/search?q=thousand", "/blogs/{blog}/long"])
def test_every_page_showing_a_blog_shows_its_reading_time(client, make_blog, page):
    blog = make_blog(title="Long", body="thousand " * 1000, tags=["listed"])

    html = client.get(page.format(author=blog.author_id, blog=blog.id)).text

    assert "5 min read" in html


def test_the_reading_time_counts_the_words_a_reader_sees_not_the_markup(client, make_blog):
    # 200 visible words; the abbreviation's title would push a raw count far past 200.
    hidden = " ".join(["hidden"] * 300)
    blog = make_blog(body=" ".join(["word"] * 199) + f' <abbr title="{hidden}">last</abbr>')

    assert "1 min read" in _card(client.get("/").text, blog.id)
