"""Queries and writes for blogs and their tags; every function takes its session by keyword.

"Published" is a condition on time, not a flag: a blog shows once `published_at` has passed,
so a scheduled blog appears by itself, with no job to run.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, func, or_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from blog.models import (
    Blog,
    BlogCreate,
    BlogPublic,
    BlogStatus,
    BlogTagLink,
    BlogUpdate,
    Tag,
    User,
    utc_now,
)


class EditConflict(Exception):
    """The blog was saved elsewhere after this form was opened."""

    def __init__(self, blog: Blog) -> None:
        self.blog = blog


@dataclass(frozen=True)
class PageOfList:
    """Where a page sits in a longer list: its number, and whether more follow."""

    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


@dataclass(frozen=True)
class BlogPage(PageOfList):
    """One page of a newest-first list of blogs."""

    blogs: list[BlogPublic]


class SitemapBlog(NamedTuple):
    id: int
    title: str
    updated_at: datetime
    published_at: datetime


def is_published(now: datetime | None = None) -> ColumnElement[bool]:
    """True for blogs readers may see: NULL (a draft) compares as not true."""
    return col(Blog.published_at) <= (now or utc_now())


def is_visible(blog: Blog, viewer: User | None) -> bool:
    """Readers see published blogs; authors also see their own drafts and scheduled ones."""
    is_author = viewer is not None and viewer.id == blog.author_id
    return is_author or blog.status == BlogStatus.PUBLISHED


def newest_blogs(
    *,
    session: Session,
    page: int,
    page_size: int,
    author_id: int | None = None,
    tag: str | None = None,
) -> BlogPage:
    """A page of published blogs, newest first (id breaks ties), with authors and tags."""
    statement = (
        select(Blog)
        .where(is_published())
        .options(selectinload(Blog.author), selectinload(Blog.tags))  # type: ignore[arg-type]
        .order_by(col(Blog.published_at).desc(), col(Blog.id).desc())
        .offset((page - 1) * page_size)
        # One more than a page tells whether a next page exists without counting.
        .limit(page_size + 1)
    )
    if author_id is not None:
        statement = statement.where(Blog.author_id == author_id)
    if tag is not None:
        statement = statement.where(
            col(Blog.id).in_(
                select(BlogTagLink.blog_id).join(Tag).where(Tag.name == tag)  # type: ignore[arg-type]
            )
        )
    blogs = session.exec(statement).all()
    return BlogPage(
        blogs=[BlogPublic.model_validate(blog) for blog in blogs[:page_size]],
        number=page,
        has_next=len(blogs) > page_size,
    )


def unpublished_blogs(*, session: Session, author_id: int) -> list[BlogPublic]:
    """An author's drafts and scheduled blogs, most recently changed first."""
    statement = (
        select(Blog)
        # A draft's NULL published_at is neither before nor after now, so it is asked for.
        .where(
            Blog.author_id == author_id,
            or_(col(Blog.published_at).is_(None), col(Blog.published_at) > utc_now()),
        )
        .options(selectinload(Blog.author), selectinload(Blog.tags))  # type: ignore[arg-type]
        .order_by(col(Blog.updated_at).desc(), col(Blog.id).desc())
    )
    return [BlogPublic.model_validate(blog) for blog in session.exec(statement).all()]


def sitemap_blogs(*, session: Session, limit: int) -> list[SitemapBlog]:
    """The newest published blogs, for the sitemap (which holds at most 50,000 addresses).

    Only what an address and its date need: bodies of up to 100 kB each stay in the database.
    """
    statement = (
        select(Blog.id, Blog.title, Blog.updated_at, Blog.published_at)
        .where(is_published())
        .order_by(col(Blog.published_at).desc(), col(Blog.id).desc())
        .limit(limit)
    )
    return [SitemapBlog(*row) for row in session.exec(statement).all()]


def popular_tags(*, session: Session, limit: int = 100) -> list[tuple[str, int]]:
    """Tags with how many published blogs carry them, most used first."""
    count = func.count(col(BlogTagLink.blog_id))
    statement = (
        select(Tag.name, count)
        .join(BlogTagLink, col(BlogTagLink.tag_id) == Tag.id)
        .join(Blog, col(Blog.id) == BlogTagLink.blog_id)
        .where(is_published())
        .group_by(Tag.name)
        .order_by(count.desc(), Tag.name)
        .limit(limit)
    )
    return [(name, blog_count) for name, blog_count in session.exec(statement).all()]


def create_blog(*, session: Session, author: User, blog_create: BlogCreate) -> Blog:
    blog = Blog.model_validate(
        blog_create.model_dump(exclude={"status", "publish_at", "tags"}),
        update={
            "author_id": author.id,
            "published_at": _published_at(blog_create.status, blog_create.publish_at, None),
        },
    )
    blog.tags = _tags_named(session=session, names=blog_create.tags)
    session.add(blog)
    session.commit()
    session.refresh(blog)
    return blog


def update_blog(*, session: Session, blog: Blog, blog_update: BlogUpdate) -> Blog:
    """Save the form's changes, unless the blog changed since the form was opened."""
    changes = blog_update.model_dump(exclude_unset=True, exclude={"publish_at", "tags", "version"})
    if blog_update.status is not None:
        changes["published_at"] = _published_at(
            changes.pop("status"), blog_update.publish_at, blog.published_at
        )
    expected_version = blog.version if blog_update.version is None else blog_update.version
    # Claiming the next version in the database, not just comparing in Python, means two saves
    # racing from the same form cannot both win: the second updates no row.
    claimed = session.execute(
        update(Blog)
        .where(col(Blog.id) == blog.id, col(Blog.version) == expected_version)
        .values(version=expected_version + 1)
    )
    if claimed.rowcount != 1:
        session.rollback()
        session.refresh(blog)
        raise EditConflict(blog)
    blog.sqlmodel_update(changes)
    if blog_update.tags is not None:
        blog.tags = _tags_named(session=session, names=blog_update.tags)
    blog.version = expected_version + 1
    blog.updated_at = utc_now()
    session.add(blog)
    session.commit()
    session.refresh(blog)
    return blog


def delete_blog(*, session: Session, blog: Blog) -> None:
    session.delete(blog)
    session.commit()


def _published_at(
    status: BlogStatus, publish_at: datetime | None, current: datetime | None
) -> datetime | None:
    """When the chosen status means the blog is (or will be) published."""
    if status == BlogStatus.DRAFT:
        return None
    if status == BlogStatus.SCHEDULED:
        return publish_at
    # Publishing keeps the original date of a blog that was already out.
    now = utc_now()
    return current if current is not None and current <= now else now


def _tags_named(*, session: Session, names: list[str]) -> list[Tag]:
    """The tags with these names, created if new; safe when two saves add one tag at once."""
    if not names:
        return []
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(Tag)
        .values([{"name": name} for name in names])
        .on_conflict_do_nothing(index_elements=["name"])
    )
    tags = session.exec(select(Tag).where(col(Tag.name).in_(names))).all()
    by_name = {tag.name: tag for tag in tags}
    return [by_name[name] for name in names]
