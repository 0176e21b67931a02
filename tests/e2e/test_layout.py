"""The site fits a phone: no page scrolls sideways at 375 pixels wide."""

import pytest

from tests.e2e.conftest import PHONE, log_in, path_of

pytestmark = pytest.mark.e2e

LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 3
LONG_TAG = LONG_WORD[:40].lower()
LONG_URL = "https://example.com/" + "/".join(["a-rather-long-path-segment"] * 8)
COLUMNS = [f"Column {number} with a long heading" for number in range(1, 13)]
WIDE_TABLE = "\n".join(
    [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
        "| " + " | ".join(f"cell-{number}-{LONG_WORD[:30]}" for number in range(12)) + " |",
    ]
)
LONG_CODE_LINE = "result = compute(" + ", ".join(f"argument_{n}" for n in range(40)) + ")"
WIDE_BODY = f"""Some text before.

{WIDE_TABLE}

```python
{LONG_CODE_LINE}
```

`{LONG_WORD}` and {LONG_URL}
"""


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_no_page_scrolls_sideways_on_a_phone(page, seed):
    author = seed.author("Maximiliana Wolfeschlegelsteinhausenbergerdorff")
    blog = seed.blog(
        author, f"A title with {LONG_WORD}", f"{LONG_WORD}\n\n{LONG_URL}", tags=[LONG_TAG]
    )
    page.set_viewport_size(PHONE)
    log_in(page, author.email)
    paths = [
        "/",
        path_of(blog),
        "/users",
        f"/users/{author.id}",
        "/tags",
        f"/tags/{LONG_TAG}",
        f"/search?q={LONG_WORD[:20]}+{LONG_WORD}",
        "/blogs/new",
        f"/blogs/{blog.id}/edit",
        f"/blogs/{blog.id}/delete",
        f"/users/{author.id}/edit",
        "/no-such-page",
    ]

    too_wide = {}
    for address in paths:
        response = page.goto(address)
        assert response.status == (404 if address == "/no-such-page" else 200), address
        if page_width(page) > PHONE["width"]:
            too_wide[address] = page_width(page)
    # The signed-out pages, with a form's errors showing.
    page.goto("/")
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Log in").wait_for()
    page.goto("/register")
    page.get_by_role("button", name="Sign up").click()
    page.locator(".field-error").first.wait_for()
    if page_width(page) > PHONE["width"]:
        too_wide["/register (errors)"] = page_width(page)

    assert too_wide == {}


def test_a_wide_table_and_a_long_code_line_scroll_in_their_own_box_on_a_phone(page, seed):
    author = seed.author("Ada")
    blog = seed.blog(author, "Wide things", WIDE_BODY)
    page.set_viewport_size(PHONE)
    log_in(page, author.email)

    page.goto("/blogs/new")
    page.get_by_label("Title").fill("Wide things, previewed")
    page.get_by_label("Body").fill(WIDE_BODY)
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("section.preview")
    preview.locator("table").wait_for()
    assert preview.locator("pre code").inner_text().strip() == LONG_CODE_LINE
    assert page_width(page) <= PHONE["width"], "the preview makes the form page scroll sideways"

    page.goto(path_of(blog))
    assert page.locator(".blog-body table th").count() == len(COLUMNS)
    assert page_width(page) <= PHONE["width"], "the blog page scrolls sideways"
    # The table and the code are still all there, to be scrolled within their own boxes.
    for selector in (".blog-body table", ".blog-body pre"):
        box_width = page.locator(selector).evaluate("element => element.clientWidth")
        content_width = page.locator(selector).evaluate("element => element.scrollWidth")
        assert box_width <= PHONE["width"] < content_width, selector
