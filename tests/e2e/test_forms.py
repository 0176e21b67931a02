"""Mistakes in a form are shown where they were made, and can be fixed in place."""

import re

import pytest

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e


def focused_id(page) -> str:
    return page.evaluate("document.activeElement.id")


def test_a_field_error_is_shown_next_to_the_field_and_can_be_fixed(page):
    page.goto("/register")
    page.get_by_label("Name").fill("Grace Hopper")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Sign up").click()

    password = page.get_by_label("Password")
    password_field = page.locator(".field").filter(has=password)
    error = password_field.locator(".field-error")
    assert error.is_visible()
    assert "8 characters" in error.inner_text()
    assert password.get_attribute("aria-invalid") == "true"
    assert "error-password" in password.get_attribute("aria-describedby")
    assert page.locator(".field-error").count() == 1
    assert page.get_by_label("Name").input_value() == "Grace Hopper"
    assert page.get_by_label("Email").input_value() == "grace@example.com"
    assert password.input_value() == ""

    password.fill("a long enough password")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("button", name="Log out").wait_for()
    assert page.locator(".field-error").count() == 0
    assert page.get_by_role("navigation", name="Main").get_by_text("Grace Hopper").is_visible()


def test_an_author_leaves_out_the_title_sees_why_and_fixes_it(page, seed):
    author = seed.author("Grace")
    log_in(page, author.email)
    page.goto("/blogs/new")
    page.get_by_label("Body").fill("A bug, found in a relay.\n\n- moth\n- tape")
    page.get_by_label("Tags").fill("computing, history")
    page.get_by_role("button", name="Save", exact=True).click()

    title = page.locator("#field-title")
    title_field = page.locator(".field").filter(has=title)
    title_field.locator(".field-error").wait_for()
    assert title_field.locator(".field-error").inner_text().strip() != ""
    assert title.get_attribute("aria-invalid") == "true"
    assert "error-title" in title.get_attribute("aria-describedby")
    assert focused_id(page) == "field-title"
    assert page.locator(".form-error").get_attribute("role") == "alert"
    assert page.locator(".field-error").count() == 1
    assert page.locator("#field-body").input_value() == "A bug, found in a relay.\n\n- moth\n- tape"
    assert page.locator("#field-tags").input_value() == "computing, history"

    title.fill("The first actual bug")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r"/blogs/\d+/the-first-actual-bug$"))
    assert page.get_by_role("heading", level=1).inner_text() == "The first actual bug"
    assert page.locator(".blog-body li").all_inner_texts() == ["moth", "tape"]
    assert page.locator(".blog a.tag").all_inner_texts() == ["#computing", "#history"]


def test_an_author_schedules_a_blog_without_a_time_and_is_asked_for_one(page, seed):
    author = seed.author("Grace")
    log_in(page, author.email)
    page.goto("/blogs/new")
    page.get_by_label("Title").fill("Nanoseconds")
    page.get_by_label("Body").fill("A length of wire.")
    page.get_by_label("Publish later, at the time below").check()
    page.get_by_role("button", name="Save", exact=True).click()

    publish_at = page.get_by_label("Publish at (UTC)")
    error = page.locator(".field").filter(has=publish_at).locator(".field-error")
    error.wait_for()
    assert "when to publish" in error.inner_text()
    assert publish_at.get_attribute("aria-invalid") == "true"
    assert focused_id(page) == "field-publish_at"
    assert page.get_by_label("Publish later, at the time below").is_checked()
    assert page.get_by_label("Title").input_value() == "Nanoseconds"

    publish_at.fill("2099-12-09T09:30")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r"/blogs/\d+/nanoseconds$"))
    badge = page.locator(".badge-scheduled")
    assert badge.inner_text().startswith("Scheduled for")
    assert badge.locator("time").get_attribute("datetime").startswith("2099-12-09T09:30")
