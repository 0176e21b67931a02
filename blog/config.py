"""Settings, read once from the environment (or passed in by tests)."""

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent

# Used only when SECRET_KEY is unset in development, so a first `make run` works; create_app
# warns loudly, and production refuses to start without a real key.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-set-SECRET_KEY-in-production"  # noqa: S105
SECRET_KEY_MIN_LENGTH = 32


def resource_dir(name: str) -> Path:
    """Where `templates/` or `static/` is: inside the package when installed from a wheel (the
    build copies them there), else at the top of the source checkout."""
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else PACKAGE_DIR.parent / name


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Registration(StrEnum):
    OPEN = "open"
    # Only with a one-time invitation from `blog invite`.
    CLOSED = "closed"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class UnsafeSettings(ValueError):
    """A setting that must not be used in production; the message names it."""


def _base_url(value: str | None) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("BASE_URL must be an http(s) address, like https://blog.example.com")
    return value.rstrip("/")


def _smtp_url(value: str | None) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SMTP_URL must look like smtp://user:password@mail.example.com:587")
    return value


def _host_list(value: object) -> object:
    if isinstance(value, str):
        return [host.strip().lower() for host in re.split(r"[,\s]+", value) if host.strip()]
    return value


class Settings(BaseSettings):
    """Everything the app can be configured with; environment variables override defaults."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite:///blog.db"
    secret_key: str | None = None
    # Set to true behind HTTPS so the session cookie is never sent over plain HTTP.
    secure_cookies: bool = False
    page_size: int = 20

    # What the site calls itself, in every page's header and title and in its feeds.
    site_name: str = "Blog"
    site_description: str = ""
    # The public address, e.g. https://blog.example.com. When set, feeds, the sitemap and
    # canonical links use it, never the Host a request came with.
    base_url: Annotated[str | None, AfterValidator(_base_url)] = None
    # Host names this site answers to (comma-separated; "*" for any). Empty: the host of
    # BASE_URL when that is set, else any. Other hosts get a 400 page.
    allowed_hosts: Annotated[list[str], NoDecode] = []

    log_format: LogFormat = LogFormat.TEXT

    # Rendered pages kept for anonymous readers, per worker; 0 turns the page cache off.
    page_cache_bytes: int = 64 * 1024 * 1024

    # Connection pool, per worker process (PostgreSQL; SQLite's is blog.db.SQLITE_POOL_SIZE).
    database_pool_size: int = 5
    database_max_overflow: int = 10
    database_pool_timeout: float = 10
    database_pool_recycle: int = 1800
    # Seconds to wait for the database to answer a new connection before giving up with a 503.
    database_connect_timeout: int = 5

    # New accounts one address may open within an hour; 0 turns the limit off.
    registrations_per_address: int = 10
    # Failed logins within 15 minutes for one email from one address, and from one address for
    # any emails, before logging in from there is refused for a while; 0 turns a limit off.
    login_failures_per_account: int = 5
    login_failures_per_address: int = 50

    # Visitors who are not logged in may comment, with a name; their comments wait for the
    # blog's author to approve them.
    guest_comments: bool = False
    # Comments one account (or, for guests, one address) may post within a minute and a day;
    # 0 turns a limit off.
    comments_per_minute: int = 5
    comments_per_day: int = 100
    # Requests one API token may make in a minute; 0 turns the limit off.
    api_requests_per_minute: int = 600

    # Where password reset links are mailed from: smtp://user:password@host:587 (STARTTLS
    # when the server offers it) or smtps://…:465, and the sender's address. Without both,
    # reset links come only from `blog reset-link`.
    smtp_url: Annotated[str | None, AfterValidator(_smtp_url)] = None
    mail_from: str | None = None

    # Who may sign up: anyone, or only people with an invitation (`blog invite`).
    registration: Registration = Registration.OPEN

    templates_dir: Path = resource_dir("templates")
    static_dir: Path = resource_dir("static")

    _split_hosts = field_validator("allowed_hosts", mode="before")(_host_list)

    def engine_options(self) -> dict[str, int | float]:
        return {
            "pool_size": self.database_pool_size,
            "max_overflow": self.database_max_overflow,
            "pool_timeout": self.database_pool_timeout,
            "pool_recycle": self.database_pool_recycle,
            "connect_timeout": self.database_connect_timeout,
        }

    @property
    def signing_key(self) -> str:
        """The key that signs cookies and links (create_app warns when it is the public one)."""
        return self.secret_key or DEVELOPMENT_SECRET_KEY

    @property
    def mails_reset_links(self) -> bool:
        return bool(self.smtp_url and self.mail_from)

    def host_names(self) -> frozenset[str] | None:
        """The Host names requests may carry; None when any will do."""
        hosts = set(self.allowed_hosts)
        if not hosts and self.base_url:
            hosts = {urlsplit(self.base_url).hostname or ""}
        return None if not hosts or "*" in hosts else frozenset(hosts)

    def check_safe(self) -> None:
        """Refuse settings that would put a production site at risk."""
        if self.environment != Environment.PRODUCTION:
            return
        if not self.secret_key or len(self.secret_key) < SECRET_KEY_MIN_LENGTH:
            raise UnsafeSettings(
                f"SECRET_KEY must be set to at least {SECRET_KEY_MIN_LENGTH} random characters "
                "when ENVIRONMENT=production."
            )
        if self.mails_reset_links and not self.base_url:
            # A mailed link takes its address from BASE_URL, never from a request's Host,
            # which whoever asks for the mail could forge to receive the link themselves.
            raise UnsafeSettings(
                "BASE_URL must be set when SMTP_URL is, so mailed reset links point at this site."
            )
