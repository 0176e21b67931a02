"""Every table, every schema and every rule about fields lives here.

Each resource has a data model (`…Base`) holding its fields and limits, a table model that
inherits it, and schemas for creating, updating and showing it. Forms validate into these same
classes, so the rules are written once.
"""

from datetime import UTC, datetime
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BeforeValidator
from sqlalchemy import DateTime, Index, Text, TypeDecorator
from sqlmodel import Field, Relationship, SQLModel

NAME_MAX_LENGTH = 100
EMAIL_MAX_LENGTH = 254
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 1_000
TITLE_MAX_LENGTH = 200
BODY_MAX_LENGTH = 100_000


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite has no timezone type and hands back naive datetimes; this keeps both databases alike.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _blank_to_empty(value: object) -> object:
    """Whitespace-only counts as blank, but otherwise keep the text exactly as typed."""
    return "" if isinstance(value, str) and not value.strip() else value


def _unix_newlines(value: object) -> object:
    """Browsers send textarea lines ending in CRLF; store them one way."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def _forbid_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text, and no person types one.
    if "\x00" in value:
        raise ValueError("Must not contain NUL characters.")
    return value


def _normalize_email(value: str) -> str:
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise ValueError("Enter a valid email address, like name@example.com.") from None
    return result.normalized.lower()


# Trimmed one-line text: names and titles.
LineText = Annotated[str, BeforeValidator(_strip), AfterValidator(_forbid_nul)]
# Free text kept as typed; whitespace-only is blank.
FreeText = Annotated[str, BeforeValidator(_blank_to_empty), AfterValidator(_forbid_nul)]
BodyText = Annotated[FreeText, BeforeValidator(_unix_newlines)]
Email = Annotated[str, BeforeValidator(_strip), AfterValidator(_normalize_email)]


# Users


class UserBase(SQLModel):
    name: LineText = Field(min_length=1, max_length=NAME_MAX_LENGTH)
    email: Email = Field(min_length=1, max_length=EMAIL_MAX_LENGTH, unique=True, index=True)


class User(UserBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    password_hash: str
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)

    blogs: list["Blog"] = Relationship(back_populates="author", cascade_delete=True)


class UserCreate(UserBase):
    password: FreeText = Field(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)


class UserUpdate(SQLModel):
    name: LineText | None = Field(default=None, min_length=1, max_length=NAME_MAX_LENGTH)
    email: Email | None = Field(default=None, min_length=1, max_length=EMAIL_MAX_LENGTH)


class UserLogin(SQLModel):
    """What the login form holds: checked for shape here, against the accounts only as a whole."""

    email: Email = Field(min_length=1, max_length=EMAIL_MAX_LENGTH)
    password: FreeText = Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)


class UserPublic(SQLModel):
    """What anyone may see of a user: no email, never a password hash."""

    id: int
    name: str


class UserWithBlogCount(UserPublic):
    blog_count: int


# Blogs


class BlogBase(SQLModel):
    title: LineText = Field(min_length=1, max_length=TITLE_MAX_LENGTH)
    body: BodyText = Field(min_length=1, max_length=BODY_MAX_LENGTH, sa_type=Text)


class Blog(BlogBase, table=True):
    # Lists read newest first with id breaking ties; this index serves that order directly.
    __table_args__ = (Index("ix_blog_created_at_id", "created_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)

    author: User = Relationship(back_populates="blogs")


class BlogCreate(BlogBase):
    pass


class BlogUpdate(SQLModel):
    title: LineText | None = Field(default=None, min_length=1, max_length=TITLE_MAX_LENGTH)
    body: BodyText | None = Field(default=None, min_length=1, max_length=BODY_MAX_LENGTH)


class BlogPublic(BlogBase):
    id: int
    author_id: int
    created_at: datetime
    updated_at: datetime
    author: UserPublic
