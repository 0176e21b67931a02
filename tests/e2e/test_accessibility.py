"""A smoke test of what every page owes keyboard and screen-reader users."""

import pytest

from tests.e2e.conftest import log_in, path_of

pytestmark = pytest.mark.e2e

HAS_LABEL = """element => {
    const labelled = [...element.labels].some(label => label.textContent.trim() !== "");
    const named = (element.getAttribute("aria-label") || "").trim() !== "";
    const referenced = (element.getAttribute("aria-labelledby") || "")
        .split(/\\s+/).some(id => id && document.getElementById(id));
    return labelled || named || referenced;
}"""
FOCUS_SHOWN = """element => {
    const style = getComputedStyle(element);
    const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
    return outline || style.boxShadow !== "none";
}"""
ON_SCREEN = """element => {
    const box = element.getBoundingClientRect();
    return box.width > 0 && box.top >= 0 && box.left >= 0
        && box.bottom <= innerHeight && box.right <= innerWidth;
}"""


def landmark_problems(page) -> list[str]:
    problems = []
    if page.locator("main").count() != 1 or page.get_by_role("main").count() != 1:
        problems.append("not exactly one main")
    banner = page.get_by_role("banner")
    if banner.count() != 1 or banner.evaluate("element => element.tagName") != "HEADER":
        problems.append("not exactly one header banner")
    elif banner.get_by_role("navigation").count() < 1:
        problems.append("no nav in the header")
    for field in page.locator("input:not([type=hidden]), textarea, select").all():
        if field.is_visible() and not field.evaluate(HAS_LABEL):
            problems.append(f"no label for {field.evaluate('element => element.outerHTML')}")
    return problems


def skip_link_problems(page) -> list[str]:
    """Tab once from the top of the freshly loaded page: the skip link, and visibly so."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    if not focused.evaluate("element => element.classList.contains('skip-link')"):
        return [f"Tab first reached {focused.evaluate('element => element.outerHTML')[:80]}"]
    problems = []
    if not focused.evaluate(FOCUS_SHOWN):
        problems.append("the focused skip link has no outline or box shadow")
    try:
        # It slides in (a short transition, unless the reader asked for reduced motion).
        page.wait_for_function(ON_SCREEN, arg=focused.element_handle(), timeout=1_000)
    except PlaywrightTimeoutError:
        problems.append(f"the focused skip link is not on screen: {focused.bounding_box()}")
    page.keyboard.press("Enter")
    try:
        # Following a fragment link updates the address a moment after the key press.
        page.wait_for_url("**#main", timeout=2_000)
    except PlaywrightTimeoutError:
        problems.append(f"the skip link led to {page.url}")
    return problems


def test_every_page_has_landmarks_labelled_fields_and_a_skip_link_first(page, seed):
    author = seed.author("Grace Hopper")
    blog = seed.blog(
        author, "Nanoseconds", "## A length of wire\n\n- eleven\n- point\n- eight", tags=["time"]
    )
    visitor_pages = [
        "/",
        path_of(blog),
        "/search?q=wire",
        "/tags/time",
        f"/users/{author.id}",
        "/login",
    ]

    found = {}
    for address in visitor_pages:
        assert page.goto(address).status == 200, address
        if address.startswith("/search"):
            assert page.locator("li.search-result mark").count() > 0
        found[address] = landmark_problems(page) + skip_link_problems(page)

    log_in(page, author.email)
    page.goto("/blogs/new")
    found["/blogs/new"] = landmark_problems(page) + skip_link_problems(page)
    page.get_by_role("button", name="Save", exact=True).click()
    page.locator(".field-error").first.wait_for()
    # The form with errors puts focus on the first of them (see test_forms), not at the top.
    found["/blogs/new (errors)"] = landmark_problems(page)
    page.goto(f"/users/{author.id}")
    found[f"/users/{author.id} (own page)"] = landmark_problems(page) + skip_link_problems(page)

    assert {address: problems for address, problems in found.items() if problems} == {}
