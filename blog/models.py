"""Every table, every schema and every rule about fields lives here.

Each resource has a data model (`…Base`) holding its fields and limits, a table model that
inherits it, and schemas for creating, updating and showing it. Forms validate into these same
classes, so the rules are written once.
"""

import re
import unicodedata
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, ClassVar

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    ValidationInfo,
    computed_field,
    field_validator,
)
from pydantic import Field as PydanticField
from slugify import slugify
from sqlalchemy import (
    BigInteger,
    Column,
    Computed,
    DateTime,
    Index,
    String,
    Text,
    TypeDecorator,
    false,
    true,
)
from sqlmodel import Field, Relationship, SQLModel

NAME_MAX_LENGTH = 100
EMAIL_MAX_LENGTH = 254
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 1_000
TITLE_MAX_LENGTH = 200
BODY_MAX_LENGTH = 100_000
COMMENT_MAX_LENGTH = 5_000
TAG_MAX_LENGTH = 40
TAGS_PER_BLOG = 10
SLUG_MAX_LENGTH = 80
# What is kept of a browser's User-Agent: enough to tell browsers apart on the sessions page.
USER_AGENT_MAX_LENGTH = 300
BIO_MAX_LENGTH = 1_000
# A tag is a word that may go on with + # . _ or - ("c++", "c#", "node.js", "web-dev").
TAG_PATTERN = re.compile(r"\w[\w+#.\-]*")
# The largest number an Integer column holds on every database the blog runs on: PostgreSQL's
# INTEGER is 32 bits (SQLite's is 64).
MAX_INTEGER = 2**31 - 1
# Paths under /blogs/{id}/ that are pages of their own, so never a slug.
RESERVED_SLUGS = frozenset({"edit", "delete"})


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
# Plain text of a few lines (a bio): lines kept, one way; blank lines around it trimmed.
ParagraphText = Annotated[
    str, BeforeValidator(_unix_newlines), BeforeValidator(_strip), AfterValidator(_forbid_nul)
]
Email = Annotated[str, BeforeValidator(_strip), AfterValidator(_normalize_email)]
# Passwords are free text with limits. The limits come first, so they apply to the text as the
# blank check left it ("   " is "This field is required.", like every other blank field).
# A password someone chooses (sign-up, change, reset): one rule everywhere.
NewPassword = Annotated[
    str,
    PydanticField(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH),
    BeforeValidator(_blank_to_empty),
    AfterValidator(_forbid_nul),
]
# A password typed to prove who one is: only its shape is checked here.
GivenPassword = Annotated[
    str,
    PydanticField(min_length=1, max_length=PASSWORD_MAX_LENGTH),
    BeforeValidator(_blank_to_empty),
    AfterValidator(_forbid_nul),
]


def normalize_tag(text: str) -> str:
    """One form per tag: trimmed, lower-case, no leading '#', inner spaces as one hyphen."""
    # NFKC first, so "café" typed with a combining accent is the same tag as "café".
    return "-".join(unicodedata.normalize("NFKC", text).strip().lstrip("#").lower().split())


def _split_tags(value: object) -> object:
    """The form's one comma-separated field (or the API's list of names), as a list of
    distinct normalized tags."""
    if isinstance(value, str):
        value = value.split(",")
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        names = (normalize_tag(part) for part in value)
        return list(dict.fromkeys(name for name in names if name))
    return value


def is_tag(name: str) -> bool:
    """Whether a normalized name can be a tag at all."""
    return len(name) <= TAG_MAX_LENGTH and TAG_PATTERN.fullmatch(name) is not None


def _check_tag(name: str) -> str:
    if len(name) > TAG_MAX_LENGTH:
        raise ValueError(f"A tag can be at most {TAG_MAX_LENGTH} characters (“{name[:20]}…”).")
    if not TAG_PATTERN.fullmatch(name):
        raise ValueError(f"Tags hold letters, digits and + # . _ - only (not “{name}”).")
    return name


def _check_tag_count(names: list[str]) -> list[str]:
    if len(names) > TAGS_PER_BLOG:
        raise ValueError(f"Use at most {TAGS_PER_BLOG} tags (you gave {len(names)}).")
    return names


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _version_or_none(value: object) -> int | None:
    """The version a form says it was opened on, or None when what it holds cannot be one.

    Only ASCII digits name a version ("²" and "٣" are digits to `str.isdigit`, not to `int`
    parsing), and only from 1 up to one below MAX_INTEGER, since a save writes the next version
    into the column. Anything else is garbage no browser sends. It skips the conflict check, so
    the save goes through: refusing it at the field would draw the form again with the same
    garbage in its hidden field, and the author could never save it; passing it on to the
    database was a 500 (SQLite: "OverflowError: Python int too large to convert to SQLite
    INTEGER"; PostgreSQL: "NumericValueOutOfRange: integer out of range").
    """
    if isinstance(value, str):
        text = value.strip()
        # The length check first, so a form of thousands of digits is never parsed.
        if len(text) > len(str(MAX_INTEGER)) or not (text.isascii() and text.isdigit()):
            return None
        value = int(text)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value < MAX_INTEGER:
        return value
    return None


def _as_utc(value: datetime | None) -> datetime | None:
    """A time typed without a zone is UTC (the form says so)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC) if value is not None else None
    except OverflowError:
        # 0001-01-01T00:00+14:00 or 9999-12-31T23:59-14:00: in UTC, outside the calendar.
        raise ValueError("Choose a time between the years 1 and 9999 (UTC).") from None


TagList = Annotated[
    list[Annotated[str, AfterValidator(_check_tag)]],
    BeforeValidator(_split_tags),
    AfterValidator(_check_tag_count),
]
OptionalTime = Annotated[datetime | None, BeforeValidator(_blank_to_none), AfterValidator(_as_utc)]


def blog_path(blog_id: int | None, title: str) -> str:
    """A blog's one current address; older ones (no slug, an old title's slug) redirect here."""
    return f"/blogs/{blog_id}/{slug_for(title)}"


# Lists draw the same blogs' addresses on every request; slugify is slow enough to matter.
@lru_cache(maxsize=4096)
def slug_for(title: str) -> str:
    """The readable part of a blog's address, made from its title."""
    slug = slugify(title, max_length=SLUG_MAX_LENGTH, word_boundary=True) or "blog"
    return f"{slug}-blog" if slug in RESERVED_SLUGS else slug


# Users


class UserBase(SQLModel):
    name: LineText = Field(min_length=1, max_length=NAME_MAX_LENGTH)
    email: Email = Field(min_length=1, max_length=EMAIL_MAX_LENGTH, unique=True, index=True)


class User(UserBase, table=True):
    # /users lists authors by name, whatever its case, a page at a time from this index.
    __table_args__ = (Index("ix_user_name_key_id", "name_key", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    password_hash: str
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    # The name in lower case, the order of /users; computed by the database.
    name_key: str | None = Field(
        default=None,
        sa_column=Column(String(NAME_MAX_LENGTH), Computed("lower(name)", persisted=True)),
    )
    # How many of their blogs have a publishing time: published or scheduled, never drafts.
    # Kept by the database on every write (migration 0005's triggers); readers subtract the few
    # still scheduled (see blog.users), since time alone publishes those.
    dated_blog_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # A few lines about the author, plain text, on their page and in their feed.
    bio: str = Field(default="", max_length=BIO_MAX_LENGTH, sa_column_kwargs={"server_default": ""})
    # Admins list, suspend, reinstate and delete accounts and delete any blog; set by the
    # `blog` command only, never by a form.
    is_admin: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # Set while the account is suspended: it cannot log in, and the database holds back its
    # blogs (see Blog.suspended_published_at).
    suspended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    blogs: list["Blog"] = Relationship(back_populates="author", cascade_delete=True)

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None


class UserCreate(UserBase):
    password: NewPassword


class UserUpdate(SQLModel):
    # A profile form from before bios existed keeps the saved one.
    OMITTABLE_FIELDS: ClassVar[frozenset[str]] = frozenset({"bio"})

    name: LineText | None = Field(default=None, min_length=1, max_length=NAME_MAX_LENGTH)
    email: Email | None = Field(default=None, min_length=1, max_length=EMAIL_MAX_LENGTH)
    bio: ParagraphText | None = Field(default=None, max_length=BIO_MAX_LENGTH)


class UserLogin(SQLModel):
    """What the login form holds: checked for shape here, against the accounts only as a whole."""

    email: Email = Field(min_length=1, max_length=EMAIL_MAX_LENGTH)
    password: GivenPassword


class PasswordChange(SQLModel):
    current_password: GivenPassword
    new_password: NewPassword


class PasswordReset(SQLModel):
    new_password: NewPassword


class PasswordResetRequest(SQLModel):
    email: Email = Field(min_length=1, max_length=EMAIL_MAX_LENGTH)


class AccountDeletion(SQLModel):
    """Deleting an account asks for its password, so an open session alone cannot do it."""

    password: GivenPassword


class UserPublic(SQLModel):
    """What anyone may see of a user: no email, never a password hash."""

    id: int
    name: str
    bio: str = ""
    is_admin: bool = False


class AuthorProfile(UserPublic):
    """An author as their page and feed show them; suspended_at only reaches admins, the only
    readers of a suspended author's page."""

    suspended_at: datetime | None = None

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None


class UserForAdmins(SQLModel):
    """What the accounts page shows admins: the email and the account's state, never a hash."""

    id: int
    name: str
    email: str
    created_at: datetime
    is_admin: bool
    suspended_at: datetime | None


class UserWithBlogCount(UserPublic):
    blog_count: int


# Blogs


class BlogStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    SCHEDULED = "scheduled"


def status_at(published_at: datetime | None, now: datetime) -> BlogStatus:
    """A blog's status follows from when it is (or is not) published: no job flips it."""
    if published_at is None:
        return BlogStatus.DRAFT
    return BlogStatus.SCHEDULED if published_at > now else BlogStatus.PUBLISHED


class BlogTagLink(SQLModel, table=True):
    __tablename__ = "blog_tag"
    # A tag's page reads its published blogs newest first from this index alone.
    __table_args__ = (
        Index("ix_blog_tag_tag_id_published_at_blog_id", "tag_id", "published_at", "blog_id"),
    )

    blog_id: int = Field(foreign_key="blog.id", primary_key=True, ondelete="CASCADE")
    tag_id: int = Field(foreign_key="tag.id", primary_key=True, ondelete="CASCADE")
    # The blog's published_at, copied here by the database whenever either changes (migration
    # 0005's triggers); nothing in Python writes it.
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TagBase(SQLModel):
    name: str = Field(max_length=TAG_MAX_LENGTH, unique=True, index=True)


class Tag(TagBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # How many blogs with a publishing time (published or scheduled) carry it; kept by the
    # database like User.dated_blog_count, and indexed for the most used tags first.
    dated_blog_count: int = Field(default=0, index=True, sa_column_kwargs={"server_default": "0"})

    blogs: list["Blog"] = Relationship(back_populates="tags", link_model=BlogTagLink)


class TagPublic(TagBase):
    pass


class BlogBase(SQLModel):
    title: LineText = Field(min_length=1, max_length=TITLE_MAX_LENGTH)
    body: BodyText = Field(min_length=1, max_length=BODY_MAX_LENGTH, sa_type=Text)
    # Whether readers may comment on it; its author closes and opens them on the blog form.
    comments_open: bool = Field(default=True, sa_column_kwargs={"server_default": true()})


class Blog(BlogBase, table=True):
    # Lists read newest published first with id breaking ties; these indexes serve that order
    # and the "published by now" condition at once, for every blog and for one author's.
    __table_args__ = (
        Index("ix_blog_published_at_id", "published_at", "id"),
        Index("ix_blog_author_id_published_at_id", "author_id", "published_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    # None for a draft; a future time for a scheduled blog.
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Goes up by one on every save, so a save made from an older copy of the form is caught.
    version: int = Field(default=1)
    # While its author is suspended, the blog's publishing time waits here and published_at is
    # NULL, so the blog is out of every list, count, feed, search and sitemap with no query
    # changed and no index widened; reinstating the author puts it back. The database moves
    # it (migration 0008's triggers), for blogs written during a suspension too.
    suspended_published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # How many of its comments readers see (approved ones), kept by the database on every
    # write to comment (migration 0010's triggers), so a list's cards show it with no count.
    comment_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})

    author: User = Relationship(back_populates="blogs")
    tags: list[Tag] = Relationship(
        back_populates="blogs",
        link_model=BlogTagLink,
        sa_relationship_kwargs={"order_by": "Tag.name"},
    )

    @property
    def status(self) -> BlogStatus:
        return status_at(self.published_at, utc_now())

    @property
    def path(self) -> str:
        return blog_path(self.id, self.title)

    @property
    def slug(self) -> str:
        return slug_for(self.title)


class BlogPublishing(SQLModel):
    """The form's fields about when a blog is shown, and under which tags."""

    # So a scheduled blog posted with no time at all is still checked.
    model_config = ConfigDict(validate_default=True)
    # A form posted without these publishes at once (new) or keeps what was saved (edit).
    OMITTABLE_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"status", "publish_at", "tags", "version", "comments_open"}
    )

    status: BlogStatus = BlogStatus.PUBLISHED
    publish_at: OptionalTime = None
    tags: TagList = []

    @field_validator("publish_at")
    @classmethod
    def _scheduled_needs_future_time(cls, value: datetime | None, info: ValidationInfo):
        if info.data.get("status") != BlogStatus.SCHEDULED:
            return None
        if value is None:
            raise ValueError("Choose when to publish it.")
        if value <= utc_now():
            raise ValueError("Choose a time in the future, or publish it now.")
        return value


class BlogCreate(BlogPublishing, BlogBase):
    pass


class BlogUpdate(BlogPublishing):
    title: LineText | None = Field(default=None, min_length=1, max_length=TITLE_MAX_LENGTH)
    body: BodyText | None = Field(default=None, min_length=1, max_length=BODY_MAX_LENGTH)
    status: BlogStatus | None = None
    tags: TagList | None = None
    # The version the form was opened on; see Blog.version. Garbage there (no browser sends
    # any), numbers too large for the column included, only skips the check rather than
    # leaving the author a form they cannot save (see _version_or_none).
    version: Annotated[int | None, BeforeValidator(_version_or_none)] = None
    comments_open: bool | None = None


class BlogPublic(BlogBase):
    id: int
    author_id: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    suspended_published_at: datetime | None = None
    # What the API's ETag says too: an edit sent with an older one is refused.
    version: int = 1
    comment_count: int = 0
    author: UserPublic
    tags: list[TagPublic]

    @computed_field
    @property
    def path(self) -> str:
        return blog_path(self.id, self.title)

    @property
    def slug(self) -> str:
        return slug_for(self.title)

    @computed_field
    @property
    def status(self) -> BlogStatus:
        return status_at(self.published_at, utc_now())

    @property
    def is_held_by_suspension(self) -> bool:
        """Hidden because its author is suspended (only admins see it, with a badge)."""
        return self.suspended_published_at is not None


# Comments


class CommentStatus(StrEnum):
    # Shown to readers, and counted in Blog.comment_count.
    APPROVED = "approved"
    # Waiting for the blog's author (or an admin) to approve it; only they and its own author
    # (an account's) see it.
    PENDING = "pending"
    # Filled in the honeypot: answered as if accepted, never shown to anyone.
    SPAM = "spam"
    # Approved, but its author is suspended: hidden (and not counted) until they are
    # reinstated. The database moves comments in and out of it (migration 0010's triggers).
    HELD = "held"


class CommentBase(SQLModel):
    body: BodyText = Field(min_length=1, max_length=COMMENT_MAX_LENGTH, sa_type=Text)


class Comment(CommentBase, table=True):
    # A blog's page reads its approved comments oldest first as one range of this index, and
    # an author's pending ones likewise; the second serves the list of every pending comment.
    __table_args__ = (
        Index("ix_comment_blog_id_status_id", "blog_id", "status", "id"),
        Index("ix_comment_status_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    blog_id: int = Field(foreign_key="blog.id", ondelete="CASCADE")
    # None for a guest's comment, which has `guest_name` instead.
    author_id: int | None = Field(
        default=None, foreign_key="user.id", ondelete="CASCADE", index=True
    )
    guest_name: str | None = Field(default=None, max_length=NAME_MAX_LENGTH)
    status: CommentStatus = Field(sa_type=String(length=10))
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    # Set when its author changes it after posting; the page says it was edited.
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CommentCreate(CommentBase):
    """A comment from an account: its name comes with it."""


class GuestCommentCreate(CommentBase):
    """A comment from a visitor who is not logged in (GUEST_COMMENTS), who gives a name."""

    name: LineText = Field(min_length=1, max_length=NAME_MAX_LENGTH)


class CommentUpdate(CommentBase):
    pass


class CommentPublic(CommentBase):
    """A comment as readers see it: its author's name (an account's as it is now, or the name a
    guest gave) and, for its own author, whether it still waits for approval."""

    id: int
    blog_id: int
    # None for a guest's comment.
    author_id: int | None
    name: str
    status: CommentStatus
    created_at: datetime
    edited_at: datetime | None


# Pages of lists, as the JSON API answers them: the items, and the address of the next page
# (None on the last).


class BlogsPublic(SQLModel):
    data: list[BlogPublic]
    next: str | None = None


class CommentsPublic(SQLModel):
    data: list[CommentPublic]
    next: str | None = None


# Sessions


class LoginSessionBase(SQLModel):
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    # Written at most every few minutes (blog.users.LAST_SEEN_STEP), never on every request.
    last_seen_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, index=True)
    user_agent: str = Field(default="", max_length=USER_AGENT_MAX_LENGTH)


class LoginSession(LoginSessionBase, table=True):
    """One logged-in browser. Its cookie holds a random token; only the token's SHA-256 is kept
    here, so a copy of the database (a backup, a leaked dump) logs nobody in. The id is what
    pages and addresses name a session by, never the token."""

    __tablename__ = "login_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)


class LoginSessionPublic(LoginSessionBase):
    """A session as its user sees it on the sessions page."""

    id: int
    is_current: bool = False

    @computed_field
    @property
    def browser(self) -> str:
        return describe_browser(self.user_agent)


# Checked in order: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = (
    ("Edg", "Edge"),
    ("OPR", "Opera"),
    ("Firefox", "Firefox"),
    ("Chrome", "Chrome"),
    ("Safari", "Safari"),
    ("curl", "curl"),
)
# Android also says "Linux", iPhone "Mac OS X".
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def describe_browser(user_agent: str) -> str:
    """ "Firefox on Linux" from a User-Agent; what a person recognises their device by."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or (user_agent[:60] if user_agent else "Unknown browser")


# API tokens


class ApiTokenBase(SQLModel):
    # What its owner calls it ("deploy script"), to tell tokens apart on the tokens page.
    name: LineText = Field(min_length=1, max_length=NAME_MAX_LENGTH)


class ApiToken(ApiTokenBase, table=True):
    """A personal token for the JSON API, sent as `Authorization: Bearer TOKEN`. As for login
    sessions, only the token's SHA-256 is kept, so a copy of the database authenticates nobody;
    its owner sees the token once, when it is made."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    # Written at most every few minutes (blog.tokens.LAST_USED_STEP), never on every request.
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The rate limit (API_REQUESTS_PER_MINUTE): requests counted since the start of the token's
    # current minute, one UPDATE a request, shared by every worker.
    window_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    requests_in_window: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class ApiTokenCreate(ApiTokenBase):
    pass


class ApiTokenPublic(ApiTokenBase):
    """A token as its owner sees it on the tokens page: never the token or its hash."""

    id: int
    created_at: datetime
    last_used_at: datetime | None


# Throttling


class Attempt(SQLModel, table=True):
    """One counted action (an account opened, a failed login) by one key (an address, an
    email at an address), kept for as long as a limit looks back."""

    __table_args__ = (Index("ix_attempt_action_key_created_at", "action", "key", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    action: str = Field(max_length=40)
    key: str = Field(max_length=400)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, index=True)


# Invitations


class Invite(SQLModel, table=True):
    """A one-time registration link (`blog invite`) for when sign-ups are closed. Only a hash
    of its token is kept, so a copy of the database opens no account."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# Page cache


class ChangeCounter(SQLModel, table=True):
    """One row counting every write to what pages show, bumped by the database's own triggers
    (migration 0006), so a cached page is known to be current with one cheap read."""

    __tablename__ = "change_counter"

    id: int = Field(default=1, primary_key=True)
    value: int = Field(default=0, sa_type=BigInteger)
