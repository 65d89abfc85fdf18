"""Record staff decisions in the append-only audit log."""

from __future__ import annotations

from app.extensions import db
from app.models import AuditLog, User


def record(actor: User | None, action: str, obj: object, **details: object) -> AuditLog:
    """Add an audit entry for `action` on `obj`; the caller's request commits it."""
    entry = AuditLog(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=getattr(obj, "__tablename__", type(obj).__name__.lower()),
        object_id=getattr(obj, "id", None),
        details={key: value for key, value in details.items() if value is not None},
    )
    db.session.add(entry)
    return entry
