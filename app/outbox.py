"""Write a change-log row for every searchable object in the transaction that changes it."""

from __future__ import annotations

from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from app.models import ChangeLog, utcnow


def _outbox_rows(session: Session) -> list[dict]:
    rows = []
    for op, objects in (
        ("upsert", session.new),
        ("upsert", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            entity = getattr(obj, "__outbox__", None)
            if entity is None or obj.id is None:
                continue
            if op == "upsert" and obj in session.dirty and not session.is_modified(obj):
                continue
            rows.append({"entity": entity, "entity_id": obj.id, "op": op, "created_at": utcnow()})
    return rows


@event.listens_for(Session, "after_flush")
def _write_outbox(session: Session, _flush_context) -> None:
    rows = _outbox_rows(session)
    if rows:
        session.connection().execute(insert(ChangeLog), rows)
