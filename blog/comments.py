"""Queries and writes for comments; every function takes its session by keyword.

A blog's page reads one page of its comments with one query of the columns it shows, from the
index (blog_id, status, id); list cards show the count the database keeps on blog (migration
0010's triggers), so no list counts comments.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_
from sqlmodel import Session, col, select

from blog.models import (
    Blog,
    Comment,
    CommentCreate,
    CommentStatus,
    CommentUpdate,
    GuestCommentCreate,
    User,
    UserPublic,
    slug_for,
    utc_now,
)
from blog.text import render_markdown

COMMENTS_PER_PAGE = 100
# Far past any real discussion; keeps the offset within what every database accepts.
MAX_COMMENT_PAGE = 10_000
PENDING_PER_PAGE = 100
# Spam rule: comments with more links than this wait for approval...
MAX_LINKS = 3
# ...and so do comments from accounts younger than this (a spammer's fresh sign-up).
NEW_ACCOUNT_AGE = timedelta(days=1)

# A link as the sanitized HTML has it, and an address typed as text (which some readers'
# software turns into a link, and which is what spam is after either way).
_LINK_TAG = re.compile(r"<a\s", re.IGNORECASE)
_ADDRESS = re.compile(r"\b(?:https?://|www\.)", re.IGNORECASE)


# Not frozen, with slots: a page builds up to a hundred of these (see blog.blogs.BlogSummary).
@dataclass(slots=True)
class CommentView:
    """A comment as pages and feeds show it, with its author's name."""

    id: int
    blog_id: int
    body: str
    created_at: datetime
    edited_at: datetime | None
    status: str
    author_id: int | None
    # The account's name (as it is now) or the name the guest gave.
    name: str

    @property
    def is_guest(self) -> bool:
        return self.author_id is None

    @property
    def is_pending(self) -> bool:
        return self.status == CommentStatus.PENDING


@dataclass(frozen=True)
class CommentPage:
    """One page of a blog's comments, oldest first."""

    comments: list[CommentView]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


@dataclass(slots=True)
class PendingComment:
    """A comment waiting for approval, with the blog it is on."""

    comment: CommentView
    blog_title: str

    @property
    def blog_slug(self) -> str:
        return slug_for(self.blog_title)


@dataclass(frozen=True)
class PendingPage:
    comments: list[PendingComment]
    number: int
    has_next: bool


NO_COMMENTS = CommentPage(comments=[], number=1, has_next=False)


def _columns() -> tuple:
    """What a comment shows, its author's name included (a guest's has no account)."""
    name = func.coalesce(User.name, Comment.guest_name, "")
    return (
        Comment.id,
        Comment.blog_id,
        Comment.body,
        Comment.created_at,
        Comment.edited_at,
        Comment.status,
        Comment.author_id,
        name.label("name"),
    )


def _view(row: Sequence[Any]) -> CommentView:
    return CommentView(*row[:8])


def shown_to(viewer_id: int | ColumnElement[int] | None) -> ColumnElement[bool]:
    """Approved comments, and the viewer's own waiting for approval (shown only to them)."""
    approved = col(Comment.status) == CommentStatus.APPROVED
    if viewer_id is None:
        return approved
    own_pending = and_(
        col(Comment.status) == CommentStatus.PENDING, col(Comment.author_id) == viewer_id
    )
    return or_(approved, own_pending)


def comments_page(
    *, session: Session, blog_id: int, number: int, viewer_id: int | None
) -> CommentPage:
    """Page `number` of a blog's comments as this viewer sees them, oldest first: one query,
    reading one more than a page to know whether another follows."""
    parameters = {
        "blog_id": blog_id,
        "viewer_id": viewer_id,
        "skipped": (number - 1) * COMMENTS_PER_PAGE,
        "rows": COMMENTS_PER_PAGE + 1,
    }
    statement = _comments_page(for_a_viewer=viewer_id is not None)
    rows = session.connection().execute(statement, parameters).all()
    comments = [_view(row) for row in rows[:COMMENTS_PER_PAGE]]
    return CommentPage(comments=comments, number=number, has_next=len(rows) > COMMENTS_PER_PAGE)


@cache
def _comments_page(*, for_a_viewer: bool) -> Select:
    """Every blog page reads its comments: the statement is built once (for visitors, and for
    logged-in viewers, who also see their own pending ones) and run past the ORM."""
    return (
        select(*_columns())
        .outerjoin(User, col(User.id) == Comment.author_id)
        .where(
            Comment.blog_id == bindparam("blog_id"),
            shown_to(bindparam("viewer_id") if for_a_viewer else None),
        )
        .order_by(col(Comment.id))
        .offset(bindparam("skipped"))
        .limit(bindparam("rows"))
    )


def page_number_of(*, session: Session, comment: Comment, viewer_id: int | None) -> int:
    """Which page of its blog's comments this one is on, for this viewer."""
    statement = (
        select(func.count())
        .select_from(Comment)
        .where(
            Comment.blog_id == comment.blog_id,
            col(Comment.id) < comment.id,
            shown_to(viewer_id),
        )
    )
    earlier = session.exec(statement).one()
    return earlier // COMMENTS_PER_PAGE + 1


def comment_address(blog_page_path: str, comment_id: int, page_number: int) -> str:
    """Where a comment is: its blog's page (the right page of comments) at its anchor."""
    query = f"?comments={page_number}" if page_number > 1 else ""
    return f"{blog_page_path}{query}#comment-{comment_id}"


def comment_view(*, session: Session, comment_id: int) -> CommentView | None:
    """One comment as pages show it, its author's name included; whatever its status."""
    statement = (
        select(*_columns())
        .outerjoin(User, col(User.id) == Comment.author_id)
        .where(Comment.id == comment_id)
    )
    row = session.execute(statement).first()
    return _view(row) if row is not None else None


def newest_comments(*, session: Session, blog_id: int, limit: int) -> list[CommentView]:
    """A blog's newest approved comments, newest first (for its feed)."""
    statement = (
        select(*_columns())
        .outerjoin(User, col(User.id) == Comment.author_id)
        .where(Comment.blog_id == blog_id, Comment.status == CommentStatus.APPROVED)
        .order_by(col(Comment.id).desc())
        .limit(limit)
    )
    return [_view(row) for row in session.execute(statement).all()]


def pending_comments(*, session: Session, moderator: User, number: int) -> PendingPage:
    """Comments waiting for approval on the moderator's blogs (every blog, for an admin),
    oldest first; a suspended account's are hidden with the rest of what it wrote."""
    statement = (
        select(*_columns(), Blog.title)
        .join(Blog, col(Blog.id) == Comment.blog_id)
        .outerjoin(User, col(User.id) == Comment.author_id)
        # A guest's comment has no account: its outer-joined suspended_at is NULL too.
        .where(Comment.status == CommentStatus.PENDING, col(User.suspended_at).is_(None))
    )
    if not moderator.is_admin:
        statement = statement.where(Blog.author_id == moderator.id)
    statement = (
        statement.order_by(col(Comment.id))
        .offset((number - 1) * PENDING_PER_PAGE)
        .limit(PENDING_PER_PAGE + 1)
    )
    rows = session.execute(statement).all()
    comments = [PendingComment(_view(row), row.title) for row in rows[:PENDING_PER_PAGE]]
    return PendingPage(comments=comments, number=number, has_next=len(rows) > PENDING_PER_PAGE)


def may_moderate(user: User | UserPublic | None, blog_author_id: int) -> bool:
    """The blog's author approves and deletes the comments on it; admins, any comment."""
    return user is not None and (user.id == blog_author_id or user.is_admin)


def link_count(body: str) -> int:
    """How many links a comment holds: Markdown's and raw HTML's, or addresses typed as
    text, whichever are more."""
    return max(len(_LINK_TAG.findall(render_markdown(body))), len(_ADDRESS.findall(body)))


def status_for_new(
    *, body: str, author: User | None, blog_author_id: int, honeypot_filled: bool
) -> CommentStatus:
    """Whether a comment is shown at once, waits for approval, or is spam."""
    if honeypot_filled:
        return CommentStatus.SPAM
    if may_moderate(author, blog_author_id):
        # The blog's author (and an admin) is never held.
        return CommentStatus.APPROVED
    if author is None:
        return CommentStatus.PENDING
    if utc_now() - author.created_at < NEW_ACCOUNT_AGE or link_count(body) > MAX_LINKS:
        return CommentStatus.PENDING
    return CommentStatus.APPROVED


def create_comment(
    *,
    session: Session,
    blog_id: int,
    blog_author_id: int,
    author: User | None,
    comment_create: CommentCreate | GuestCommentCreate,
    honeypot_filled: bool = False,
) -> Comment:
    """Save a comment from an account (`author`) or a guest (a GuestCommentCreate's name)."""
    status = status_for_new(
        body=comment_create.body,
        author=author,
        blog_author_id=blog_author_id,
        honeypot_filled=honeypot_filled,
    )
    guest_name = comment_create.name if isinstance(comment_create, GuestCommentCreate) else None
    comment = Comment.model_validate(
        comment_create.model_dump(include={"body"}),
        update={
            "blog_id": blog_id,
            "author_id": author.id if author is not None else None,
            "guest_name": guest_name if author is None else None,
            "status": status,
        },
    )
    session.add(comment)
    session.commit()
    session.refresh(comment)
    return comment


def update_comment(
    *, session: Session, comment: Comment, comment_update: CommentUpdate, blog_author_id: int
) -> Comment:
    """Save its author's changes; an approved comment edited into one that would now be held
    (links added) waits for approval again, so a harmless comment cannot turn into spam."""
    author = session.get(User, comment.author_id) if comment.author_id is not None else None
    comment.sqlmodel_update(comment_update.model_dump(exclude_unset=True))
    comment.edited_at = utc_now()
    if comment.status == CommentStatus.APPROVED:
        comment.status = status_for_new(
            body=comment.body, author=author, blog_author_id=blog_author_id, honeypot_filled=False
        )
    session.add(comment)
    session.commit()
    session.refresh(comment)
    return comment


def approve_comment(*, session: Session, comment: Comment) -> None:
    if comment.status == CommentStatus.PENDING:
        comment.status = CommentStatus.APPROVED
        session.add(comment)
        session.commit()


def delete_comment(*, session: Session, comment: Comment) -> None:
    session.delete(comment)
    session.commit()


@dataclass(frozen=True)
class CommentOnBlog:
    """A comment with what permissions and redirects need of its blog."""

    comment: Comment
    blog_author_id: int
    blog_slug: str


def comment_on_blog(*, session: Session, comment_id: int) -> CommentOnBlog | None:
    """The comment with this id and its blog's author and address, in one query; None when
    there is none, or it is spam (which is never shown, so never found either)."""
    statement = (
        select(Comment, Blog.author_id, Blog.title)
        .join(Blog, col(Blog.id) == Comment.blog_id)
        .where(Comment.id == comment_id, Comment.status != CommentStatus.SPAM)
    )
    row = session.exec(statement).first()
    if row is None:
        return None
    comment, blog_author_id, title = row
    return CommentOnBlog(comment, blog_author_id, slug_for(title))
