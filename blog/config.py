"""Settings, read once from the environment (or passed in by tests)."""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Used only when SECRET_KEY is unset, so a first `make run` works; create_app warns loudly.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-set-SECRET_KEY-in-production"  # noqa: S105


class Settings(BaseSettings):
    """Everything the app can be configured with; environment variables override defaults."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    database_url: str = "sqlite:///blog.db"
    secret_key: str | None = None
    # Set to true behind HTTPS so the session cookie is never sent over plain HTTP.
    secure_cookies: bool = False
    page_size: int = 20
    # Connection pool, per worker process (PostgreSQL; SQLite opens a connection per thread).
    database_pool_size: int = 5
    database_max_overflow: int = 10
    database_pool_timeout: float = 10
    database_pool_recycle: int = 1800
    # Seconds to wait for the database to answer a new connection before giving up with a 503.
    database_connect_timeout: int = 5
    templates_dir: Path = PROJECT_ROOT / "templates"
    static_dir: Path = PROJECT_ROOT / "static"

    def engine_options(self) -> dict[str, int | float]:
        return {
            "pool_size": self.database_pool_size,
            "max_overflow": self.database_max_overflow,
            "pool_timeout": self.database_pool_timeout,
            "pool_recycle": self.database_pool_recycle,
            "connect_timeout": self.database_connect_timeout,
        }
