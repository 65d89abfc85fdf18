"""Fixtures: a fresh database per test (SQLite by default, PostgreSQL with MINYI_TEST_DATABASE_URL),
clients that carry a real CSRF token, and factories for users and drafts."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text
from support import CORPUS, DEMO_TEXT, PASSWORD, REPO  # noqa: F401  (re-exported for fixtures)

from app import create_app, jobs
from app.extensions import db
from app.models import User, utcnow


def _worker_database(url: str | None) -> str | None:
    """Give each xdist worker a PostgreSQL database of its own: `<name>_gw0`, `<name>_gw1`, ..."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


PG_URL = _worker_database(os.environ.get("MINYI_TEST_DATABASE_URL"))


def _create_database(url: str) -> None:
    """Create the PostgreSQL database named in `url` unless it exists."""
    target = make_url(url)
    server = create_engine(target.set(drivername="postgresql+psycopg", database="postgres"),
                           isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                             {"name": target.database})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    server.dispose()


def _upgrade(config: dict) -> None:
    from flask_migrate import upgrade

    app = create_app(config)
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> Path | None:
    """Run the migrations once: into a template SQLite file, or into the PostgreSQL database."""
    folder = tmp_path_factory.mktemp("template")
    if PG_URL:
        _create_database(PG_URL)
        engine = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        _upgrade({"DATA_DIR": str(folder), "SQLALCHEMY_DATABASE_URI": PG_URL, "TESTING": True})
        return None
    _upgrade({"DATA_DIR": str(folder), "TESTING": True})
    return folder / "minyi.sqlite3"


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """Hash passwords with a small scrypt cost: the same code path at a fraction of the time."""
    from werkzeug.security import generate_password_hash

    from app import models

    def cheap(password: str, method: str = "scrypt", salt_length: int = 16) -> str:
        return generate_password_hash(password, method="scrypt:1024:8:1", salt_length=salt_length)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(models, "generate_password_hash", cheap)
        yield


def _empty_postgres(app: Flask) -> None:
    with app.app_context():
        tables = [t.name for t in db.metadata.sorted_tables]
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        db.session.commit()


@pytest.fixture
def app(tmp_path, migrated_template) -> Iterator[Flask]:
    """An application with an empty, migrated database of its own."""
    config = {
        "TESTING": True,
        "DATA_DIR": str(tmp_path),
        "SECRET_KEY": "test-secret",
        "RATELIMIT_ENABLED": False,
    }
    if PG_URL:
        config["SQLALCHEMY_DATABASE_URI"] = PG_URL
    else:
        shutil.copy(migrated_template, tmp_path / "minyi.sqlite3")
    application = create_app(config)
    if PG_URL:
        _empty_postgres(application)
    with application.app_context():
        yield application
        # a job a request started in a thread (an e-mail, a report) ends before the database
        # goes: its connection would otherwise be dropped open in a later test
        assert jobs.wait_here(), "a background job of this test did not finish"
        db.session.remove()
        db.engine.dispose()


class Client(FlaskClient):
    """A test client that logs in through the real form and sends the session's CSRF token.

    Each request runs in an application context of its own, as in production: `g`, the
    logged-in user and the database session are never shared with the test or other requests.
    The test's own session is rolled back afterwards so that it sees what the request wrote.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.rollback()
        return response

    def csrf_token(self) -> str:
        page = self.get("/login").get_data(as_text=True)
        match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
            r'name="csrf_token" value="([^"]+)"', page)
        assert match, "no CSRF token on the login page"
        return match.group(1)

    def post_form(self, url: str, data: dict | None = None, **kwargs):
        """POST a form with the CSRF token, as a browser would."""
        payload = dict(data or {})
        payload.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=payload, **kwargs)

    def login(self, user: User, password: str = PASSWORD):
        response = self.post_form("/login", {"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response


@pytest.fixture
def client(app: Flask) -> Client:
    app.test_client_class = Client
    return app.test_client()


@pytest.fixture
def make_client(app: Flask):
    """Make further independent clients (other browsers)."""
    app.test_client_class = Client

    def factory() -> Client:
        return app.test_client()

    return factory


@pytest.fixture
def make_user(app: Flask):
    """Create a user of a role; commits."""
    from app.accounts.services import create_user

    counter = iter(range(1, 10_000))

    def factory(role: str = "public", email: str | None = None, name: str | None = None,
                **kwargs) -> User:
        n = next(counter)
        user = create_user(email or f"{role}{n}@example.com", PASSWORD, name or f"{role} {n}",
                           role=role, **kwargs)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def make_draft(app: Flask, make_user):
    """Create a draft from the demo text (or `text`), open for comment unless told otherwise."""
    from drafts import services

    def factory(status: str = "open", text: str | None = None, moderation: str = "pre",
                allow_guests: bool = False, slug: str | None = None, **kwargs):
        staff = make_user("staff")
        draft = services.create_draft(
            kwargs.pop("title", "测试条例（征求意见稿）"),
            text or DEMO_TEXT.read_text(encoding="utf-8"),
            user=staff,
            slug=slug,
            moderation=moderation,
            allow_guests=allow_guests,
            opens_at=kwargs.pop("opens_at", utcnow() - timedelta(days=1)),
            closes_at=kwargs.pop("closes_at", utcnow() + timedelta(days=29)),
            **kwargs,
        )
        if status != "draft":
            services.change_status(draft, "open", user=staff)
        if status in ("closed", "adopted"):
            services.change_status(draft, "closed", user=staff)
        if status == "adopted":
            services.change_status(draft, "adopted", user=staff)
        db.session.commit()
        return draft

    return factory


@pytest.fixture
def make_comment(app: Flask, make_user):
    """Submit a comment through the service, then let a moderator bring it to `status`; commits."""
    from drafts import services

    counter = iter(range(1, 1_000_000))
    people: dict[str, User] = {}

    def person(role: str) -> User:
        if role not in people:
            people[role] = make_user(role)
        return people[role]

    def factory(draft, anchor: str | None = "art-6", body: str = "建议进一步明确。", *,
                user: User | None = None, status: str = "published", stance: str = "suggest",
                reason: str = "测试理由", **fields):
        clause = services.clause_by_anchor(draft.current_version, anchor) if anchor else None
        data = services.CommentInput(stance=stance, body=body,
                                     submission_key=f"test-comment-{next(counter):07d}", **fields)
        comment, _new = services.submit_comment(draft, clause, data,
                                                user=user or person("public"))
        if comment.status != status:
            action = {"published": "publish", "hidden": "hide", "rejected": "reject"}[status]
            services.moderate(comment, action, user=person("staff"),
                              reason="" if action == "publish" else reason)
        db.session.commit()
        return comment

    return factory


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()
