"""Password hashing, CSRF tokens and the logged-in user's session."""

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request

_hasher = PasswordHasher()
# Verified when the email is unknown, so a login takes as long whether or not the account
# exists and timing does not reveal which emails are registered.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

CSRF_SESSION_KEY = "csrf_token"
USER_SESSION_KEY = "user_id"
FLASH_SESSION_KEY = "flashes"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """True when the password matches; always does the work of one verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def csrf_token(request: Request) -> str:
    """The visitor's CSRF token, made on first use and kept in their signed session."""
    token = request.session.get(CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return token


def csrf_token_is_valid(request: Request, submitted: object) -> bool:
    expected = request.session.get(CSRF_SESSION_KEY)
    return (
        isinstance(submitted, str)
        and bool(expected)
        and secrets.compare_digest(submitted.encode(), expected.encode())
    )


def start_session(request: Request, user_id: int | None) -> None:
    """Drop everything in the old session (a fresh CSRF token too) and start a new one."""
    request.session.clear()
    if user_id is not None:
        request.session[USER_SESSION_KEY] = user_id


def flash(request: Request, message: str) -> None:
    """Queue a one-time message for the next page the visitor sees."""
    request.session[FLASH_SESSION_KEY] = [*request.session.get(FLASH_SESSION_KEY, []), message]


def pop_flashes(request: Request) -> list[str]:
    return request.session.pop(FLASH_SESSION_KEY, [])
