"""Fault 4: the PostgreSQL connection is lost in the middle of a request.

The request's own backend is ended with pg_terminate_backend right after the comment's INSERT,
before the rest of its transaction: the user gets the error page in their language, not a
traceback, nothing of the comment remains, and sending it again works.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, event, func, select, text

from app.extensions import db
from app.models import ChangeLog
from drafts.models import Comment

FORM = {"stance": "suggest", "body": "建议明确公共充电设施的建设标准。", "clause": "art-6"}


class BackendKiller:
    """End the database backend of the connection that has just inserted a comment."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.armed = False
        self.killed: list[int] = []
        self.admin = create_engine(engine.url, isolation_level="AUTOCOMMIT")
        event.listen(engine, "after_cursor_execute", self.after_execute)

    def after_execute(self, connection, _cursor, statement: str, *_args) -> None:
        if not (self.armed and statement.lstrip().upper().startswith("INSERT INTO COMMENTS")):
            return
        self.armed = False
        pid = connection.connection.dbapi_connection.info.backend_pid
        with self.admin.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        self.killed.append(pid)

    def close(self) -> None:
        event.remove(self.engine, "after_cursor_execute", self.after_execute)
        self.admin.dispose()


def _form_key(client, slug: str) -> str:
    page = client.get(f"/drafts/{slug}/comment?clause=art-6").get_data(as_text=True)
    return re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page).group(1)


def _counts() -> tuple[int, int]:
    db.session.rollback()
    return (db.session.scalar(select(func.count(Comment.id))),
            db.session.scalar(select(func.count(ChangeLog.id))
                              .where(ChangeLog.entity == "comment")))


@pytest.fixture
def app(pg_app):
    """PostgreSQL on both passes of the suite: a lost connection is a PostgreSQL fault."""
    return pg_app


def test_a_lost_database_connection_gives_the_error_page_and_leaves_nothing_half_written(
        app, client, make_draft, make_user):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as in production: the 500 page
    draft = make_draft()
    client.login(make_user())
    killer = BackendKiller(db.engine)
    try:
        before = _counts()
        for lang, message in (
                ("zh", "系统出现错误。您提交的内容没有被部分保存，请重新提交。"),
                ("en", "Something went wrong on our side. Nothing you sent was half-saved; "
                       "please try again.")):
            key = _form_key(client, draft.slug)
            killer.armed = True
            response = client.post_form(f"/drafts/{draft.slug}/comment?lang={lang}",
                                        {**FORM, "submission_key": key})
            assert killer.killed, "the request never inserted its comment"
            page = response.get_data(as_text=True)
            assert response.status_code == 500
            assert message in page and "Traceback" not in page and "psycopg" not in page
            assert _counts() == before  # neither the comment nor its change-log row

        response = client.post_form(f"/drafts/{draft.slug}/comment",
                                    {**FORM, "submission_key": key})
        assert response.status_code == 302 and "/submitted/" in response.headers["Location"]
        assert _counts() == (before[0] + 1, before[1] + 1)
        assert len(killer.killed) == 2
    finally:
        killer.close()
