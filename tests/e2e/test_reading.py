"""A reader, not logged in, finds their way around."""

import re

import pytest

from tests.e2e.conftest import PAGE_SIZE, path, path_of

pytestmark = pytest.mark.e2e

ORBITS = """Trajectories, worked out by hand and then checked twice.

## How the numbers were checked

- First by hand
- Then on the machine

| Flight | Orbits |
|--------|-------:|
| Friendship 7 | 3 |
| Aurora 7 | 3 |
"""


def titles_on(page) -> list[str]:
    return page.locator(".blog-card-title").all_inner_texts()


def test_a_reader_pages_through_blogs_newest_first(page, seed):
    author = seed.author("Grace")
    titles = [seed.blog(author, f"Blog {number:02}").title for number in range(1, PAGE_SIZE + 4)]
    newest_first = titles[::-1]

    page.goto("/")
    assert titles_on(page) == newest_first[:PAGE_SIZE]

    page.get_by_role("link", name="Older").click()
    # Older blogs: those published before the last one shown, named by an opaque cursor.
    page.wait_for_url(re.compile(r"/\?before=[\w-]+$"))
    assert titles_on(page) == newest_first[PAGE_SIZE:]
    assert page.get_by_role("link", name="Older").count() == 0

    page.get_by_role("link", name="Newer").click()
    page.wait_for_url(re.compile(r"\?page=1$"))
    assert titles_on(page) == newest_first[:PAGE_SIZE]


def test_a_reader_browses_opens_a_blog_follows_its_tag_and_then_its_author(page, seed):
    katherine = seed.author("Katherine Johnson")
    seed.blog(katherine, "Slide rules", "Still in the drawer.", tags=["tools"])
    seed.blog(seed.author("Someone Else"), "Another orbit", tags=["space"])
    filler = seed.author("Grace")
    for number in range(PAGE_SIZE - 1):
        seed.blog(filler, f"Filler {number:02}", "Words " * 450)
    orbits = seed.blog(katherine, "Orbits, by hand", ORBITS, tags=["space", "maths"])

    page.goto("/")
    first_card = page.locator(".blog-card").first
    assert first_card.locator(".blog-card-title").inner_text() == "Orbits, by hand"
    excerpt = first_card.locator(".excerpt").inner_text()
    assert excerpt.startswith("Trajectories, worked out by hand and then checked twice.")
    assert "##" not in excerpt and "|" not in excerpt
    assert "1 min read" in first_card.locator(".meta").inner_text()
    assert "3 min read" in page.locator(".blog-card").nth(1).locator(".meta").inner_text()
    assert "Slide rules" not in titles_on(page)

    page.get_by_role("link", name="Older").click()
    page.wait_for_url(re.compile(r"/\?before=[\w-]+$"))
    assert titles_on(page) == ["Another orbit", "Slide rules"]
    page.get_by_role("link", name="Newer").click()
    page.wait_for_url(re.compile(r"/\?page=1$"))

    page.get_by_role("link", name="Orbits, by hand").click()
    page.wait_for_url(f"**/blogs/{orbits.id}/orbits-by-hand")
    assert path(page) == path_of(orbits)
    assert page.get_by_role("heading", level=1).inner_text() == "Orbits, by hand"
    body = page.locator(".blog-body")
    assert body.get_by_role("heading", level=2).inner_text() == "How the numbers were checked"
    assert body.locator("ul > li").all_inner_texts() == ["First by hand", "Then on the machine"]
    assert body.locator("table th").all_inner_texts() == ["Flight", "Orbits"]
    assert body.locator("table tbody tr").count() == 2
    assert "|" not in body.inner_text()

    page.locator("a.tag", has_text="#space").click()
    page.wait_for_url("**/tags/space")
    assert page.get_by_role("heading", level=1).inner_text() == "Blogs tagged #space"
    assert titles_on(page) == ["Orbits, by hand", "Another orbit"]

    page.locator(".blog-card").first.get_by_role("link", name="Katherine Johnson").click()
    page.wait_for_url(f"**/users/{katherine.id}")
    assert page.get_by_role("heading", level=1).inner_text() == "Katherine Johnson"
    assert titles_on(page) == ["Orbits, by hand", "Slide rules"]
    assert page.get_by_text("Drafts and scheduled blogs").count() == 0


def test_an_old_short_address_leads_to_the_blog(page, seed):
    blog = seed.blog(seed.author("Katherine Johnson"), "Orbits, by hand", ORBITS)

    page.goto(f"/blogs/{blog.id}")
    assert path(page) == path_of(blog) == f"/blogs/{blog.id}/orbits-by-hand"
    page.goto(f"/blogs/{blog.id}/an-old-title")
    assert path(page) == path_of(blog)
    assert page.get_by_role("heading", level=1).inner_text() == "Orbits, by hand"
