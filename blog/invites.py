"""One-time registration links for when sign-ups are closed; every function takes its session
by keyword.

The link carries a random token; the database keeps only its SHA-256, so a copy of the
database (a backup, a leak) opens no account. 32 random bytes need no slow hash: nothing about
them can be guessed.
"""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from blog.models import Invite, utc_now

INVITE_LIFETIME = timedelta(days=7)
# A token from `secrets.token_urlsafe(32)` is 43 characters; anything far longer is garbage.
TOKEN_MAX_LENGTH = 100


def create_invite(*, session: Session) -> str:
    """A new invitation; returns its token, which only the link will hold."""
    token = secrets.token_urlsafe(32)
    session.add(Invite(token_hash=_hash(token)))
    session.commit()
    return token


def invite_is_valid(*, session: Session, token: object) -> bool:
    """Whether the token names an invitation not yet used and not expired."""
    if not _looks_like_a_token(token):
        return False
    statement = select(Invite.id).where(*_usable(token))  # type: ignore[arg-type]
    return session.exec(statement).first() is not None


def claim_invite(*, session: Session, token: object) -> bool:
    """Mark the invitation used, in the caller's transaction (committed with the new account,
    rolled back with it); False if it was not valid. One statement, so two sign-ups racing
    with one link cannot both claim it."""
    if not _looks_like_a_token(token):
        return False
    claimed = session.execute(
        update(Invite).where(*_usable(token)).values(used_at=utc_now())  # type: ignore[arg-type]
    )
    return claimed.rowcount == 1


def _usable(token: str):
    return (
        col(Invite.token_hash) == _hash(token),
        col(Invite.used_at).is_(None),
        col(Invite.created_at) > utc_now() - INVITE_LIFETIME,
    )


def _looks_like_a_token(token: object) -> bool:
    return isinstance(token, str) and 0 < len(token) <= TOKEN_MAX_LENGTH


def _hash(token: str) -> str:
    # surrogatepass: a garbled address may hold a lone surrogate, which must not be a 500.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
