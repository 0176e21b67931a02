"""The site fits a phone: no page scrolls sideways at 375 pixels wide."""

import pytest

from tests.e2e.conftest import PHONE, log_in

pytestmark = pytest.mark.e2e

LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 3
LONG_URL = "https://example.com/" + "/".join(["a-rather-long-path-segment"] * 8)


def test_no_page_scrolls_sideways_on_a_phone(page, seed):
    author = seed.author("Maximiliana Wolfeschlegelsteinhausenbergerdorff")
    blog = seed.blog(author, f"A title with {LONG_WORD}", f"{LONG_WORD}\n\n{LONG_URL}")
    page.set_viewport_size(PHONE)
    log_in(page, author.email)
    paths = [
        "/",
        f"/blogs/{blog.id}",
        "/users",
        f"/users/{author.id}",
        "/blogs/new",
        f"/blogs/{blog.id}/edit",
        f"/blogs/{blog.id}/delete",
        f"/users/{author.id}/edit",
        "/no-such-page",
    ]

    too_wide = {}
    for path in paths:
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[path] = width
    # The signed-out pages, with a form's errors showing.
    page.goto("/")
    page.get_by_role("button", name="Log out").click()
    page.goto("/register")
    page.get_by_role("button", name="Sign up").click()
    page.locator(".field-error").first.wait_for()
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        too_wide["/register (errors)"] = width

    assert too_wide == {}
