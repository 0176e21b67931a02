"""Queries and writes for blogs; every function takes its session by keyword."""

from dataclasses import dataclass

from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from blog.models import Blog, BlogCreate, BlogPublic, BlogUpdate, User, utc_now


@dataclass(frozen=True)
class BlogPage:
    """One page of a newest-first list of blogs."""

    blogs: list[BlogPublic]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def newest_blogs(
    *, session: Session, page: int, page_size: int, author_id: int | None = None
) -> BlogPage:
    """A page of blogs, newest first (id breaks ties), with their authors: two queries."""
    statement = (
        select(Blog)
        .options(selectinload(Blog.author))  # type: ignore[arg-type]
        .order_by(col(Blog.created_at).desc(), col(Blog.id).desc())
        .offset((page - 1) * page_size)
        # One more than a page tells whether a next page exists without counting.
        .limit(page_size + 1)
    )
    if author_id is not None:
        statement = statement.where(Blog.author_id == author_id)
    blogs = session.exec(statement).all()
    return BlogPage(
        blogs=[BlogPublic.model_validate(blog) for blog in blogs[:page_size]],
        number=page,
        has_next=len(blogs) > page_size,
    )


def create_blog(*, session: Session, author: User, blog_create: BlogCreate) -> Blog:
    blog = Blog.model_validate(blog_create, update={"author_id": author.id})
    session.add(blog)
    session.commit()
    session.refresh(blog)
    return blog


def update_blog(*, session: Session, blog: Blog, blog_update: BlogUpdate) -> Blog:
    blog.sqlmodel_update(blog_update.model_dump(exclude_unset=True))
    blog.updated_at = utc_now()
    session.add(blog)
    session.commit()
    session.refresh(blog)
    return blog


def delete_blog(*, session: Session, blog: Blog) -> None:
    session.delete(blog)
    session.commit()
