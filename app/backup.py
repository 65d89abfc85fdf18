"""`minyi backup` and `minyi restore`: the database and the uploaded files in one archive."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.extensions import db
from app.models import utcnow

MANIFEST = "manifest.json"


class BackupError(RuntimeError):
    """A backup or restore that cannot be carried out."""


def _libpq_url() -> str:
    """Return the database URL in the form pg_dump and pg_restore understand."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _revision() -> str | None:
    try:
        return db.session.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception:  # a database that was never migrated has no revision to report
        db.session.rollback()
        return None


def create_backup(target: Path) -> dict:
    """Write a consistent copy of the database and the uploads to a .tar.gz archive."""
    backend = db.engine.url.get_backend_name()
    manifest = {"backend": backend, "revision": _revision(),
                "created_at": utcnow().isoformat(timespec="seconds") + "Z"}
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        if backend == "sqlite":
            # The online backup API copies a consistent snapshot while the app keeps writing.
            source = sqlite3.connect(db.engine.url.database)
            copy = sqlite3.connect(folder / "database.sqlite3")
            with copy:
                source.backup(copy)
            copy.close()
            source.close()
            manifest["database"] = "database.sqlite3"
        elif backend == "postgresql":
            dump = folder / "database.pgdump"
            _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(dump),
                  _libpq_url()])
            manifest["database"] = dump.name
        else:
            raise BackupError(f"backups of {backend} databases are not supported")
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
        target.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(target, "w:gz") as archive:
            archive.add(folder / MANIFEST, MANIFEST)
            archive.add(folder / manifest["database"], manifest["database"])
            uploads = Path(current_app.config["UPLOAD_DIR"])
            if uploads.exists():
                archive.add(uploads, "uploads")
    return manifest


def restore_backup(source: Path) -> dict:
    """Replace the database and the uploads with those in a backup archive."""
    backend = db.engine.url.get_backend_name()
    with tempfile.TemporaryDirectory() as work, tarfile.open(source, "r:gz") as archive:
        archive.extractall(work, filter="data")
        folder = Path(work)
        manifest = json.loads((folder / MANIFEST).read_text())
        if manifest["backend"] != backend:
            raise BackupError(f"this backup holds a {manifest['backend']} database; "
                              f"the configured database is {backend}")
        db.session.remove()
        db.engine.dispose()
        if backend == "sqlite":
            target = sqlite3.connect(db.engine.url.database)
            copy = sqlite3.connect(folder / manifest["database"])
            with target:
                copy.backup(target)
            copy.close()
            target.close()
        else:
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                  "--dbname", _libpq_url(), str(folder / manifest["database"])])
        uploads = Path(current_app.config["UPLOAD_DIR"])
        if (folder / "uploads").exists():
            shutil.rmtree(uploads, ignore_errors=True)
            shutil.copytree(folder / "uploads", uploads)
    return manifest


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()}")


@click.command("backup")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(archive: Path) -> None:
    """Write the database and the uploaded files to ARCHIVE (.tar.gz)."""
    try:
        manifest = create_backup(archive)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"backup of the {manifest['backend']} database (revision {manifest['revision']}) "
               f"written to {archive}")


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(archive: Path, yes: bool) -> None:
    """Replace the database and the uploaded files with those in ARCHIVE."""
    if not yes:
        click.confirm("This replaces the current database and uploads. Continue?", abort=True)
    try:
        manifest = restore_backup(archive)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"restored the backup of {manifest['created_at']} (revision "
               f"{manifest['revision']}); rebuild the search index with `minyi search reindex`")
