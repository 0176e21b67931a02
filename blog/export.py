"""An account's data as one zip: its profile as JSON and every blog as a Markdown file.

Built in memory: it holds one account's blogs (at most 100,000 characters each), read once.
"""

import io
import json
import zipfile
from datetime import UTC, datetime

from sqlmodel import Session

from blog.blogs import every_blog_of
from blog.models import Blog, User, slug_for, status_at, utc_now


def account_archive(*, session: Session, user: User) -> bytes:
    """The zip: `profile.json`, then `blogs/ID-SLUG.md` for each blog, drafts included."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("profile.json", _profile(user))
        now = utc_now()
        for blog in every_blog_of(session=session, author_id=user.id):
            archive.writestr(f"blogs/{blog.id}-{slug_for(blog.title)}.md", _markdown(blog, now))
    return buffer.getvalue()


def archive_name(user: User) -> str:
    return f"blog-{user.id}-{utc_now():%Y-%m-%d}.zip"


def _profile(user: User) -> str:
    profile = {
        "name": user.name,
        "email": user.email,
        "bio": user.bio,
        "created": _timestamp(user.created_at),
    }
    return json.dumps(profile, ensure_ascii=False, indent=2) + "\n"


def _markdown(blog: Blog, now: datetime) -> str:
    """The blog's body under a YAML front matter. Every text is written as a JSON string,
    which YAML reads as the same double-quoted string, whatever quotes or colons it holds."""
    published_at = blog.published_at or blog.suspended_published_at
    lines = [
        "---",
        f"title: {_quoted(blog.title)}",
        f"status: {status_at(published_at, now)}",
        f"tags: [{', '.join(_quoted(tag.name) for tag in blog.tags)}]",
        f"created: {_timestamp(blog.created_at)}",
        f"updated: {_timestamp(blog.updated_at)}",
    ]
    if published_at is not None:
        lines.append(f"published: {_timestamp(published_at)}")
    return "\n".join([*lines, "---", "", blog.body]) + "\n"


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
