"""Change-log rows for documents that depend on another object.

`app/outbox.py` logs every change to a clause, comment or note. A document also carries
facts of its draft or hearing: the draft's title, whether the draft is published and which
version is current (a clause's visibility), the hearing's title and whether the public may
follow it (a note's visibility). When one of those changes, this listener logs every
dependent row, with one INSERT … SELECT in the same transaction, so that the indexer
rebuilds their documents like any other change.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Select, event, insert, inspect, literal, select
from sqlalchemy.orm import Session

from app.models import ChangeLog, utcnow
from drafts.models import Clause, Comment, Draft, DraftVersion
from hearings.models import Hearing, HearingNote

#: attributes of a draft that every document of the draft shows
DRAFT_TITLE = ("title",)
#: attributes of a draft that decide who sees its clauses
DRAFT_VISIBILITY = ("status", "current_version", "current_version_id")
#: attributes of a hearing that its notes' documents depend on
HEARING_FIELDS = ("title", "status", "public_live")


def _changed(obj: object, names: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _log(session: Session, entity: str, ids: Select, now: datetime) -> None:
    """Log an upsert of every row of `entity` whose id `ids` selects."""
    found = ids.subquery()
    rows = select(literal(entity), found.c.id, literal("upsert"), literal(now, DateTime()))
    session.connection().execute(insert(ChangeLog).from_select(
        ["entity", "entity_id", "op", "created_at"], rows.order_by(found.c.id)))


@event.listens_for(Session, "after_flush")
def _log_dependents(session: Session, _flush_context) -> None:
    now = utcnow()
    for obj in session.dirty:
        if isinstance(obj, Draft) and obj.id is not None:
            if _changed(obj, DRAFT_TITLE):
                _log(session, "comment", select(Comment.id)
                     .where(Comment.draft_id == obj.id), now)
            if _changed(obj, DRAFT_TITLE + DRAFT_VISIBILITY):
                _log(session, "clause", select(Clause.id)
                     .join(DraftVersion, Clause.version_id == DraftVersion.id)
                     .where(DraftVersion.draft_id == obj.id), now)
        elif isinstance(obj, Hearing) and obj.id is not None and _changed(obj, HEARING_FIELDS):
            _log(session, "note", select(HearingNote.id)
                 .where(HearingNote.hearing_id == obj.id), now)
