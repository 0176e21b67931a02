"""An author's whole round trip through the forms, and two tabs that disagree."""

import re

import pytest

from tests.e2e.conftest import log_in, path, path_of

pytestmark = pytest.mark.e2e

MARKDOWN = """## What it does

It weaves **algebraic patterns**, just as the loom weaves flowers.

- It adds
- It multiplies

```python
print("Bernoulli numbers")
```

| Operation | Cards |
|-----------|-------|
| Add       | 1     |
| Multiply  | 2     |
"""
BLOG_ADDRESS = re.compile(r"/blogs/(\d+)/notes-on-the-engine$")


def is_on_home(visitor, title: str) -> bool:
    visitor.goto("/")
    return title in visitor.locator(".blog-card-title").all_inner_texts()


def test_an_author_signs_up_previews_drafts_publishes_edits_and_deletes_a_blog(page, open_page):
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill("analytical engine")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("button", name="Log out").wait_for()

    # Write, and preview before saving anything.
    page.get_by_role("link", name="Write", exact=True).click()
    page.get_by_label("Title").fill("Notes on the engine")
    page.get_by_label("Body").fill(MARKDOWN)
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("section.preview")
    preview.wait_for()
    assert preview.locator("strong").inner_text() == "algebraic patterns"
    assert preview.get_by_role("heading", name="What it does").count() == 1
    assert preview.locator("li").all_inner_texts() == ["It adds", "It multiplies"]
    assert preview.locator("pre code").inner_text().strip() == 'print("Bernoulli numbers")'
    assert preview.locator("table th").all_inner_texts() == ["Operation", "Cards"]
    assert page.get_by_label("Title").input_value() == "Notes on the engine"
    assert page.get_by_label("Body").input_value() == MARKDOWN
    other_tab = open_page(page.context)
    assert not is_on_home(other_tab, "Notes on the engine")
    other_tab.get_by_role("link", name="Your page (Ada Lovelace)").click()
    assert other_tab.locator(".blog-card").count() == 0
    other_tab.close()

    # Save it as a draft: only its author sees it.
    page.get_by_label("Save as a draft (only you see it)").check()
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(BLOG_ADDRESS)
    blog_path = path(page)
    assert page.locator(".badge-draft").inner_text() == "Draft"
    assert "Your draft is saved" in page.locator(".flashes").inner_text()
    assert page.get_by_role("heading", level=1).inner_text() == "Notes on the engine"
    body = page.locator(".blog-body")
    assert body.locator("strong").inner_text() == "algebraic patterns"
    assert body.locator("table").count() == 1
    assert body.locator("pre code").count() == 1
    page.get_by_role("link", name="Your page (Ada Lovelace)").click()
    page.wait_for_url(re.compile(r"/users/\d+$"))
    drafts = page.locator("section.unpublished")
    assert drafts.count() == 1, "the author's page does not list their draft"
    assert "Drafts and scheduled blogs" in drafts.get_by_role("heading", level=2).inner_text()
    assert drafts.locator(".blog-card-title").all_inner_texts() == ["Notes on the engine"]

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Log in").wait_for()
    assert page.goto(blog_path).status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Page not found"
    assert not is_on_home(page, "Notes on the engine")

    # Publish it, with tags.
    log_in(page, "ada@example.com", "analytical engine")
    page.goto(blog_path)
    page.get_by_role("link", name="Edit", exact=True).click()
    assert page.get_by_label("Save as a draft (only you see it)").is_checked()
    page.get_by_label("Publish now").check()
    page.get_by_label("Tags").fill("Engines, history")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"**{blog_path}")
    assert page.locator(".badge").count() == 0
    assert page.locator(".blog a.tag").all_inner_texts() == ["#engines", "#history"]

    visitor = open_page()
    assert visitor.goto(blog_path).status == 200
    assert is_on_home(visitor, "Notes on the engine")
    visitor.goto("/tags/engines")
    assert visitor.locator(".blog-card-title").all_inner_texts() == ["Notes on the engine"]

    # Edit it again; a new title gives a new address, and the old one still leads there.
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Title").fill("Notes on the Analytical Engine")
    page.get_by_label("Body").fill("It weaves algebraic patterns.\n\nJust as the loom weaves.")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r"/blogs/\d+/notes-on-the-analytical-engine$"))
    new_path = path(page)
    assert new_path.split("/")[2] == blog_path.split("/")[2]
    assert page.get_by_role("heading", level=1).inner_text() == "Notes on the Analytical Engine"
    assert page.locator(".blog-body p").all_inner_texts() == [
        "It weaves algebraic patterns.",
        "Just as the loom weaves.",
    ]
    visitor.goto(blog_path)
    assert path(visitor) == new_path

    # Delete it, after confirming.
    page.get_by_role("link", name="Delete", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Delete this blog?"
    page.get_by_role("button", name="Delete blog").click()
    page.wait_for_url(lambda url: url.endswith("/"))
    assert page.get_by_text("Notes on the Analytical Engine").count() == 0
    assert page.goto(new_path).status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Page not found"
    assert visitor.goto("/tags/engines").status == 404


def test_an_author_saving_an_older_copy_of_the_form_in_a_second_tab_is_warned(
    page, open_page, seed
):
    author = seed.author("Ada")
    blog = seed.blog(author, "Notes", "The first words.")
    log_in(page, author.email)
    second_tab = open_page(page.context)
    page.goto(f"/blogs/{blog.id}/edit")
    second_tab.goto(f"/blogs/{blog.id}/edit")

    page.get_by_label("Body").fill("Words saved in the first tab.")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"**{path_of(blog)}")

    second_tab.get_by_label("Body").fill("Words typed in the second tab.")
    with second_tab.expect_response(lambda response: response.request.method == "POST") as saved:
        second_tab.get_by_role("button", name="Save", exact=True).click()
    assert saved.value.status == 409
    notice = second_tab.locator(".notice")
    assert notice.get_attribute("role") == "alert"
    assert "changed in another tab or window" in notice.inner_text()
    assert second_tab.get_by_label("Body").input_value() == "Words typed in the second tab."

    page.reload()
    assert page.locator(".blog-body").inner_text().strip() == "Words saved in the first tab."
