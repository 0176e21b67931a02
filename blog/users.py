"""Queries and writes for users; every function takes its session by keyword."""

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import Engine, bindparam, delete, exists, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, col, func, select

from blog.blogs import is_published, parts_with_rows
from blog.config import Settings
from blog.db import database_is_unavailable, one_line
from blog.models import (
    USER_AGENT_MAX_LENGTH,
    ApiToken,
    AuthorProfile,
    Blog,
    LoginSession,
    LoginSessionPublic,
    User,
    UserCreate,
    UserForAdmins,
    UserPublic,
    UserUpdate,
    UserWithBlogCount,
    utc_now,
)
from blog.paging import Order, PageOfList, Position, read_page
from blog.security import (
    SESSION_MAX_AGE,
    hash_password,
    new_session_token,
    token_digest,
    verify_password,
)

logger = logging.getLogger("blog")

# A login session's last_seen_at is written at most this often: what the sessions page shows
# and the cleanup needs, without a write on every request.
LAST_SEEN_STEP = timedelta(minutes=5)
RESET_LINK_LIFETIME = timedelta(hours=1)
# Where links point when BASE_URL is unset: the address `blog serve` listens on by default.
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
_RESET_SALT = "password-reset"


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


def password_is_right(*, user: User, password: str | None) -> bool:
    return password is not None and verify_password(password, user.password_hash)


def change_password(*, session: Session, user: User, new_password: str, keep_token: str) -> None:
    """Set a new password and end every login session of the account but the one whose token
    is `keep_token` (the browser that changed it)."""
    user.password_hash = hash_password(new_password)
    session.add(user)
    session.execute(
        delete(LoginSession).where(
            col(LoginSession.user_id) == user.id,
            col(LoginSession.token_hash) != token_digest(keep_token),
        )
    )
    session.commit()


def reset_password(*, session: Session, user: User, new_password: str) -> None:
    """Set a new password and end every login session of the account."""
    user.password_hash = hash_password(new_password)
    session.add(user)
    session.execute(delete(LoginSession).where(col(LoginSession.user_id) == user.id))
    session.commit()


# Reset links are stateless: a signed, timestamped token (itsdangerous) holding the user's id
# and a fingerprint of their password hash as it is when the link is made. The timestamp ends
# it after an hour; setting a password (this link's own use, another link's, a change on the
# account page) gives a new hash with a new salt, so a used link, and every older one, stops
# matching. Nothing is stored, so there is no table to clean and nothing to leak from one; the
# price is that links cannot be listed or revoked one by one, which nobody needs.


def password_reset_link(*, user: User, settings: Settings) -> str:
    """A one-time address that sets a new password for the user, valid for an hour."""
    payload = [user.id, _password_fingerprint(user.password_hash)]
    token = _reset_serializer(settings).dumps(payload)
    return f"{settings.base_url or DEFAULT_BASE_URL}/reset/{token}"


def user_for_reset_token(*, session: Session, token: str, settings: Settings) -> User | None:
    """The user a reset token was made for; None when it is garbled, expired or used."""
    try:
        payload = _reset_serializer(settings).loads(
            token, max_age=int(RESET_LINK_LIFETIME.total_seconds())
        )
    except BadData:
        return None
    match payload:
        case [int(user_id), str(fingerprint)]:
            user = session.get(User, user_id)
        case _:
            return None
    if user is None or not hmac.compare_digest(
        fingerprint, _password_fingerprint(user.password_hash)
    ):
        return None
    return user


def _reset_serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.signing_key, salt=_RESET_SALT)


def _password_fingerprint(password_hash: str) -> str:
    # A digest, not the hash: a token's payload is signed, not hidden, and links end up in
    # mailboxes and browser histories.
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


# Login sessions


def open_login_session(
    *, session: Session, user: User, user_agent: str, replacing: str | None = None
) -> str:
    """Start a login session for the user and answer its token, for the cookie.

    The browser's previous session (`replacing`, a token) ends, and so does every session of
    anyone unused for longer than a cookie lives: no cookie can name those any more.
    """
    now = utc_now()
    session.execute(
        delete(LoginSession).where(col(LoginSession.last_seen_at) < now - SESSION_MAX_AGE)
    )
    if replacing is not None:
        session.execute(
            delete(LoginSession).where(col(LoginSession.token_hash) == token_digest(replacing))
        )
    token = new_session_token()
    login_session = LoginSession(
        token_hash=token_digest(token),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        user_agent=user_agent[:USER_AGENT_MAX_LENGTH],
    )
    session.add(login_session)
    session.commit()
    return token


@dataclass(frozen=True, slots=True)
class LoggedIn:
    """Who a login session's cookie names, and whether its last_seen_at is due a write."""

    viewer: UserPublic
    login_session_id: int
    seen_is_due: bool


# The session and its user's public columns, one row; built once (see `logged_in_user`).
_LOGIN_SESSION = LoginSession.__table__.c
_USER = User.__table__.c
_LOGGED_IN = (
    select(
        _LOGIN_SESSION.id,
        _LOGIN_SESSION.last_seen_at,
        _USER.id.label("user_id"),
        _USER.name,
        _USER.bio,
        _USER.is_admin,
    )
    .join_from(LoginSession.__table__, User.__table__, _USER.id == _LOGIN_SESSION.user_id)
    .where(
        _LOGIN_SESSION.token_hash == bindparam("token_hash"),
        _LOGIN_SESSION.last_seen_at > bindparam("oldest", type_=_LOGIN_SESSION.last_seen_at.type),
        # A suspended account is logged out everywhere (its sessions are also deleted).
        _USER.suspended_at.is_(None),
    )
)


_AUTHOR_PROFILE = select(_USER.id, _USER.name, _USER.bio, _USER.is_admin, _USER.suspended_at).where(
    _USER.id == bindparam("user_id")
)


def author_profile(*, session: Session, user_id: int) -> AuthorProfile | None:
    """The author with this id as their page shows them, or None; read past the ORM with a
    statement built once, since every author page and feed asks."""
    row = session.connection().execute(_AUTHOR_PROFILE, {"user_id": user_id}).first()
    # The database's own columns: nothing to validate.
    return AuthorProfile.model_construct(**row._mapping) if row is not None else None


def logged_in_user(*, session: Session, token: str | None) -> LoggedIn | None:
    """Who the login session the cookie's token names is, as anyone may see them, or None.

    Every page a logged-in user opens asks this, so it is the one statement built once and
    its public columns read without the ORM (a few times cheaper than loading a User); routes
    that change an account load the User itself (blog.deps.current_user). It only reads: the
    caller writes last_seen_at (`note_seen`) when `seen_is_due`, every LAST_SEEN_STEP.
    """
    if token is None:
        return None
    now = utc_now()
    parameters = {"token_hash": token_digest(token), "oldest": now - SESSION_MAX_AGE}
    row = session.connection().execute(_LOGGED_IN, parameters).first()
    if row is None:
        return None
    # From the database's own columns, so there is nothing to validate.
    viewer = UserPublic.model_construct(
        id=row.user_id, name=row.name, bio=row.bio, is_admin=row.is_admin
    )
    return LoggedIn(viewer, row.id, seen_is_due=now - row.last_seen_at >= LAST_SEEN_STEP)


def note_seen(engine: Engine, login_session_id: int) -> None:
    """Write when a session was last seen, on a connection of its own committed at once. It is
    bookkeeping: a database that cannot be written just now (read-only, locked) leaves it for
    a later request rather than failing anything."""
    try:
        with engine.begin() as connection:
            connection.execute(
                update(LoginSession)
                .where(col(LoginSession.id) == login_session_id)
                .values(last_seen_at=utc_now())
            )
    except DBAPIError as error:
        if not database_is_unavailable(error):
            raise
        logger.warning("Could not note a session as seen: %s", one_line(error.orig))


def end_login_session(*, session: Session, token: str | None) -> None:
    """End the login session the token names (logging out), if it still exists."""
    if token is None:
        return
    session.execute(delete(LoginSession).where(col(LoginSession.token_hash) == token_digest(token)))
    session.commit()


def login_sessions(
    *, session: Session, user: User, current_token: str | None
) -> list[LoginSessionPublic]:
    """The user's login sessions, the most recently used first, this browser's marked."""
    current_hash = token_digest(current_token) if current_token else None
    statement = (
        select(LoginSession)
        .where(col(LoginSession.user_id) == user.id)
        .order_by(col(LoginSession.last_seen_at).desc(), col(LoginSession.id).desc())
    )
    return [
        LoginSessionPublic.model_validate(
            row, update={"is_current": row.token_hash == current_hash}
        )
        for row in session.exec(statement)
    ]


def sign_out_login_session(
    *, session: Session, user: User, login_session_id: int, current_token: str | None
) -> bool | None:
    """End one of the user's login sessions: None when they have no such session, else
    whether it was the current one (the browser asking)."""
    login_session = session.get(LoginSession, login_session_id)
    if login_session is None or login_session.user_id != user.id:
        return None
    was_current = current_token is not None and hmac.compare_digest(
        login_session.token_hash, token_digest(current_token)
    )
    session.delete(login_session)
    session.commit()
    return was_current


def sign_out_other_login_sessions(*, session: Session, user: User, current_token: str) -> int:
    """End every login session of the user but the current one; how many ended."""
    result = session.execute(
        delete(LoginSession).where(
            col(LoginSession.user_id) == user.id,
            col(LoginSession.token_hash) != token_digest(current_token),
        )
    )
    session.commit()
    return result.rowcount


def users_by_id(*, session: Session, ids: set[int]) -> dict[int, User]:
    """The users with these ids, by id."""
    if not ids:
        return {}
    return {user.id: user for user in session.exec(select(User).where(col(User.id).in_(ids)))}


def is_listed(author: User | AuthorProfile, viewer: User | UserPublic | None) -> bool:
    """Whether readers see this author at all: not while suspended (admins aside)."""
    return not author.is_suspended or (viewer is not None and viewer.is_admin)


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
        # Every browser logged in to it is logged out, in every worker at once, and its API
        # tokens end (they are not given back on reinstating: the owner makes new ones).
        session.execute(delete(LoginSession).where(col(LoginSession.user_id) == user.id))
        session.execute(delete(ApiToken).where(col(ApiToken.user_id) == user.id))
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
