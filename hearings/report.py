"""The hearing report (听证报告, 第二十八条): the basic facts of the hearing; for each question and
position the speakers' main opinions with the facts and reasons they gave; the hearing body's
suggestions, which staff write per question and overall."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from babel.lists import format_list
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from app import audit
from app.extensions import db
from app.models import User, utcnow
from hearings import live, record
from hearings.forms import POSITION_LABELS
from hearings.models import (
    POSITIONS,
    Hearing,
    HearingNote,
    HearingQuestion,
    HearingSuggestion,
    ObserverRegistration,
    RecordCorrection,
    SpeakerRegistration,
)

MAX_SUGGESTION = 20_000


@dataclass
class Opinion:
    """One speaker's opinion on one question: the position, the reasons, what the record says."""

    speaker: SpeakerRegistration
    position_text: str
    #: the record notes taken while the speaker had the floor
    statements: list[HearingNote]

    @property
    def name(self) -> str:
        return live.speaker_label(self.speaker)


@dataclass
class QuestionReport:
    """A question with the opinions grouped by position, and the suggestion on it."""

    question: HearingQuestion
    #: position → opinions, in the order of POSITIONS, positions nobody took left out
    positions: dict[str, list[Opinion]]
    suggestion: str


@dataclass
class BasicFacts:
    """The hearing's basic facts (基本情况)."""

    hearing: Hearing
    officers: list[str]
    speakers: int
    #: speakers per position on the main question
    stances: dict[str, int]
    sectors: list[str]
    regions: list[str]
    public_observers: int
    deputy_observers: int
    embedded_deputies: int
    record_notes: int
    corrections: dict[str, int]


@dataclass
class Report:
    facts: BasicFacts
    questions: list[QuestionReport]
    general_suggestion: str
    #: observers' written opinions handed in after the hearing
    written_opinions: list = field(default_factory=list)


def stance_counts(stances: dict[str, int]) -> str:
    """Say how many speakers took each position, as a list in the reader's language."""
    return format_list([f"{POSITION_LABELS[stance]} {count}" for stance, count in stances.items()],
                       locale=get_locale())


def suggestions(hearing: Hearing) -> dict[int | None, str]:
    """Return the suggestions by question id; None holds the overall one."""
    return {s.question_id: s.body for s in db.session.scalars(
        select(HearingSuggestion).where(HearingSuggestion.hearing_id == hearing.id))}


def set_suggestion(hearing: Hearing, user: User, question_id: int | None, body: str
                   ) -> HearingSuggestion:
    """Store the hearing body's suggestion on a question (or overall, for None)."""
    if not live.is_hearing_staff(user, hearing):
        raise record.RecordError(_("Only staff write the report."))
    if question_id is not None and not any(q.id == question_id for q in hearing.questions):
        raise record.RecordError(_("Choose a question of this hearing."))
    body = (body or "").strip()
    if len(body) > MAX_SUGGESTION:
        raise record.RecordError(_("Keep a suggestion within %(n)d characters.",
                                   n=MAX_SUGGESTION))
    query = select(HearingSuggestion).where(HearingSuggestion.hearing_id == hearing.id)
    query = query.where(HearingSuggestion.question_id.is_(None) if question_id is None
                        else HearingSuggestion.question_id == question_id)
    suggestion = db.session.scalar(query)
    if suggestion is None:
        suggestion = HearingSuggestion(hearing_id=hearing.id, question_id=question_id)
        db.session.add(suggestion)
    if suggestion.body != body:
        suggestion.body = body
        suggestion.updated_by_id = user.id
        suggestion.updated_at = utcnow()
        audit.record(user, "hearing.suggestion", hearing, question=question_id)
    db.session.flush()
    return suggestion


def _facts(hearing: Hearing, speakers: list[SpeakerRegistration], notes: list[HearingNote]
           ) -> BasicFacts:
    main = next((q for q in hearing.questions if q.is_main),
                hearing.questions[0] if hearing.questions else None)
    stances: Counter[str] = Counter()
    for speaker in speakers:
        stances.update(p.stance for p in speaker.positions if main and p.question_id == main.id)
    observers = list(db.session.scalars(select(ObserverRegistration).where(
        ObserverRegistration.hearing_id == hearing.id,
        ObserverRegistration.status == "accepted")))
    corrections = dict(db.session.execute(
        select(RecordCorrection.status, func.count(RecordCorrection.id))
        .where(RecordCorrection.hearing_id == hearing.id)
        .group_by(RecordCorrection.status)).all())
    return BasicFacts(
        hearing=hearing,
        officers=[f"{o.name}（{o.title}）" if o.title else o.name
                  for o in sorted(hearing.officers, key=lambda o: (not o.is_chair, o.id))],
        speakers=len(speakers),
        stances={stance: stances[stance] for stance in POSITIONS if stances[stance]},
        # in running order, as the reader met them
        sectors=list(dict.fromkeys(s.sector for s in speakers if s.sector)),
        regions=list(dict.fromkeys(s.region for s in speakers if s.region)),
        public_observers=sum(o.kind == "public" for o in observers),
        deputy_observers=sum(o.kind == "deputy" for o in observers),
        embedded_deputies=sum(o.kind == "deputy" and o.embedded for o in observers),
        record_notes=len(notes),
        corrections=corrections,
    )


def _question_of(note: HearingNote, questions: list[HearingQuestion],
                 main: HearingQuestion) -> int:
    """Return the question a note belongs to: the first whose clauses it cites, else the main
    question."""
    cited = set(note.clause_lineage_ids or [])
    for question in questions:
        if cited & set(question.clause_lineage_ids or []):
            return question.id
    return main.id


def build_report(hearing: Hearing) -> Report:
    """Gather everything the report says from the registrations, the record and staff."""
    speakers = live.running_order(hearing)
    notes = record.record_notes(hearing)
    questions = list(hearing.questions)
    main = next((q for q in questions if q.is_main), questions[0] if questions else None)
    #: (speaker, question) → the record notes that belong there
    statements: dict[tuple[int, int], list[HearingNote]] = defaultdict(list)
    for note in notes:
        if note.speaker_id is not None and main is not None:
            statements[note.speaker_id, _question_of(note, questions, main)].append(note)
    written = suggestions(hearing)
    reports = []
    for question in questions:
        grouped: dict[str, list[Opinion]] = {stance: [] for stance in POSITIONS}
        for speaker in speakers:
            for position in speaker.positions:
                if position.question_id == question.id:
                    grouped[position.stance].append(Opinion(
                        speaker, position.text, statements.get((speaker.id, question.id), [])))
        reports.append(QuestionReport(
            question, {stance: items for stance, items in grouped.items() if items},
            written.get(question.id, "")))
    observer_opinions = [
        c for c in record.hearing_opinions(hearing)
        if c.submission_key.split(":")[2] == "observer" and c.status in ("pending", "published")]
    return Report(_facts(hearing, speakers, notes), reports, written.get(None, ""),
                  observer_opinions)
