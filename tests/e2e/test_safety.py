"""Whatever an author types is shown as text; nothing they write runs in a reader's browser."""

import pytest

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e

TITLE = "<script>alert('title')</script><img src=x onerror=alert('img')> & <b>bold</b>"
BODY = "<script>alert('body')</script>\n\n<a href=\"javascript:alert('link')\">click</a>"


def test_html_in_a_title_is_shown_as_text_and_no_script_runs(page, seed, problems):
    author = seed.author("Mallory")
    log_in(page, author.email)
    page.goto("/blogs/new")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Body").fill(BODY)
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url("**/blogs/*")

    assert page.get_by_role("heading", level=1).inner_text() == TITLE
    assert page.locator(".blog-body p").all_inner_texts() == BODY.split("\n\n")
    assert page.locator("main script, main img, main b, .blog-body a").count() == 0
    assert TITLE in page.title()

    page.goto("/")
    assert page.locator(".blog-card-title").first.inner_text() == TITLE
    assert page.locator("main script, main img, main b").count() == 0
    assert problems.dialogs == []
