"""Write a change-log row for every searchable object in the transaction that changes it."""

from __future__ import annotations

from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from app.models import ChangeLog, utcnow

#: built once: the statement runs in every transaction that changes a searchable object
_INSERT = insert(ChangeLog)


def _outbox_rows(session: Session) -> list[dict]:
    rows = []
    now = utcnow()
    # session.dirty is computed anew on every read: read it once, and ask whether an object
    # really changed only for the searchable ones
    for op, objects, changed_only in (
        ("upsert", session.new, False),
        ("upsert", session.dirty, True),
        ("delete", session.deleted, False),
    ):
        for obj in objects:
            entity = getattr(obj, "__outbox__", None)
            if entity is None or obj.id is None:
                continue
            if changed_only and not session.is_modified(obj):
                continue
            rows.append({"entity": entity, "entity_id": obj.id, "op": op, "created_at": now})
    return rows


@event.listens_for(Session, "after_flush")
def _write_outbox(session: Session, _flush_context) -> None:
    rows = _outbox_rows(session)
    if rows:
        session.connection().execute(_INSERT, rows)
