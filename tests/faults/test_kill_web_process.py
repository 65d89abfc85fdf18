"""Fault 1: kill -9 the web process during a stream of comment submissions.

Client threads post comments through gunicorn (one gevent worker, the search indexer as a
thread of it) as fast as it answers; the master and its worker are killed with SIGKILL half
way, and a new gunicorn is started on the same port while the clients keep sending. Every
comment that got its success answer must be in the database, and the search index (the same
index copy, following the change log from where the killed indexer left it) must converge
to exactly the comments in the database.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass, field

import requests
from sqlalchemy import select
from support import PASSWORD

from app.extensions import db
from drafts.models import Comment
from search.indexer import index_copy

CLIENTS = 4
#: comments accepted before the kill, and after the restart, before the clients stop
BEFORE_KILL = 40
AFTER_RESTART = 20
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Stream:
    """What the client threads saw."""

    accepted: list[str] = field(default_factory=list)
    refused: int = 0
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    guard: threading.Lock = field(default_factory=threading.Lock)


def post_comments(base: str, email: str, slug: str, stream: Stream) -> None:
    """Log in, then post comments until told to stop; a refused or cut connection is retried
    with a new key, as a person would send the form again."""
    session = requests.Session()
    page = session.get(base + "/login", timeout=30).text
    session.post(base + "/login", data={"csrf_token": _CSRF.search(page).group(1),
                                        "email": email, "password": PASSWORD}, timeout=30)
    csrf = _CSRF.search(session.get(f"{base}/drafts/{slug}/comment?clause=art-6",
                                    timeout=30).text).group(1)
    n = 0
    while not stream.stop.is_set():
        n += 1
        key = secrets.token_urlsafe(24)
        try:
            answer = session.post(f"{base}/drafts/{slug}/comment", allow_redirects=False,
                                  timeout=30, data={
                                      "csrf_token": csrf, "clause": "art-6", "stance": "suggest",
                                      "body": f"{email}的第{n}条意见：建议明确充电设施的标准。",
                                      "submission_key": key})
        except requests.RequestException:
            with stream.guard:
                stream.refused += 1
            time.sleep(0.05)
            continue
        with stream.guard:
            if answer.status_code == 302 and "/submitted/" in answer.headers["Location"]:
                stream.accepted.append(key)
            else:
                stream.failures.append(f"{answer.status_code} {answer.text[:300]}")


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def comment_docs(app) -> set[str]:
    """The ids of the comment documents in the index copy, as it is on disk now."""
    index = index_copy(app).index()
    with index._ix.searcher() as searcher:
        return {f["doc_id"] for f in searcher.all_stored_fields()
                if f["doc_id"].startswith("comment:")}


def test_every_acknowledged_comment_survives_kill_9_and_the_index_converges(
        app, serve, make_draft, make_user):
    draft = make_draft()
    users = [make_user() for _ in range(CLIENTS)]
    first = serve()
    port = int(first.url.rsplit(":", 1)[1])
    stream = Stream()
    threads = [threading.Thread(target=post_comments, args=(first.url, u.email, draft.slug,
                                                            stream)) for u in users]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: len(stream.accepted) >= BEFORE_KILL, 120, "comments before the kill")
        first.kill()
        acknowledged_before = len(stream.accepted)
        wait_for(lambda: stream.refused >= CLIENTS, 30, "the clients to see the server gone")
        serve(port=port)
        wait_for(lambda: len(stream.accepted) >= acknowledged_before + AFTER_RESTART, 120,
                 "comments after the restart")
    finally:
        stream.stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert stream.failures == []

    db.session.rollback()
    stored = dict(db.session.execute(select(Comment.submission_key, Comment.id)).all())
    lost = set(stream.accepted) - set(stored)
    assert lost == set(), f"{len(lost)} acknowledged comments are not in the database"
    # the indexer of the new process resumes from the position the killed one wrote
    expected = {f"comment:{comment_id}" for comment_id in stored.values()}
    wait_for(lambda: comment_docs(app) == expected, 120, "the index to converge")
