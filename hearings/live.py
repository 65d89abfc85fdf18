"""Live notes during a hearing: notes with revisions, the current speaker, the timer, and the
numbered event log that observers follow and catch up from.

Every change writes a HearingEvent whose sequence number is taken from `hearings.last_seq` by
an UPDATE in the same transaction: a rolled-back change gives its number back, so the numbers
have no gaps, and concurrent writers queue on the hearing's row. Services only flush; the
caller commits and then broadcasts the returned events (see hearings/sockets.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from app.extensions import db
from app.models import User, utcnow
from drafts.models import Clause
from hearings.models import (
    Hearing,
    HearingEvent,
    HearingNote,
    HearingNoteRevision,
    ObserverRegistration,
    SpeakerRegistration,
)

#: hearing statuses in which notes, the speaker and the timer can still change
LIVE_STATUSES = ("planned", "announced")
#: the most events one catch-up answer carries; the client asks again for the rest
CATCH_UP_PAGE = 500
MAX_NOTE_LENGTH = 10_000
MAX_EXTENSION_SECONDS = 30 * 60


class LiveError(ValueError):
    """A live action that cannot be done; the message is shown to the user."""


# --- who may do what ----------------------------------------------------------------------


def _registration(user: User, hearing: Hearing) -> ObserverRegistration | None:
    return db.session.scalar(select(ObserverRegistration).where(
        ObserverRegistration.hearing_id == hearing.id, ObserverRegistration.user_id == user.id))


def is_hearing_staff(user: User | None, hearing: Hearing) -> bool:
    """Tell whether the user runs the hearing: staff, its chair or its recorder."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_staff or user.id in (hearing.chair_id, hearing.recorder_id)


def can_record(user: User | None, hearing: Hearing) -> bool:
    """Tell whether the user may write the record and move the speaker on."""
    return is_hearing_staff(user, hearing)


def is_deputy_observer(user: User | None, hearing: Hearing) -> bool:
    """Tell whether the user is a deputy invited to observe who has not declined."""
    if user is None or not user.is_authenticated or not user.is_deputy:
        return False
    registration = _registration(user, hearing)
    return registration is not None and registration.status in ("invited", "accepted")


def can_observe(user: User | None, hearing: Hearing) -> bool:
    """Tell whether the user may follow the live notes."""
    if hearing.status == "cancelled":
        return False
    if is_hearing_staff(user, hearing):
        return True
    if hearing.public_live and hearing.status != "planned":  # planned: not announced yet
        return True
    if user is None or not user.is_authenticated:
        return False
    registration = _registration(user, hearing)
    if registration is not None and (registration.status == "accepted"
                                     or is_deputy_observer(user, hearing)):
        return True
    return db.session.scalar(select(SpeakerRegistration.id).where(
        SpeakerRegistration.hearing_id == hearing.id, SpeakerRegistration.user_id == user.id,
        SpeakerRegistration.status == "selected")) is not None


def audience_of(note: HearingNote) -> str:
    """Return who may see a note: everyone, its author and staff, or its author alone."""
    if note.visibility == "staff":
        return f"shared:{note.author_id}"
    if note.visibility == "private":
        return f"private:{note.author_id}"
    return "public"


def audiences_for(user: User | None, hearing: Hearing) -> list[str] | None:
    """Return the audiences whose events the user receives; None means every audience but
    other people's private ones, which is what hearing staff see."""
    if is_hearing_staff(user, hearing):
        return None
    if user is None or not user.is_authenticated:
        return ["public"]
    return ["public", f"shared:{user.id}", f"private:{user.id}"]


def _visible(query, column, user: User | None, hearing: Hearing):
    """Restrict a query over event audiences to what the user may see."""
    audiences = audiences_for(user, hearing)
    if audiences is not None:
        return query.where(column.in_(audiences))
    return query.where(or_(~column.startswith("private:"), column == f"private:{user.id}"))


# --- events ---------------------------------------------------------------------------------


def next_seq(hearing: Hearing) -> int:
    """Take the hearing's next event number inside the current transaction."""
    seq = db.session.execute(
        update(Hearing)
        .where(Hearing.id == hearing.id)
        .values(last_seq=Hearing.last_seq + 1)
        .returning(Hearing.last_seq),
        execution_options={"synchronize_session": False},
    ).scalar_one()
    db.session.expire(hearing, ["last_seq"])
    return seq


def add_event(hearing: Hearing, type_: str, payload: dict, audience: str = "public"
              ) -> HearingEvent:
    """Number and store one live event; the caller's commit makes it visible."""
    event = HearingEvent(hearing_id=hearing.id, seq=next_seq(hearing), type=type_,
                         audience=audience, payload=payload, created_at=utcnow())
    db.session.add(event)
    db.session.flush()
    return event


def envelope(event: HearingEvent) -> dict:
    """Return the event as sent to clients, live and in catch-up answers."""
    return {"seq": event.seq, "type": event.type, "hearing": event.hearing_id,
            "at": iso(event.created_at), "payload": event.payload}


def events_after(hearing: Hearing, user: User | None, after_seq: int,
                 limit: int = CATCH_UP_PAGE) -> list[HearingEvent]:
    """Return the events after `after_seq` that the user may see, oldest first."""
    query = select(HearingEvent).where(HearingEvent.hearing_id == hearing.id,
                                       HearingEvent.seq > after_seq)
    query = _visible(query, HearingEvent.audience, user, hearing)
    return list(db.session.scalars(query.order_by(HearingEvent.seq).limit(limit)))


def events_since(hearing_id: int, moment: datetime, limit: int = CATCH_UP_PAGE
                 ) -> list[HearingEvent]:
    """Return the hearing's latest events (at most `limit`) stored from `moment` on, oldest
    first, for every audience."""
    query = (select(HearingEvent)
             .where(HearingEvent.hearing_id == hearing_id, HearingEvent.created_at >= moment)
             .order_by(HearingEvent.seq.desc()).limit(limit))
    return list(reversed(db.session.scalars(query).all()))


def iso(moment: datetime | None) -> str | None:
    """Format a naive-UTC timestamp as ISO 8601 with the Z suffix browsers understand."""
    return moment.isoformat(timespec="milliseconds") + "Z" if moment else None


# --- notes ------------------------------------------------------------------------------------


def clause_labels(hearing: Hearing, lineage_ids: Iterable[int]) -> list[str]:
    """Return the labels (第十一条) of the clauses of the hearing's version, in text order."""
    lineage_ids = list(lineage_ids)
    if not lineage_ids:
        return []
    return list(db.session.scalars(
        select(Clause.label).where(Clause.version_id == hearing.version_id,
                                   Clause.lineage_id.in_(lineage_ids))
        .order_by(Clause.position)))


def note_payload(note: HearingNote) -> dict:
    """Return a note as plain data for an event."""
    speaker = note.speaker
    return {
        "id": note.id,
        "kind": note.kind,
        "visibility": note.visibility,
        "author": note.author.name if note.author else "",
        "author_id": note.author_id,
        "speaker_id": note.speaker_id,
        "speaker": speaker_label(speaker) if speaker else "",
        "agenda_item": note.agenda_item,
        "clause_lineage_ids": list(note.clause_lineage_ids or []),
        "clause_labels": clause_labels(note.hearing, note.clause_lineage_ids or []),
        "body": note.body,
        "revision": note.revision,
        "created_at": iso(note.created_at),
        "updated_at": iso(note.updated_at),
    }


def _check_live(hearing: Hearing) -> None:
    if hearing.status not in LIVE_STATUSES:
        raise LiveError(_("The hearing is over; ask for a correction of the record instead."))


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise LiveError(_("Write the note first."))
    if len(body) > MAX_NOTE_LENGTH:
        raise LiveError(_("Keep a note within %(n)d characters.", n=MAX_NOTE_LENGTH))
    return body


def _clean_clauses(lineage_ids: Iterable[object]) -> list[int]:
    try:
        return sorted({int(value) for value in lineage_ids})
    except (TypeError, ValueError) as error:
        raise LiveError(_("Choose the clauses from the list.")) from error


def _note_kind_allowed(user: User, hearing: Hearing, kind: str, visibility: str) -> None:
    """Refuse a note the user may not write: the record is staff's, observations deputies'."""
    if kind == "record":
        if not can_record(user, hearing):
            raise LiveError(_("Only the recorder and staff write the record."))
        if visibility != "public":
            raise LiveError(_("The record is public."))
        return
    if kind not in ("observation", "question"):
        raise LiveError(_("Unknown kind of note."))
    if not (is_deputy_observer(user, hearing) or is_hearing_staff(user, hearing)):
        raise LiveError(_("Only observing deputies add observations and questions."))
    if kind == "question" and visibility != "staff":
        raise LiveError(_("A question goes to the chair and staff."))
    if visibility not in ("private", "staff"):
        raise LiveError(_("Keep the observation to yourself or share it with staff."))


def post_note(
    hearing: Hearing,
    user: User,
    body: str,
    *,
    kind: str = "record",
    visibility: str = "public",
    clause_lineage_ids: Iterable[object] = (),
    speaker_id: int | None = None,
    agenda_item: str | None = None,
) -> tuple[HearingNote, HearingEvent]:
    """Add a note during the hearing, tied to the current speaker and agenda item unless
    others are given."""
    _check_live(hearing)
    _note_kind_allowed(user, hearing, kind, visibility)
    return add_note(hearing, user, body, kind=kind, visibility=visibility,
                    clause_lineage_ids=clause_lineage_ids, speaker_id=speaker_id,
                    agenda_item=agenda_item)


def add_note(
    hearing: Hearing,
    user: User,
    body: str,
    *,
    kind: str = "record",
    visibility: str = "public",
    clause_lineage_ids: Iterable[object] = (),
    speaker_id: int | None = None,
    agenda_item: str | None = None,
) -> tuple[HearingNote, HearingEvent]:
    """Store a note with its first revision and announce it; the caller has checked the right
    to write it."""
    if speaker_id is not None and speaker_by_id(hearing, speaker_id) is None:
        raise LiveError(_("Choose a speaker of this hearing."))
    now = utcnow()
    note = HearingNote(
        hearing_id=hearing.id,
        kind=kind,
        visibility=visibility,
        author_id=user.id,
        speaker_id=speaker_id if speaker_id is not None else hearing.current_speaker_id,
        agenda_item=(agenda_item if agenda_item is not None
                     else hearing.current_agenda_item)[:200],
        clause_lineage_ids=_clean_clauses(clause_lineage_ids),
        body=_clean_body(body),
        revision=1,
        created_at=now,
        updated_at=now,
    )
    db.session.add(note)
    db.session.flush()
    db.session.add(HearingNoteRevision(note_id=note.id, revision=1, body=note.body,
                                       editor_id=user.id, created_at=now))
    event = add_event(hearing, "note_created", note_payload(note), audience_of(note))
    return note, event


def can_edit_note(user: User | None, note: HearingNote) -> bool:
    """Tell whether the user may change a note: the record by staff, other notes by their
    author."""
    if note.kind == "record":
        return can_record(user, note.hearing)
    return user is not None and user.is_authenticated and note.author_id == user.id


def revise_note(note: HearingNote, user: User, body: str, *, base_revision: int,
                clause_lineage_ids: Iterable[object] | None = None) -> HearingEvent:
    """Store a new text of a note as its next revision; refuse an edit of an old revision."""
    body = _clean_body(body)
    # The conditional update takes the note's row: of two edits of the same revision the
    # second matches nothing, however close together they come.
    changed = db.session.execute(
        update(HearingNote)
        .where(HearingNote.id == note.id, HearingNote.revision == base_revision)
        .values(revision=HearingNote.revision + 1),
        execution_options={"synchronize_session": False},
    ).rowcount
    db.session.refresh(note, ["revision"])
    if not changed:
        raise LiveError(_(
            "Someone changed this note in the meantime (now revision %(now)d, you edited "
            "revision %(base)d). Reload it and make your change again.",
            now=note.revision, base=base_revision))
    # The text changes through the ORM, so the change log learns of the edit.
    note.body = body
    note.updated_at = utcnow()
    if clause_lineage_ids is not None:
        note.clause_lineage_ids = _clean_clauses(clause_lineage_ids)
    db.session.add(HearingNoteRevision(note_id=note.id, revision=note.revision, body=body,
                                       editor_id=user.id, created_at=note.updated_at))
    db.session.flush()
    payload = note_payload(note) | {"editor": user.name, "editor_id": user.id}
    return add_event(note.hearing, "note_updated", payload, audience_of(note))


def edit_note(note: HearingNote, user: User, body: str, *, base_revision: int,
              clause_lineage_ids: Iterable[object] | None = None) -> HearingEvent:
    """Edit a note during the hearing, as its author or, for the record, as staff."""
    _check_live(note.hearing)
    if not can_edit_note(user, note):
        raise LiveError(_("You may not change this note."))
    return revise_note(note, user, body, base_revision=base_revision,
                       clause_lineage_ids=clause_lineage_ids)


def note_by_id(hearing: Hearing, note_id: object) -> HearingNote | None:
    """Return a note of the hearing, or None."""
    try:
        note_id = int(note_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    note = db.session.get(HearingNote, note_id)
    return note if note is not None and note.hearing_id == hearing.id else None


def visible_notes(hearing: Hearing, user: User | None) -> list[HearingNote]:
    """Return the notes the user may see, in the order they were taken."""
    query = select(HearingNote).where(HearingNote.hearing_id == hearing.id,
                                      HearingNote.deleted.is_(False))
    audiences = audiences_for(user, hearing)
    if audiences is None:
        query = query.where(or_(HearingNote.visibility != "private",
                                HearingNote.author_id == user.id))
    elif user is None or not user.is_authenticated:
        query = query.where(HearingNote.visibility == "public")
    else:
        query = query.where(or_(HearingNote.visibility == "public",
                                HearingNote.author_id == user.id))
    return list(db.session.scalars(query.order_by(HearingNote.id)))


# --- speaker and timer ------------------------------------------------------------------------


def speaker_label(speaker: SpeakerRegistration) -> str:
    """Return how a speaker is named in the record: the organisation with its representative."""
    if speaker.kind == "organisation" and speaker.representative:
        return f"{speaker.name}（{speaker.representative}）"
    return speaker.name


def speaker_by_id(hearing: Hearing, speaker_id: object) -> SpeakerRegistration | None:
    """Return a selected speaker of the hearing, or None."""
    try:
        speaker_id = int(speaker_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    speaker = db.session.get(SpeakerRegistration, speaker_id)
    if speaker is None or speaker.hearing_id != hearing.id or speaker.status != "selected":
        return None
    return speaker


def running_order(hearing: Hearing) -> list[SpeakerRegistration]:
    """Return the selected speakers in their speaking order."""
    return list(db.session.scalars(
        select(SpeakerRegistration)
        .where(SpeakerRegistration.hearing_id == hearing.id,
               SpeakerRegistration.status == "selected")
        .order_by(SpeakerRegistration.speaking_order.is_(None),
                  SpeakerRegistration.speaking_order, SpeakerRegistration.id)))


def current_speaker(hearing: Hearing) -> SpeakerRegistration | None:
    """Return the speaker who has the floor, or None."""
    if hearing.current_speaker_id is None:
        return None
    return db.session.get(SpeakerRegistration, hearing.current_speaker_id)


def allowed_seconds(hearing: Hearing) -> int:
    """Return the current speaker's speaking time including extensions."""
    speaker = current_speaker(hearing)
    minutes = (speaker.speaking_minutes if speaker else None) or hearing.minutes_per_speaker
    return minutes * 60 + hearing.timer_extra_seconds


def timer_state(hearing: Hearing, now: datetime | None = None) -> dict:
    """Return the timer as plain data; clients count down from it with their own clock."""
    now = now or utcnow()
    allowed = allowed_seconds(hearing)
    started = hearing.timer_started_at
    elapsed = (now - started).total_seconds() if started else 0.0
    return {
        "speaker_id": hearing.current_speaker_id,
        "running": started is not None,
        "started_at": iso(started),
        "allowed_seconds": allowed,
        "extra_seconds": hearing.timer_extra_seconds,
        "remaining_seconds": round(allowed - elapsed, 1),
        "server_time": iso(now),
    }


def speaker_state(hearing: Hearing) -> dict:
    """Return the current speaker and agenda item as plain data."""
    speaker = current_speaker(hearing)
    return {
        "speaker": {
            "id": speaker.id,
            "name": speaker_label(speaker),
            "sector": speaker.sector,
            "speaking_order": speaker.speaking_order,
            "speaking_minutes": speaker.speaking_minutes or hearing.minutes_per_speaker,
        } if speaker else None,
        "agenda_item": hearing.current_agenda_item,
    }


def change_speaker(hearing: Hearing, user: User, speaker_id: object | None,
                   agenda_item: str = "") -> HearingEvent:
    """Give the floor to a speaker (or to nobody) under an agenda item; the timer resets."""
    _check_live(hearing)
    if not can_record(user, hearing):
        raise LiveError(_("Only the chair, the recorder and staff move the hearing on."))
    speaker = None
    if speaker_id not in (None, ""):
        speaker = speaker_by_id(hearing, speaker_id)
        if speaker is None:
            raise LiveError(_("Choose a speaker of this hearing."))
    hearing.current_speaker_id = speaker.id if speaker else None
    hearing.current_agenda_item = (agenda_item or "").strip()[:200]
    hearing.timer_started_at = None
    hearing.timer_extra_seconds = 0
    db.session.flush()
    return add_event(hearing, "speaker_changed",
                     speaker_state(hearing) | {"timer": timer_state(hearing)})


def start_timer(hearing: Hearing, user: User) -> HearingEvent:
    """Start the current speaker's time."""
    _check_live(hearing)
    if not can_record(user, hearing):
        raise LiveError(_("Only the chair, the recorder and staff keep time."))
    if hearing.current_speaker_id is None:
        raise LiveError(_("Give the floor to a speaker first."))
    hearing.timer_started_at = utcnow()
    db.session.flush()
    return add_event(hearing, "timer", timer_state(hearing) | {"action": "start"})


def extend_timer(hearing: Hearing, user: User, seconds: object) -> HearingEvent:
    """Give the current speaker more time, as the chair may."""
    _check_live(hearing)
    if not can_record(user, hearing):
        raise LiveError(_("Only the chair, the recorder and staff keep time."))
    try:
        seconds = int(seconds)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = 0
    if not 0 < seconds <= MAX_EXTENSION_SECONDS:
        raise LiveError(_("Extend by between 1 second and %(n)d minutes.",
                          n=MAX_EXTENSION_SECONDS // 60))
    if hearing.timer_started_at is None:
        raise LiveError(_("Start the timer first."))
    hearing.timer_extra_seconds += seconds
    db.session.flush()
    return add_event(hearing, "timer", timer_state(hearing) | {"action": "extend",
                                                              "extended_by": seconds})


def end_hearing(hearing: Hearing, user: User) -> HearingEvent:
    """Close the live part: the floor is empty and the record can be reviewed."""
    _check_live(hearing)
    if not can_record(user, hearing):
        raise LiveError(_("Only the chair, the recorder and staff move the hearing on."))
    hearing.status = "held"
    hearing.ends_at = hearing.ends_at or utcnow()
    hearing.current_speaker_id = None
    hearing.timer_started_at = None
    hearing.timer_extra_seconds = 0
    db.session.flush()
    return add_event(hearing, "hearing_ended", {"ends_at": iso(hearing.ends_at)})


def live_state(hearing: Hearing) -> dict:
    """Return what a page or a newly connected client starts from."""
    return speaker_state(hearing) | {
        "timer": timer_state(hearing),
        "last_seq": hearing.last_seq,
        "status": hearing.status,
    }
