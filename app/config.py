"""Configuration read from the environment."""

from __future__ import annotations

import os
from pathlib import Path


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Settings for one Minyi instance; every value can come from the environment."""

    #: folder holding the SQLite file, the search index, uploads and generated files
    DATA_DIR: str | None = os.environ.get("MINYI_DATA_DIR")
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI: str | None = os.environ.get("DATABASE_URL")
    REDIS_URL: str | None = os.environ.get("REDIS_URL") or None
    #: the Redis pub/sub channel of the Socket.IO message queue: one per site sharing a Redis
    SOCKETIO_CHANNEL: str = os.environ.get("MINYI_SOCKETIO_CHANNEL", "flask-socketio")

    MAIL_SERVER: str | None = os.environ.get("MAIL_SERVER")
    MAIL_PORT: int = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS: bool = _bool(os.environ.get("MAIL_USE_TLS"))
    MAIL_USERNAME: str | None = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD: str | None = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER: str = os.environ.get("MAIL_DEFAULT_SENDER", "minyi@localhost")

    BABEL_DEFAULT_LOCALE: str = os.environ.get("MINYI_LOCALE", "zh")
    BABEL_DEFAULT_TIMEZONE: str = os.environ.get("MINYI_TIMEZONE", "Asia/Shanghai")
    LANGUAGES: tuple[str, ...] = ("zh", "en")

    #: name shown in the header and in e-mails
    SITE_NAME: str = os.environ.get("MINYI_SITE_NAME", "")
    #: public base URL used in e-mails sent outside a request
    SERVER_URL: str = os.environ.get("MINYI_SERVER_URL", "http://localhost:5000")

    COMMENT_MAX_LENGTH: int = 5000
    COMMENTS_PER_PAGE: int = 20
    #: days after a draft's adoption before `minyi privacy purge` erases contact data
    RETENTION_DAYS: int = int(os.environ.get("MINYI_RETENTION_DAYS", "365"))
    #: days a comment keeps the hash of its sender's address, used to moderate floods
    ORIGIN_RETENTION_DAYS: int = int(os.environ.get("MINYI_ORIGIN_DAYS", "30"))
    MAX_CONTENT_LENGTH: int = 10 * 1024 * 1024
    SEARCH_INDEXER_THREAD: bool = _bool(os.environ.get("MINYI_INDEXER_THREAD"), True)

    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    WTF_CSRF_TIME_LIMIT: int | None = None
    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: str = "Lax"
    REMEMBER_COOKIE_HTTPONLY: bool = True
    REMEMBER_COOKIE_SAMESITE: str = "Lax"
    RATELIMIT_ENABLED: bool = _bool(os.environ.get("MINYI_RATELIMIT"), True)
    #: reverse proxies in front of the server whose X-Forwarded-For/-Proto/-Host are trusted
    PROXY_HOPS: int = int(os.environ.get("MINYI_PROXY_HOPS", "0"))
    RATELIMIT_HEADERS_ENABLED: bool = True
    #: while the Redis of the limits is away, count in this process instead of failing the
    #: request (a comment must not be refused because the limit counter is down)
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED: bool = True
    RATELIMIT_SWALLOW_ERRORS: bool = True
    TESTING: bool = False


def resolve_paths(config: dict, instance_path: str) -> None:
    """Fill in the data folder, the SQLite URL and the derived folders."""
    data_dir = Path(config.get("DATA_DIR") or instance_path)
    data_dir.mkdir(parents=True, exist_ok=True)
    config["DATA_DIR"] = str(data_dir)
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{data_dir / 'minyi.sqlite3'}"
    uri = config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):
        uri = "postgresql+psycopg://" + uri.removeprefix("postgres://")
    elif uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri.removeprefix("postgresql://")
    config["SQLALCHEMY_DATABASE_URI"] = uri
    for key, name in (
        ("SEARCH_INDEX_DIR", "search-index"),
        ("UPLOAD_DIR", "uploads"),
        ("GENERATED_DIR", "generated"),
        ("MAIL_OUTBOX_DIR", "outbox"),
    ):
        config.setdefault(key, str(data_dir / name))
        Path(config[key]).mkdir(parents=True, exist_ok=True)
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret(data_dir)
    if config.get("REDIS_URL") and not config.get("RATELIMIT_STORAGE_URI"):
        config["RATELIMIT_STORAGE_URI"] = config["REDIS_URL"]
    config.setdefault("RATELIMIT_STORAGE_URI", "memory://")


def _instance_secret(data_dir: Path) -> str:
    """Return a secret kept in the data folder, so sessions survive restarts without setup."""
    path = data_dir / "secret_key"
    if not path.exists():
        path.write_text(os.urandom(32).hex())
        path.chmod(0o600)
    return path.read_text().strip()
