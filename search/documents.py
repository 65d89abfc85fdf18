"""Turn clauses, comments and hearing notes into search documents, and decide who sees them.

Documents are built from the rows as they are when the indexer reads them, whatever change
the change log reported: replaying a change, or reading one late, always yields the current
state. A row that is gone or must not be searchable builds no document (``None``), which
the indexer turns into a delete of its document.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.masking import mask_personal_data
from drafts.models import Clause, Comment, Draft, DraftVersion
from hearings.models import Hearing, HearingNote, SpeakerRegistration

#: change-log entity → model; the engine's document types have the same names
MODELS: dict[str, type] = {"clause": Clause, "comment": Comment, "note": HearingNote}
#: clause kinds whose documents carry their article's label
UNDER_ARTICLE = ("paragraph", "item", "subitem")
#: hearing statuses in which the public may read public notes (when the hearing is live online)
PUBLIC_HEARING_STATUSES = ("announced", "held", "record_review", "closed")


def doc_id(entity: str, obj_id: int) -> str:
    """Return the engine's id of an object's document: ``comment:5``."""
    return f"{entity}:{obj_id}"


# --- who may see what ------------------------------------------------------------------------


def clause_visibility(draft: Draft, version: DraftVersion, current: DraftVersion | None) -> str:
    """Public once the draft is published, for the current version and those before it."""
    if not draft.is_public or current is None or version.sequence > current.sequence:
        return "staff"
    return "public"


def comment_visibility(comment: Comment) -> str:
    """Published comments are public; pending, unconfirmed, hidden and rejected ones staff's."""
    return "public" if comment.status == "published" else "staff"


def note_visibility(note: HearingNote, hearing: Hearing) -> str:
    """The record is public when anyone may follow the hearing; other notes stay with staff
    or, when private, with their author."""
    if note.visibility == "private":
        return f"private:{note.author_id}"
    if (note.visibility == "public" and note.kind == "record" and hearing.public_live
            and hearing.status in PUBLIC_HEARING_STATUSES):
        return "public"
    return "staff"


def may_see(visibility: str, *, staff: bool, user_id: int | None) -> bool:
    """Tell whether a reader may see a document of this visibility."""
    if visibility == "public":
        return True
    if visibility == "staff":
        return staff
    return user_id is not None and visibility == f"private:{user_id}"


# --- building documents ----------------------------------------------------------------------


class DocumentBuilder:
    """Build documents for batches of ids, caching what many documents share.

    The caches (drafts, versions, hearings, article labels) make a full rebuild read each
    draft once; the indexer uses a fresh builder for every batch so that it sees renames.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._drafts: dict[int, Draft] = {}
        self._versions: dict[int, DraftVersion] = {}
        self._hearings: dict[int, Hearing] = {}
        #: clause id → (parent id, kind, label)
        self._clauses: dict[int, tuple[int | None, str, str]] = {}

    def build(self, entity: str, ids: Iterable[int]) -> dict[int, dict[str, Any] | None]:
        """Return the document of each id (None when it has none)."""
        ids = sorted(set(ids))
        if not ids:
            return {}
        build = {"clause": self._clauses_docs, "comment": self._comment_docs,
                 "note": self._note_docs}[entity]
        docs: dict[int, dict[str, Any] | None] = dict.fromkeys(ids)
        for chunk in _chunks(ids, 500):
            docs.update(build(chunk))
        return docs

    # shared lookups

    def _draft(self, draft_id: int) -> Draft:
        if draft_id not in self._drafts:
            self._drafts[draft_id] = self.session.get(Draft, draft_id)
        return self._drafts[draft_id]

    def _version(self, version_id: int | None) -> DraftVersion | None:
        if version_id is None:
            return None
        if version_id not in self._versions:
            self._versions[version_id] = self.session.get(DraftVersion, version_id)
        return self._versions[version_id]

    def _hearing(self, hearing_id: int) -> Hearing:
        if hearing_id not in self._hearings:
            self._hearings[hearing_id] = self.session.get(Hearing, hearing_id)
        return self._hearings[hearing_id]

    def article_labels(self, clause_ids: Iterable[int | None]) -> dict[int, str]:
        """Return the label of the article each clause belongs to (its own label when it is
        an article or above): 第十二条 for the second paragraph of article 12."""
        wanted = {cid for cid in clause_ids if cid is not None}
        missing = wanted - self._clauses.keys()
        while missing:
            parents = set()
            for cid, parent_id, kind, label in self.session.execute(
                    select(Clause.id, Clause.parent_id, Clause.kind, Clause.label)
                    .where(Clause.id.in_(missing))):
                self._clauses[cid] = (parent_id, kind, label)
                if kind in UNDER_ARTICLE and parent_id is not None:
                    parents.add(parent_id)
            missing = parents - self._clauses.keys()
        return {cid: label for cid in wanted if (label := self._article_label(cid)) is not None}

    def _article_label(self, clause_id: int) -> str | None:
        info = self._clauses.get(clause_id)
        while info is not None and info[1] in UNDER_ARTICLE and info[0] is not None:
            info = self._clauses.get(info[0])
        return info[2] if info is not None else None

    # one builder per entity

    def _clauses_docs(self, ids: list[int]) -> Iterator[tuple[int, dict[str, Any] | None]]:
        clauses = list(self.session.scalars(select(Clause).where(Clause.id.in_(ids))))
        labels = self.article_labels(c.id for c in clauses)
        for clause in clauses:
            version = self._version(clause.version_id)
            body = "\n".join(part for part in (clause.heading, clause.text) if part)
            if version is None or not body:
                # an article's own text is empty: its paragraphs carry the words
                yield clause.id, None
                continue
            draft = self._draft(version.draft_id)
            yield clause.id, {
                "doc_id": doc_id("clause", clause.id),
                "type": "clause",
                "obj_id": clause.id,
                "draft_id": draft.id,
                "version_id": version.id,
                "clause_id": clause.id,
                "label": labels.get(clause.id, clause.label),
                "title": draft.title,
                "body": body,
                "visibility": clause_visibility(draft, version,
                                                self._version(draft.current_version_id)),
                "created": version.created_at,
            }

    def _comment_docs(self, ids: list[int]) -> Iterator[tuple[int, dict[str, Any] | None]]:
        comments = list(self.session.scalars(select(Comment).where(Comment.id.in_(ids))))
        labels = self.article_labels(c.clause_id for c in comments)
        for comment in comments:
            draft = self._draft(comment.draft_id)
            text = "\n".join(part for part in (comment.body, comment.proposed_wording) if part)
            yield comment.id, {
                "doc_id": doc_id("comment", comment.id),
                "type": "comment",
                "obj_id": comment.id,
                "draft_id": comment.draft_id,
                "version_id": comment.version_id,
                "clause_id": comment.clause_id,
                "label": labels.get(comment.clause_id) if comment.clause_id else None,
                "title": draft.title,
                # what the public pages show: phone numbers and e-mail addresses masked
                "body": mask_personal_data(text),
                "stance": comment.stance,
                "status": comment.status,
                "visibility": comment_visibility(comment),
                "region": comment.region,
                "sector": comment.sector,
                "created": comment.created_at,
            }

    def _note_docs(self, ids: list[int]) -> Iterator[tuple[int, dict[str, Any] | None]]:
        notes = list(self.session.scalars(select(HearingNote).where(HearingNote.id.in_(ids))))
        speakers = {s.id: s for s in self.session.scalars(select(SpeakerRegistration).where(
            SpeakerRegistration.id.in_({n.speaker_id for n in notes if n.speaker_id})))}
        clauses = self._note_clauses(notes)
        labels = self.article_labels(clauses.values())
        for note in notes:
            if note.deleted:
                yield note.id, None
                continue
            hearing = self._hearing(note.hearing_id)
            speaker = speakers.get(note.speaker_id)
            clause_id = clauses.get(note.id)
            yield note.id, {
                "doc_id": doc_id("note", note.id),
                "type": "note",
                "obj_id": note.id,
                "draft_id": hearing.draft_id,
                "version_id": hearing.version_id,
                "clause_id": clause_id,
                "label": labels.get(clause_id) if clause_id else None,
                "title": hearing.title,
                "body": note.body,
                "visibility": note_visibility(note, hearing),
                "region": speaker.region if speaker else None,
                "sector": speaker.sector if speaker else None,
                "created": note.created_at,
            }

    def _note_clauses(self, notes: list[HearingNote]) -> dict[int, int]:
        """Return, per note, the first clause (in text order) of its hearing's version that
        the note refers to."""
        wanted: dict[int, set[int]] = {}
        for note in notes:
            version_id = self._hearing(note.hearing_id).version_id
            if version_id is not None and note.clause_lineage_ids:
                wanted.setdefault(version_id, set()).update(note.clause_lineage_ids)
        first: dict[tuple[int, int], tuple[int, int]] = {}
        for version_id, lineages in wanted.items():
            rows = self.session.execute(
                select(Clause.lineage_id, Clause.id, Clause.position)
                .where(Clause.version_id == version_id, Clause.lineage_id.in_(lineages)))
            for lineage_id, clause_id, position in rows:
                first[(version_id, lineage_id)] = (position, clause_id)
        found: dict[int, int] = {}
        for note in notes:
            version_id = self._hearing(note.hearing_id).version_id
            hits = [first[(version_id, lid)] for lid in note.clause_lineage_ids or ()
                    if (version_id, lid) in first]
            if hits:
                found[note.id] = min(hits)[1]
        return found


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def all_ids(session: Session, entity: str, chunk: int = 2000) -> Iterator[list[int]]:
    """Yield the ids of every row of an entity, in chunks, in id order (keyset paging)."""
    model = MODELS[entity]
    last = 0
    while True:
        ids = list(session.scalars(select(model.id).where(model.id > last)
                                   .order_by(model.id).limit(chunk)))
        if not ids:
            return
        yield ids
        last = ids[-1]


def count(session: Session, entity: str) -> int:
    """Return the number of rows of an entity (the rebuild's progress total)."""
    return session.scalar(select(func.count()).select_from(MODELS[entity])) or 0
