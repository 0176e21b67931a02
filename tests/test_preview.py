"""The form's Preview button: the body as readers will see it, and nothing saved."""

import re

from blog.models import Blog, BlogTagLink, Tag
from tests.conftest import (
    assert_html_page,
    count_rows,
    field_error,
    field_value,
    find_form,
    post_back,
    snapshot,
    submit_form,
)

PREVIEW = {"action": "preview"}


def _preview_section(html: str) -> str | None:
    match = re.search(r'<section class="preview"[^>]*>(.*?)</section>', html, re.S)
    return match.group(1) if match else None


def _blog(session, blog_id: int) -> Blog:
    session.expire_all()
    return session.get(Blog, blog_id)


def test_the_form_has_a_preview_button_beside_save(client, logged_in):
    html = client.get("/blogs/new").text

    assert re.search(r'<button type="submit"[^>]*name="action" value="preview">Preview<', html)
    assert re.search(r'<button type="submit"[^>]*name="action" value="save">Save<', html)


def test_previewing_a_new_blog_shows_the_rendered_body(client, logged_in):
    response = submit_form(
        client, "/blogs/new", {"title": "Draft", "body": "Some **bold** words.", **PREVIEW}
    )

    assert_html_page(response, 200)
    preview = _preview_section(response.text)
    assert preview is not None
    assert "<p>Some <strong>bold</strong> words.</p>" in preview


def test_previewing_a_new_blog_keeps_what_was_typed_in_the_form(client, logged_in):
    typed = {
        "title": "Typed title",
        "body": "Typed **body** & <more>.",
        "tags": "Roses, tulips",
        "status": "scheduled",
        "publish_at": "2030-01-02T03:04",
    }

    html = submit_form(client, "/blogs/new", {**typed, **PREVIEW}).text

    assert {name: field_value(html, name) for name in typed} == typed
    find_form(html, "/blogs")


def test_previewing_a_new_blog_saves_nothing(client, logged_in, session):
    submit_form(
        client, "/blogs/new", {"title": "Draft", "body": "Words.", "tags": "roses", **PREVIEW}
    )

    assert (count_rows(session, Blog), count_rows(session, Tag)) == (0, 0)
    assert count_rows(session, BlogTagLink) == 0


def test_saving_after_a_preview_writes_the_blog(client, logged_in, session):
    previewed = submit_form(
        client, "/blogs/new", {"title": "Draft", "body": "Words.", **PREVIEW}
    ).text
    _, token = find_form(previewed, "/blogs")

    response = client.post(
        "/blogs",
        data={
            "csrf_token": token,
            "title": field_value(previewed, "title"),
            "body": field_value(previewed, "body"),
            "action": "save",
        },
    )

    assert response.status_code == 303
    assert count_rows(session, Blog) == 1


def test_previewing_an_edit_shows_the_typed_body_not_the_saved_one(client, logged_in, make_blog):
    blog = make_blog(author=logged_in, title="Saved", body="Saved body.")

    response = submit_form(
        client,
        f"/blogs/{blog.id}/edit",
        {"title": "Typed", "body": "Typed _body_.", "version": "1", **PREVIEW},
    )

    assert_html_page(response, 200)
    preview = _preview_section(response.text)
    assert "<em>body</em>" in preview and "Saved body" not in preview
    assert field_value(response.text, "title") == "Typed"
    assert field_value(response.text, "body") == "Typed _body_."


def test_previewing_an_edit_saves_no_change(client, logged_in, make_blog, session):
    blog = make_blog(author=logged_in, title="Saved", body="Saved body.", tags=["kept"])
    before = snapshot(session)

    submit_form(
        client,
        f"/blogs/{blog.id}/edit",
        {"title": "Typed", "body": "Typed.", "tags": "new", "status": "draft", **PREVIEW},
    )

    assert snapshot(session) == before
    saved = _blog(session, blog.id)
    assert (saved.version, saved.published_at) == (1, blog.published_at)
    assert [tag.name for tag in saved.tags] == ["kept"]
    assert count_rows(session, Tag) == 1


def test_saving_an_edit_after_a_preview_is_not_taken_for_a_conflict(
    client, logged_in, make_blog, session
):
    blog = make_blog(author=logged_in, title="Saved")
    previewed = submit_form(
        client,
        f"/blogs/{blog.id}/edit",
        {
            "title": "Typed",
            "body": "Typed.",
            "version": field_value(client.get(f"/blogs/{blog.id}/edit").text, "version"),
            **PREVIEW,
        },
    ).text

    response = post_back(client, previewed, f"/blogs/{blog.id}/edit", ["version", "title", "body"])

    assert response.status_code == 303
    assert _blog(session, blog.id).title == "Typed"


def test_a_preview_with_errors_shows_them_and_saves_nothing(client, logged_in, session):
    response = submit_form(
        client, "/blogs/new", {"title": "", "body": "Some **bold**.", "tags": "a/b", **PREVIEW}
    )

    assert_html_page(response, 422)
    assert field_error(response.text, "title")
    assert field_error(response.text, "tags")
    assert field_value(response.text, "body") == "Some **bold**."
    assert count_rows(session, Blog) == 0


def test_a_preview_without_a_body_shows_the_error_and_no_preview(client, logged_in):
    response = submit_form(client, "/blogs/new", {"title": "Empty", "body": "", **PREVIEW})

    assert_html_page(response, 422)
    assert field_error(response.text, "body")
    assert _preview_section(response.text) is None


def test_a_preview_of_a_script_shows_no_script_element(client, logged_in):
    body = (
        'Hi <script>alert("x")</script> <img src=x onerror="alert(1)">'
        ' <a href="javascript:alert(1)">y</a>'
    )

    response = submit_form(client, "/blogs/new", {"title": "XSS", "body": body, **PREVIEW})

    assert_html_page(response, 200)
    preview = _preview_section(response.text)
    assert "Hi" in preview
    assert "<script" not in response.text
    assert "onerror" not in preview and "javascript:" not in preview


def test_a_plain_save_shows_no_preview(client, logged_in):
    response = submit_form(client, "/blogs/new", {"title": "", "body": "**Bold**."})

    assert_html_page(response, 422)
    assert _preview_section(response.text) is None


def test_another_user_cannot_preview_an_edit_of_someone_elses_blog(
    client, logged_in, make_user, make_blog, session
):
    blog = make_blog(author=make_user())
    _, token = find_form(client.get("/blogs/new").text, "/blogs")

    response = client.post(
        f"/blogs/{blog.id}/edit",
        data={"csrf_token": token, "title": "T", "body": "B.", **PREVIEW},
    )

    assert_html_page(response, 403)
