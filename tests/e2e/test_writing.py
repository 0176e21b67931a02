"""An author's whole round trip through the forms."""

import pytest

pytestmark = pytest.mark.e2e


def test_an_author_signs_up_writes_edits_and_deletes_a_blog(page):
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill("analytical engine")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("button", name="Log out").wait_for()

    page.get_by_role("link", name="Write", exact=True).click()
    page.get_by_label("Title").fill("Notes on the engine")
    page.get_by_label("Body").fill("It weaves algebraic patterns.\n\nJust as the loom weaves.")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url("**/blogs/*")
    blog_path = page.url.removeprefix(page.url.split("/blogs/")[0])
    assert page.get_by_role("heading", level=1).inner_text() == "Notes on the engine"
    assert page.locator(".blog-header").get_by_role("link").inner_text() == "Ada Lovelace"

    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Title").fill("Notes on the Analytical Engine")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(f"**{blog_path}")
    assert page.get_by_role("heading", level=1).inner_text() == "Notes on the Analytical Engine"
    assert page.locator(".blog-body p").first.inner_text() == "It weaves algebraic patterns."

    page.get_by_role("link", name="Delete", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Delete this blog?"
    page.get_by_role("button", name="Delete blog").click()
    page.wait_for_url(lambda url: url.endswith("/"))
    assert page.get_by_text("Notes on the Analytical Engine").count() == 0

    response = page.goto(blog_path)
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Page not found"
