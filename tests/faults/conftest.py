"""Fixtures for the fault tests: a PostgreSQL application on either pass of the suite, and a
gunicorn server that can be killed."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import create_engine, make_url, text
from support import REPO

from app import create_app
from app.extensions import db

#: the PostgreSQL server of the test suite (trust authentication on these machines)
SERVER_URL = os.environ.get("MINYI_TEST_DATABASE_URL",
                            "postgresql://postgres@127.0.0.1:5432/postgres")


def scratch_database_url() -> str:
    """Return the URL of a scratch database of this checkout and xdist worker, apart from
    the suite's own (which is SQLite on the first pass of `scripts/test`)."""
    checkout = hashlib.sha1(str(REPO).encode()).hexdigest()[:8]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return make_url(SERVER_URL).set(drivername="postgresql+psycopg",
                                    database=f"minyi_faults_{checkout}_{worker}"
                                    ).render_as_string(hide_password=False)


@pytest.fixture
def pg_app(tmp_path) -> Iterator[Flask]:
    """An application on a fresh, migrated PostgreSQL database of its own, on either pass of
    the suite (a test module that needs PostgreSQL makes it its `app`)."""
    from flask_migrate import upgrade

    url = scratch_database_url()
    name = make_url(url).database
    server = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    application = create_app({"TESTING": True, "DATA_DIR": str(tmp_path),
                              "SECRET_KEY": "test-secret", "RATELIMIT_ENABLED": False,
                              "SQLALCHEMY_DATABASE_URI": url})
    with application.app_context():
        upgrade()
        yield application
        db.session.remove()
        db.engine.dispose()
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@dataclass
class Server:
    """A gunicorn serving the test's data folder and database, killable with SIGKILL."""

    url: str
    process: subprocess.Popen

    def kill(self) -> None:
        """kill -9 the master and its worker (the whole process group)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def serve(app: Flask, tmp_path: Path):
    """Start gunicorn (one gevent worker) on the test's database and data folder, on a new port
    or the given one; servers still running at the end are stopped."""
    started: list[Server] = []
    log = tmp_path / "gunicorn.log"

    def start(port: int | None = None, **env: str) -> Server:
        port = port or free_port()
        server_env = {**os.environ, "MINYI_DATA_DIR": app.config["DATA_DIR"],
                      "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                      "SECRET_KEY": app.config["SECRET_KEY"], "MINYI_RATELIMIT": "0", **env}
        server_env.pop("REDIS_URL", None)
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        with open(log, "ab") as output:
            process = subprocess.Popen(
                [gunicorn, "-k", "gevent", "-w", "1", "--no-control-socket", "--keep-alive", "30",
                 "-b", f"127.0.0.1:{port}", "app:create_app()"], cwd=REPO, env=server_env,
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        server = Server(f"http://127.0.0.1:{port}", process)
        started.append(server)
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                requests.get(server.url + "/", timeout=10)
                return server
            except requests.RequestException:
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.2)

    yield start
    for server in started:
        server.stop()
