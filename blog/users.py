"""Queries and writes for users; every function takes its session by keyword."""

from sqlalchemy import and_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from blog.blogs import is_published
from blog.models import Blog, User, UserCreate, UserUpdate, UserWithBlogCount
from blog.security import hash_password, verify_password


class EmailTaken(Exception):
    """Another account already uses this email."""

    message = "An account with this email already exists. Log in instead?"


def get_user_by_email(*, session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.lower())).first()


def create_user(*, session: Session, user_create: UserCreate) -> User:
    user = User.model_validate(
        user_create, update={"password_hash": hash_password(user_create.password)}
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


def delete_user(*, session: Session, user: User) -> None:
    """Delete the user and, through the cascade, every blog they wrote."""
    session.delete(user)
    session.commit()


def authors_with_blog_counts(*, session: Session) -> list[UserWithBlogCount]:
    """Every user with how many blogs they have published, in one query."""
    statement = (
        select(User.id, User.name, func.count(col(Blog.id)).label("blog_count"))
        # Drafts and scheduled blogs are nobody else's business, not even as a number.
        .outerjoin(Blog, and_(col(Blog.author_id) == User.id, is_published()))
        .group_by(col(User.id), col(User.name))
        .order_by(func.lower(User.name), col(User.id))
    )
    return [UserWithBlogCount.model_validate(row._mapping) for row in session.exec(statement)]
