"""Personal data: what a user may download, deleting an account, erasing contact data a
retention period after a draft is adopted, and the log of who exported personal data.

The rules, in short (docs/privacy.md has them in full):

- A deleted account keeps its row, emptied: comments, supports and dispositions keep their
  place and their counts, and public pages name the author neutrally.
- A registration for a hearing that has been held is part of the hearing record: it stays,
  with the name replaced and the contact data erased.  Registrations for hearings not yet
  held (or cancelled) are removed with their statement files.
- Private hearing notes are deleted; notes shared with staff or in the record stay.
"""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import joinedload

from app import audit
from app.extensions import db
from app.models import AuditLog, User, utcnow

#: audit actions that put personal data into someone's hands
PERSONAL_EXPORT_ACTIONS = ("comments.export", "opinions.export", "registrations.export",
                           "personal_data.download")
#: hearing statuses from which a registration belongs to the hearing record
RECORD_STATUSES = ("held", "record_review", "closed")
#: default days after a draft's adoption before contact data is erased
DEFAULT_RETENTION_DAYS = 365
#: default days a comment keeps the hash of its sender's address (for flood moderation)
DEFAULT_ORIGIN_DAYS = 30
#: the name a deleted account's registration keeps in the hearing record
DELETED_SPEAKER = _l("Speaker (account deleted)")


class PrivacyError(ValueError):
    """A request about personal data that cannot be carried out; the message is for the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


# --- the user's own data ------------------------------------------------------------------


def collect(user: User) -> dict:
    """Return everything stored about the user, as JSON-ready data, in their language."""
    from drafts.models import Comment, CommentSupport
    from drafts.services import unit_label
    from hearings.models import (
        HearingNote,
        ObserverRegistration,
        RecordCorrection,
        SpeakerRegistration,
    )

    comments = db.session.scalars(
        select(Comment).options(joinedload(Comment.draft), joinedload(Comment.clause),
                                joinedload(Comment.disposition))
        .where(Comment.author_id == user.id).order_by(Comment.id)).all()
    supports = db.session.execute(
        select(CommentSupport.comment_id, CommentSupport.created_at)
        .where(CommentSupport.user_id == user.id).order_by(CommentSupport.id)).all()
    speakers = db.session.scalars(
        select(SpeakerRegistration).options(joinedload(SpeakerRegistration.hearing))
        .where(SpeakerRegistration.user_id == user.id).order_by(SpeakerRegistration.id)).all()
    observers = db.session.scalars(
        select(ObserverRegistration).options(joinedload(ObserverRegistration.hearing))
        .where(ObserverRegistration.user_id == user.id).order_by(ObserverRegistration.id)).all()
    notes = db.session.scalars(
        select(HearingNote).options(joinedload(HearingNote.hearing))
        .where(HearingNote.author_id == user.id, HearingNote.deleted.is_(False))
        .order_by(HearingNote.id)).all()
    corrections = db.session.scalars(
        select(RecordCorrection).where(RecordCorrection.requested_by_id == user.id)
        .order_by(RecordCorrection.id)).all()

    def decision(comment: Comment) -> dict | None:
        found = comment.disposition
        if found is None or not found.is_final:
            return None
        return {"outcome": found.outcome, "reason": found.reason,
                "decided_at": _iso(found.decided_at)}

    return {
        "format": "minyi-personal-data/1",
        "exported_at": _iso(utcnow()),
        "account": {
            "id": user.id, "email": user.email, "name": user.name, "role": user.role,
            "deputy_level": user.deputy_level,
            "deputy_group": user.deputy_group.name if user.deputy_group else None,
            "region": user.region, "sector": user.sector, "language": user.locale,
            "feedback_emails": user.feedback_emails, "created_at": _iso(user.created_at),
        },
        "comments": [{
            "id": c.id, "draft": c.draft.slug, "draft_title": c.draft.title,
            "clause": unit_label(c.clause) if c.clause else None, "stance": c.stance,
            "body": c.body, "proposed_wording": c.proposed_wording, "region": c.region,
            "sector": c.sector, "age_band": c.age_band, "status": c.status, "source": c.source,
            "moderation_reason": c.moderation_reason if c.status in ("hidden", "rejected")
            else "",
            "supporters": c.support_count, "created_at": _iso(c.created_at),
            "disposition": decision(c),
        } for c in comments],
        "supports": [{"comment": comment_id, "created_at": _iso(created)}
                     for comment_id, created in supports],
        "hearing_registrations": [{
            "id": r.id, "hearing": r.hearing.slug, "hearing_title": r.hearing.title,
            "kind": r.kind, "name": r.name, "representative": r.representative,
            "phone": r.phone, "email": r.email, "sector": r.sector, "region": r.region,
            "expertise": r.expertise, "key_points": r.key_points, "status": r.status,
            "waitlist_position": r.waitlist_position, "speaking_order": r.speaking_order,
            "positions": [{"question": p.question.text, "stance": p.stance, "text": p.text}
                          for p in r.positions],
            "statement": (f"statements/{r.id}-{r.statement_filename}"
                          if r.statement_path else None),
            "created_at": _iso(r.created_at),
        } for r in speakers],
        "observer_applications": [{
            "id": o.id, "hearing": o.hearing.slug, "hearing_title": o.hearing.title,
            "kind": o.kind, "status": o.status, "embedded": o.embedded, "phone": o.phone,
            "reason": o.reason, "created_at": _iso(o.created_at),
        } for o in observers],
        "hearing_notes": [{
            "id": n.id, "hearing": n.hearing.slug, "kind": n.kind, "visibility": n.visibility,
            "body": n.body, "created_at": _iso(n.created_at),
        } for n in notes],
        "record_corrections": [{
            "id": c.id, "hearing_id": c.hearing_id, "text": c.text, "status": c.status,
            "response": c.response, "created_at": _iso(c.created_at),
        } for c in corrections],
    }


def data_json(user: User) -> bytes:
    """Return the user's data as a JSON document."""
    return json.dumps(collect(user), ensure_ascii=False, indent=2).encode()


def data_zip(user: User) -> io.BytesIO:
    """Return a ZIP holding the JSON document, a note on reading it, and the statements."""
    from hearings.models import SpeakerRegistration
    from hearings.services import statement_file

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("minyi-data.json", data_json(user))
        archive.writestr("README.txt", _(
            "Your data on Minyi.\n\nminyi-data.json holds your account, your comments with "
            "what became of them, the comments you supported, your hearing registrations and "
            "applications to observe, and your hearing notes. The statements folder holds the "
            "written statements you handed in.\n"))
        for registration in db.session.scalars(select(SpeakerRegistration).where(
                SpeakerRegistration.user_id == user.id)):
            path = statement_file(registration)
            if path is not None:
                archive.write(path, f"statements/{registration.id}-"
                                    f"{Path(registration.statement_filename).name}")
    buffer.seek(0)
    return buffer


def record_download(user: User, fmt: str) -> None:
    """Log that the user downloaded their own data; the caller commits."""
    audit.record(user, "personal_data.download", user, format=fmt)


# --- deleting an account ------------------------------------------------------------------


@dataclass
class Deletion:
    """What deleting an account did, counted for the audit log."""

    comments_kept: int = 0
    registrations_anonymised: int = 0
    registrations_removed: int = 0
    observers_anonymised: int = 0
    observers_removed: int = 0
    private_notes_removed: int = 0
    files_removed: list[str] = field(default_factory=list)


def deletion_refusal(user: User) -> str | None:
    """Return why the account cannot be deleted by its holder, or None."""
    if user.is_staff:
        return _("Staff and administrator accounts are closed by an administrator, so that "
                 "every staff decision keeps its author.")
    return None


def _neutral(message: LazyString) -> str:
    """Return a stored placeholder in the site's language: records are kept in it."""
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")):
        return str(message)


def delete_account(user: User, password: str, *, now: datetime | None = None) -> Deletion:
    """Erase the user's personal data and close the account; the caller commits.

    Raises PrivacyError for a wrong password or an account its holder may not delete.
    Statement files of removed registrations are deleted once the caller has committed
    (`remove_files`), so a failed commit leaves them in place.
    """
    from drafts.models import Comment
    from hearings.models import HearingNote, ObserverRegistration, SpeakerRegistration
    from hearings.services import statement_file

    refusal = deletion_refusal(user)
    if refusal:
        raise PrivacyError(refusal)
    if not user.check_password(password):
        raise PrivacyError(_("The password is not right."), "password")
    now = now or utcnow()
    done = Deletion()

    done.comments_kept = db.session.scalar(
        select(func.count()).select_from(Comment).where(Comment.author_id == user.id))
    db.session.execute(update(Comment).where(Comment.author_id == user.id).values(origin=""))

    renamed: set[int] = set()
    hearing_ids: set[int] = set()
    for registration in db.session.scalars(select(SpeakerRegistration).options(
            joinedload(SpeakerRegistration.hearing)).where(
            SpeakerRegistration.user_id == user.id)).all():
        hearing_ids.add(registration.hearing_id)
        if registration.hearing.status in RECORD_STATUSES:
            registration.name = _neutral(DELETED_SPEAKER)
            registration.representative = registration.phone = registration.email = ""
            registration.expertise = ""
            renamed.add(registration.id)
            done.registrations_anonymised += 1
        else:
            path = statement_file(registration)
            if path is not None:
                done.files_removed.append(str(path))
            db.session.delete(registration)
            done.registrations_removed += 1
    for observer in db.session.scalars(select(ObserverRegistration).options(
            joinedload(ObserverRegistration.hearing)).where(
            ObserverRegistration.user_id == user.id)).all():
        if observer.hearing.status in RECORD_STATUSES:
            observer.phone = observer.reason = ""
            done.observers_anonymised += 1
        else:
            db.session.delete(observer)
            done.observers_removed += 1

    notes = db.session.scalars(select(HearingNote).where(HearingNote.author_id == user.id)).all()
    private = {note.id for note in notes if note.visibility == "private"}
    hearing_ids |= {note.hearing_id for note in notes}
    for note in notes:
        if note.id in private:
            db.session.delete(note)
    done.private_notes_removed = len(private)
    if hearing_ids:
        _scrub_events(hearing_ids, user.id, private_notes=private, renamed_speakers=renamed)

    user.email = f"deleted-{user.id}@deleted.invalid"
    user.name = ""
    user.set_password(secrets.token_urlsafe(32))
    user.role, user.locale = "public", None
    user.deputy_level, user.deputy_group_id = None, None
    user.region = user.sector = ""
    user.feedback_emails = False
    user.active = False
    user.deleted_at = now
    db.session.flush()
    details = asdict(done)
    details["files_removed"] = len(done.files_removed)
    audit.record(user, "account.delete", user, **details)
    return done


def _scrub_events(hearing_ids: set[int], user_id: int, *, private_notes: set[int],
                  renamed_speakers: set[int]) -> None:
    """Blank the copies of the person's name (and private notes) in the live event log."""
    from hearings.models import HearingEvent

    for event in db.session.scalars(select(HearingEvent).where(
            HearingEvent.hearing_id.in_(hearing_ids))):
        payload = dict(event.payload or {})
        if payload.get("author_id") == user_id:
            payload["author"] = ""
            if payload.get("id") in private_notes or event.audience == f"private:{user_id}":
                payload["body"] = ""
        if payload.get("editor_id") == user_id:
            payload["editor"] = ""
        if payload.get("speaker_id") in renamed_speakers:
            payload["speaker"] = _neutral(DELETED_SPEAKER)
        if payload != event.payload:
            event.payload = payload


def remove_files(deletion: Deletion) -> None:
    """Delete the statement files of removed registrations (after the commit)."""
    for name in deletion.files_removed:
        Path(name).unlink(missing_ok=True)


# --- retention ----------------------------------------------------------------------------


@dataclass
class Purge:
    """Contact data a purge erased (or, in a dry run, would erase)."""

    cutoff: datetime
    drafts: list[str]
    guest_emails: int = 0
    comment_origins: int = 0
    speaker_contacts: int = 0
    observer_phones: int = 0

    @property
    def total(self) -> int:
        return (self.guest_emails + self.comment_origins + self.speaker_contacts
                + self.observer_phones)


def retention_days() -> int:
    return int(current_app.config.get("RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def purge(*, days: int | None = None, origin_days: int | None = None,
          now: datetime | None = None, apply: bool = False) -> Purge:
    """Erase contact data of commenters and registrants on drafts adopted `days` ago or more,
    and the address hash of every comment older than `origin_days`.

    Names, opinions, positions and the hearing record stay; e-mail addresses, phone numbers
    and address hashes go.  Without `apply` nothing changes: the counts say what would.
    The caller commits.
    """
    from drafts.models import Comment, Draft
    from hearings.models import Hearing, ObserverRegistration, SpeakerRegistration

    now = now or utcnow()
    days = retention_days() if days is None else days
    origin_days = (int(current_app.config.get("ORIGIN_RETENTION_DAYS",
                                              DEFAULT_ORIGIN_DAYS))
                   if origin_days is None else origin_days)
    cutoff = now - timedelta(days=days)
    drafts = db.session.execute(select(Draft.id, Draft.slug).where(
        Draft.adopted_at.is_not(None), Draft.adopted_at <= cutoff).order_by(Draft.id)).all()
    draft_ids = [row.id for row in drafts]
    report = Purge(cutoff=cutoff, drafts=[row.slug for row in drafts])
    hearings = select(Hearing.id).where(Hearing.draft_id.in_(draft_ids)).scalar_subquery()
    # flood moderation needs an address only for days; adoption ends the need for the rest
    old_origin = or_(Comment.draft_id.in_(draft_ids),
                     Comment.created_at <= now - timedelta(days=origin_days))
    targets = (
        ("guest_emails", Comment, [Comment.draft_id.in_(draft_ids), Comment.guest_email != ""],
         {"guest_email": ""}),
        ("comment_origins", Comment, [old_origin, Comment.origin != ""], {"origin": ""}),
        ("speaker_contacts", SpeakerRegistration,
         [SpeakerRegistration.hearing_id.in_(hearings),
          or_(SpeakerRegistration.phone != "", SpeakerRegistration.email != "")],
         {"phone": "", "email": ""}),
        ("observer_phones", ObserverRegistration,
         [ObserverRegistration.hearing_id.in_(hearings), ObserverRegistration.phone != ""],
         {"phone": ""}),
    )
    for name, model, where, values in targets:
        setattr(report, name, db.session.scalar(
            select(func.count()).select_from(model).where(*where)))
        if apply:
            db.session.execute(update(model).where(*where).values(**values)
                               .execution_options(synchronize_session=False))
    if apply and report.total:
        db.session.add(AuditLog(actor_id=None, action="privacy.purge", object_type="privacy",
                                details={"days": days, "origin_days": origin_days,
                                         "drafts": report.drafts,
                                         "guest_emails": report.guest_emails,
                                         "comment_origins": report.comment_origins,
                                         "speaker_contacts": report.speaker_contacts,
                                         "observer_phones": report.observer_phones}))
    return report


# --- the log of exports -------------------------------------------------------------------


def personal_exports(page: int = 1, per_page: int = 50):
    """Return a page of the audit entries that record an export of personal data."""
    stmt = (select(AuditLog).options(joinedload(AuditLog.actor))
            .where(AuditLog.action.in_(PERSONAL_EXPORT_ACTIONS))
            .order_by(AuditLog.id.desc()))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def export_subjects(entries: list[AuditLog]) -> dict[tuple[str, int], str]:
    """Return the title of what each entry exported: a draft, a hearing, or a user's data."""
    from drafts.models import Draft
    from hearings.models import Hearing

    wanted: dict[str, set[int]] = {}
    for entry in entries:
        if entry.object_id is not None:
            wanted.setdefault(entry.object_type, set()).add(entry.object_id)
    titles: dict[tuple[str, int], str] = {}
    for table, model in (("drafts", Draft), ("hearings", Hearing)):
        if wanted.get(table):
            for row in db.session.execute(select(model.id, model.title).where(
                    model.id.in_(wanted[table]))):
                titles[(table, row.id)] = row.title
    return titles
