"""Cards in lists are drawn once and kept (blog.pages.CardCache): a kept card is never stale.

Logged in, so each page is drawn (the page cache serves only visitors without a session), and
every card comes from the card cache.
"""

import re
from dataclasses import replace

import pytest

from blog.blogs import blog_summary
from blog.pages import CardCache
from tests.conftest import submit_form

# What this checks does not depend on the database: the PostgreSQL run leaves it out.
pytestmark = pytest.mark.same_on_every_database

_CARD = re.compile(r'<li class="blog-card">(.*?)</li>\s*(?=<li class="blog-card">|</ol>)', re.S)


def _cards(html: str) -> list[str]:
    return _CARD.findall(html)


def _card_of(html: str, blog_id: int) -> str:
    (card,) = [card for card in _cards(html) if f'href="/blogs/{blog_id}/' in card]
    return card


def test_a_card_drawn_before_its_blog_was_edited_shows_the_edit(client, logged_in, make_blog):
    blog = make_blog(author=logged_in, title="First thoughts", body="Early words.")
    assert "First thoughts" in _card_of(client.get("/").text, blog.id)

    response = submit_form(
        client, f"/blogs/{blog.id}/edit", {"title": "Second thoughts", "body": "Later words."}
    )

    assert response.status_code == 303
    card = _card_of(client.get("/").text, blog.id)
    assert "Second thoughts" in card
    assert "Later words." in card
    assert "First thoughts" not in card


def test_a_card_drawn_before_its_author_was_renamed_shows_the_new_name(
    client, logged_in, make_blog
):
    blog = make_blog(author=logged_in)
    assert logged_in.name in _card_of(client.get("/").text, blog.id)

    response = submit_form(
        client,
        f"/users/{logged_in.id}/edit",
        {"name": "Renamed Author", "email": logged_in.email, "bio": ""},
    )

    assert response.status_code == 303
    card = _card_of(client.get("/").text, blog.id)
    assert ">Renamed Author</a>" in card


def test_a_card_drawn_before_a_comment_shows_the_new_count(
    client, logged_in, make_blog, make_comment
):
    blog = make_blog()
    assert "comment" not in _card_of(client.get("/").text, blog.id)

    make_comment(blog=blog)

    assert "1 comment</a>" in _card_of(client.get("/").text, blog.id)


def test_a_card_is_drawn_once_and_kept(app, session, make_blog):
    blog = make_blog()
    summary = blog_summary(session=session, blog_id=blog.id)
    cards = CardCache(app.state.templates.env)

    first = cards(summary)

    assert cards(summary) is first
    assert blog.title in first


def test_the_cards_kept_are_bounded(app, session, make_blog):
    blogs = [make_blog() for _ in range(3)]
    cards = CardCache(app.state.templates.env, size=2)

    for blog in blogs:
        cards(blog_summary(session=session, blog_id=blog.id))

    assert len(cards) == 2


def test_a_blog_with_the_same_id_and_times_but_another_body_gets_its_own_card(
    app, session, make_blog
):
    """As after a delete that frees the newest id, or a database put back from a copy."""
    summary = blog_summary(session=session, blog_id=make_blog(body="Short.").id)
    cards = CardCache(app.state.templates.env)
    cards(summary)

    card = cards(replace(summary, body="Longer words " * 400))

    assert "Longer words" in card
    assert "Short." not in card
