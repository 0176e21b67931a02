"""A profile's bio: up to 1,000 characters of plain text, its lines kept, shown escaped on the
author's page and as their Atom feed's subtitle."""

import re
import xml.etree.ElementTree as ET
from html import unescape

import feedparser
import pytest

from blog.models import BIO_MAX_LENGTH, User
from tests.conftest import (
    assert_html_page,
    csrf_token_of,
    field_error,
    field_value,
    submit_form,
)

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def settings(settings):
    """A site description, for the feeds of authors without a bio."""
    return settings.model_copy(update={"site_description": "A site about fruit."})


def _profile(user: User, **fields: str) -> dict[str, str]:
    return {"name": user.name, "email": user.email, **fields}


def _stored_bio(session, user: User) -> str:
    session.expire_all()
    return session.get(User, user.id).bio


def _shown_bio(html: str) -> str | None:
    match = re.search(r'<p class="author-bio">(.*?)</p>', html, re.S)
    return unescape(match.group(1)) if match else None


def _subtitle(client, user: User) -> str | None:
    response = client.get(f"/users/{user.id}/feed.xml")
    assert response.status_code == 200
    assert not feedparser.parse(response.content).bozo
    return ET.fromstring(response.content).findtext(f"{ATOM}subtitle")  # noqa: S314 - ours


def test_the_profile_form_has_the_bio_as_saved(client, logged_in, session):
    logged_in.bio = "Gardener.\nWriter."
    session.add(logged_in)
    session.commit()

    html = client.get(f"/users/{logged_in.id}/edit").text

    assert field_value(html, "bio") == "Gardener.\nWriter."


def test_saving_a_bio_keeps_its_lines_as_one_kind_of_line_break(client, logged_in, session):
    bio = "I grow apples.\r\n\r\nAnd write about them."

    response = submit_form(client, f"/users/{logged_in.id}/edit", _profile(logged_in, bio=bio))

    assert response.status_code == 303
    assert _stored_bio(session, logged_in) == "I grow apples.\n\nAnd write about them."


def test_the_author_page_shows_the_bio_with_its_lines(client, logged_in):
    submit_form(client, f"/users/{logged_in.id}/edit", _profile(logged_in, bio="One.\nTwo."))

    assert _shown_bio(client.get(f"/users/{logged_in.id}").text) == "One.\nTwo."


def test_the_bio_is_plain_text_escaped_everywhere(client, logged_in):
    bio = '<script>alert(1)</script> **not bold** <a href="x">link</a> & more'

    submit_form(client, f"/users/{logged_in.id}/edit", _profile(logged_in, bio=bio))
    page = client.get(f"/users/{logged_in.id}").text

    assert "<script>alert(1)</script>" not in page
    assert '<a href="x">' not in page
    assert "<strong>" not in page
    assert _shown_bio(page) == bio
    assert _subtitle(client, logged_in) == bio


def test_a_bio_of_1000_characters_is_saved(client, logged_in, session):
    bio = "x" * BIO_MAX_LENGTH

    response = submit_form(client, f"/users/{logged_in.id}/edit", _profile(logged_in, bio=bio))

    assert response.status_code == 303
    assert _stored_bio(session, logged_in) == bio


def test_a_bio_longer_than_1000_characters_is_refused_at_the_field_keeping_it(
    client, logged_in, session
):
    bio = "x" * (BIO_MAX_LENGTH + 1)

    response = submit_form(client, f"/users/{logged_in.id}/edit", _profile(logged_in, bio=bio))

    assert_html_page(response, 422)
    assert field_error(response.text, "bio") == "Must be at most 1,000 characters."
    assert field_value(response.text, "bio") == bio
    assert _stored_bio(session, logged_in) == ""


def test_a_bio_with_a_nul_character_is_refused_at_the_field(client, logged_in):
    response = submit_form(
        client, f"/users/{logged_in.id}/edit", _profile(logged_in, bio="bad\x00bio")
    )

    assert_html_page(response, 422)
    assert field_error(response.text, "bio")


def test_an_empty_bio_clears_it_and_shows_none(client, logged_in, session):
    submit_form(client, f"/users/{logged_in.id}/edit", _profile(logged_in, bio="Something."))

    submit_form(client, f"/users/{logged_in.id}/edit", _profile(logged_in, bio="   \n  "))

    assert _stored_bio(session, logged_in) == ""
    assert _shown_bio(client.get(f"/users/{logged_in.id}").text) is None


def test_a_profile_form_without_the_bio_field_keeps_the_bio(client, logged_in, session):
    submit_form(client, f"/users/{logged_in.id}/edit", _profile(logged_in, bio="Kept."))

    response = client.post(
        f"/users/{logged_in.id}/edit",
        data={**_profile(logged_in, name="Renamed"), "csrf_token": csrf_token_of(client)},
    )

    assert response.status_code == 303
    assert _stored_bio(session, logged_in) == "Kept."


def test_the_authors_feed_subtitle_is_their_bio(client, logged_in):
    submit_form(client, f"/users/{logged_in.id}/edit", _profile(logged_in, bio="Apples."))

    assert _subtitle(client, logged_in) == "Apples."


def test_without_a_bio_the_authors_feed_subtitle_is_the_sites_description(client, logged_in):
    assert _subtitle(client, logged_in) == "A site about fruit."
