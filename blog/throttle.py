"""Limits on how often one address may do something, counted in the database.

The counts live in the database, not in a worker's memory, so a limit holds across every
worker and machine serving the site.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from blog.config import Settings
from blog.models import Attempt, utc_now

# Counts older than the longest window any limit looks back over are of no use to anyone.
LONGEST_WINDOW = timedelta(days=1)
LOGIN_WINDOW = timedelta(minutes=15)
COMMENT_MINUTE = timedelta(minutes=1)
COMMENT_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Limit:
    """At most `count` of `action` per key within `window`; a count of 0 turns it off."""

    action: str
    count: int
    window: timedelta


class Throttled(Exception):
    """A limit is reached; `retry_after` is when the oldest counted attempt leaves the window."""

    def __init__(self, retry_after: datetime) -> None:
        self.retry_after = retry_after

    @property
    def seconds(self) -> int:
        """Whole seconds to wait, for the Retry-After header; at least one."""
        return max(1, math.ceil((self.retry_after - utc_now()).total_seconds()))

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.seconds / 60))


@dataclass(frozen=True)
class Counter:
    """A limit as it applies to one key."""

    limit: Limit
    key: str


@dataclass(frozen=True)
class LoginCounters:
    """What failed logins count against: the address, and one email from that address."""

    address: Counter
    account: Counter | None

    @property
    def all(self) -> list[Counter]:
        return [self.address, *([self.account] if self.account else [])]


def login_counters(settings: Settings, *, address: str, email: str | None) -> LoginCounters:
    """The limits on wrong passwords from `address`, for `email` when the form had one.

    Keyed by address as well as email, so a stranger guessing at an account cannot lock its
    owner out from elsewhere.
    """
    per_account = Limit("failed-login", settings.login_failures_per_account, LOGIN_WINDOW)
    per_address = Limit("failed-login-any", settings.login_failures_per_address, LOGIN_WINDOW)
    return LoginCounters(
        address=Counter(per_address, address),
        account=Counter(per_account, f"{address} {email}") if email else None,
    )


def comment_counters(settings: Settings, *, user_id: int | None, address: str) -> list[Counter]:
    """The limits on comments: per account when logged in, else per address (guests)."""
    key = f"account {user_id}" if user_id is not None else f"address {address}"
    return [
        Counter(Limit("comment-minute", settings.comments_per_minute, COMMENT_MINUTE), key),
        Counter(Limit("comment-day", settings.comments_per_day, COMMENT_DAY), key),
    ]


def check_all(*, session: Session, counters: list[Counter]) -> None:
    """Raise Throttled when any of the counters has used up its limit."""
    for counter in counters:
        check(session=session, limit=counter.limit, key=counter.key)


def record_all(*, session: Session, counters: list[Counter]) -> None:
    """Count one attempt against each counter, in one transaction."""
    counting = [counter for counter in counters if counter.limit.count > 0]
    if not counting:
        return
    now = utc_now()
    session.execute(delete(Attempt).where(col(Attempt.created_at) < now - LONGEST_WINDOW))
    for counter in counting:
        session.add(Attempt(action=counter.limit.action, key=counter.key, created_at=now))
    session.commit()


def check(*, session: Session, limit: Limit, key: str) -> None:
    """Raise Throttled when `key` has used up `limit`."""
    if limit.count <= 0:
        return
    since = utc_now() - limit.window
    statement = select(func.count(), func.min(Attempt.created_at)).where(
        Attempt.action == limit.action, Attempt.key == key, col(Attempt.created_at) > since
    )
    count, oldest = session.exec(statement).one()
    if count >= limit.count:
        raise Throttled(oldest + limit.window)


def record(*, session: Session, limit: Limit, key: str) -> None:
    """Count one attempt, and forget the counts no limit looks at any more."""
    record_all(session=session, counters=[Counter(limit, key)])


def clear(*, session: Session, limit: Limit, key: str) -> None:
    """Forget every counted attempt of `key` (a login that succeeded clears its failures)."""
    if limit.count <= 0:
        return
    session.execute(delete(Attempt).where(Attempt.action == limit.action, Attempt.key == key))
    session.commit()
