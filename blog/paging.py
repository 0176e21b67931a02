"""Pages of long lists: the first few by number, every other one from a cursor.

A list is read in the order of a key held by an index: a blog's (published_at, id), newest
first; an author's (lower-case name, id). The links to the next and previous page carry the key
of the row at the page's edge, with the page's number, as one opaque token (`?before=…` for the
rows whose key sorts before it, `?after=…` for those after), so every page is one range read from
the index: page 40,000 costs what page 2 costs, and a page holds the same rows however many were
published since. `?page=N` is still answered for the first MAX_NUMBERED_PAGE pages (old links,
and people typing it), by an offset over the index; past that a number is a 404, since only
reading every row before it could find the page.
"""

import base64
import binascii
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query
from sqlalchemy import ColumnElement, and_, bindparam, or_
from sqlmodel import Session
from sqlmodel.sql.expression import Select, SelectOfScalar

# Numbered pages cost an offset: at 20 a page, at most 1,980 index entries skipped.
MAX_NUMBERED_PAGE = 100
# Past any real list; the number is only the label a page shows.
MAX_PAGE_NUMBER = 10**9
# The largest id an Integer column holds on every database the blog runs on (PostgreSQL's is
# 32 bits): a larger one in a token names no row, and PostgreSQL would refuse to compare it.
MAX_ID = 2**31 - 1
# A key's text (a lower-case name of up to 100 characters) as JSON, then base64: well within.
MAX_TOKEN_LENGTH = 1_000
MAX_KEY_TEXT_LENGTH = 400
NO_SUCH_PAGE = "There is no such page."
DEEP_PAGE = "There is no such page. Follow the links at the foot of each page to go further."
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Position:
    """Which page of a list to show: a page number, or the rows on one side of a key."""

    number: int = 1
    # The rows whose key sorts before this one (`?before=`) or after it (`?after=`).
    before: Key | None = None
    after: Key | None = None

    @property
    def cursor(self) -> Key | None:
        return self.before if self.before is not None else self.after


FIRST_PAGE = Position()


@dataclass(frozen=True)
class PageOfList:
    """Where a page sits in a longer list: its number, and the query strings of the pages on
    either side (None where there is none)."""

    number: int
    previous_query: str | None
    next_query: str | None

    @property
    def has_previous(self) -> bool:
        return self.previous_query is not None

    @property
    def has_next(self) -> bool:
        return self.next_query is not None


@dataclass(frozen=True)
class Order:
    """How a list is sorted: by two columns (the second unique, so no two rows tie), one way."""

    columns: tuple[Any, Any]
    descending: bool
    # The key of one row the statement returns.
    key_of: Callable[[Any], Key]
    # The same list's keys alone (the two columns), read from the index without the rows: what
    # a numbered page's offset skips through.
    keys: Any
    # The largest value of the first column the list holds ("published by now"), if any. Given
    # here rather than in the statement, so that a cursor's page has one upper bound for the
    # index, the lower of the two: with two, SQLite may take the wrong one and read from now
    # back to the cursor.
    up_to: Any = None


def numbered(number: int, *, has_next: bool) -> PageOfList:
    """A page of a list paged by number alone (search results, which have no key to resume
    from and are bounded anyway)."""
    return PageOfList(
        number=number,
        previous_query=f"page={number - 1}" if number > 1 else None,
        next_query=f"page={number + 1}" if has_next else None,
    )


def read_page(
    session: Session,
    statement: Select | SelectOfScalar,
    *,
    order: Order,
    position: Position,
    page_size: int,
) -> tuple[Sequence[Any], PageOfList]:
    """One page of the statement's rows in the list's order, and the links on either side.

    An empty page past the first is for the caller to answer with a 404.
    """
    if position.cursor is None:
        if position.number > 1:
            # The key of the page's first row, found by skipping the rows before it in the
            # index alone (an entry each, no row read); the page is read from there.
            edge = session.exec(
                _in_order(_up_to(order.keys, order), order, reverse=False)
                .offset((position.number - 1) * page_size)
                .limit(1)
            ).first()
            if edge is None:
                return [], PageOfList(number=position.number, previous_query=None, next_query=None)
            # The edge is within the upper bound: the range needs no second one.
            statement = statement.where(_from(order, tuple(edge)))
        else:
            statement = _up_to(statement, order)
        rows = session.exec(_in_order(statement, order, reverse=False).limit(page_size + 1)).all()
        return _forward_page(rows, order, number=position.number, page_size=page_size)
    beyond = _beyond(order, position.cursor, after=position.after is not None)
    # In a newest-first list the rows before a key come later in the list, on the next pages.
    forward = (position.after is not None) != order.descending
    rows = session.exec(
        _in_order(statement.where(beyond), order, reverse=not forward).limit(page_size + 1)
    ).all()
    if forward:
        return _forward_page(rows, order, number=position.number, page_size=page_size)
    if len(rows) <= page_size:
        # Back at the start of the list: the first page, full, rather than a short one.
        return read_page(session, statement, order=order, position=FIRST_PAGE, page_size=page_size)
    shown = list(reversed(rows[:page_size]))
    links = PageOfList(
        number=position.number,
        previous_query=_previous_query(shown, order, position.number),
        # The rows this page was reached from are there, unless deleted since.
        next_query=_cursor_query(shown[-1], order, position.number + 1, forward=True),
    )
    return shown, links


def first_page_statement(statement: Select, order: Order) -> Select:
    """The statement of a list's first page with its size left to a `page_size` parameter
    (its upper bound, if any, is in the order, often a parameter too): a statement a caller can
    build once and run again and again (see `read_first_page`)."""
    return _in_order(_up_to(statement, order), order, reverse=False).limit(
        bindparam("page_size") + 1
    )


def read_first_page(
    session: Session,
    statement: Select,
    parameters: dict[str, Any],
    *,
    order: Order,
    page_size: int,
) -> tuple[Sequence[Any], PageOfList]:
    """What `read_page` answers for the first page, from a `first_page_statement` run with
    these parameters. It is run on the session's connection, past the ORM: its rows are
    columns, and SQLAlchemy skips the ORM's per-statement work (the first pages of the lists
    are the pages read most)."""
    rows = session.connection().execute(statement, parameters | {"page_size": page_size}).all()
    return _forward_page(rows, order, number=1, page_size=page_size)


def _forward_page(
    rows: Sequence[Any], order: Order, *, number: int, page_size: int
) -> tuple[Sequence[Any], PageOfList]:
    shown = rows[:page_size]
    has_next = len(rows) > page_size
    links = PageOfList(
        number=number,
        previous_query=_previous_query(shown, order, number) if shown else None,
        next_query=_cursor_query(shown[-1], order, number + 1, forward=True) if has_next else None,
    )
    return shown, links


def _previous_query(shown: Sequence[Any], order: Order, number: int) -> str | None:
    if number <= 1:
        return None
    if number == 2:
        return "page=1"
    return _cursor_query(shown[0], order, number - 1, forward=False)


def _cursor_query(row: Any, order: Order, number: int, *, forward: bool) -> str:
    """`before=TOKEN` or `after=TOKEN`: the rows on the far side of this row, going forward
    (to the list's end) or back (to its start)."""
    side = "before" if forward == order.descending else "after"
    return f"{side}={encode_cursor(number, order.key_of(row))}"


def _up_to(statement: Any, order: Order) -> Any:
    return statement if order.up_to is None else statement.where(order.columns[0] <= order.up_to)


def _from(order: Order, key: Key) -> ColumnElement[bool]:
    """This key's row and those after it in the list's order."""
    first, second = order.columns
    if order.descending:
        return and_(first <= key[0], or_(first < key[0], second <= key[1]))
    return and_(first >= key[0], or_(first > key[0], second >= key[1]))


def _in_order(statement: Any, order: Order, *, reverse: bool) -> Any:
    descending = order.descending != reverse
    return statement.order_by(
        *(column.desc() if descending else column.asc() for column in order.columns)
    )


def _beyond(order: Order, key: Key, *, after: bool) -> ColumnElement[bool]:
    """(first, second) > key (or < key), written so both databases read it as a range on the
    first column of the index: first >= k1 AND (first > k1 OR second > k2), and kept to the
    list's upper bound, if it has one, as the same range's other end."""
    first, second = order.columns
    up_to = order.up_to
    if after:
        inside = first >= key[0] if up_to is None else first.between(key[0], up_to)
        return and_(inside, or_(first > key[0], second > key[1]))
    below = key[0] if up_to is None else min(key[0], up_to)
    return and_(first <= below, or_(first < key[0], second < key[1]))


# Tokens


def encode_cursor(number: int, key: Key) -> str:
    """The page number and key as one opaque, URL-safe token."""
    values = [number, *(_encode_value(value) for value in key)]
    data = json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def decode_cursor(token: str, key_types: tuple[type, ...]) -> tuple[int, Key] | None:
    """The page number and key a token holds, or None for anything no link of ours carries."""
    if len(token) > MAX_TOKEN_LENGTH or not _TOKEN.fullmatch(token):
        return None
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        values = json.loads(data.decode(), parse_constant=_refuse)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(values, list) or len(values) != len(key_types) + 1:
        return None
    number, *encoded = values
    if not _is_int(number) or not 2 <= number <= MAX_PAGE_NUMBER:
        return None
    key = []
    for value, key_type in zip(encoded, key_types, strict=True):
        decoded = _decode_value(value, key_type)
        if decoded is None:
            return None
        key.append(decoded)
    return number, tuple(key)


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value.astimezone(UTC) - _EPOCH) // _MICROSECOND
    return value


def _decode_value(value: Any, key_type: type) -> Any:
    if key_type is datetime:
        if not _is_int(value):
            return None
        try:
            return _EPOCH + value * _MICROSECOND
        except OverflowError:  # outside the years 1 to 9999
            return None
    if key_type is int:
        return value if _is_int(value) and 1 <= value <= MAX_ID else None
    if key_type is str:
        if not isinstance(value, str) or len(value) > MAX_KEY_TEXT_LENGTH or "\x00" in value:
            return None
        try:
            value.encode()  # a lone surrogate ("\ud800" in the JSON) is no text a database takes
        except UnicodeEncodeError:
            return None
        return value
    raise TypeError(key_type)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _refuse(constant: str) -> None:
    raise ValueError(constant)


# The dependency that reads a position from the address


def _position_in_address(key_types: tuple[type, ...]):
    async def position_in_address(
        page: Annotated[int, Query(ge=1)] = 1,
        before: Annotated[str | None, Query(max_length=MAX_TOKEN_LENGTH)] = None,
        after: Annotated[str | None, Query(max_length=MAX_TOKEN_LENGTH)] = None,
    ) -> Position:
        """The page the address asks for; a 404 for a token no link of ours carries, both
        sides at once, or a page number too deep to reach without reading every row before."""
        if before is not None and after is not None:
            raise HTTPException(404, NO_SUCH_PAGE)
        token = before if before is not None else after
        if token is not None:
            decoded = decode_cursor(token, key_types)
            if decoded is None:
                raise HTTPException(404, NO_SUCH_PAGE)
            number, key = decoded
            if before is not None:
                return Position(number=number, before=key)
            return Position(number=number, after=key)
        if page > MAX_NUMBERED_PAGE:
            raise HTTPException(404, DEEP_PAGE)
        return Position(number=page)

    return position_in_address


# Blogs: (published_at, id). Authors: (lower-case name, id).
BlogListPosition = Annotated[Position, Depends(_position_in_address((datetime, int)))]
AuthorListPosition = Annotated[Position, Depends(_position_in_address((str, int)))]
