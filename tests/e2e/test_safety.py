"""Whatever an author types, nothing they write runs in a reader's browser.

Titles are shown as text; bodies are Markdown, whose HTML is cleaned down to harmless tags.
"""

import re

import pytest

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e

TITLE = "<script>alert('title')</script><img src=x onerror=alert('img')> & <b>bold</b>"
BODY = """<script>alert('body')</script>

<a href="javascript:alert('link')" onclick="alert('click')">click</a> and \
<b onmouseover="alert('b')">bold</b>

<img src="x" onerror="alert('img')"> <iframe src="javascript:alert('frame')"></iframe>

<style>body { display: none }</style>

[a markdown link](javascript:alert('md'))
"""


def test_html_in_a_title_is_shown_as_text_and_nothing_in_a_body_runs(page, seed, problems):
    author = seed.author("Mallory")
    log_in(page, author.email)
    page.goto("/blogs/new")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Body").fill(BODY)
    page.get_by_role("button", name="Preview").click()
    page.locator("section.preview").wait_for()
    assert page.locator("section.preview :is(script, iframe, style, [onerror])").count() == 0
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r"/blogs/\d+/[^/]+$"))

    assert page.get_by_role("heading", level=1).inner_text() == TITLE
    assert TITLE in page.title()
    assert page.locator("main script, .blog-header img, .blog-header b").count() == 0
    body = page.locator(".blog-body")
    dangerous = ":is(script, iframe, style, [onclick], [onerror], [onmouseover], [style])"
    assert body.locator(dangerous).count() == 0
    assert body.locator("a[href^='javascript' i]").count() == 0
    assert "click and bold" in body.inner_text()
    body.get_by_text("click and bold").hover()
    body.get_by_text("click", exact=True).click()
    assert page.locator("body").is_visible()

    page.goto("/")
    assert page.locator(".blog-card-title").first.inner_text() == TITLE
    assert page.locator("main script, main img, main b").count() == 0
    assert problems.dialogs == []
