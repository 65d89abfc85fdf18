"""Legislative hearings (立法听证会): plan, questions, registrations, live notes, record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models import User, utcnow

PROCEDURES = ("ordinary", "simplified")
HEARING_STATUSES = ("planned", "announced", "held", "record_review", "closed", "cancelled")
POSITIONS = ("support", "oppose", "other")
SPEAKER_STATUSES = ("registered", "selected", "waitlisted", "not_selected", "withdrawn")
OBSERVER_STATUSES = ("applied", "invited", "accepted", "declined", "not_admitted", "withdrawn")
NOTE_KINDS = ("record", "observation", "question")
NOTE_VISIBILITIES = ("public", "staff", "private")
CORRECTION_STATUSES = ("pending", "accepted", "rejected")


class Hearing(db.Model):
    """A legislative hearing on a draft, from work plan to feedback."""

    __tablename__ = "hearings"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: URL name, unique
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    #: the version the hearing discusses
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("draft_versions.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300))
    #: background and rules published with the notice
    description: Mapped[str] = mapped_column(Text, default="")
    #: the hearing body (听证机构), e.g. 市人大常委会法制工作委员会
    organiser: Mapped[str] = mapped_column(String(200), default="")
    place: Mapped[str] = mapped_column(String(300), default="")
    #: link for online participation, if any
    online_url: Mapped[str] = mapped_column(String(500), default="")
    #: naive UTC
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    #: "ordinary" or "simplified" (简易程序)
    procedure: Mapped[str] = mapped_column(String(16), default="ordinary")
    #: one of HEARING_STATUSES
    status: Mapped[str] = mapped_column(String(16), default="planned")
    speaker_seats: Mapped[int] = mapped_column(default=20)
    public_observer_seats: Mapped[int] = mapped_column(default=30)
    deputy_observer_seats: Mapped[int] = mapped_column(default=10)
    #: default speaking time per speaker
    minutes_per_speaker: Mapped[int] = mapped_column(default=8)
    #: whether the public may follow the live notes online
    public_live: Mapped[bool] = mapped_column(default=True)
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: when each step was taken (naive UTC); None until it is
    notice_published_at: Mapped[datetime | None]
    speakers_selected_at: Mapped[datetime | None]
    speakers_notified_at: Mapped[datetime | None]
    observers_notified_at: Mapped[datetime | None]
    record_opened_at: Mapped[datetime | None]
    feedback_sent_at: Mapped[datetime | None]
    #: live state: the speaker now speaking, when their time started, extra seconds granted
    current_speaker_id: Mapped[int | None] = mapped_column(
        ForeignKey("speaker_registrations.id", ondelete="SET NULL", use_alter=True))
    timer_started_at: Mapped[datetime | None]
    timer_extra_seconds: Mapped[int] = mapped_column(default=0)
    #: live state: the agenda item under way, e.g. 询问, 辩论
    current_agenda_item: Mapped[str] = mapped_column(String(200), default="")
    #: the last sequence number handed to a live event of this hearing
    last_seq: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    draft = relationship("Draft")
    chair: Mapped[User | None] = relationship(foreign_keys=[chair_id])
    recorder: Mapped[User | None] = relationship(foreign_keys=[recorder_id])
    questions: Mapped[list[HearingQuestion]] = relationship(
        back_populates="hearing", order_by="HearingQuestion.position",
        cascade="all, delete-orphan")
    officers: Mapped[list[HearingOfficer]] = relationship(
        back_populates="hearing", cascade="all, delete-orphan")


class HearingQuestion(db.Model):
    """A question to be heard (听证事项)."""

    __tablename__ = "hearing_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearings.id", ondelete="CASCADE"))
    #: 1, 2, 3 … in the notice
    position: Mapped[int] = mapped_column(default=1)
    text: Mapped[str] = mapped_column(Text)
    #: the question whose positions the selection balances
    is_main: Mapped[bool] = mapped_column(default=False)
    #: lineage ids of the clauses the question concerns
    clause_lineage_ids: Mapped[list] = mapped_column(JSON, default=list)

    hearing: Mapped[Hearing] = relationship(back_populates="questions")


class HearingOfficer(db.Model):
    """A hearing officer (听证人); one of them chairs."""

    __tablename__ = "hearing_officers"

    id: Mapped[int] = mapped_column(primary_key=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearings.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(100))
    #: e.g. 常委会委员, 法工委副主任
    title: Mapped[str] = mapped_column(String(200), default="")
    is_chair: Mapped[bool] = mapped_column(default=False)

    hearing: Mapped[Hearing] = relationship(back_populates="officers")


class DeadlineOverride(db.Model):
    """A staff decision to go ahead although a deadline from the rules was missed."""

    __tablename__ = "hearing_deadline_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearings.id", ondelete="CASCADE"))
    #: which deadline: notice, selection, speaker_notice, observer_close, observer_notice,
    #: record_review, feedback
    deadline: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SpeakerRegistration(db.Model):
    """A registration to speak (陈述人), or a speaker invited by staff."""

    __tablename__ = "speaker_registrations"
    __table_args__ = (Index("ix_speaker_registrations_hearing_status", "hearing_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearings.id", ondelete="CASCADE"))
    #: the account that registered; None for speakers invited by staff without an account
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: "person" or "organisation"
    kind: Mapped[str] = mapped_column(String(16), default="person")
    #: the speaker's name, or the organisation's
    name: Mapped[str] = mapped_column(String(200))
    #: for organisations: who will speak
    representative: Mapped[str] = mapped_column(String(100), default="")
    #: contact details: never public
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    sector: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(100), default="")
    expertise: Mapped[str] = mapped_column(String(300), default="")
    #: the key points the speaker will make (陈述重点)
    key_points: Mapped[str] = mapped_column(Text, default="")
    #: experts speak after the interested parties by default
    is_expert: Mapped[bool] = mapped_column(default=False)
    #: added directly by staff rather than registered
    invited: Mapped[bool] = mapped_column(default=False)
    #: one of SPEAKER_STATUSES
    status: Mapped[str] = mapped_column(String(16), default="registered")
    #: place on the waitlist, 1 first
    waitlist_position: Mapped[int | None]
    #: why the selection put the registrant in or out: a reason code (hearings.services.REASONS)
    selection_reason: Mapped[str] = mapped_column(Text, default="")
    #: the reason's parameters, so that it can be put in plain words in the reader's language
    selection_reason_params: Mapped[dict] = mapped_column(JSON, default=dict)
    #: whether staff changed the proposal by hand for this registrant
    selected_by_hand: Mapped[bool] = mapped_column(default=False)
    #: running order and speaking time at the hearing
    speaking_order: Mapped[int | None]
    speaking_minutes: Mapped[int | None]
    #: the written statement, stored outside the web root
    statement_path: Mapped[str] = mapped_column(String(500), default="")
    statement_filename: Mapped[str] = mapped_column(String(255), default="")
    statement_size: Mapped[int] = mapped_column(default=0)
    confirmed_at: Mapped[datetime | None]
    notified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    hearing: Mapped[Hearing] = relationship(foreign_keys=[hearing_id])
    user: Mapped[User | None] = relationship()
    positions: Mapped[list[SpeakerPosition]] = relationship(
        back_populates="registration", cascade="all, delete-orphan")


class SpeakerPosition(db.Model):
    """A speaker's position on one hearing question."""

    __tablename__ = "speaker_positions"
    __table_args__ = (UniqueConstraint("registration_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("speaker_registrations.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("hearing_questions.id", ondelete="CASCADE"))
    #: one of POSITIONS
    stance: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")

    registration: Mapped[SpeakerRegistration] = relationship(back_populates="positions")
    question: Mapped[HearingQuestion] = relationship()


class ObserverRegistration(db.Model):
    """An application or invitation to observe (旁听) a hearing."""

    __tablename__ = "observer_registrations"
    __table_args__ = (UniqueConstraint("hearing_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearings.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: "public" or "deputy"
    kind: Mapped[str] = mapped_column(String(16), default="public")
    #: one of OBSERVER_STATUSES
    status: Mapped[str] = mapped_column(String(16), default="applied")
    #: deputies taking part throughout the lawmaking (嵌入式参与)
    embedded: Mapped[bool] = mapped_column(default=False)
    #: contact phone given with the application: never public
    phone: Mapped[str] = mapped_column(String(40), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    notified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    hearing: Mapped[Hearing] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class HearingNote(db.Model):
    """A note taken during the hearing: the record, a deputy's observation, or a question."""

    __tablename__ = "hearing_notes"
    __outbox__ = "note"
    __table_args__ = (Index("ix_hearing_notes_hearing_id", "hearing_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearings.id", ondelete="CASCADE"))
    #: one of NOTE_KINDS
    kind: Mapped[str] = mapped_column(String(16), default="record")
    #: "public" (the record), "staff" (shared with staff), "private" (the author only)
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: the speaker speaking when the note was taken
    speaker_id: Mapped[int | None] = mapped_column(
        ForeignKey("speaker_registrations.id", ondelete="SET NULL"))
    #: the agenda item, e.g. 询问, 辩论
    agenda_item: Mapped[str] = mapped_column(String(200), default="")
    #: lineage ids of the clauses the note refers to
    clause_lineage_ids: Mapped[list] = mapped_column(JSON, default=list)
    body: Mapped[str] = mapped_column(Text)
    #: 1 when created, +1 on every edit; an edit based on an older revision is refused
    revision: Mapped[int] = mapped_column(default=1)
    deleted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    hearing: Mapped[Hearing] = relationship()
    author: Mapped[User | None] = relationship()
    speaker: Mapped[SpeakerRegistration | None] = relationship()


class HearingNoteRevision(db.Model):
    """A past text of a note, kept on every edit (append-only)."""

    __tablename__ = "hearing_note_revisions"
    __table_args__ = (UniqueConstraint("note_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("hearing_notes.id", ondelete="CASCADE"))
    revision: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HearingEvent(db.Model):
    """One live event of a hearing, numbered so a reconnecting client can catch up exactly."""

    __tablename__ = "hearing_events"
    __table_args__ = (UniqueConstraint("hearing_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearings.id", ondelete="CASCADE"))
    #: 1, 2, 3 … within the hearing, without gaps
    seq: Mapped[int]
    #: note_created, note_updated, speaker_changed, timer …
    type: Mapped[str] = mapped_column(String(32))
    #: who may receive it: "public", "staff" or "private:<user id>"
    audience: Mapped[str] = mapped_column(String(32), default="public")
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecordCorrection(db.Model):
    """A speaker's request to correct the hearing record, and staff's answer."""

    __tablename__ = "record_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearings.id", ondelete="CASCADE"))
    #: the note to correct, if the request is about one
    note_id: Mapped[int | None] = mapped_column(ForeignKey("hearing_notes.id", ondelete="SET NULL"))
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    #: one of CORRECTION_STATUSES
    status: Mapped[str] = mapped_column(String(16), default="pending")
    response: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecordSignoff(db.Model):
    """The chair's or the recorder's approval of the final record."""

    __tablename__ = "record_signoffs"
    __table_args__ = (UniqueConstraint("hearing_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearings.id", ondelete="CASCADE"))
    #: "chair" or "recorder"
    role: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)


class HearingSuggestion(db.Model):
    """The hearing body's suggestion (处理意见和建议) for the report, on one question or overall."""

    __tablename__ = "hearing_suggestions"
    __table_args__ = (UniqueConstraint("hearing_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearings.id", ondelete="CASCADE"))
    #: the question the suggestion answers; None for the overall suggestion
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("hearing_questions.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
