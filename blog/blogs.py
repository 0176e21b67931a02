"""Queries and writes for blogs and their tags; every function takes its session by keyword.

"Published" is a condition on time, not a flag: a blog shows once `published_at` has passed,
so a scheduled blog appears by itself, with no job to run.

Lists read one page at a time from an index (blog.paging), and counts come from the database's
own counters (migration 0005), so no page reads every blog however many there are.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    bindparam,
    distinct,
    func,
    or_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from blog.models import (
    Blog,
    BlogCreate,
    BlogStatus,
    BlogTagLink,
    BlogUpdate,
    Tag,
    User,
    UserPublic,
    UTCDateTime,
    slug_for,
    status_at,
    utc_now,
)
from blog.paging import (
    FIRST_PAGE,
    Order,
    PageOfList,
    Position,
    first_page_statement,
    read_first_page,
    read_page,
)


class EditConflict(Exception):
    """The blog was saved elsewhere after this form was opened."""

    def __init__(self, blog: Blog) -> None:
        self.blog = blog


class AuthorName(NamedTuple):
    id: int
    name: str


class TagName(NamedTuple):
    name: str


# Not frozen: a frozen dataclass sets each field through object.__setattr__, twice as slow.
@dataclass(slots=True)
class BlogSummary:
    """A blog as lists and feeds show it, with its author's name and its tags' names.

    Read from one query of the columns these pages show, and built without validating again
    what was validated when it was written: a list page makes dozens of these per request, and
    building `BlogPublic`s from ORM objects was most of its time. Its fields read like
    `BlogPublic`'s, so templates take either.
    """

    id: int
    title: str
    body: str
    author: AuthorName
    updated_at: datetime
    published_at: datetime | None
    tags: tuple[TagName, ...]
    # Where a suspension keeps the publishing time (see Blog.suspended_published_at).
    suspended_published_at: datetime | None = None
    # How many comments readers see on it, as the database keeps it (Blog.comment_count).
    comment_count: int = 0
    comments_open: bool = True
    # Not shown on cards; the API answers them (BlogPublic).
    created_at: datetime | None = None
    version: int = 1

    @property
    def is_held_by_suspension(self) -> bool:
        return self.suspended_published_at is not None

    @property
    def author_id(self) -> int:
        return self.author.id

    @property
    def slug(self) -> str:
        return slug_for(self.title)

    @property
    def status(self) -> BlogStatus:
        return status_at(self.published_at, utc_now())


@dataclass(frozen=True)
class BlogPage(PageOfList):
    """One page of a newest-first list of blogs."""

    blogs: list[BlogSummary]


class SitemapBlog(NamedTuple):
    id: int
    title: str
    updated_at: datetime
    published_at: datetime


def is_published(now: datetime | None = None) -> ColumnElement[bool]:
    """True for blogs readers may see: NULL (a draft) compares as not true."""
    return col(Blog.published_at) <= (now or utc_now())


def is_visible(blog: "Blog | BlogSummary", viewer: "User | UserPublic | None") -> bool:
    """Readers see published blogs; authors also see their own drafts and scheduled ones, and
    admins the blogs a suspension holds back (to judge it), but no one else's drafts."""
    if blog.status == BlogStatus.PUBLISHED:
        return True
    if viewer is None:
        return False
    return viewer.id == blog.author_id or (
        viewer.is_admin and blog.suspended_published_at is not None
    )


def newest_blogs(
    *,
    session: Session,
    page_size: int,
    page: int = 1,
    position: Position | None = None,
    author_id: int | None = None,
    tag: str | None = None,
) -> BlogPage:
    """A page of published blogs, newest first (id breaks ties), with authors and tags.

    `position` (a page number or a cursor, see blog.paging) or else the page number `page`.
    Each list reads its page as a range of one index: (published_at, id) for every blog,
    (author_id, published_at, id) for one author's, and for one tag's blog_tag's
    (tag_id, published_at, blog_id), which holds a copy of each blog's published_at.
    """
    position = position or (Position(number=page) if page > 1 else FIRST_PAGE)
    now = utc_now()
    if position == FIRST_PAGE:
        lister = _first_page_lister(by_author=author_id is not None, by_tag=tag is not None)
        parameters = {"now": now, "author_id": author_id, "tag": tag}
        rows, links = read_first_page(
            session, lister.statement, parameters, order=lister.order, page_size=page_size
        )
    else:
        statement, order = _blog_list(author_id=author_id, tag=tag, up_to=now)
        rows, links = read_page(
            session, statement, order=order, position=position, page_size=page_size
        )
    return BlogPage(
        blogs=summaries_from(rows),
        number=links.number,
        previous_query=links.previous_query,
        next_query=links.next_query,
    )


def _blog_list(*, author_id: Any, tag: Any, up_to: Any) -> tuple[Select, Order]:
    """The statement and order of a list of blogs, newest first, published by `up_to`: all
    blogs, an author's or a tag's (values, or parameters to bind later)."""
    statement = _summaries()
    if tag is not None:
        columns = (col(BlogTagLink.published_at), col(BlogTagLink.blog_id))
        # The tag's id as one value (a subquery run first), not a join: only then does
        # PostgreSQL read the index in its order rather than sort all the tag's blogs.
        tag_id = select(Tag.id).where(Tag.name == tag).scalar_subquery()
        keys = select(*columns).where(BlogTagLink.tag_id == tag_id)
        statement = statement.join(BlogTagLink, col(BlogTagLink.blog_id) == Blog.id).where(
            BlogTagLink.tag_id == tag_id
        )
    else:
        columns = (col(Blog.published_at), col(Blog.id))
        keys = select(*columns)
        if author_id is not None:
            statement = statement.where(Blog.author_id == author_id)
            keys = keys.where(Blog.author_id == author_id)
    # Published by now: the list's upper bound (see Order.up_to).
    order = Order(columns=columns, descending=True, key_of=_blog_key, keys=keys, up_to=up_to)
    return statement, order


class _Lister(NamedTuple):
    statement: Select
    order: Order


@cache
def _first_page_lister(*, by_author: bool, by_tag: bool) -> _Lister:
    """The first page of a list of blogs as one statement, built once: the moment, the author
    or the tag and the page size are parameters (`now`, `author_id`, `tag`, `page_size`)."""
    statement, order = _blog_list(
        author_id=bindparam("author_id") if by_author else None,
        tag=bindparam("tag") if by_tag else None,
        up_to=bindparam("now", type_=UTCDateTime()),
    )
    return _Lister(first_page_statement(statement, order), order)


def _blog_key(row: Any) -> tuple[datetime | None, int | None]:
    return row.published_at, row.id


@cache
def _summaries() -> Select:
    """The columns a BlogSummary is made of, its author's name and its tags' names included,
    one row a blog: the caller adds the conditions and the order. Built once: statements are
    immutable, each `where` makes a new one."""
    tag_names = (
        select(func.aggregate_strings(Tag.name, " "))
        .join(BlogTagLink, col(BlogTagLink.tag_id) == Tag.id)
        .where(BlogTagLink.blog_id == Blog.id)
        # Only the blog comes from the outer query: a tag's list joins blog_tag there too.
        .correlate(Blog)
        .scalar_subquery()
    )
    return select(
        Blog.id,
        Blog.title,
        Blog.body,
        Blog.author_id,
        col(User.name).label("author_name"),
        Blog.updated_at,
        Blog.published_at,
        tag_names.label("tag_names"),
        Blog.suspended_published_at,
        Blog.comment_count,
        Blog.comments_open,
        Blog.created_at,
        Blog.version,
    ).join(User, col(User.id) == Blog.author_id)


def summaries_from(rows: Sequence[Any]) -> list[BlogSummary]:
    """BlogSummaries from rows of `_summaries()`'s columns, in its order; columns after those
    (`summaries_of`'s) are left to the caller."""
    return [
        BlogSummary(
            id=blog_id,
            title=title,
            body=body,
            author=AuthorName(author_id, author_name),
            updated_at=updated,
            published_at=published,
            # A tag is one word (models.TAG_PATTERN), so a space cannot be inside one.
            tags=tuple(map(TagName, sorted(tag_names.split()))) if tag_names else (),
            suspended_published_at=held,
            comment_count=comment_count,
            comments_open=comments_open,
            created_at=created,
            version=version,
        )
        for (
            blog_id,
            title,
            body,
            author_id,
            author_name,
            updated,
            published,
            tag_names,
            held,
            comment_count,
            comments_open,
            created,
            version,
            *_,
        ) in rows
    ]


def summaries_of(found: FromClause, *found_columns: str) -> Select:
    """The summaries of the blogs a query found (`found`: a subquery with an `id` column), in
    one statement with it: each row is `_summaries()`'s columns, then `found_columns` of it."""
    return (
        _summaries()
        .add_columns(*(found.c[name] for name in found_columns))
        .join(found, found.c.id == Blog.id)
    )


def blog_summary(*, session: Session, blog_id: int) -> BlogSummary | None:
    """The blog with this id, whatever it is (the caller decides who may see it), or None.
    Every blog page asks this: its statement is built once and run past the ORM."""
    rows = session.connection().execute(_one_summary(), {"blog_id": blog_id}).all()
    summaries = summaries_from(rows)
    return summaries[0] if summaries else None


@cache
def _one_summary() -> Select:
    return _summaries().where(col(Blog.id) == bindparam("blog_id"))


def unpublished_blogs(*, session: Session, author_id: int) -> list[BlogSummary]:
    """An author's drafts and scheduled blogs, most recently changed first."""
    statement = (
        _summaries()
        # A draft's NULL published_at is neither before nor after now, so it is asked for.
        .where(
            Blog.author_id == author_id,
            or_(col(Blog.published_at).is_(None), col(Blog.published_at) > utc_now()),
        )
        .order_by(col(Blog.updated_at).desc(), col(Blog.id).desc())
    )
    return summaries_from(session.execute(statement).all())


def held_blogs(*, session: Session, author_id: int, limit: int) -> list[BlogSummary]:
    """The newest of a suspended author's blogs, held back from readers: for admins only."""
    statement = (
        _summaries()
        .where(Blog.author_id == author_id, col(Blog.suspended_published_at).is_not(None))
        .order_by(col(Blog.suspended_published_at).desc(), col(Blog.id).desc())
        .limit(limit)
    )
    return summaries_from(session.execute(statement).all())


def visible_blog(
    *, session: Session, blog_id: int, viewer: User | UserPublic | None
) -> Blog | None:
    """The blog with this id if this viewer may see it (see `is_visible`), else None."""
    blog = session.get(Blog, blog_id)
    return blog if blog is not None and is_visible(blog, viewer) else None


def every_blog_of(*, session: Session, author_id: int) -> list[Blog]:
    """All of an author's blogs, drafts and held ones too, oldest first, with their tags."""
    statement = (
        select(Blog)
        .where(Blog.author_id == author_id)
        .options(selectinload(Blog.tags))  # type: ignore[arg-type]
        .order_by(col(Blog.id))
    )
    return list(session.exec(statement).all())


def sitemap_blogs(*, session: Session, first_id: int, last_id: int) -> list[SitemapBlog]:
    """The published blogs with ids from first_id to last_id, for one part of the sitemap: a
    range of the primary key. Only what an address and its date need: bodies stay put."""
    statement = (
        select(Blog.id, Blog.title, Blog.updated_at, Blog.published_at)
        .where(col(Blog.id) >= first_id, col(Blog.id) <= last_id, is_published())
        .order_by(col(Blog.id))
    )
    return [SitemapBlog(*row) for row in session.exec(statement).all()]


def sitemap_blog_parts(*, session: Session, part_size: int) -> list[int]:
    """The numbers of the sitemap's parts of blogs that hold at least one published blog."""
    return parts_with_rows(
        session=session, id_column=col(Blog.id), condition=is_published(), part_size=part_size
    )


def parts_with_rows(
    *, session: Session, id_column, condition: ColumnElement[bool], part_size: int
) -> list[int]:
    """Which parts of a table (ids 1 to part_size in part 1, the next part_size in part 2, ...)
    hold a row meeting the condition, in one statement: from each part found, one step along
    the primary key to the next row that meets it, so the cost follows the number of parts, not
    of rows (a part of rows that all fail the condition is walked through, once)."""

    def first_part_after(last_id) -> ColumnElement[int]:
        return (
            select((id_column - 1) // part_size + 1)
            .where(id_column > last_id, condition)
            .order_by(id_column)
            .limit(1)
            .scalar_subquery()
        )

    parts = select(first_part_after(0).label("number")).cte("parts", recursive=True)
    parts = parts.union_all(
        select(first_part_after(parts.c.number * part_size)).where(parts.c.number.is_not(None))
    )
    statement = select(parts.c.number).where(parts.c.number.is_not(None))
    return list(session.exec(statement).all())


def popular_tags(*, session: Session, limit: int = 100) -> list[tuple[str, int]]:
    """Tags with how many published blogs carry them, most used first (then by name).

    From the counts the database keeps (Tag.dated_blog_count: published and scheduled blogs),
    less each tag's blogs still scheduled, counted from its index. Scheduled blogs are few, and
    a tag on one may stand lower than its kept count says, so the query reads as many more tags
    than asked as there are tags on scheduled blogs (found from blog's index on published_at):
    the list is exact, and no tag outside those read can belong in it.
    """
    now = utc_now()
    scheduled = (
        select(func.count())
        .select_from(BlogTagLink)
        .where(BlogTagLink.tag_id == Tag.id, col(BlogTagLink.published_at) > now)
        .scalar_subquery()
    )
    tags_on_scheduled = (
        select(func.count(distinct(BlogTagLink.tag_id)))
        .join(Blog, col(Blog.id) == BlogTagLink.blog_id)
        .where(col(Blog.published_at) > now)
        .scalar_subquery()
    )
    statement = (
        select(Tag.name, Tag.dated_blog_count - scheduled)
        .where(Tag.dated_blog_count > 0)
        .order_by(col(Tag.dated_blog_count).desc(), Tag.name)
        .limit(limit + tags_on_scheduled)
    )
    counted = [(name, count) for name, count in session.exec(statement).all() if count > 0]
    return sorted(counted, key=lambda tag: (-tag[1], tag[0]))[:limit]


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
    """Save the form's changes, unless the blog changed since the form was opened. A field
    sent as null (JSON; a form has none) is left as it is, like one not sent."""
    changes = blog_update.model_dump(
        exclude_unset=True, exclude_none=True, exclude={"publish_at", "tags", "version"}
    )
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
