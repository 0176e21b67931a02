"""Queries and writes for users; every function takes its session by keyword."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from blog.blogs import is_published, parts_with_rows
from blog.models import (
    Blog,
    User,
    UserCreate,
    UserForAdmins,
    UserUpdate,
    UserWithBlogCount,
    utc_now,
)
from blog.paging import Order, PageOfList, Position, read_page
from blog.security import hash_password, verify_password


@dataclass(frozen=True)
class AuthorPage(PageOfList):
    """One page of the authors, in name order."""

    authors: list[UserWithBlogCount]


@dataclass(frozen=True)
class AccountPage(PageOfList):
    """One page of every account, suspended ones too, in name order: for admins."""

    accounts: list[UserForAdmins]


class EmailTaken(Exception):
    """Another account already uses this email."""

    message = "An account with this email already exists. Log in instead?"


def get_user_by_email(*, session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.lower())).first()


def create_user(*, session: Session, user_create: UserCreate, is_admin: bool = False) -> User:
    user = User.model_validate(
        user_create,
        update={"password_hash": hash_password(user_create.password), "is_admin": is_admin},
    )
    _save_unique_email(session=session, user=user)
    return user


def update_user(*, session: Session, user: User, user_update: UserUpdate) -> User:
    user.sqlmodel_update(user_update.model_dump(exclude_unset=True))
    _save_unique_email(session=session, user=user)
    return user


def _save_unique_email(*, session: Session, user: User) -> None:
    """Commit the user, or raise EmailTaken; the unique index settles races between requests."""
    # The user may hold unsaved changes; look without flushing them first.
    with session.no_autoflush:
        other = get_user_by_email(session=session, email=user.email)
    if other is not None and other.id != user.id:
        session.rollback()
        raise EmailTaken
    session.add(user)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise EmailTaken from None
    session.refresh(user)


def authenticate(*, session: Session, email: str, password: str) -> User | None:
    user = get_user_by_email(session=session, email=email)
    if not verify_password(password, user.password_hash if user else None):
        return None
    return user


def set_admin(*, session: Session, user: User, is_admin: bool) -> None:
    user.is_admin = is_admin
    session.add(user)
    session.commit()


def suspend_user(*, session: Session, user: User) -> None:
    """Suspend the account: it cannot log in, and the database holds back its blogs (migration
    0008's triggers) until it is reinstated. Suspending it again changes nothing."""
    if user.suspended_at is None:
        user.suspended_at = utc_now()
        session.add(user)
        session.commit()


def reinstate_user(*, session: Session, user: User) -> None:
    """Lift the suspension: the account can log in again and its blogs are back."""
    if user.suspended_at is not None:
        user.suspended_at = None
        session.add(user)
        session.commit()


def delete_user(*, session: Session, user: User) -> None:
    """Delete the user and, through the cascade, every blog they wrote."""
    session.delete(user)
    session.commit()


def authors_page(*, session: Session, position: Position, page_size: int) -> AuthorPage:
    """A page of authors in name order (case aside; id breaks ties), each with how many blogs
    they have published, in one query that reads the page from the (name_key, id) index.

    The count is the database's (User.dated_blog_count: published and scheduled blogs) less the
    author's blogs still scheduled, counted from blog's (author_id, published_at, id) index: a
    scheduled blog is published by time alone, with no write to count it then. Drafts and
    scheduled blogs are nobody else's business, not even as a number.
    """
    still_scheduled = (
        select(func.count())
        .select_from(Blog)
        .where(Blog.author_id == User.id, col(Blog.published_at) > utc_now())
        .scalar_subquery()
    )
    # Suspended authors are left out: their pages are 404 to readers until reinstated.
    listed = col(User.suspended_at).is_(None)
    statement = select(
        User.id,
        User.name,
        User.name_key,
        (User.dated_blog_count - still_scheduled).label("blog_count"),
    ).where(listed)
    columns = (col(User.name_key), col(User.id))
    keys = select(*columns).where(listed)
    order = Order(columns=columns, descending=False, key_of=_name_key, keys=keys)
    rows, links = read_page(session, statement, order=order, position=position, page_size=page_size)
    return AuthorPage(
        authors=[UserWithBlogCount.model_validate(row._mapping) for row in rows],
        number=links.number,
        previous_query=links.previous_query,
        next_query=links.next_query,
    )


def accounts_page(*, session: Session, position: Position, page_size: int) -> AccountPage:
    """A page of every account in name order, as /users pages its authors (the same index)."""
    columns = (col(User.name_key), col(User.id))
    order = Order(columns=columns, descending=False, key_of=_name_key, keys=select(*columns))
    users, links = read_page(
        session, select(User), order=order, position=position, page_size=page_size
    )
    return AccountPage(
        accounts=[UserForAdmins.model_validate(user) for user in users],
        number=links.number,
        previous_query=links.previous_query,
        next_query=links.next_query,
    )


def _name_key(row: Any) -> tuple[str, int]:
    return row.name_key, row.id


def _has_published(now=None):
    """True for users with a published blog: one step into blog's (author_id, published_at, id)
    index, and none at all for those whose kept count says they have no dated blog."""
    published = exists().where(Blog.author_id == User.id, is_published(now))
    return (col(User.dated_blog_count) > 0) & published


def sitemap_authors(*, session: Session, first_id: int, last_id: int) -> list[int]:
    """The ids, from first_id to last_id, of authors with a published blog: one part of the
    sitemap, a range of the primary key."""
    statement = (
        select(User.id)
        .where(col(User.id) >= first_id, col(User.id) <= last_id, _has_published())
        .order_by(col(User.id))
    )
    return list(session.exec(statement).all())


def sitemap_author_parts(*, session: Session, part_size: int) -> list[int]:
    """The numbers of the sitemap's parts of authors that hold at least one author with a
    published blog."""
    return parts_with_rows(
        session=session, id_column=col(User.id), condition=_has_published(), part_size=part_size
    )
