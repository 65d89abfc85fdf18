"""The registration lists of a hearing as CSV for staff: speakers and observers with their
contact data.  Every download is written to the audit log (app/privacy.py lists them)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flask import Response, abort
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app import audit
from app.extensions import db
from app.permissions import staff_required
from hearings import services
from hearings.models import Hearing, ObserverRegistration, SpeakerRegistration
from hearings.routes import staff_hearings_blueprint

SPEAKER_COLUMNS = ("id", "status", "kind", "name", "representative", "phone", "email",
                   "sector", "region", "expertise", "is_expert", "invited",
                   "waitlist_position", "speaking_order", "key_points", "registered_at_utc")
OBSERVER_COLUMNS = ("id", "status", "kind", "name", "phone", "embedded", "reason",
                    "applied_at_utc")


def _safe(value: object) -> object:
    """Defuse spreadsheet formulas in text people typed."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _csv(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # spreadsheet programs then read the file as UTF-8
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe(value) for value in row])
    return buffer.getvalue()


def speakers_csv(hearing: Hearing) -> str:
    """Return the speaker registrations, with a column for the stance on each question."""
    registrations = db.session.scalars(
        select(SpeakerRegistration).options(selectinload(SpeakerRegistration.positions))
        .where(SpeakerRegistration.hearing_id == hearing.id).order_by(SpeakerRegistration.id))
    questions = list(hearing.questions)
    header = [*SPEAKER_COLUMNS, *(f"question_{q.position}" for q in questions)]

    def row(r: SpeakerRegistration) -> list[object]:
        stances = {p.question_id: p.stance for p in r.positions}
        return [r.id, r.status, r.kind, r.name, r.representative, r.phone, r.email, r.sector,
                r.region, r.expertise, r.is_expert, r.invited, r.waitlist_position or "",
                r.speaking_order or "", r.key_points,
                r.created_at.isoformat(timespec="seconds"),
                *(stances.get(q.id, "") for q in questions)]

    return _csv(header, (row(r) for r in registrations))


def observers_csv(hearing: Hearing) -> str:
    """Return the applications and invitations to observe."""
    observers = db.session.scalars(
        select(ObserverRegistration).options(joinedload(ObserverRegistration.user))
        .where(ObserverRegistration.hearing_id == hearing.id).order_by(ObserverRegistration.id))
    return _csv(OBSERVER_COLUMNS, ([o.id, o.status, o.kind, o.user.name, o.phone, o.embedded,
                                    o.reason, o.created_at.isoformat(timespec="seconds")]
                                   for o in observers))


@staff_hearings_blueprint.route("/<slug>/speakers.csv", defaults={"kind": "speakers"})
@staff_hearings_blueprint.route("/<slug>/observers.csv", defaults={"kind": "observers"})
@staff_required
def export_registrations(slug: str, kind: str):
    hearing = services.hearing_by_slug(slug) or abort(404)
    body = speakers_csv(hearing) if kind == "speakers" else observers_csv(hearing)
    audit.record(current_user, "registrations.export", hearing, kind=kind, format="csv")
    db.session.commit()
    return Response(body, mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f"attachment; filename={hearing.slug}-{kind}.csv",
        "Cache-Control": "no-store"})
