"""Mistakes in a form are shown where they were made, and can be fixed in place."""

import pytest

pytestmark = pytest.mark.e2e


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
