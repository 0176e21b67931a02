"""A reader finds blogs by the words in them, from the search box on every page."""

import re

import pytest

from tests.e2e.conftest import PAGE_SIZE, path, path_of

pytestmark = pytest.mark.e2e


def search_from_header(page, words: str) -> None:
    box = page.locator("form.search-form #site-search")
    box.fill(words)
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))


def test_a_reader_searches_sees_the_words_marked_and_opens_a_result(page, seed):
    baker = seed.author("Julia Baker")
    loaf = seed.blog(
        baker, "Sourdough for beginners", "Feed the starter, then bake the bread at dawn."
    )
    seed.blog(baker, "Pancakes", "Nothing to do with the other loaf of bread.")
    seed.blog(baker, "Secret sourdough bread notes", "Not ready yet.", draft=True)
    seed.blog(baker, "Gardening", "Tomatoes and beans.")

    page.goto("/")
    search_from_header(page, "sourdough bread")
    assert page.get_by_role("heading", level=1).inner_text() == "Search"
    results = page.locator("li.search-result")
    assert results.count() == 1
    result = results.first
    assert result.locator(".blog-card-title").inner_text() == "Sourdough for beginners"
    marked = {text.lower() for text in result.locator("mark").all_inner_texts()}
    assert marked == {"sourdough", "bread"}
    assert result.locator(".snippet mark").all_inner_texts() == ["bread"]
    # The page's own box keeps what was asked.
    assert page.locator("#search-page-query").input_value() == "sourdough bread"

    search_from_header(page, "zeppelin")
    assert page.locator("li.search-result").count() == 0
    assert "No published blog matches “zeppelin”" in page.locator("main .empty").inner_text()

    search_from_header(page, "bread")
    titles = page.locator("li.search-result .blog-card-title").all_inner_texts()
    assert sorted(titles) == ["Pancakes", "Sourdough for beginners"]
    page.locator("li.search-result").get_by_role("link", name="Sourdough for beginners").click()
    page.wait_for_url(f"**{path_of(loaf)}")
    assert page.get_by_role("heading", level=1).inner_text() == "Sourdough for beginners"


def test_many_results_are_paged_like_the_home_page(page, seed):
    author = seed.author("Ada")
    for number in range(PAGE_SIZE + 2):
        seed.blog(author, f"Engine note {number:02}", "The analytical engine weaves.")
    seed.blog(author, "Unrelated", "Nothing here.")

    page.goto("/search?q=engine")
    assert page.locator("li.search-result").count() == PAGE_SIZE
    page.get_by_role("link", name="Older").click()
    page.wait_for_url(re.compile(r"/search\?q=engine&page=2$"))
    assert page.locator("li.search-result").count() == 2
    assert page.get_by_role("link", name="Older").count() == 0
    page.get_by_role("link", name="Newer").click()
    page.wait_for_url(re.compile(r"/search\?q=engine&page=1$"))
    assert page.locator("li.search-result").count() == PAGE_SIZE
    assert path(page).startswith("/search?q=engine")
