"""Comments in a real browser: a reader comments, edits and deletes; an author approves a
comment that waited; nothing a commenter types runs in anyone's browser."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import log_in, path_of

pytestmark = pytest.mark.e2e

# Typed into a comment that waits for approval: shown, approved and shown again, it must
# never open a dialog (the `page` fixture fails the test if one opens).
HOSTILE = """Nice post! <img src=x onerror="alert('img')"> <script>alert('script')</script>

[click me](javascript:alert('link'))"""


def _comment(page, text: str):
    """The comment on the page whose body holds `text`."""
    return page.locator("li.comment").filter(has_text=text)


def test_a_reader_comments_edits_and_deletes(page, seed):
    author = seed.author("Ada Lovelace")
    blog = seed.blog(author, "Notes on the engine")
    reader = seed.author("Rita Reader", joined=datetime.now(UTC) - timedelta(days=30))
    log_in(page, reader.email)

    page.goto(path_of(blog))
    page.get_by_role("textbox", name="Comment", exact=True).fill("Thanks for **this** one.")
    page.get_by_role("button", name="Post comment").click()
    page.wait_for_url(re.compile(r"#comment-\d+$"))
    assert "Your comment is posted." in page.locator(".flashes").inner_text()
    comment = _comment(page, "Thanks for this one.")
    assert comment.locator("strong").inner_text() == "this"
    assert comment.get_by_role("link", name="Rita Reader").count() == 1
    assert page.get_by_role("heading", name="1 comment").count() == 1

    comment.get_by_role("link", name="Edit").click()
    page.get_by_role("textbox", name="Comment", exact=True).fill("Thanks for this one, truly.")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"#comment-\d+$"))
    comment = _comment(page, "Thanks for this one, truly.")
    assert "edited" in comment.locator(".comment-meta").inner_text()

    comment.get_by_role("button", name="Delete").click()
    page.wait_for_url(re.compile(r"#comments$"))
    assert "The comment is deleted." in page.locator(".flashes").inner_text()
    assert page.locator("li.comment").count() == 0
    assert page.get_by_text("No comments yet.").is_visible()


def test_an_author_approves_a_comment_that_waited(page, open_page, seed):
    author = seed.author("Ada Lovelace")
    blog = seed.blog(author, "Notes on the engine")
    newcomer = seed.author("Nina Newcomer")  # signed up just now: her comments wait
    log_in(page, newcomer.email)
    page.goto(path_of(blog))
    page.get_by_role("textbox", name="Comment", exact=True).fill(HOSTILE)
    page.get_by_role("button", name="Post comment").click()
    page.wait_for_url(re.compile(r"#comment-\d+$"))
    assert "waiting for the author's approval" in page.locator(".flashes").inner_text()
    waiting = _comment(page, "Nice post!")
    assert waiting.get_by_text("Waiting for approval").is_visible()

    reader = open_page()
    reader.goto(path_of(blog))
    assert reader.locator("li.comment").count() == 0

    moderator = open_page()
    log_in(moderator, author.email)
    moderator.get_by_role("link", name="Your page (Ada Lovelace)").click()
    moderator.get_by_role("link", name="Comments waiting for approval").click()
    moderator.wait_for_url(re.compile(r"/comments/pending$"))
    held = _comment(moderator, "Nice post!")
    assert held.get_by_role("link", name="Notes on the engine").count() == 1
    assert held.locator("script, img[onerror], a[href^='javascript' i]").count() == 0
    held.get_by_role("button", name="Approve").click()
    moderator.wait_for_url(re.compile(r"/comments/pending$"))
    assert "approved" in moderator.locator(".flashes").inner_text()
    assert moderator.get_by_text("No comments are waiting for approval.").is_visible()

    reader.reload()
    shown = _comment(reader, "Nice post!")
    assert shown.get_by_role("link", name="Nina Newcomer").count() == 1
    assert shown.locator("script, img[onerror], a[href^='javascript' i]").count() == 0
    shown.get_by_text("click me").click()
    assert reader.get_by_role("heading", name="1 comment").count() == 1
