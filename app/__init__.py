"""The Minyi application factory."""

from __future__ import annotations

import logging
from importlib import import_module
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.config import Config, resolve_paths
from app.extensions import babel, csrf, db, limiter, login_manager, migrate, socketio
from app.message_queue import message_queue

ROOT = Path(__file__).resolve().parent.parent
#: packages that register their blueprints, helpers and listeners through `init_app(app)`
FEATURE_MODULES = (
    "app.load",
    "app.security",
    "app.i18n",
    "app.jobs",
    "app.views",
    "app.accounts",
    "app.accounts.admin",
    "app.api",
    "drafts",
    "hearings",
    "search",
)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Create and configure an application; `config` overrides the environment."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
    )
    app.config.from_object(Config)
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    resolve_paths(app.config, app.instance_path)
    logging.basicConfig(level=logging.INFO)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"),
                     render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from app.i18n import select_locale, select_timezone

    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    socketio.init_app(
        app,
        client_manager=message_queue(app),
        async_mode=app.config.get("SOCKETIO_ASYNC_MODE"),
    )

    from app import errors, outbox  # noqa: F401  (outbox registers the change-log listener)

    for name in FEATURE_MODULES:
        import_module(name).init_app(app)
    errors.init_app(app)
    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Use WAL, a busy timeout and foreign keys on every SQLite connection."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
