"""Hearing operations: the plan, its deadlines, registration, selection and observers.

Plain arguments in, model objects out. Services add and flush; the route commits once and then
delivers the e-mails a service returned (so nobody is told of a change that was rolled back).
"""

from __future__ import annotations

import re
import secrets
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path

from flask import current_app
from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import audit
from app.extensions import db
from app.mail import send_email
from app.models import AuditLog, User, utcnow
from drafts.models import Clause, Draft, DraftVersion
from hearings import deadlines, selection
from hearings.models import (
    POSITIONS,
    DeadlineOverride,
    Hearing,
    HearingOfficer,
    HearingQuestion,
    ObserverRegistration,
    SpeakerPosition,
    SpeakerRegistration,
)

#: the hearing's column that records when each step was taken
STEP_COLUMNS = {
    "notice": "notice_published_at",
    "selection": "speakers_selected_at",
    "speaker_notice": "speakers_notified_at",
    "observer_notice": "observers_notified_at",
    "record_review": "record_opened_at",
    "feedback": "feedback_sent_at",
}
#: steps staff take from the hearing's page (the record review belongs to the record pages)
STAFF_STEPS = ("notice", "selection", "speaker_notice", "observer_notice", "feedback")
#: reason codes kept in SpeakerRegistration.selection_reason
REASONS = (selection.SELECTED, selection.WAITLISTED, selection.NOT_SELECTED, "invited",
           "moved_in", "moved_to_waitlist", "moved_out", "promoted", "late", "withdrawn")
#: speaker statuses counted as taking part in the selection
ACTIVE = ("registered", "selected", "waitlisted", "not_selected")
STATEMENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
DEFAULT_STATEMENT_MAX_BYTES = 10 * 1024 * 1024


class HearingError(ValueError):
    """An operation that cannot be carried out; the message is for the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DeadlineMissed(HearingError):
    """A step taken after its deadline without a reason for going ahead."""

    def __init__(self, deadline: deadlines.Deadline) -> None:
        super().__init__(
            _("This step was due by %(due)s. To go ahead anyway, give the reason for the "
              "override; it is kept in the audit log.", due=format_datetime(deadline.due)),
            "override_reason")
        self.deadline = deadline


@dataclass
class Mail:
    """An e-mail to send once the change that caused it is committed."""

    to: str
    subject: str
    template: str
    context: dict = field(default_factory=dict)


def deliver(mails: list[Mail]) -> None:
    """Send the e-mails; call after committing."""
    for mail in mails:
        send_email(mail.to, mail.subject, mail.template, **mail.context)


# --- deadlines ----------------------------------------------------------------------------


def deadline_config() -> dict[str, int]:
    """Return the deadline settings: the defaults and the app's HEARING_DEADLINES."""
    return deadlines.settings(current_app.config.get("HEARING_DEADLINES"))


def adopted_at(draft: Draft) -> datetime | None:
    """Return when the draft was adopted (the regulation passed), from the audit log."""
    if draft.status != "adopted":
        return None
    entries = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "draft.status",
                               AuditLog.object_type == Draft.__tablename__,
                               AuditLog.object_id == draft.id).order_by(AuditLog.id.desc()))
    return next((e.created_at for e in entries if e.details.get("after") == "adopted"), None)


def hearing_times(hearing: Hearing, starts_at: datetime | None = None,
                  ends_at: datetime | None = None) -> deadlines.HearingTimes:
    """Return the plain times the deadlines of the hearing depend on."""
    return deadlines.HearingTimes(
        starts_at=starts_at or hearing.starts_at,
        ends_at=ends_at or hearing.ends_at,
        procedure=hearing.procedure,
        adopted_at=adopted_at(hearing.draft),
        done={step: getattr(hearing, column) for step, column in STEP_COLUMNS.items()},
    )


def hearing_deadlines(hearing: Hearing, now: datetime | None = None) -> list[deadlines.Deadline]:
    """Return the hearing's deadlines and how each stands now."""
    return deadlines.deadlines(hearing_times(hearing), now or utcnow(), deadline_config())


def due(hearing: Hearing, step: str) -> datetime | None:
    """Return the due date of one step."""
    return deadlines.due_dates(hearing_times(hearing), deadline_config())[step]


def registration_closes_at(hearing: Hearing) -> datetime:
    """Return when speaker registration closes: when the speakers must be chosen."""
    return due(hearing, "selection")


def observer_closes_at(hearing: Hearing) -> datetime:
    """Return when applications to observe close."""
    return due(hearing, "observer_close")


def _go_ahead(hearing: Hearing, step: str, *, user: User, override_reason: str,
              now: datetime) -> None:
    """Refuse a late step without a reason; record the override (or the exemption) when late."""
    late = deadlines.lateness(step, hearing_times(hearing), now, deadline_config())
    if late is None:
        return
    reason = override_reason.strip()
    if late.exempt:
        reason = reason or _("Simplified procedure: the notice period of article 10 does not "
                             "apply (article 10, third paragraph).")
    elif not reason:
        raise DeadlineMissed(late)
    override = DeadlineOverride(hearing_id=hearing.id, deadline=step, reason=reason,
                                user_id=user.id, created_at=now)
    db.session.add(override)
    db.session.flush()
    audit.record(user, "hearing.deadline_override", hearing, deadline=step,
                 due=late.due.isoformat(), reason=reason, exempt=late.exempt or None)


def overrides(hearing: Hearing) -> list[DeadlineOverride]:
    return list(db.session.scalars(select(DeadlineOverride).where(
        DeadlineOverride.hearing_id == hearing.id).order_by(DeadlineOverride.id)))


# --- the plan -----------------------------------------------------------------------------


@dataclass
class QuestionInput:
    """A question to be heard, as typed by staff."""

    text: str
    #: anchors of the clauses it concerns in the hearing's version, e.g. art-11-p1-i2
    clause_anchors: list[str] = field(default_factory=list)
    is_main: bool = False


@dataclass
class HearingInput:
    """The work plan of a hearing (第七条), as plain data; times in naive UTC."""

    title: str
    starts_at: datetime
    ends_at: datetime
    questions: list[QuestionInput]
    slug: str = ""
    description: str = ""
    organiser: str = ""
    place: str = ""
    online_url: str = ""
    procedure: str = "ordinary"
    speaker_seats: int = 20
    public_observer_seats: int = 30
    deputy_observer_seats: int = 10
    minutes_per_speaker: int = 8
    public_live: bool = True
    chair: User | None = None
    recorder: User | None = None
    #: (name, title) of each hearing officer other than the chair
    officers: list[tuple[str, str]] = field(default_factory=list)


def hearing_by_slug(slug: str) -> Hearing | None:
    return db.session.scalar(select(Hearing).where(Hearing.slug == slug))


def _make_slug(title: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", title.lower())
    base = "-".join(words)[:60].strip("-") or "hearing"
    slug = base
    while hearing_by_slug(slug) is not None:
        slug = f"{base}-{secrets.token_hex(2)}"
    return slug


def _check_plan(data: HearingInput, hearing: Hearing | None) -> None:
    if data.ends_at <= data.starts_at:
        raise HearingError(_("The hearing must end after it starts."), "ends_at")
    if data.procedure not in ("ordinary", "simplified"):
        raise HearingError(_("Choose the ordinary or the simplified procedure."), "procedure")
    if not data.place.strip() and not data.online_url.strip():
        raise HearingError(_("Give the place or the online link, or both."), "place")
    if data.online_url.strip() and not data.online_url.strip().startswith(("https://",
                                                                           "http://")):
        raise HearingError(_("The online link must start with https:// or http://."),
                           "online_url")
    questions = [q for q in data.questions if q.text.strip()]
    if not questions:
        raise HearingError(_("Give at least one question to be heard."), "questions")
    if sum(q.is_main for q in questions) > 1:
        raise HearingError(_("Mark only one question as the main one."), "questions")
    if data.slug:
        other = hearing_by_slug(data.slug)
        if other is not None and other is not hearing:
            raise HearingError(_("This URL name is already used by another hearing."), "slug")


def _lineage_ids(version: DraftVersion | None, anchors: list[str]) -> list[int]:
    if not anchors:
        return []
    if version is None:
        raise HearingError(_("The draft has no text to link questions to."), "questions")
    found = dict(db.session.execute(
        select(Clause.anchor, Clause.lineage_id).where(Clause.version_id == version.id,
                                                       Clause.anchor.in_(anchors))).all())
    missing = [a for a in anchors if a not in found]
    if missing:
        raise HearingError(_("No clause with the anchor %(anchors)s in this version.",
                             anchors=", ".join(missing)), "questions")
    return [found[a] for a in dict.fromkeys(anchors)]


def _apply_plan(hearing: Hearing, data: HearingInput) -> None:
    for name in ("title", "starts_at", "ends_at", "description", "organiser", "place",
                 "online_url", "procedure", "speaker_seats", "public_observer_seats",
                 "deputy_observer_seats", "minutes_per_speaker", "public_live"):
        value = getattr(data, name)
        setattr(hearing, name, value.strip() if isinstance(value, str) else value)
    if data.slug:
        hearing.slug = data.slug
    hearing.chair_id = data.chair.id if data.chair else None
    hearing.recorder_id = data.recorder.id if data.recorder else None
    _set_questions(hearing, [q for q in data.questions if q.text.strip()])
    _set_officers(hearing, data.chair, data.officers)


def _set_questions(hearing: Hearing, questions: list[QuestionInput]) -> None:
    """Update the questions in place, so registrants' positions stay attached to them."""
    version = db.session.get(DraftVersion, hearing.version_id) if hearing.version_id else None
    main = next((i for i, q in enumerate(questions) if q.is_main), 0)
    existing = list(hearing.questions)
    for index, data in enumerate(questions):
        question = existing[index] if index < len(existing) else HearingQuestion()
        question.position = index + 1
        question.text = data.text.strip()
        question.is_main = index == main
        question.clause_lineage_ids = _lineage_ids(version, data.clause_anchors)
        if index >= len(existing):
            hearing.questions.append(question)
    for question in existing[len(questions):]:
        hearing.questions.remove(question)


def _set_officers(hearing: Hearing, chair: User | None, officers: list[tuple[str, str]]) -> None:
    """Replace the officers; the chair (第十七条: one of the officers) is marked."""
    hearing.officers.clear()
    if chair is not None:
        title = next((t for n, t in officers if n == chair.name), "")
        hearing.officers.append(HearingOfficer(user_id=chair.id, name=chair.name, title=title,
                                               is_chair=True))
    for name, title in officers:
        if chair is None or name != chair.name:
            hearing.officers.append(HearingOfficer(name=name, title=title))


def create_hearing(draft: Draft, data: HearingInput, *, user: User) -> Hearing:
    """Create a hearing on the draft's current version from the work plan."""
    _check_plan(data, None)
    hearing = Hearing(draft_id=draft.id, version_id=draft.current_version_id,
                      slug=data.slug or _make_slug(data.title), title=data.title,
                      starts_at=data.starts_at, created_by_id=user.id, status="planned")
    hearing.draft = draft
    db.session.add(hearing)
    _apply_plan(hearing, data)
    db.session.flush()
    audit.record(user, "hearing.create", hearing, title=hearing.title,
                 starts_at=hearing.starts_at.isoformat(), procedure=hearing.procedure)
    return hearing


def update_hearing(hearing: Hearing, data: HearingInput, *, user: User,
                   override_reason: str = "") -> None:
    """Change the plan; a move that makes a step already taken late needs an override."""
    _check_plan(data, hearing)
    config = deadline_config()
    before = {d.step for d in deadlines.deadlines(hearing_times(hearing), utcnow(), config)
              if d.late}
    after = deadlines.deadlines(hearing_times(hearing, data.starts_at, data.ends_at), utcnow(),
                                config)
    newly_late = [d for d in after if d.late and d.step not in before
                  and not deadlines.is_exempt(d.step, data.procedure)]
    if newly_late and not override_reason.strip():
        raise DeadlineMissed(newly_late[0])
    changes = {name: [str(getattr(hearing, name)), str(getattr(data, name))]
               for name in ("starts_at", "ends_at", "place", "online_url", "procedure",
                            "speaker_seats")
               if getattr(hearing, name) != getattr(data, name)}
    _apply_plan(hearing, data)
    db.session.flush()
    for late in newly_late:
        db.session.add(DeadlineOverride(hearing_id=hearing.id, deadline=late.step,
                                        reason=override_reason.strip(), user_id=user.id))
        audit.record(user, "hearing.deadline_override", hearing, deadline=late.step,
                     due=late.due.isoformat(), reason=override_reason.strip())
    audit.record(user, "hearing.update", hearing, changes=changes or None)


def question_clauses(hearing: Hearing, question: HearingQuestion) -> list[Clause]:
    """Return the clauses a question concerns, as they stand in the draft's current version."""
    version_id = hearing.draft.current_version_id
    if not question.clause_lineage_ids or version_id is None:
        return []
    return list(db.session.scalars(
        select(Clause).where(Clause.version_id == version_id,
                             Clause.lineage_id.in_(question.clause_lineage_ids))
        .order_by(Clause.position)))


def question_anchors(hearing: Hearing, question: HearingQuestion) -> list[str]:
    """Return the anchors of the question's clauses in the hearing's own version."""
    if not question.clause_lineage_ids or hearing.version_id is None:
        return []
    return list(db.session.scalars(
        select(Clause.anchor).where(Clause.version_id == hearing.version_id,
                                    Clause.lineage_id.in_(question.clause_lineage_ids))
        .order_by(Clause.position)))


def main_question(hearing: Hearing) -> HearingQuestion | None:
    return next((q for q in hearing.questions if q.is_main), None)


def staff_hearings() -> list[Hearing]:
    """Return every hearing, the next to take place first."""
    return list(db.session.scalars(select(Hearing).order_by(Hearing.starts_at.desc())))


def public_hearings() -> list[Hearing]:
    """Return the hearings whose notice is published, latest first."""
    return list(db.session.scalars(
        select(Hearing).where(Hearing.notice_published_at.is_not(None),
                              Hearing.status != "cancelled")
        .order_by(Hearing.starts_at.desc())))


# --- steps with deadlines -----------------------------------------------------------------


def take_step(hearing: Hearing, step: str, *, user: User, override_reason: str = "",
              now: datetime | None = None) -> list[Mail]:
    """Take one of the staff steps; return the e-mails to send after committing."""
    now = now or utcnow()
    if step not in STAFF_STEPS:
        raise HearingError(_("Unknown step."))
    if step == "notice":
        return _publish_notice(hearing, user, override_reason, now)
    if step == "selection":
        return _confirm_selection(hearing, user, override_reason, now)
    if step == "speaker_notice":
        return _notify_speakers(hearing, user, override_reason, now)
    if step == "observer_notice":
        return _notify_observers(hearing, user, override_reason, now)
    return _record_feedback(hearing, user, override_reason, now)


def _publish_notice(hearing: Hearing, user: User, reason: str, now: datetime) -> list[Mail]:
    if hearing.notice_published_at is not None:
        raise HearingError(_("The notice is already published."))
    _go_ahead(hearing, "notice", user=user, override_reason=reason, now=now)
    hearing.notice_published_at = now
    hearing.status = "announced"
    audit.record(user, "hearing.notice_publish", hearing)
    return []


def _confirm_selection(hearing: Hearing, user: User, reason: str, now: datetime) -> list[Mail]:
    if hearing.speakers_selected_at is not None:
        raise HearingError(_("The speakers have already been chosen."))
    chosen = _registrations(hearing, "selected")
    if not chosen:
        raise HearingError(_("Select at least one speaker first."))
    _go_ahead(hearing, "selection", user=user, override_reason=reason, now=now)
    hearing.speakers_selected_at = now
    assign_running_order(hearing)
    audit.record(user, "hearing.selection_confirm", hearing, selected=[r.id for r in chosen],
                 waitlist=[r.id for r in _registrations(hearing, "waitlisted")])
    return []


def _notify_speakers(hearing: Hearing, user: User, reason: str, now: datetime) -> list[Mail]:
    if hearing.speakers_selected_at is None:
        raise HearingError(_("Confirm the choice of speakers before notifying them."))
    if hearing.speakers_notified_at is None:
        _go_ahead(hearing, "speaker_notice", user=user, override_reason=reason, now=now)
        hearing.speakers_notified_at = now
    mails = []
    for registration in _registrations(hearing, "selected", "waitlisted", "not_selected"):
        if registration.notified_at is None:
            mails.extend(_selection_mail(registration))
            registration.notified_at = now
    audit.record(user, "hearing.speakers_notify", hearing, sent=len(mails))
    return mails


def _notify_observers(hearing: Hearing, user: User, reason: str, now: datetime) -> list[Mail]:
    if hearing.observers_notified_at is None:
        _go_ahead(hearing, "observer_notice", user=user, override_reason=reason, now=now)
        hearing.observers_notified_at = now
    mails = []
    for observer in observers(hearing):
        if observer.notified_at is None and observer.status in ("accepted", "not_admitted"):
            mails.append(_observer_mail(observer))
            observer.notified_at = now
    audit.record(user, "hearing.observers_notify", hearing, sent=len(mails))
    return mails


def _record_feedback(hearing: Hearing, user: User, reason: str, now: datetime) -> list[Mail]:
    if hearing.feedback_sent_at is not None:
        raise HearingError(_("The feedback has already been recorded as sent."))
    if hearing.draft.status != "adopted":
        raise HearingError(_("Feedback on adoption is due once the regulation has passed."))
    _go_ahead(hearing, "feedback", user=user, override_reason=reason, now=now)
    hearing.feedback_sent_at = now
    audit.record(user, "hearing.feedback_sent", hearing)
    return []


# --- speaker registration -----------------------------------------------------------------


@dataclass
class PositionInput:
    """A registrant's position on one question."""

    question_id: int
    stance: str
    text: str = ""


@dataclass
class RegistrationInput:
    """What a registrant (or staff, for an invited speaker) typed."""

    name: str
    kind: str = "person"
    representative: str = ""
    phone: str = ""
    email: str = ""
    sector: str = ""
    region: str = ""
    expertise: str = ""
    key_points: str = ""
    positions: list[PositionInput] = field(default_factory=list)
    is_expert: bool = False


@dataclass
class Upload:
    """An uploaded file as plain data."""

    filename: str
    data: bytes


def registration_of(hearing: Hearing, user: User) -> SpeakerRegistration | None:
    """Return the user's registration for the hearing (the latest, if they withdrew before)."""
    return db.session.scalar(
        select(SpeakerRegistration).where(SpeakerRegistration.hearing_id == hearing.id,
                                          SpeakerRegistration.user_id == user.id)
        .order_by(SpeakerRegistration.id.desc()).limit(1))


def registration_refusal(hearing: Hearing, now: datetime | None = None) -> str | None:
    """Return why nobody can register now, or None while registration is open."""
    now = now or utcnow()
    if hearing.notice_published_at is None or hearing.status == "cancelled":
        return _("Registration has not opened.")
    closes = registration_closes_at(hearing)
    if now >= closes:
        return _("Registration closed on %(date)s.", date=format_datetime(closes))
    return None


def edit_refusal(registration: SpeakerRegistration, now: datetime | None = None) -> str | None:
    """Return why the registrant cannot change the registration now, or None."""
    if registration.status == "withdrawn":
        return _("This registration has been withdrawn.")
    hearing = registration.hearing
    if hearing.speakers_selected_at is not None:
        return _("The speakers have been chosen, so the registration can no longer be changed. "
                 "You can still withdraw.")
    return registration_refusal(hearing, now)


def withdraw_refusal(registration: SpeakerRegistration, now: datetime | None = None) -> str | None:
    """Return why the registrant cannot withdraw now, or None.

    After registration closes, a selected or waitlisted speaker can still withdraw: the rules
    (第十四条) ask a speaker who cannot attend to say so in advance.
    """
    now = now or utcnow()
    if registration.status == "withdrawn":
        return _("This registration has been withdrawn.")
    hearing = registration.hearing
    if now >= hearing.starts_at:
        return _("The hearing has started; tell the hearing body directly.")
    if registration.status in ("selected", "waitlisted"):
        return None
    refusal = registration_refusal(hearing, now)
    return refusal and refusal + " " + _("The registration can no longer be withdrawn.")


def _check_registration(hearing: Hearing, data: RegistrationInput, *, invited: bool) -> None:
    if not data.name.strip():
        raise HearingError(_("Give the name."), "name")
    if data.kind not in ("person", "organisation"):
        raise HearingError(_("Choose person or organisation."), "kind")
    if data.kind == "organisation" and not data.representative.strip():
        raise HearingError(_("Name the person who will speak for the organisation."),
                           "representative")
    if not invited and not (data.phone.strip() or data.email.strip()):
        raise HearingError(_("Give a phone number or an e-mail address."), "phone")
    question_ids = {q.id for q in hearing.questions}
    given = {p.question_id for p in data.positions}
    if given - question_ids:
        raise HearingError(_("A position was given on a question of another hearing."))
    if any(p.stance not in POSITIONS for p in data.positions):
        raise HearingError(_("Choose support, oppose or other."), "positions")
    if not invited and given != question_ids:
        raise HearingError(_("State your position on each question."), "positions")
    if not invited and not data.key_points.strip():
        raise HearingError(_("Give the key points you will make."), "key_points")


def _fill(registration: SpeakerRegistration, data: RegistrationInput) -> None:
    for name in ("kind", "name", "representative", "phone", "email", "sector", "region",
                 "expertise", "key_points"):
        setattr(registration, name, getattr(data, name).strip())
    registration.email = registration.email.lower()
    registration.is_expert = data.is_expert
    current = {p.question_id: p for p in registration.positions}
    wanted = {p.question_id: p for p in data.positions}
    for question_id, position in current.items():
        if question_id not in wanted:
            registration.positions.remove(position)
    for question_id, given in wanted.items():
        position = current.get(question_id) or SpeakerPosition(question_id=question_id)
        position.stance = given.stance
        position.text = given.text.strip()
        if question_id not in current:
            registration.positions.append(position)


def register_speaker(hearing: Hearing, user: User, data: RegistrationInput,
                     statement: Upload | None = None,
                     now: datetime | None = None) -> tuple[SpeakerRegistration, list[Mail]]:
    """Register the user to speak; return the registration and the confirmation e-mail."""
    now = now or utcnow()
    refusal = registration_refusal(hearing, now)
    if refusal:
        raise HearingError(refusal)
    existing = registration_of(hearing, user)
    if existing is not None and existing.status != "withdrawn":
        raise HearingError(_("You have already registered for this hearing."))
    _check_registration(hearing, data, invited=False)
    registration = SpeakerRegistration(hearing_id=hearing.id, user_id=user.id, created_at=now,
                                       selection_reason_params={})
    registration.hearing = hearing
    _fill(registration, data)
    if hearing.speakers_selected_at is not None:
        # the speakers were chosen before registration closed: a late registrant joins the end
        # of the waitlist rather than being turned away before the announced deadline
        registration.status = "waitlisted"
        registration.waitlist_position = len(_registrations(hearing, "waitlisted")) + 1
        _set_reason(registration, "late")
    db.session.add(registration)
    db.session.flush()
    if statement is not None:
        store_statement(registration, statement)
    audit.record(user, "speaker.register", registration, hearing=hearing.id)
    to = registration.email or user.email
    return registration, [Mail(to, _("Your registration to speak at “%(title)s”",
                                     title=hearing.title),
                               "emails/hearing_registered.txt",
                               {"registration": registration, "hearing": hearing,
                                "closes": registration_closes_at(hearing)})]


def update_registration(registration: SpeakerRegistration, data: RegistrationInput,
                        statement: Upload | None = None, now: datetime | None = None) -> None:
    """Change a registration while it may be changed."""
    refusal = edit_refusal(registration, now)
    if refusal:
        raise HearingError(refusal)
    _check_registration(registration.hearing, data, invited=False)
    _fill(registration, data)
    if statement is not None:
        store_statement(registration, statement)
    db.session.flush()


def withdraw(registration: SpeakerRegistration, *, by: User,
             now: datetime | None = None) -> list[Mail]:
    """Withdraw a registration; a selected speaker's seat goes to the waitlist's next in line.

    Staff may withdraw a speaker at any time (for instance after a phone call); registrants
    within the limits of `withdraw_refusal`.
    """
    now = now or utcnow()
    if not by.is_staff or registration.user_id == by.id:
        refusal = withdraw_refusal(registration, now)
        if refusal:
            raise HearingError(refusal)
    elif registration.status == "withdrawn":
        raise HearingError(_("This registration has been withdrawn."))
    was = registration.status
    registration.status = "withdrawn"
    registration.waitlist_position = None
    _set_reason(registration, "withdrawn")
    audit.record(by, "speaker.withdraw", registration, before=was)
    mails = []
    if was == "selected":
        promoted = _promote(registration)
        if promoted is not None:
            audit.record(by, "speaker.promote", promoted, replaces=registration.id)
            if registration.hearing.speakers_notified_at is not None:
                promoted.notified_at = now
                mails.extend(_selection_mail(promoted))
    _renumber_waitlist(registration.hearing)
    db.session.flush()
    return mails


def _promote(leaving: SpeakerRegistration) -> SpeakerRegistration | None:
    """Give the seat to the first waitlisted registrant of the same position, else the first."""
    waitlist = _registrations(leaving.hearing, "waitlisted")
    if not waitlist:
        return None
    question = main_question(leaving.hearing)
    stance = stance_on(leaving, question)
    promoted = next((r for r in waitlist if stance_on(r, question) == stance), waitlist[0])
    promoted.status = "selected"
    promoted.waitlist_position = None
    promoted.speaking_order = leaving.speaking_order
    promoted.speaking_minutes = leaving.speaking_minutes
    promoted.notified_at = None
    _set_reason(promoted, "promoted", position=stance_on(promoted, question))
    return promoted


def _renumber_waitlist(hearing: Hearing) -> None:
    for index, registration in enumerate(_registrations(hearing, "waitlisted"), start=1):
        registration.waitlist_position = index


def _registrations(hearing: Hearing, *statuses: str) -> list[SpeakerRegistration]:
    """Return the hearing's registrations in the given statuses, waitlist order first."""
    db.session.flush()
    return list(db.session.scalars(
        select(SpeakerRegistration).options(selectinload(SpeakerRegistration.positions))
        .where(SpeakerRegistration.hearing_id == hearing.id,
               SpeakerRegistration.status.in_(statuses))
        .order_by(SpeakerRegistration.waitlist_position.is_(None),
                  SpeakerRegistration.waitlist_position, SpeakerRegistration.created_at,
                  SpeakerRegistration.id)))


def registrations(hearing: Hearing) -> list[SpeakerRegistration]:
    """Return every registration and invited speaker of the hearing, in registration order."""
    return sorted(_registrations(hearing, *ACTIVE, "withdrawn"),
                  key=lambda r: (r.created_at, r.id))


# --- written statements -------------------------------------------------------------------


def statement_type(filename: str, data: bytes, max_bytes: int) -> str:
    """Return "pdf" or "docx" for an acceptable statement, judged by content, not by name."""
    if not data:
        raise HearingError(_("The file is empty."), "statement")
    if len(data) > max_bytes:
        raise HearingError(_("The file is larger than %(size)s MB.",
                             size=f"{max_bytes / 1024 / 1024:g}"), "statement")
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if data.startswith(b"%PDF-"):
        kind = "pdf"
    elif data.startswith(b"PK\x03\x04") and _is_docx(data):
        kind = "docx"
    else:
        kind = ""
    if not kind or suffix != kind:
        raise HearingError(_("Upload the statement as a PDF or a Word (.docx) file."),
                           "statement")
    return kind


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return False
    return "[Content_Types].xml" in names and "word/document.xml" in names


def safe_filename(filename: str, kind: str) -> str:
    """Return the original name without folders or odd characters, with the checked suffix."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = re.sub(r"[^\w\-. ()（）]+", "_", stem).strip(" ._")[:80]
    return f"{stem or 'statement'}.{kind}"


def _upload_root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def store_statement(registration: SpeakerRegistration, upload: Upload) -> None:
    """Store the written statement under a random name outside the web root."""
    max_bytes = current_app.config.get("HEARING_STATEMENT_MAX_BYTES",
                                       DEFAULT_STATEMENT_MAX_BYTES)
    kind = statement_type(upload.filename, upload.data, max_bytes)
    relative = Path("hearings") / str(registration.hearing_id) / f"{secrets.token_hex(16)}.{kind}"
    target = _upload_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(upload.data)
    old = registration.statement_path
    registration.statement_path = relative.as_posix()
    registration.statement_filename = safe_filename(upload.filename, kind)
    registration.statement_size = len(upload.data)
    if old:
        (_upload_root() / old).unlink(missing_ok=True)


def statement_file(registration: SpeakerRegistration) -> Path | None:
    """Return the stored statement's path, if there is one."""
    if not registration.statement_path:
        return None
    path = _upload_root() / registration.statement_path
    return path if path.is_file() else None


def can_see_registration(user: User, registration: SpeakerRegistration) -> bool:
    """Only the registrant and staff see a registration and its statement."""
    return user.is_authenticated and (user.is_staff or registration.user_id == user.id)


# --- selection ----------------------------------------------------------------------------


def stance_on(registration: SpeakerRegistration, question: HearingQuestion | None) -> str:
    """Return the registrant's stance on the question, "" when none was given."""
    if question is None:
        return ""
    return next((p.stance for p in registration.positions if p.question_id == question.id), "")


def _set_reason(registration: SpeakerRegistration, code: str, **params: object) -> None:
    registration.selection_reason = code
    registration.selection_reason_params = params


def propose_selection(hearing: Hearing, seats: int, waitlist: int, *,
                      user: User) -> list[selection.Outcome]:
    """Apply a balanced proposal to the registrants (invited speakers keep their seats)."""
    if hearing.speakers_selected_at is not None:
        raise HearingError(_("The speakers have been chosen; change the choice by hand."))
    question = main_question(hearing)
    pool = [r for r in _registrations(hearing, *ACTIVE) if not r.invited]
    by_id = {r.id: r for r in pool}
    outcomes = selection.propose(
        [selection.Candidate(r.id, r.created_at, stance_on(r, question), r.sector, r.region)
         for r in pool], seats, waitlist)
    for outcome in outcomes:
        registration = by_id[outcome.id]
        registration.status = outcome.status
        registration.waitlist_position = outcome.waitlist_position
        registration.selected_by_hand = False
        registration.notified_at = None
        _set_reason(registration, outcome.reason, **outcome.params)
    audit.record(user, "hearing.selection_propose", hearing, seats=seats, waitlist=waitlist,
                 selected=[o.id for o in outcomes if o.status == selection.SELECTED])
    return outcomes


def default_seats(hearing: Hearing) -> int:
    """Return the seats left for registrants once the invited speakers are counted."""
    invited = sum(1 for r in _registrations(hearing, "selected") if r.invited)
    return max(0, hearing.speaker_seats - invited)


MOVES = {"selected": "moved_in", "waitlisted": "moved_to_waitlist", "not_selected": "moved_out"}


def move(registration: SpeakerRegistration, status: str, *, user: User) -> None:
    """Move a registrant in or out of the selection by hand."""
    if status not in MOVES:
        raise HearingError(_("Unknown move."))
    if registration.status == "withdrawn":
        raise HearingError(_("This registration has been withdrawn."))
    if registration.status == status:
        return
    hearing = registration.hearing
    before = registration.status
    registration.status = status
    registration.selected_by_hand = True
    registration.notified_at = None
    registration.waitlist_position = None
    if status == "waitlisted":
        registration.waitlist_position = len(_registrations(hearing, "waitlisted")) + 1
    if status == "selected" and hearing.speakers_selected_at is not None:
        registration.speaking_order = 1 + max(
            (r.speaking_order or 0 for r in _registrations(hearing, "selected")), default=0)
        registration.speaking_minutes = hearing.minutes_per_speaker
    elif status != "selected":
        registration.speaking_order = registration.speaking_minutes = None
    _set_reason(registration, MOVES[status])
    _renumber_waitlist(hearing)
    audit.record(user, "speaker.move", registration, before=before, after=status)


def add_invited_speaker(hearing: Hearing, data: RegistrationInput, *,
                        user: User) -> SpeakerRegistration:
    """Add a speaker invited directly by the hearing body (第十二条); they take a seat."""
    _check_registration(hearing, data, invited=True)
    registration = SpeakerRegistration(hearing_id=hearing.id, invited=True, status="selected",
                                       selected_by_hand=True, selection_reason_params={})
    registration.hearing = hearing
    _fill(registration, data)
    _set_reason(registration, "invited")
    if hearing.speakers_selected_at is not None:
        registration.speaking_order = 1 + max(
            (r.speaking_order or 0 for r in _registrations(hearing, "selected")), default=0)
        registration.speaking_minutes = hearing.minutes_per_speaker
    db.session.add(registration)
    db.session.flush()
    audit.record(user, "speaker.invite", registration, name=registration.name,
                 expert=registration.is_expert or None)
    return registration


def assign_running_order(hearing: Hearing) -> None:
    """Number the speakers: interested parties first, in the proposal's order, then experts."""
    def key(r: SpeakerRegistration) -> tuple:
        return (r.is_expert, r.selection_reason_params.get("order", float("inf")), r.created_at,
                r.id)

    for index, registration in enumerate(sorted(_registrations(hearing, "selected"), key=key),
                                         start=1):
        registration.speaking_order = index
        registration.speaking_minutes = registration.speaking_minutes or hearing.minutes_per_speaker


def running_order(hearing: Hearing) -> list[SpeakerRegistration]:
    """Return the selected speakers in speaking order."""
    return sorted(_registrations(hearing, "selected"),
                  key=lambda r: (r.speaking_order is None, r.speaking_order or 0, r.id))


def set_running_order(hearing: Hearing, order: dict[int, tuple[int, int]], *, user: User) -> None:
    """Set each speaker's place and minutes from {registration id: (place, minutes)}."""
    speakers = {r.id: r for r in _registrations(hearing, "selected")}
    if set(order) != set(speakers):
        raise HearingError(_("The list of speakers has changed; reload the page."))
    places = [place for place, _minutes in order.values()]
    if sorted(places) != list(range(1, len(speakers) + 1)):
        raise HearingError(_("Give each speaker a different place, from 1 to %(n)d.",
                             n=len(speakers)), "order")
    for registration_id, (place, minutes) in order.items():
        if not 1 <= minutes <= 120:
            raise HearingError(_("Speaking time must be between 1 and 120 minutes."), "order")
        speakers[registration_id].speaking_order = place
        speakers[registration_id].speaking_minutes = minutes
    audit.record(user, "hearing.running_order", hearing,
                 order={str(k): list(v) for k, v in sorted(order.items())})


def filter_registrations(hearing: Hearing, *, position: str = "", sector: str = "",
                         region: str = "", status: str = "") -> list[SpeakerRegistration]:
    """Return the registrations matching the staff's filters."""
    question = main_question(hearing)
    return [r for r in registrations(hearing)
            if (not position or stance_on(r, question) == position)
            and (not sector or r.sector == sector)
            and (not region or r.region == region)
            and (not status or r.status == status)]


@dataclass
class Counts:
    """Counts of the active registrations by position, sector, region and status."""

    position: Counter
    sector: Counter
    region: Counter
    status: Counter
    #: the same by position, among the selected speakers only
    selected_position: Counter


def registration_counts(hearing: Hearing) -> Counts:
    question = main_question(hearing)
    active = _registrations(hearing, *ACTIVE)
    return Counts(
        position=Counter(stance_on(r, question) for r in active),
        sector=Counter(r.sector for r in active),
        region=Counter(r.region for r in active),
        status=Counter(r.status for r in registrations(hearing)),
        selected_position=Counter(stance_on(r, question) for r in active
                                  if r.status == "selected"),
    )


@dataclass
class QuestionPositions:
    """The positions the active registrants took on one question, and the selected ones'."""

    question: HearingQuestion
    registered: Counter
    selected: Counter


def positions_by_question(hearing: Hearing) -> list[QuestionPositions]:
    """Count the registrants' positions on each question of the hearing, in its order."""
    active = _registrations(hearing, *ACTIVE)
    found = []
    for question in hearing.questions:
        stances = [(stance_on(r, question), r.status == "selected") for r in active]
        found.append(QuestionPositions(
            question, Counter(stance for stance, _chosen in stances),
            Counter(stance for stance, chosen in stances if chosen)))
    return found


def explain(registration: SpeakerRegistration, position_labels: dict) -> str:
    """Put the registrant's selection reason in plain words in the reader's language."""
    code = registration.selection_reason
    params = registration.selection_reason_params or {}
    position = str(position_labels.get(params.get("position"), _("no position stated")))
    seats = int(params.get("seats", 0))
    waitlist = registration.waitlist_position or 0
    if code == selection.SELECTED:
        where = {"rank": params["rank"], "seats": seats, "position": position}
        if params.get("novelty") == selection.NEW_SECTOR:
            return _("selected: no. %(rank)d of %(seats)d for “%(position)s”; the first from "
                     "the sector “%(sector)s”", sector=params.get("sector") or _("unknown"),
                     **where)
        if params.get("novelty") == selection.NEW_REGION:
            return _("selected: no. %(rank)d of %(seats)d for “%(position)s”; the first from "
                     "the region “%(region)s”", region=params.get("region") or _("unknown"),
                     **where)
        return _("selected: no. %(rank)d of %(seats)d for “%(position)s”; sector and region "
                 "already represented, chosen by registration order", **where)
    if code == selection.WAITLISTED:
        return ngettext("waitlisted: the %(num)d seat for “%(position)s” is taken; waitlist "
                        "no. %(n)d", "waitlisted: the %(num)d seats for “%(position)s” are "
                        "taken; waitlist no. %(n)d", seats, position=position, n=waitlist)
    if code == selection.NOT_SELECTED:
        return ngettext("not selected: the %(num)d seat for “%(position)s” is taken and the "
                        "waitlist is full", "not selected: the %(num)d seats for "
                        "“%(position)s” are taken and the waitlist is full", seats,
                        position=position)
    texts = {
        "invited": _("invited directly by the hearing body"),
        "moved_in": _("selected by hand by the hearing body"),
        "moved_to_waitlist": _("put on the waitlist by hand by the hearing body; waitlist "
                               "no. %(n)d", n=waitlist),
        "moved_out": _("not selected: decided by hand by the hearing body"),
        "promoted": _("selected from the waitlist after a speaker for “%(position)s” withdrew",
                      position=position),
        "late": _("registered after the speakers were chosen; waitlist no. %(n)d", n=waitlist),
        "withdrawn": _("withdrawn"),
    }
    return texts.get(code, _("registered; no decision yet"))


def _selection_mail(registration: SpeakerRegistration) -> list[Mail]:
    to = registration.email or (registration.user.email if registration.user else "")
    if not to:
        return []
    hearing = registration.hearing
    subjects = {
        "selected": _("You will speak at “%(title)s”", title=hearing.title),
        "waitlisted": _("You are on the waitlist for “%(title)s”", title=hearing.title),
        "not_selected": _("About your registration for “%(title)s”", title=hearing.title),
    }
    return [Mail(to, subjects[registration.status], "emails/hearing_selection.txt",
                 {"registration": registration, "hearing": hearing})]


# --- observers ----------------------------------------------------------------------------


def observers(hearing: Hearing, kind: str | None = None) -> list[ObserverRegistration]:
    """Return the hearing's observers (public and deputies), in order of application."""
    stmt = (select(ObserverRegistration).options(selectinload(ObserverRegistration.user))
            .where(ObserverRegistration.hearing_id == hearing.id)
            .order_by(ObserverRegistration.created_at, ObserverRegistration.id))
    if kind:
        stmt = stmt.where(ObserverRegistration.kind == kind)
    return list(db.session.scalars(stmt))


def observer_of(hearing: Hearing, user: User) -> ObserverRegistration | None:
    return db.session.scalar(select(ObserverRegistration).where(
        ObserverRegistration.hearing_id == hearing.id, ObserverRegistration.user_id == user.id))


def observer_refusal(hearing: Hearing, now: datetime | None = None) -> str | None:
    """Return why nobody can apply to observe now, or None while applications are open."""
    now = now or utcnow()
    if hearing.notice_published_at is None or hearing.status == "cancelled":
        return _("Applications to observe have not opened.")
    closes = observer_closes_at(hearing)
    if now >= closes:
        return _("Applications to observe closed on %(date)s.", date=format_datetime(closes))
    return None


def apply_to_observe(hearing: Hearing, user: User, *, phone: str = "", reason: str = "",
                     now: datetime | None = None) -> ObserverRegistration:
    """Apply for a public seat; staff decide who is admitted (第十六条)."""
    now = now or utcnow()
    refusal = observer_refusal(hearing, now)
    if refusal:
        raise HearingError(refusal)
    existing = observer_of(hearing, user)
    if existing is not None and existing.status != "withdrawn":
        raise HearingError(_("You have already applied or been invited."))
    observer = existing or ObserverRegistration(hearing_id=hearing.id, user_id=user.id)
    observer.kind = "public"
    observer.status = "applied"
    observer.phone = phone.strip()
    observer.reason = reason.strip()
    observer.created_at = now
    observer.notified_at = None
    db.session.add(observer)
    db.session.flush()
    audit.record(user, "observer.apply", observer, hearing=hearing.id)
    return observer


def withdraw_observer(observer: ObserverRegistration, *, user: User,
                      now: datetime | None = None) -> None:
    """Withdraw an application, or give back a seat, before the hearing starts."""
    if (now or utcnow()) >= observer.hearing.starts_at:
        raise HearingError(_("The hearing has started."))
    if observer.status in ("withdrawn", "declined"):
        raise HearingError(_("Nothing to withdraw."))
    before = observer.status
    observer.status = "withdrawn" if observer.kind == "public" else "declined"
    audit.record(user, "observer.withdraw", observer, before=before)


def _seats_taken(hearing: Hearing, kind: str) -> int:
    return db.session.scalar(select(func.count()).select_from(ObserverRegistration).where(
        ObserverRegistration.hearing_id == hearing.id, ObserverRegistration.kind == kind,
        ObserverRegistration.status == "accepted")) or 0


def decide_observer(observer: ObserverRegistration, admit: bool, *, user: User) -> list[Mail]:
    """Admit a public applicant or turn them down; after the notice, tell them at once."""
    hearing = observer.hearing
    if observer.kind != "public" or observer.status not in ("applied", "accepted",
                                                            "not_admitted"):
        raise HearingError(_("Only applications from the public are admitted here."))
    if admit and observer.status != "accepted" and (
            _seats_taken(hearing, "public") >= hearing.public_observer_seats):
        raise HearingError(_("All public seats are taken."))
    before = observer.status
    observer.status = "accepted" if admit else "not_admitted"
    observer.notified_at = None
    audit.record(user, "observer.decide", observer, before=before, after=observer.status)
    if hearing.observers_notified_at is not None and observer.status != before:
        observer.notified_at = utcnow()
        return [_observer_mail(observer)]
    return []


def admit_in_order(hearing: Hearing, *, user: User) -> list[Mail]:
    """Admit waiting applicants in order of application while public seats remain."""
    free = hearing.public_observer_seats - _seats_taken(hearing, "public")
    mails: list[Mail] = []
    for observer in observers(hearing, "public"):
        if free <= 0:
            break
        if observer.status == "applied":
            mails.extend(decide_observer(observer, True, user=user))
            free -= 1
    return mails


def invite_deputies(hearing: Hearing, deputies: list[User], *, user: User,
                    embedded: bool = False) -> list[Mail]:
    """Invite deputies to observe; those already invited or registered are left as they are."""
    mails = []
    for deputy in deputies:
        if not deputy.is_deputy or not deputy.active:
            continue
        observer = observer_of(hearing, deputy)
        if observer is not None and observer.status not in ("withdrawn", "declined",
                                                            "not_admitted"):
            continue
        observer = observer or ObserverRegistration(hearing_id=hearing.id, user_id=deputy.id)
        observer.kind = "deputy"
        observer.status = "invited"
        observer.embedded = embedded
        observer.invited_by_id = user.id
        observer.created_at = utcnow()
        observer.notified_at = None
        db.session.add(observer)
        db.session.flush()
        audit.record(user, "observer.invite", observer, deputy=deputy.id,
                     embedded=embedded or None)
        mails.append(Mail(deputy.email, _("Invitation to observe “%(title)s”",
                                          title=hearing.title),
                          "emails/hearing_invitation.txt",
                          {"observer": observer, "hearing": hearing, "deputy": deputy}))
    return mails


def deputies_of_group(group_id: int) -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.deputy_group_id == group_id, User.role == "deputy", User.active.is_(True))
        .order_by(User.name)))


def answer_invitation(observer: ObserverRegistration, accept: bool,
                      now: datetime | None = None) -> None:
    """Record a deputy's answer to an invitation to observe."""
    hearing = observer.hearing
    if observer.kind != "deputy" or observer.status not in ("invited", "accepted", "declined"):
        raise HearingError(_("There is no invitation to answer."))
    if (now or utcnow()) >= hearing.starts_at:
        raise HearingError(_("The hearing has started."))
    if accept and observer.status != "accepted" and (
            _seats_taken(hearing, "deputy") >= hearing.deputy_observer_seats):
        raise HearingError(_("All seats for deputies are taken; the hearing body has been "
                             "told of your interest."))
    before = observer.status
    observer.status = "accepted" if accept else "declined"
    audit.record(observer.user, "observer.answer", observer, before=before,
                 after=observer.status)


def set_embedded(observer: ObserverRegistration, embedded: bool, *, user: User) -> None:
    """Mark a deputy as embedded in this lawmaking (嵌入式参与)."""
    if observer.kind != "deputy":
        raise HearingError(_("Only deputies can be embedded."))
    observer.embedded = embedded
    audit.record(user, "observer.embedded", observer, embedded=embedded)


def _observer_mail(observer: ObserverRegistration) -> Mail:
    hearing = observer.hearing
    subject = (_("Your seat to observe “%(title)s”", title=hearing.title)
               if observer.status == "accepted"
               else _("About your application to observe “%(title)s”", title=hearing.title))
    return Mail(observer.user.email, subject, "emails/hearing_observer.txt",
                {"observer": observer, "hearing": hearing})


def my_hearings(user: User) -> tuple[list[SpeakerRegistration], list[ObserverRegistration]]:
    """Return the user's registrations to speak and to observe, latest hearing first."""
    speaking = list(db.session.scalars(
        select(SpeakerRegistration).join(Hearing, SpeakerRegistration.hearing_id == Hearing.id)
        .where(SpeakerRegistration.user_id == user.id)
        .order_by(Hearing.starts_at.desc(), SpeakerRegistration.id.desc())))
    observing = list(db.session.scalars(
        select(ObserverRegistration).join(Hearing, ObserverRegistration.hearing_id == Hearing.id)
        .where(ObserverRegistration.user_id == user.id).order_by(Hearing.starts_at.desc())))
    return speaking, observing
