"""Password hashing, CSRF tokens and the logged-in user's session."""

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request

_hasher = PasswordHasher()
# Verified when the email is unknown, so a login takes as long whether or not the account
# exists and timing does not reveal which emails are registered.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

CSRF_SESSION_KEY = "csrf_token"
# The cookie names a login session (a row of login_session) by its random token. Cookies from
# before sessions were kept in the database carried "user_id", which nothing reads any more.
LOGIN_SESSION_KEY = "login"
FLASH_SESSION_KEY = "flashes"
# How long the signed cookie lives after the visitor's last request; a login session unused for
# that long can never be named again and is deleted.
SESSION_MAX_AGE = timedelta(days=14)
SESSION_MAX_AGE_SECONDS = int(SESSION_MAX_AGE.total_seconds())


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


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the database keeps of a secret token: its SHA-256, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def login_token(request: Request) -> str | None:
    """The token of the login session the cookie names, if it names one."""
    token = request.session.get(LOGIN_SESSION_KEY)
    return token if isinstance(token, str) else None


def start_session(request: Request, login_session_token: str | None) -> None:
    """Drop everything in the old session (a fresh CSRF token too) and start a new one."""
    request.session.clear()
    if login_session_token is not None:
        request.session[LOGIN_SESSION_KEY] = login_session_token


def flash(request: Request, message: str) -> None:
    """Queue a one-time message for the next page the visitor sees."""
    request.session[FLASH_SESSION_KEY] = [*request.session.get(FLASH_SESSION_KEY, []), message]


def pop_flashes(request: Request) -> list[str]:
    return request.session.pop(FLASH_SESSION_KEY, [])
