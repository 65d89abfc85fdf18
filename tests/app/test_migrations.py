"""Migrations keep the data: down to the previous revision and up again on a filled database.

Each run uses a database of its own (a SQLite file; a scratch PostgreSQL database on the
server the PostgreSQL pass uses, or the local one), filled by `minyi demo`, through the real
`minyi` command in a child process as an operator would run it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

MINYI = str(Path(sys.executable).parent / "minyi")
#: the tables whose rows must survive, with what fills them in the demo
TABLES = ("drafts", "draft_versions", "clauses", "comments", "hearings", "users")


def _server() -> str:
    """The PostgreSQL server of the PostgreSQL pass, else the machine's own."""
    configured = os.environ.get("MINYI_TEST_DATABASE_URL")
    if configured:
        return make_url(configured).set(drivername="postgresql", database="postgres") \
            .render_as_string(hide_password=False)
    return "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """Yield (environment for `minyi`, SQLAlchemy URL) of an empty database of this test's."""
    env = {**os.environ, "MINYI_DATA_DIR": str(tmp_path), "FLASK_RUN_FROM_CLI": "true"}
    env.pop("DATABASE_URL", None)
    if request.param == "sqlite":
        yield env, f"sqlite:///{tmp_path / 'minyi.sqlite3'}"
        return
    server = _server()
    name = f"minyi_migrations_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server).set(drivername="postgresql+psycopg", database=name)
    env["DATABASE_URL"] = url.render_as_string(hide_password=False)
    try:
        yield env, env["DATABASE_URL"]
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _minyi(env: dict, *args: str) -> str:
    done = subprocess.run([MINYI, *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {table: conn.scalar(text(f"SELECT count(*) FROM {table}")) for table in TABLES}
    finally:
        engine.dispose()


def test_down_one_revision_and_up_again_keeps_every_row(database):
    env, url = database
    _minyi(env, "db", "upgrade")
    _minyi(env, "demo")
    before = _counts(url)
    assert all(before[table] > 0 for table in TABLES), before
    head = _minyi(env, "db", "current").split()[0]

    _minyi(env, "db", "downgrade")
    assert _minyi(env, "db", "current").split()[0] != head
    assert _counts(url) == before

    _minyi(env, "db", "upgrade")
    assert _minyi(env, "db", "current").split()[0] == head
    assert _counts(url) == before
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            orphans = conn.scalar(text(
                "SELECT count(*) FROM drafts WHERE current_version_id IS NULL"))
    finally:
        engine.dispose()
    assert orphans == 0
