"""Backups restore exactly what was there, on SQLite and on PostgreSQL."""

from sqlalchemy import func, select

from app.cli import cli
from app.extensions import db
from app.models import User
from drafts.models import Comment


def _counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count(User.id))),
            db.session.scalar(select(func.count(Comment.id))))


def test_backup_then_restore_brings_back_deleted_data(app, runner, make_draft, make_comment,
                                                      tmp_path):
    draft = make_draft()
    make_comment(draft, "art-6", "备份之前的意见")
    upload = tmp_path / "uploads" / "hearings" / "1" / "statement.pdf"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_bytes(b"%PDF-1.4 test")
    before = _counts()
    archive = tmp_path / "backups" / "minyi.tar.gz"

    result = runner.invoke(cli, ["backup", str(archive)])
    assert result.exit_code == 0, result.output
    assert archive.exists()

    db.session.execute(Comment.__table__.delete())
    db.session.commit()
    upload.unlink()
    assert _counts() != before

    result = runner.invoke(cli, ["restore", str(archive), "--yes"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert _counts() == before
    assert db.session.scalar(select(Comment.body)) == "备份之前的意见"
    assert upload.read_bytes() == b"%PDF-1.4 test"


def test_restore_refuses_a_backup_of_another_kind_of_database(app, runner, tmp_path):
    import json
    import tarfile

    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"backend": "oracle", "database": "x", "revision": None,
                                    "created_at": "2026-01-01T00:00:00Z"}))
    archive = tmp_path / "other.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(manifest, "manifest.json")

    result = runner.invoke(cli, ["restore", str(archive), "--yes"])
    assert result.exit_code != 0
    assert "oracle" in result.output
