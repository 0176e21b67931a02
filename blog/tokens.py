"""Personal API tokens: made, listed and revoked by their owner, and looked up on each API
request; every function takes its session by keyword.

A token is `blog_` and 43 random URL-safe characters. Only its SHA-256 is kept (as for login
sessions), so the owner sees it once, when it is made. A request counts against its token's
limit with one UPDATE of the token's row (API_REQUESTS_PER_MINUTE, shared by every worker), and
`last_used_at` rides on that write, or is written alone at most every LAST_USED_STEP.
"""

import logging
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import case, delete, literal, or_, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from blog.db import database_is_unavailable, one_line
from blog.models import ApiToken, ApiTokenCreate, ApiTokenPublic, User, UTCDateTime, utc_now
from blog.security import token_digest
from blog.throttle import Throttled

logger = logging.getLogger("blog")

TOKEN_PREFIX = "blog_"  # noqa: S105 - what every token starts with
# What `new_token` makes: anything else is not looked up at all.
TOKEN_PATTERN = re.compile(rf"{TOKEN_PREFIX}[A-Za-z0-9_-]{{43}}")
LAST_USED_STEP = timedelta(minutes=5)
RATE_WINDOW = timedelta(minutes=1)


def new_token() -> str:
    # The prefix tells a reader (and secret scanners) what a leaked string is.
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_token(*, session: Session, user: User, token_create: ApiTokenCreate) -> str:
    """Make a token for the user and answer it: the only time it is ever seen whole."""
    token = new_token()
    api_token = ApiToken.model_validate(
        token_create, update={"user_id": user.id, "token_hash": token_digest(token)}
    )
    session.add(api_token)
    session.commit()
    return token


def tokens_of(*, session: Session, user: User) -> list[ApiTokenPublic]:
    """The user's tokens, newest first."""
    statement = (
        select(ApiToken)
        .where(col(ApiToken.user_id) == user.id)
        .order_by(col(ApiToken.created_at).desc(), col(ApiToken.id).desc())
    )
    return [ApiTokenPublic.model_validate(row) for row in session.exec(statement)]


def revoke_token(*, session: Session, user: User, token_id: int) -> bool:
    """Delete one of the user's tokens; False when they have no such token."""
    result = session.execute(
        delete(ApiToken).where(col(ApiToken.id) == token_id, col(ApiToken.user_id) == user.id)
    )
    session.commit()
    return result.rowcount == 1


def user_for_token(*, session: Session, token: str, requests_per_minute: int) -> User | None:
    """The user a token belongs to, or None (no such token, or its user is suspended).

    The request counts against the token's limit first: Throttled once it has made
    `requests_per_minute` in its current minute (0: no limit).
    """
    if not TOKEN_PATTERN.fullmatch(token):
        return None
    now = utc_now()
    statement = (
        select(ApiToken.id, ApiToken.last_used_at, User)
        .join(User, col(User.id) == ApiToken.user_id)
        # Suspension deletes the tokens too; this covers a request racing it.
        .where(col(ApiToken.token_hash) == token_digest(token), col(User.suspended_at).is_(None))
    )
    row = session.exec(statement).first()
    if row is None:
        return None
    token_id, last_used_at, user = row
    note_use = last_used_at is None or now - last_used_at >= LAST_USED_STEP
    if requests_per_minute > 0:
        _count_request(
            session=session,
            token_id=token_id,
            now=now,
            limit=requests_per_minute,
            note_use=note_use,
        )
    elif note_use:
        _write(
            session, update(ApiToken).where(col(ApiToken.id) == token_id).values(last_used_at=now)
        )
    return user


def _count_request(
    *, session: Session, token_id: int, now: datetime, limit: int, note_use: bool
) -> None:
    """One request more in the token's minute (a new minute starts with it when the last one
    is over), in one statement, so requests racing in several workers are all counted."""
    moment = literal(now, UTCDateTime())
    window_is_over = or_(
        col(ApiToken.window_started_at).is_(None),
        col(ApiToken.window_started_at) <= literal(now - RATE_WINDOW, UTCDateTime()),
    )
    values = {
        "requests_in_window": case((window_is_over, 1), else_=col(ApiToken.requests_in_window) + 1),
        "window_started_at": case((window_is_over, moment), else_=col(ApiToken.window_started_at)),
    }
    if note_use:
        values["last_used_at"] = moment
    statement = (
        update(ApiToken)
        .where(col(ApiToken.id) == token_id)
        .values(values)
        .returning(col(ApiToken.requests_in_window), col(ApiToken.window_started_at))
    )
    counted = _write(session, statement)
    if counted is not None and counted[0] > limit:
        raise Throttled(counted[1] + RATE_WINDOW)


def _write(session: Session, statement) -> tuple | None:
    """Run a bookkeeping write on a connection of its own, committed at once, so the request's
    session and what it has loaded stay as they are (as `blog.users.note_seen` does). A
    database that cannot be written just now leaves it for a later request, and the request
    goes on uncounted, rather than failing a read."""
    try:
        with session.get_bind().begin() as connection:
            result = connection.execute(statement)
            return tuple(result.one()) if result.returns_rows else None
    except DBAPIError as error:
        if not database_is_unavailable(error):
            raise
        logger.warning("Could not note an API token's use: %s", one_line(error.orig))
        return None
