"""Limits on how often one address may do something, counted in the database.

The counts live in the database, not in a worker's memory, so a limit holds across every
worker and machine serving the site.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from blog.models import Attempt, utc_now

# Counts older than the longest window any limit looks back over are of no use to anyone.
LONGEST_WINDOW = timedelta(days=1)


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
    if limit.count <= 0:
        return
    now = utc_now()
    session.execute(delete(Attempt).where(col(Attempt.created_at) < now - LONGEST_WINDOW))
    session.add(Attempt(action=limit.action, key=key, created_at=now))
    session.commit()
