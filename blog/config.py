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
    templates_dir: Path = PROJECT_ROOT / "templates"
    static_dir: Path = PROJECT_ROOT / "static"
