"""Compiling opinions: every opinion on a draft from every source, where it sits in the newest
text (following clause lineage), offline opinions and deputies' suggestions, dispositions and
their review.  Plain arguments in, model objects out; callers commit."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app import audit, signals
from app.extensions import db
from app.models import User, utcnow
from drafts import services
from drafts.models import (
    COMMENTABLE_KINDS,
    OFFLINE_SOURCES,
    OUTCOMES,
    STANCES,
    Clause,
    ClauseOrigin,
    Comment,
    Disposition,
    Draft,
    DraftVersion,
)

#: statuses of the opinions that are counted and decided: not spam, not waiting for a
#: moderator or an e-mail confirmation
COUNTED_STATUSES = ("published", "hidden", "recorded")
MAX_TEXT = 5000
MAX_REASON = 5000

OUTCOME_LABELS = {
    # not "Adopted": that message is the draft status 已通过, this one is 采纳
    "adopted": _l("Adopted in full"),
    "partly_adopted": _l("Partly adopted"),
    "not_adopted": _l("Not adopted"),
    "already_provided": _l("Already provided for"),
    "out_of_scope": _l("Outside the regulation's scope"),
}
SOURCE_LABELS = {
    "online": _l("Online comment"),
    "hearing": _l("Legislative hearing"),
    "deputy": _l("Deputy's suggestion"),
    "letter": _l("Letter"),
    "email": _l("E-mail message"),
    "symposium": _l("Symposium"),
    "research": _l("Research trip"),
    "expert": _l("Expert consultation"),
    "liaison": _l("Grassroots liaison point"),
}
REVIEW_LABELS = {
    "pending": _l("Waiting for review"),
    "approved": _l("Review approved"),
    "returned": _l("Returned by the reviewer"),
}


class OpinionError(ValueError):
    """An operation on opinions that cannot be carried out; `field` names the form field."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- versions and clause lineage ----------------------------------------------------------


def newest_version(draft: Draft) -> DraftVersion | None:
    """Return the draft's newest text: the one dispositions point into and the report follows."""
    return db.session.scalar(select(DraftVersion).where(DraftVersion.draft_id == draft.id)
                             .order_by(DraftVersion.sequence.desc()).limit(1))


def first_version(draft: Draft) -> DraftVersion | None:
    """Return the text first published for comment."""
    return db.session.scalar(select(DraftVersion).where(DraftVersion.draft_id == draft.id)
                             .order_by(DraftVersion.sequence).limit(1))


class ClausePlaces:
    """Where the clauses of every version of a draft sit in its newest version.

    A comment made on an earlier text belongs to the clause that continues it (same lineage,
    or a lineage the newer clause carries as a ClauseOrigin); a unit that was deleted falls
    back to the nearest enclosing unit that lives on.  Loads the draft's clauses once.
    """

    def __init__(self, draft: Draft, newest: DraftVersion | None = None) -> None:
        self.newest = newest or newest_version(draft)
        rows = db.session.scalars(
            select(Clause).join(DraftVersion, Clause.version_id == DraftVersion.id)
            .where(DraftVersion.draft_id == draft.id).order_by(Clause.position)).all()
        self.clauses: dict[int, Clause] = {c.id: c for c in rows}
        newest_id = self.newest.id if self.newest else None
        #: the newest version's clauses in reading order
        self.newest_clauses = [c for c in rows if c.version_id == newest_id]
        by_lineage: dict[int, Clause] = {}
        for clause in self.newest_clauses:
            by_lineage.setdefault(clause.lineage_id or clause.id, clause)
        if self.newest_clauses:
            for clause_id, lineage_id in db.session.execute(
                    select(ClauseOrigin.clause_id, ClauseOrigin.lineage_id).where(
                        ClauseOrigin.clause_id.in_([c.id for c in self.newest_clauses]))):
                by_lineage.setdefault(lineage_id, self.clauses[clause_id])
        self._by_lineage = by_lineage
        self._unit: dict[int, Clause | None] = {}

    def unit(self, clause_id: int | None) -> Clause | None:
        """Return the clause of the newest version that continues this one, or None."""
        if clause_id is None:
            return None
        if clause_id not in self._unit:
            found = None
            node = self.clauses.get(clause_id)
            while node is not None and found is None:
                found = self._by_lineage.get(node.lineage_id or node.id)
                node = self.clauses.get(node.parent_id) if node.parent_id else None
            self._unit[clause_id] = found
        return self._unit[clause_id]

    def article(self, clause_id: int | None) -> Clause | None:
        """Return the article of the newest version the clause's opinions belong to."""
        unit = self.unit(clause_id)
        while unit is not None and unit.kind in ("paragraph", "item", "subitem"):
            unit = self.clauses.get(unit.parent_id) if unit.parent_id else None
        return unit if unit is not None and unit.kind == "article" else None

    def articles(self) -> list[Clause]:
        """Return the newest version's articles in reading order."""
        return [c for c in self.newest_clauses if c.kind == "article"]

    def citation(self, clause: Clause) -> str:
        """Return the citation of a clause (第八条第一款第（一）项) from the loaded clauses."""
        chain = []
        node: Clause | None = clause
        while node is not None and node.kind in services.CITED_KINDS:
            chain.append(node)
            node = self.clauses.get(node.parent_id) if node.parent_id else None
        english = False
        if self.newest is not None and clause.version_id == self.newest.id:
            english = self.newest.language == "en"
        parts = [services._citation_part(unit, english) for unit in reversed(chain)]
        return services._join_citation(clause, parts, english)


# --- offline opinions and deputies' suggestions -------------------------------------------


@dataclass
class OfflineOpinion:
    """An opinion staff record by hand: a letter, an e-mail, a symposium, a research trip …"""

    source: str
    stance: str
    body: str
    submission_key: str
    #: the occasion or sender as staff note it, e.g. 东城区座谈会 or 市律师协会来函
    source_detail: str = ""
    received_at: datetime | None = None
    proposed_wording: str = ""
    #: the person or body who gave the opinion, and an e-mail address for the feedback
    name: str = ""
    email: str = ""
    region: str = ""
    sector: str = ""


def _check_text(body: str, proposed_wording: str, stance: str) -> str:
    body = body.strip()
    if not body:
        raise OpinionError(_("Write the opinion."), "body")
    if len(body) > MAX_TEXT:
        raise OpinionError(_("Keep the opinion within %(n)d characters.", n=MAX_TEXT), "body")
    if len(proposed_wording) > MAX_TEXT:
        raise OpinionError(_("Keep the proposed wording within %(n)d characters.", n=MAX_TEXT),
                           "proposed_wording")
    if stance not in STANCES:
        raise OpinionError(_("Choose whether it supports, opposes or suggests a change."),
                           "stance")
    return body


def _check_clause(draft: Draft, clause: Clause | None) -> None:
    if clause is None:
        return
    version = db.session.get(DraftVersion, clause.version_id)
    if version is None or version.draft_id != draft.id or clause.kind not in COMMENTABLE_KINDS:
        raise OpinionError(_("Choose an article, paragraph or item of this draft."), "clause")


def record_offline_opinion(draft: Draft, clause: Clause | None, data: OfflineOpinion, *,
                           user: User) -> tuple[Comment, bool]:
    """Record an opinion received outside the site; return it and whether it is new."""
    existing = services.comment_by_submission_key(data.submission_key)
    if existing is not None:
        return existing, False
    if data.source not in OFFLINE_SOURCES:
        raise OpinionError(_("Choose where the opinion came from."), "source")
    body = _check_text(data.body, data.proposed_wording, data.stance)
    _check_clause(draft, clause)
    if data.received_at is not None and data.received_at > utcnow():
        raise OpinionError(_("The date received cannot be in the future."), "received_at")
    comment = Comment(
        draft_id=draft.id, version_id=clause.version_id if clause else draft.current_version_id,
        clause_id=clause.id if clause else None, guest_name=data.name.strip(),
        guest_email=data.email.strip().lower(), stance=data.stance, body=body,
        proposed_wording=data.proposed_wording.strip(), region=data.region.strip(),
        sector=data.sector.strip(), status="recorded", source=data.source,
        source_detail=data.source_detail.strip(), received_at=data.received_at,
        submission_key=data.submission_key)
    db.session.add(comment)
    db.session.flush()
    audit.record(user, "opinion.record", comment, draft=draft.slug, source=data.source,
                 detail=comment.source_detail or None)
    signals.comment_submitted.send(comment)
    return comment, True


def may_suggest(user: User | None, draft: Draft) -> bool:
    """Tell whether the user may send a deputy's suggestion on the draft now."""
    return (user is not None and user.is_authenticated and user.is_deputy
            and draft.status in ("open", "closed"))


def submit_deputy_suggestion(draft: Draft, clause: Clause | None, *, user: User, stance: str,
                             body: str, submission_key: str,
                             proposed_wording: str = "") -> tuple[Comment, bool]:
    """Accept a deputy's suggestion (代表建议) on the draft or a clause of its current text."""
    existing = services.comment_by_submission_key(submission_key)
    if existing is not None:
        return existing, False
    if not may_suggest(user, draft):
        raise OpinionError(_("Deputies send suggestions while the draft is being considered."))
    body = _check_text(body, proposed_wording, stance)
    if clause is not None and clause.version_id != draft.current_version_id:
        raise OpinionError(_("Choose an article, paragraph or item of this draft."), "clause")
    _check_clause(draft, clause)
    comment = Comment(
        draft_id=draft.id, version_id=draft.current_version_id,
        clause_id=clause.id if clause else None, author_id=user.id, stance=stance, body=body,
        proposed_wording=proposed_wording.strip(), region=user.region, sector=user.sector,
        status="recorded", source="deputy", submission_key=submission_key)
    db.session.add(comment)
    db.session.flush()
    audit.record(user, "opinion.deputy_suggestion", comment, draft=draft.slug)
    signals.comment_submitted.send(comment)
    return comment, True


# --- dispositions -------------------------------------------------------------------------


def counted(stmt, draft: Draft):
    """Restrict a query of comments to the draft's counted opinions."""
    return stmt.where(Comment.draft_id == draft.id, Comment.status.in_(COUNTED_STATUSES))


def decide(draft: Draft, comments: list[Comment], outcome: str, reason: str,
           clause: Clause | None, *, user: User, cluster_id: int | None = None
           ) -> list[Disposition]:
    """Give each opinion this disposition; return the dispositions that changed.

    A reason is required unless the opinion was adopted.  On drafts whose dispositions are
    reviewed, a new or changed decision waits for a second staff member.  A report that was
    declared final becomes a working report again.
    """
    if outcome not in OUTCOMES:
        raise OpinionError(_("Choose a disposition."), "outcome")
    reason = reason.strip()
    if outcome != "adopted" and not reason:
        raise OpinionError(_("Give the reason: it is required unless the opinion is adopted."),
                           "reason")
    if len(reason) > MAX_REASON:
        raise OpinionError(_("Keep the reason within %(n)d characters.", n=MAX_REASON), "reason")
    if clause is not None:
        version = db.session.get(DraftVersion, clause.version_id)
        if version is None or version.draft_id != draft.id:
            raise OpinionError(_("Choose a clause of this draft."), "clause")
    if not comments:
        raise OpinionError(_("Select at least one opinion."))
    for comment in comments:
        if comment.draft_id != draft.id or comment.status not in COUNTED_STATUSES:
            raise OpinionError(_("Only the draft's published or recorded opinions can be "
                                 "decided."))
    now = utcnow()
    clause_id = clause.id if clause else None
    review_state = "pending" if draft.review_required else ""
    existing = {d.comment_id: d for d in db.session.scalars(
        select(Disposition).where(Disposition.comment_id.in_([c.id for c in comments])))}
    changed = []
    for comment in comments:
        disposition = existing.get(comment.id)
        before = None
        if disposition is None:
            disposition = Disposition(comment_id=comment.id, draft_id=draft.id)
            db.session.add(disposition)
        elif (disposition.outcome, disposition.reason, disposition.clause_id) == (
                outcome, reason, clause_id):
            continue
        else:
            before = {"outcome": disposition.outcome, "reason": disposition.reason,
                      "clause_id": disposition.clause_id}
        disposition.outcome = outcome
        disposition.reason = reason
        disposition.clause_id = clause_id
        disposition.decided_by_id = user.id
        disposition.decided_at = now
        disposition.review_state = review_state
        disposition.reviewed_by_id = None
        disposition.reviewed_at = None
        disposition.review_note = ""
        disposition.notified_at = None
        audit.record(user, "disposition.set", comment, outcome=outcome, reason=reason or None,
                     clause_id=clause_id, cluster_id=cluster_id, before=before)
        changed.append(disposition)
    if changed and draft.report_finalised_at is not None:
        reopen_report(draft, user=user)
    db.session.flush()
    return changed


def review(dispositions: list[Disposition], approve: bool, note: str = "", *,
           user: User) -> int:
    """Approve or return dispositions waiting for review; return how many were reviewed.

    The reviewer must be another staff member than the one who decided.
    """
    note = note.strip()
    if not approve and not note:
        raise OpinionError(_("Say why the decision is returned."), "note")
    done = 0
    for disposition in dispositions:
        if disposition.review_state != "pending":
            continue
        if disposition.decided_by_id == user.id:
            raise OpinionError(_("A decision is reviewed by someone other than the staff "
                                 "member who made it."))
        disposition.review_state = "approved" if approve else "returned"
        disposition.reviewed_by_id = user.id
        disposition.reviewed_at = utcnow()
        disposition.review_note = note
        audit.record(user, "disposition.approve" if approve else "disposition.return",
                     disposition.comment, note=note or None)
        done += 1
    db.session.flush()
    return done


def set_review_required(draft: Draft, required: bool, *, user: User) -> None:
    """Ask for (or stop asking for) a second person's review of each disposition.

    Turning it on sends the draft's existing decisions to review; turning it off counts the
    waiting ones as they are.
    """
    if draft.review_required == required:
        return
    draft.review_required = required
    dispositions = db.session.scalars(select(Disposition).where(
        Disposition.draft_id == draft.id))
    for disposition in dispositions:
        if required and disposition.review_state == "":
            disposition.review_state = "pending"
        elif not required and disposition.review_state in ("pending", "returned"):
            disposition.review_state = ""
    audit.record(user, "draft.review_required", draft, after=required)
    db.session.flush()


def set_topic(comments: list[Comment], topic: str, *, user: User) -> None:
    """Give opinions a topic for grouping in the workspace (empty to remove it)."""
    topic = topic.strip()[:100]
    for comment in comments:
        if comment.topic != topic:
            audit.record(user, "opinion.topic", comment, before=comment.topic or None,
                         after=topic or None)
            comment.topic = topic
    db.session.flush()


def undecided_deputy_suggestions(draft: Draft) -> int:
    """Count the deputies' suggestions without a disposition that counts."""
    decided = select(Disposition.comment_id).where(
        Disposition.draft_id == draft.id, Disposition.review_state.in_(("", "approved")))
    return db.session.scalar(counted(select(func.count()).select_from(Comment), draft).where(
        Comment.source == "deputy", Comment.id.not_in(decided))) or 0


def finalise_report(draft: Draft, *, user: User) -> None:
    """Declare the adopted-opinions report final: every deputy's suggestion has an answer."""
    missing = undecided_deputy_suggestions(draft)
    if missing:
        raise OpinionError(_("Every deputy's suggestion needs a disposition before the report "
                             "is final: %(n)d still have none.", n=missing))
    draft.report_finalised_at = utcnow()
    audit.record(user, "report.finalise", draft)


def reopen_report(draft: Draft, *, user: User) -> None:
    """Make a final report a working one again, as any change of a disposition does."""
    if draft.report_finalised_at is None:
        return
    draft.report_finalised_at = None
    audit.record(user, "report.reopen", draft)


def disposition_history(comment: Comment) -> list:
    """Return the audit entries about the opinion's dispositions, oldest first."""
    from app.models import AuditLog

    return list(db.session.scalars(
        select(AuditLog).options(joinedload(AuditLog.actor))
        .where(AuditLog.object_type == "comments", AuditLog.object_id == comment.id,
               or_(AuditLog.action.startswith("disposition."),
                   AuditLog.action.startswith("opinion.")))
        .order_by(AuditLog.id)))


# --- the workspace ------------------------------------------------------------------------

#: special values of the clause filter
WHOLE_DRAFT = "whole"
NOT_IN_TEXT = "gone"


@dataclass
class Filters:
    """What the workspace shows: every field empty means everything."""

    #: an article id of the newest version, WHOLE_DRAFT or NOT_IN_TEXT
    clause: str = ""
    source: str = ""
    stance: str = ""
    #: an outcome, or "none" for the undecided ones
    outcome: str = ""
    #: a review state, on drafts whose dispositions are reviewed
    review: str = ""
    topic: str = ""
    #: words the text must contain
    q: str = ""
    #: only opinions in campaigns
    campaigns: bool = False
    #: group by the topics staff gave instead of by article
    by_topic: bool = False


@dataclass
class Row:
    """One line of the workspace: an opinion, or a campaign shown through one of its members."""

    comment: Comment
    #: the campaign's size (received with this text) and how many of it the filters kept
    cluster_size: int = 0
    cluster_shown: int = 0


@dataclass
class Group:
    """The opinions on one article of the newest text (or on the draft, or on deleted text)."""

    key: str
    title: str
    clause: Clause | None
    received: int = 0
    unique: int = 0
    rows: list[Row] = field(default_factory=list)


@dataclass
class Workspace:
    """One page of the workspace with the totals of everything the filters kept."""

    groups: list[Group]
    received: int
    unique: int
    page: int
    pages: int
    rows: int


def unique_count(pairs) -> int:
    """Count distinct texts among (comment id, cluster id) pairs: a campaign counts once."""
    clusters = set()
    alone = 0
    for _id, cluster_id in pairs:
        if cluster_id is None:
            alone += 1
        else:
            clusters.add(cluster_id)
    return alone + len(clusters)


def group_key(places: ClausePlaces, clause_id: int | None) -> str:
    """Return the workspace group of an opinion on a clause: an article id, or a special key."""
    if clause_id is None:
        return WHOLE_DRAFT
    article = places.article(clause_id)
    return str(article.id) if article is not None else NOT_IN_TEXT


def group_title(places: ClausePlaces, key: str) -> tuple[str, Clause | None]:
    """Return the heading of a workspace group and its article."""
    if key == WHOLE_DRAFT:
        return _("The draft as a whole"), None
    if key == NOT_IN_TEXT:
        return _("Text no longer in the newest version"), None
    article = places.clauses[int(key)]
    return f"{article.label} {article.heading}".strip(), article


def _filtered(draft: Draft, filters: Filters):
    stmt = counted(select(Comment.id, Comment.clause_id, Comment.cluster_id, Comment.topic),
                   draft)
    if filters.source:
        stmt = stmt.where(Comment.source == filters.source)
    if filters.stance:
        stmt = stmt.where(Comment.stance == filters.stance)
    if filters.topic:
        stmt = stmt.where(Comment.topic == filters.topic)
    if filters.campaigns:
        stmt = stmt.where(Comment.cluster_id.is_not(None))
    if filters.q.strip():
        words = filters.q.strip()
        stmt = stmt.where(or_(Comment.body.contains(words, autoescape=True),
                              Comment.proposed_wording.contains(words, autoescape=True)))
    if filters.outcome == "none":
        stmt = stmt.where(Comment.id.not_in(select(Disposition.comment_id).where(
            Disposition.draft_id == draft.id)))
    elif filters.outcome or filters.review:
        stmt = stmt.join(Disposition, Disposition.comment_id == Comment.id)
        if filters.outcome:
            stmt = stmt.where(Disposition.outcome == filters.outcome)
        if filters.review:
            stmt = stmt.where(Disposition.review_state == filters.review)
    return stmt.order_by(Comment.id)


def workspace(draft: Draft, filters: Filters, *, page: int = 1, per_page: int = 100,
              places: ClausePlaces | None = None) -> Workspace:
    """Return the opinions the filters keep, grouped by article of the newest text (or by
    topic).

    A campaign is shown once per group, through its earliest member the filters kept;
    pages hold `per_page` such lines.
    """
    places = places or ClausePlaces(draft)
    order: dict[str, object] = {str(a.id): i for i, a in enumerate(places.articles(), start=1)}
    order[WHOLE_DRAFT] = 0
    order[NOT_IN_TEXT] = len(order) + 1
    topic_keys: dict[str, str] = {}
    lines: list[tuple[object, str, int, int | None]] = []  # (group order, key, id, cluster)
    seen: Counter[tuple[str, int]] = Counter()
    received: Counter[str] = Counter()
    uniques: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
    for comment_id, clause_id, cluster_id, topic in db.session.execute(
            _filtered(draft, filters)):
        key = group_key(places, clause_id)
        if filters.clause and key != filters.clause:
            continue
        if filters.by_topic:
            key = topic_keys.setdefault(topic, f"topic-{len(topic_keys) + 1}")
            order[key] = (topic == "", topic)  # opinions without a topic come last
        received[key] += 1
        uniques[key].append((comment_id, cluster_id))
        if cluster_id is not None:
            seen[key, cluster_id] += 1
            if seen[key, cluster_id] > 1:
                continue
        lines.append((order.get(key, 0), key, comment_id, cluster_id))
    lines.sort()
    pages = max(1, -(-len(lines) // per_page))
    page = min(max(page, 1), pages)
    shown = lines[(page - 1) * per_page:page * per_page]
    comments = {c.id: c for c in db.session.scalars(
        select(Comment).options(joinedload(Comment.author), joinedload(Comment.clause),
                                selectinload(Comment.disposition))
        .where(Comment.id.in_([line[2] for line in shown])))}
    sizes = cluster_sizes({line[3] for line in shown if line[3] is not None})
    groups: dict[str, Group] = {}
    topics_of = {key: topic for topic, key in topic_keys.items()}
    for _order, key, comment_id, cluster_id in shown:
        if key not in groups:
            if key in topics_of:
                title, clause = topics_of[key] or _("No topic"), None
            else:
                title, clause = group_title(places, key)
            groups[key] = Group(key, title, clause, received[key], unique_count(uniques[key]))
        groups[key].rows.append(Row(
            comments[comment_id], sizes.get(cluster_id, 0) if cluster_id else 0,
            seen[key, cluster_id] if cluster_id else 0))
    total = sum(received.values())
    return Workspace(list(groups.values()), total,
                     sum(unique_count(pairs) for pairs in uniques.values()), page, pages,
                     len(lines))


def cluster_sizes(cluster_ids) -> dict[int, int]:
    """Return the size (opinions received with the text) of each campaign."""
    from drafts.models import OpinionCluster

    ids = list(cluster_ids)
    if not ids:
        return {}
    return dict(db.session.execute(
        select(OpinionCluster.id, OpinionCluster.size).where(OpinionCluster.id.in_(ids))).all())


def topics(draft: Draft) -> list[str]:
    """Return the topics staff gave the draft's opinions, alphabetically."""
    return list(db.session.scalars(
        select(Comment.topic).where(Comment.draft_id == draft.id, Comment.topic != "")
        .distinct().order_by(Comment.topic)))


@dataclass
class Totals:
    """The counts the workspace and the reports head with."""

    received: int
    unique: int
    decided: int
    by_outcome: dict[str, int]
    by_source: dict[str, int]
    by_stance: dict[str, int]
    awaiting_moderation: int
    awaiting_review: int
    deputy_undecided: int

    @property
    def undecided(self) -> int:
        return self.received - self.decided


def totals(draft: Draft) -> Totals:
    """Count the draft's opinions: received, unique, decided, by outcome, source and stance."""
    rows = db.session.execute(counted(
        select(Comment.id, Comment.cluster_id, Comment.source, Comment.stance,
               Disposition.outcome, Disposition.review_state)
        .outerjoin(Disposition, Disposition.comment_id == Comment.id), draft)).all()
    by_outcome: Counter[str] = Counter()
    decided = awaiting_review = 0
    for row in rows:
        if row.outcome is not None:
            decided += 1
            by_outcome[row.outcome] += 1
            awaiting_review += row.review_state == "pending"
    waiting = db.session.scalar(select(func.count()).select_from(Comment).where(
        Comment.draft_id == draft.id, Comment.status == "pending")) or 0
    return Totals(
        received=len(rows),
        unique=unique_count((r.id, r.cluster_id) for r in rows),
        decided=decided,
        by_outcome={o: by_outcome[o] for o in OUTCOMES if by_outcome[o]},
        by_source=dict(Counter(r.source for r in rows).most_common()),
        by_stance={s: n for s in STANCES if (n := sum(r.stance == s for r in rows))},
        awaiting_moderation=waiting,
        awaiting_review=awaiting_review,
        deputy_undecided=undecided_deputy_suggestions(draft),
    )


def selected_comments(draft: Draft, ids: list[int], *, whole_clusters: bool) -> list[Comment]:
    """Return the draft's counted opinions with these ids, and with `whole_clusters` every
    other member of their campaigns."""
    if not ids:
        return []
    chosen = list(db.session.scalars(counted(select(Comment), draft).where(Comment.id.in_(ids))))
    if whole_clusters:
        clusters = {c.cluster_id for c in chosen if c.cluster_id is not None}
        if clusters:
            chosen += db.session.scalars(counted(select(Comment), draft).where(
                Comment.cluster_id.in_(clusters), Comment.id.not_in([c.id for c in chosen])))
    return sorted(chosen, key=lambda c: c.id)
