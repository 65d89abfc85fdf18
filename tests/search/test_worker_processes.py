"""Two `minyi search worker` processes, each following the change log into its own index copy
(two nodes), while comments are written, moderated and a draft is renamed: both copies end
with the same documents, and those are the database's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import func, select
from support import REPO

from app.extensions import db
from app.models import ChangeLog, User
from drafts import services
from drafts.models import Comment, Draft
from search.indexer import IndexCopy, read_position

WRITERS = 2
COMMENTS_PER_WRITER = 40


def write_comments(app, draft_id: int, author_id: int, staff_id: int, writer: int) -> None:
    """Submit comments one transaction each, publishing or hiding some, in a thread of its
    own (its own session), so that two writers' transactions interleave."""
    with app.app_context():
        draft = db.session.get(Draft, draft_id)
        author, staff = db.session.get(User, author_id), db.session.get(User, staff_id)
        clause = services.clause_by_anchor(draft.current_version, "art-6")
        for n in range(COMMENTS_PER_WRITER):
            comment, _new = services.submit_comment(draft, clause, services.CommentInput(
                stance="suggest", body=f"第{writer}位写入者的第{n}条意见：停放区域应当明确。",
                submission_key=f"worker-test-{writer}-{n}"), user=author)
            db.session.commit()
            if n % 3 == 0:
                services.moderate(comment, "publish" if n % 2 else "hide", user=staff,
                                  reason="" if n % 2 else "重复内容")
                db.session.commit()
        db.session.remove()


def documents(root: Path) -> dict[str, dict]:
    """Every stored document of an index copy, by its id."""
    copy = IndexCopy(root)
    try:
        with copy.index()._ix.searcher() as searcher:
            return {fields["doc_id"]: fields for fields in searcher.all_stored_fields()}
    finally:
        copy.close()


def caught_up(root: Path, log_end: int) -> bool:
    copy = IndexCopy(root)
    try:
        return read_position(copy.current()).position >= log_end
    finally:
        copy.close()


def test_two_worker_processes_keep_two_index_copies_identical(app, make_draft, make_user,
                                                              tmp_path):
    draft = make_draft()
    author, staff = make_user(), make_user("staff")
    nodes = [tmp_path / f"node-{n}" for n in (1, 2)]
    minyi = str(Path(sys.executable).parent / "minyi")
    workers = []
    for node in nodes:
        env = {**os.environ, "MINYI_DATA_DIR": str(node), "SECRET_KEY": "test-secret",
               "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}
        log = open(node.with_suffix(".log"), "wb")  # noqa: SIM115  closed below
        workers.append((subprocess.Popen([minyi, "search", "worker"], cwd=REPO, env=env,
                                         stdout=log, stderr=subprocess.STDOUT), log))
    try:
        threads = [threading.Thread(target=write_comments,
                                    args=(app, draft.id, author.id, staff.id, w))
                   for w in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        # a rename logs every comment and clause of the draft again (search/outbox.py)
        draft = db.session.get(Draft, draft.id)
        draft.title = "测试条例（修改后的标题）"
        db.session.commit()
        log_end = db.session.scalar(select(func.max(ChangeLog.id)))
        started = time.monotonic()
        while not all(caught_up(node / "search-index", log_end) for node in nodes):
            assert time.monotonic() - started < 120, "the workers did not catch up"
            time.sleep(0.2)
    finally:
        for process, log in workers:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
            log.close()
    for node, (process, _log) in zip(nodes, workers, strict=True):
        output = node.with_suffix(".log").read_text()
        assert process.returncode == 0 and "stopped" in output, output[-2000:]

    first, second = (documents(node / "search-index") for node in nodes)
    assert first == second
    comment_ids = set(db.session.scalars(select(Comment.id)))
    assert len(comment_ids) == WRITERS * COMMENTS_PER_WRITER
    assert {d for d in first if d.startswith("comment:")} == {f"comment:{i}" for i in comment_ids}
    assert all(fields["title"] == "测试条例（修改后的标题）"
               for doc, fields in first.items() if doc.startswith("comment:"))
