"""Your data: /account/export answers a zip of your profile and every blog you wrote, drafts
too, each a Markdown file under a front matter."""

import io
import json
import zipfile
from datetime import timedelta
from urllib.parse import urlsplit

from blog.models import utc_now
from tests.conftest import submit_form


def _archive(client) -> zipfile.ZipFile:
    response = client.get("/account/export")
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """The front matter's lines as key → raw value, and the body after it."""
    opening, matter, body = text.split("---\n", 2)
    assert opening == ""
    fields = dict(line.split(": ", 1) for line in matter.splitlines())
    return fields, body.removeprefix("\n")


def _blog_files(archive: zipfile.ZipFile) -> dict[str, str]:
    return {
        name: archive.read(name).decode()
        for name in archive.namelist()
        if name.startswith("blogs/")
    }


def test_a_visitor_is_sent_to_log_in(client):
    response = client.get("/account/export")

    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert (location.path, location.query) == ("/login", "next=%2Faccount%2Fexport")


def test_the_export_is_a_zip_to_save_never_to_keep_in_a_cache(client, logged_in):
    response = client.get("/account/export")

    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="blog-' in disposition
    assert disposition.endswith('.zip"')
    assert response.headers["cache-control"] == "no-store"
    assert "x-cache" not in client.get("/account/export").headers


def test_the_profile_holds_name_email_bio_and_creation(client, logged_in):
    submit_form(
        client,
        f"/users/{logged_in.id}/edit",
        {"name": "Zoë Writer", "email": logged_in.email, "bio": "Line one.\nLine two."},
    )

    profile = json.loads(_archive(client).read("profile.json"))

    assert profile == {
        "name": "Zoë Writer",
        "email": logged_in.email,
        "bio": "Line one.\nLine two.",
        "created": logged_in.created_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
    }


def test_every_blog_of_the_author_is_a_markdown_file_drafts_and_scheduled_too(
    client, logged_in, make_blog, make_user
):
    published = make_blog(author=logged_in, title="Out", tags=["b-tag", "a-tag"])
    draft = make_blog(author=logged_in, title="Not yet", draft=True)
    scheduled = make_blog(
        author=logged_in, title="Soon", published_at=utc_now() + timedelta(days=2)
    )
    make_blog(author=make_user(), title="Someone else's")

    files = _blog_files(_archive(client))

    assert sorted(files) == sorted(
        f"blogs/{blog.id}-{slug}.md"
        for blog, slug in ((published, "out"), (draft, "not-yet"), (scheduled, "soon"))
    )
    statuses = {
        _front_matter(text)[0]["title"]: _front_matter(text)[0]["status"] for text in files.values()
    }
    assert statuses == {'"Out"': "published", '"Not yet"': "draft", '"Soon"': "scheduled"}


def test_a_blogs_file_has_its_title_tags_and_dates_then_its_body(client, logged_in, make_blog):
    body = "# Heading\n\nSome *Markdown*.\n\n---\n\nAfter a rule."
    blog = make_blog(author=logged_in, title='Quotes "and": colons', body=body, tags=["python"])

    [text] = _blog_files(_archive(client)).values()
    fields, written_body = _front_matter(text)

    assert json.loads(fields["title"]) == 'Quotes "and": colons'
    assert fields["tags"] == '["python"]'
    assert fields["status"] == "published"
    stamp = blog.published_at.isoformat(timespec="seconds").replace("+00:00", "Z")
    assert fields["published"] == stamp
    assert set(fields) == {"title", "status", "tags", "created", "updated", "published"}
    assert written_body == body + "\n"


def test_a_draft_has_no_publishing_date(client, logged_in, make_blog):
    make_blog(author=logged_in, draft=True)

    [text] = _blog_files(_archive(client)).values()

    assert "published" not in _front_matter(text)[0]


def test_an_author_without_blogs_gets_the_profile_alone(client, logged_in):
    assert _archive(client).namelist() == ["profile.json"]
