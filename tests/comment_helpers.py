"""What the comment tests share: posting through the blog page's form, and reading comments."""

import re
from datetime import datetime, timedelta
from html import unescape

import httpx2
from fastapi.testclient import TestClient

from blog.models import Blog, utc_now
from tests.conftest import submit_form

# Older than the day a new account's comments wait for approval.
SETTLED = timedelta(days=2)
_COMMENT = re.compile(r'<li class="comment[^"]*" id="comment-(\d+)">(.*?)</li>', re.S)
_BODY = re.compile(r'<div class="blog-body comment-body">(.*?)</div>', re.S)


def post_comment(
    client: TestClient, blog: Blog, body: str = "Well said.", **fields: str
) -> httpx2.Response:
    """Fill in the comment form on the blog's page and send it, with its CSRF token."""
    return submit_form(
        client, blog.path, {"body": body, **fields}, action=f"/blogs/{blog.id}/comments"
    )


def comment_id_from(response: httpx2.Response) -> int:
    """The id in a 303's `…#comment-{id}`."""
    assert response.status_code == 303, response.text[:2000]
    match = re.search(r"#comment-(\d+)$", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def shown_comments(html: str) -> dict[int, str]:
    """The comments a page shows, by id: each one's text (the body's HTML, unescaped)."""
    return {
        int(comment_id): unescape(_BODY.search(block).group(1)).strip()
        for comment_id, block in _COMMENT.findall(html)
    }


def comments_section(html: str) -> str:
    start = html.find('<section class="comments"')
    assert start >= 0, "the page has no comments section"
    return html[start : html.index("</section>", start)]


def settled() -> datetime:
    """A sign-up time old enough for an account's comments to show at once."""
    return utc_now() - SETTLED
