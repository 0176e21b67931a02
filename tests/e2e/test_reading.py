"""A reader, not logged in, finds their way around."""

import re

import pytest

pytestmark = pytest.mark.e2e

PAGE_SIZE = 20


def titles_on(page) -> list[str]:
    return page.locator(".blog-card-title").all_inner_texts()


def test_a_reader_pages_through_blogs_newest_first(page, seed):
    author = seed.author("Grace")
    titles = [seed.blog(author, f"Blog {number:02}").title for number in range(1, PAGE_SIZE + 4)]
    newest_first = titles[::-1]

    page.goto("/")
    assert titles_on(page) == newest_first[:PAGE_SIZE]

    page.get_by_role("link", name="Older").click()
    page.wait_for_url(re.compile(r"\?page=2$"))
    assert titles_on(page) == newest_first[PAGE_SIZE:]
    assert page.get_by_role("link", name="Older").count() == 0

    page.get_by_role("link", name="Newer").click()
    page.wait_for_url(re.compile(r"\?page=1$"))
    assert titles_on(page) == newest_first[:PAGE_SIZE]


def test_a_reader_opens_a_blog_and_follows_the_author_link(page, seed):
    author = seed.author("Katherine Johnson")
    seed.blog(author, "Orbits", "Trajectories, by hand.\n\nThen checked twice.")
    seed.blog(seed.author("Someone Else"), "Another story")

    page.goto("/")
    page.get_by_role("link", name="Orbits").click()
    page.wait_for_url("**/blogs/*")
    assert page.get_by_role("heading", level=1).inner_text() == "Orbits"
    assert page.locator(".blog-body p").all_inner_texts() == [
        "Trajectories, by hand.",
        "Then checked twice.",
    ]

    page.locator(".blog-header").get_by_role("link", name="Katherine Johnson").click()
    page.wait_for_url(f"**/users/{author.id}")
    assert page.get_by_role("heading", level=1).inner_text() == "Katherine Johnson"
    assert titles_on(page) == ["Orbits"]
