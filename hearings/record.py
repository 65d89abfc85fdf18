"""The hearing record (听证记录): assembled from the live notes, reviewed by the speakers within
the review window, corrected by staff, signed by the chair and the recorder. Also the opinions
the hearing adds to the draft: every speaker's statement and every observer's written opinion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from app import audit, signals
from app.extensions import db
from app.models import User, utcnow
from drafts.models import Comment
from hearings import deadlines, live
from hearings.models import (
    Hearing,
    HearingEvent,
    HearingNote,
    ObserverRegistration,
    RecordCorrection,
    RecordSignoff,
    SpeakerRegistration,
)

SIGNOFF_ROLES = ("chair", "recorder")
#: speaker positions as comment stances: "other" is read as a suggestion
STANCE_OF_POSITION = {"support": "support", "oppose": "oppose", "other": "suggest"}
MAX_TEXT = 5000


class RecordError(ValueError):
    """A step on the record that cannot be taken; the message is shown to the user."""


# --- assembling the record -------------------------------------------------------------------


@dataclass
class RecordSection:
    """Consecutive record notes taken while one speaker had the floor under one agenda item."""

    speaker: SpeakerRegistration | None
    agenda_item: str
    notes: list[HearingNote] = field(default_factory=list)

    @property
    def heading(self) -> str:
        name = live.speaker_label(self.speaker) if self.speaker else ""
        return "：".join(part for part in (self.agenda_item, name) if part)


def record_notes(hearing: Hearing) -> list[HearingNote]:
    """Return the notes that make up the record, in the order they were taken."""
    return list(db.session.scalars(
        select(HearingNote)
        .where(HearingNote.hearing_id == hearing.id, HearingNote.kind == "record",
               HearingNote.visibility == "public", HearingNote.deleted.is_(False))
        .order_by(HearingNote.created_at, HearingNote.id)))


def record_sections(notes: list[HearingNote]) -> list[RecordSection]:
    """Group the notes into sections by speaker and agenda item, keeping their order."""
    speakers = {s.id: s for s in db.session.scalars(select(SpeakerRegistration).where(
        SpeakerRegistration.id.in_({n.speaker_id for n in notes if n.speaker_id})))}
    sections: list[RecordSection] = []
    for note in notes:
        key = (note.speaker_id, note.agenda_item)
        if not sections or (sections[-1].speaker and sections[-1].speaker.id,
                            sections[-1].agenda_item) != key:
            sections.append(RecordSection(speakers.get(note.speaker_id), note.agenda_item))
        sections[-1].notes.append(note)
    return sections


def review_days() -> int:
    return deadlines.settings(current_app.config.get("HEARING_DEADLINES"))[
        "record_review_days_after"]


def review_closes_at(hearing: Hearing) -> datetime:
    """Return the end of the window in which speakers may read and correct the record."""
    return (hearing.ends_at or hearing.starts_at) + timedelta(days=review_days())


def is_review_open(hearing: Hearing, now: datetime | None = None) -> bool:
    """Tell whether speakers may ask for corrections now."""
    return hearing.status == "record_review" and (now or utcnow()) <= review_closes_at(hearing)


def speaker_of(user: User | None, hearing: Hearing) -> SpeakerRegistration | None:
    """Return the user's selected speaker registration for the hearing, if any."""
    if user is None or not user.is_authenticated:
        return None
    return db.session.scalar(select(SpeakerRegistration).where(
        SpeakerRegistration.hearing_id == hearing.id, SpeakerRegistration.user_id == user.id,
        SpeakerRegistration.status == "selected"))


def can_read_record(user: User | None, hearing: Hearing) -> bool:
    """Tell whether the user may read the record: staff and speakers from the time it opens,
    everyone who could follow the hearing once it is signed."""
    if live.is_hearing_staff(user, hearing):
        return True
    if hearing.status == "record_review":
        return speaker_of(user, hearing) is not None
    return hearing.status == "closed" and live.can_observe(user, hearing)


def open_record(hearing: Hearing, user: User) -> list[Comment]:
    """Open the record for the speakers' review and file the speakers' statements as opinions."""
    if hearing.status != "held":
        raise RecordError(_("End the hearing before opening its record for review."))
    hearing.status = "record_review"
    hearing.record_opened_at = utcnow()
    audit.record(user, "hearing.record_open", hearing)
    return file_speaker_statements(hearing)


# --- corrections --------------------------------------------------------------------------------


def request_correction(hearing: Hearing, user: User, text: str, *, note_id: int | None = None,
                       now: datetime | None = None) -> RecordCorrection:
    """Record a speaker's request to correct an error or omission in the record."""
    if speaker_of(user, hearing) is None:
        raise RecordError(_("Only the speakers of the hearing may ask for corrections."))
    if not is_review_open(hearing, now):
        raise RecordError(_("The record is not open for review."))
    text = (text or "").strip()
    if not text:
        raise RecordError(_("Say what should be corrected."))
    if len(text) > MAX_TEXT:
        raise RecordError(_("Keep the request within %(n)d characters.", n=MAX_TEXT))
    note = None
    if note_id is not None:
        note = live.note_by_id(hearing, note_id)
        if note is None or note.kind != "record":
            raise RecordError(_("Choose a passage of the record."))
    correction = RecordCorrection(hearing_id=hearing.id, note_id=note.id if note else None,
                                  requested_by_id=user.id, text=text)
    db.session.add(correction)
    db.session.flush()
    return correction


def corrections(hearing: Hearing, user: User | None = None) -> list[RecordCorrection]:
    """Return the hearing's correction requests, or those of one user, oldest first."""
    query = select(RecordCorrection).where(RecordCorrection.hearing_id == hearing.id)
    if user is not None:
        query = query.where(RecordCorrection.requested_by_id == user.id)
    return list(db.session.scalars(query.order_by(RecordCorrection.id)))


def decide_correction(correction: RecordCorrection, user: User, *, accept: bool,
                      response: str = "", body: str = "", base_revision: int | None = None
                      ) -> list[HearingEvent]:
    """Accept a correction by changing the record, or reject it with a reason."""
    hearing = db.session.get(Hearing, correction.hearing_id)
    if not live.is_hearing_staff(user, hearing):
        raise RecordError(_("Only staff decide on corrections."))
    if correction.status != "pending":
        raise RecordError(_("This request has been decided already."))
    if signoffs(hearing):
        raise RecordError(_("The record has been signed; it can no longer change."))
    response = (response or "").strip()
    events: list[HearingEvent] = []
    if accept:
        if not (body or "").strip():
            raise RecordError(_("Write the corrected text."))
        if correction.note_id is not None:
            note = db.session.get(HearingNote, correction.note_id)
            try:
                events.append(live.revise_note(
                    note, user, body,
                    base_revision=note.revision if base_revision is None else base_revision))
            except live.LiveError as error:
                raise RecordError(str(error)) from error
        else:
            requester = db.session.get(User, correction.requested_by_id)
            speaker = speaker_of(requester, hearing) if requester else None
            try:
                _note, event = live.add_note(
                    hearing, user, body, speaker_id=speaker.id if speaker else None,
                    agenda_item=_("Correction"))
            except live.LiveError as error:
                raise RecordError(str(error)) from error
            events.append(event)
    elif not response:
        raise RecordError(_("Give the speaker a reason for rejecting the request."))
    correction.status = "accepted" if accept else "rejected"
    correction.response = response
    correction.decided_by_id = user.id
    correction.decided_at = utcnow()
    audit.record(user, f"hearing.correction_{correction.status}", correction,
                 hearing=hearing.id, response=response or None)
    db.session.flush()
    return events


# --- sign-off ---------------------------------------------------------------------------------


def signoffs(hearing: Hearing) -> dict[str, RecordSignoff]:
    """Return the signatures given so far by role."""
    return {s.role: s for s in db.session.scalars(
        select(RecordSignoff).where(RecordSignoff.hearing_id == hearing.id))}


def pending_corrections(hearing: Hearing) -> int:
    return db.session.scalar(select(func.count(RecordCorrection.id)).where(
        RecordCorrection.hearing_id == hearing.id, RecordCorrection.status == "pending")) or 0


def roles_of(user: User | None, hearing: Hearing) -> list[str]:
    """Return the sign-off roles the user holds for the hearing."""
    if user is None or not user.is_authenticated:
        return []
    return [role for role, holder in (("chair", hearing.chair_id),
                                      ("recorder", hearing.recorder_id)) if holder == user.id]


def sign_off(hearing: Hearing, user: User, role: str, *, now: datetime | None = None
             ) -> RecordSignoff:
    """Sign the record as its chair or recorder; with both signatures the record is final."""
    now = now or utcnow()
    if role not in roles_of(user, hearing):
        raise RecordError(_("Only the hearing's chair and recorder sign the record."))
    if hearing.status != "record_review":
        raise RecordError(_("Open the record for review first."))
    if now <= review_closes_at(hearing):
        raise RecordError(_("The speakers may ask for corrections until %(date)s.",
                            date=review_closes_at(hearing).strftime("%Y-%m-%d %H:%M UTC")))
    if pending_corrections(hearing):
        raise RecordError(_("Decide every correction request first."))
    existing = signoffs(hearing)
    if role in existing:
        raise RecordError(_("You have signed the record already."))
    signature = RecordSignoff(hearing_id=hearing.id, role=role, user_id=user.id, signed_at=now)
    db.session.add(signature)
    audit.record(user, "hearing.record_sign", hearing, role=role)
    if set(existing) | {role} == set(SIGNOFF_ROLES):
        hearing.status = "closed"
    db.session.flush()
    return signature


# --- opinions on the draft -------------------------------------------------------------------


def statement_key(hearing: Hearing, speaker: SpeakerRegistration) -> str:
    return f"hearing:{hearing.id}:speaker:{speaker.id}"


def opinion_key(hearing: Hearing, user: User) -> str:
    return f"hearing:{hearing.id}:observer:{user.id}"


def hearing_opinions(hearing: Hearing) -> list[Comment]:
    """Return the opinions the hearing added to its draft."""
    return list(db.session.scalars(select(Comment).where(
        Comment.source == "hearing",
        Comment.submission_key.startswith(f"hearing:{hearing.id}:")).order_by(Comment.id)))


def _statement_text(speaker: SpeakerRegistration) -> tuple[str, str]:
    """Return the stance on the main question and the text of a speaker's statement."""
    positions = sorted(speaker.positions, key=lambda p: p.question.position)
    main = next((p for p in positions if p.question.is_main), positions[0] if positions else None)
    parts = [_("Statement of %(name)s at the hearing.", name=live.speaker_label(speaker))]
    if speaker.key_points.strip():
        parts.append(_("Key points: %(text)s", text=speaker.key_points.strip()))
    for position in positions:
        parts.append(_("On question %(n)d (%(question)s): %(stance)s. %(text)s",
                       n=position.question.position, question=position.question.text,
                       stance=_stance_word(position.stance), text=position.text.strip()))
    return STANCE_OF_POSITION[main.stance] if main else "suggest", "\n".join(parts)


def _stance_word(stance: str) -> str:
    return {"support": _("supports"), "oppose": _("opposes"),
            "other": _("takes another view")}[stance]


def file_speaker_statements(hearing: Hearing) -> list[Comment]:
    """Turn every selected speaker's statement into a published opinion on the draft, once."""
    filed = []
    for speaker in live.running_order(hearing):
        key = statement_key(hearing, speaker)
        if db.session.scalar(select(Comment.id).where(Comment.submission_key == key)):
            continue
        stance, body = _statement_text(speaker)
        comment = Comment(
            draft_id=hearing.draft_id, version_id=hearing.version_id, clause_id=None,
            author_id=speaker.user_id, guest_name="" if speaker.user_id else speaker.name,
            stance=stance, body=body, region=speaker.region, sector=speaker.sector,
            status="published", source="hearing", submission_key=key)
        db.session.add(comment)
        filed.append(comment)
    db.session.flush()
    for comment in filed:
        signals.comment_submitted.send(comment)
    return filed


def may_hand_in_opinion(user: User | None, hearing: Hearing) -> bool:
    """Tell whether the user observed the hearing and may hand in a written opinion now."""
    if user is None or not user.is_authenticated or hearing.status not in (
            "held", "record_review", "closed"):
        return False
    return db.session.scalar(select(ObserverRegistration.id).where(
        ObserverRegistration.hearing_id == hearing.id, ObserverRegistration.user_id == user.id,
        ObserverRegistration.status == "accepted")) is not None


def written_opinion(hearing: Hearing, user: User) -> Comment | None:
    """Return the written opinion the observer handed in, if any."""
    return db.session.scalar(select(Comment).where(
        Comment.submission_key == opinion_key(hearing, user)))


def hand_in_opinion(hearing: Hearing, user: User, stance: str, body: str) -> Comment:
    """Accept an observer's written opinion (第二十四条) as an opinion on the draft."""
    if not may_hand_in_opinion(user, hearing):
        raise RecordError(_("Observers hand in written opinions after the hearing."))
    if written_opinion(hearing, user) is not None:
        raise RecordError(_("You have handed in your written opinion already."))
    body = (body or "").strip()
    if not body:
        raise RecordError(_("Write your opinion."))
    if len(body) > MAX_TEXT:
        raise RecordError(_("Keep the opinion within %(n)d characters.", n=MAX_TEXT))
    if stance not in ("support", "oppose", "suggest"):
        raise RecordError(_("Choose whether you support, oppose or suggest a change."))
    draft = hearing.draft
    comment = Comment(
        draft_id=hearing.draft_id, version_id=hearing.version_id, clause_id=None,
        author_id=user.id, stance=stance, body=body, region=user.region, sector=user.sector,
        # Written opinions come from the public like online comments: they wait for a
        # moderator where the draft asks for that.
        status="published" if draft.moderation == "post" else "pending",
        source="hearing", submission_key=opinion_key(hearing, user))
    db.session.add(comment)
    db.session.flush()
    signals.comment_submitted.send(comment)
    return comment
