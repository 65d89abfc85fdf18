"""Versions of a draft: adding one, comparing any two, clause lineage across versions, staff
corrections of the pairing, and the comments made on earlier wording.  Callers commit."""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import joinedload

from app import audit
from app.extensions import db
from app.forms import plain_number
from app.models import User
from drafts import comparison, services
from drafts.alignment import Alignment, align
from drafts.models import (
    COMMENTABLE_KINDS,
    AlignmentOverride,
    Clause,
    ClauseOrigin,
    Comment,
    Draft,
    DraftVersion,
)
from drafts.parser import Node, ParsedText

#: labels offered when adding a version; any other text is accepted too
VERSION_LABELS = ("征求意见稿", "一审稿", "二审稿", "三审稿", "通过稿")
#: alignments each application keeps (a 120-article pair with its diffs is about 1 MB)
ALIGNMENT_CACHE_SIZE = 16
_CONTAINER_KINDS = ("part", "subpart", "chapter", "section")


# --- versions -----------------------------------------------------------------------------


def versions_of(draft: Draft, *, public: bool) -> list[DraftVersion]:
    """Return the draft's versions in order; the public sees none after the current one.

    A version staff added without making it current is their working text until they do.
    """
    versions = list(db.session.scalars(
        select(DraftVersion).where(DraftVersion.draft_id == draft.id)
        .order_by(DraftVersion.sequence)))
    if not public:
        return versions
    current = next((v for v in versions if v.id == draft.current_version_id), None)
    limit = current.sequence if current else 0
    return [v for v in versions if v.sequence <= limit]


def previous_version(version: DraftVersion) -> DraftVersion | None:
    """Return the version right before this one, the one its lineage is taken from."""
    return db.session.scalar(
        select(DraftVersion).where(DraftVersion.draft_id == version.draft_id,
                                   DraftVersion.sequence < version.sequence)
        .order_by(DraftVersion.sequence.desc()).limit(1))


def add_version(
    draft: Draft,
    text: str,
    *,
    label: str,
    user: User | None,
    note: str = "",
    make_current: bool = True,
    source_filename: str = "",
    parsed: ParsedText | None = None,
) -> DraftVersion:
    """Store a new version, give its clauses their lineage, and make it current if asked."""
    if draft.status == "draft":
        # Until it is published a draft has one text, which staff edit in place.
        raise services.DraftError(_("Publish the draft before adding a version; until then, "
                                    "edit its text."))
    label = label.strip()
    if not label:
        raise services.DraftError(_("Give the version a label, such as 二审稿."))
    version = services.add_version(draft, text, label=label, user=user, note=note.strip(),
                                   source_filename=source_filename, parsed=parsed)
    previous = previous_version(version)
    if previous is not None:
        assign_lineage(previous, version)
    if make_current:
        draft.current_version = version
    audit.record(user, "version.add", version, draft=draft.slug, sequence=version.sequence,
                 label=label, current=make_current)
    return version


def set_current(draft: Draft, version: DraftVersion, *, user: User) -> None:
    """Show this version to the public and take comments on it from now on."""
    if version.draft_id != draft.id:
        raise services.DraftError(_("This version belongs to another draft."))
    before = draft.current_version.sequence if draft.current_version else None
    draft.current_version = version
    audit.record(user, "version.current", version, draft=draft.slug, before=before,
                 after=version.sequence)


# --- aligning two stored versions ---------------------------------------------------------


def _clauses(version: DraftVersion) -> list[Clause]:
    return list(db.session.scalars(
        select(Clause).where(Clause.version_id == version.id).order_by(Clause.position)))


def article_nodes(clauses: list[Clause]) -> list[Node]:
    """Rebuild the parser's article nodes from stored clauses (ordered by position).

    The stored tree, not a new parse of the source text, so that anchors always match the
    clauses comments were made on, whatever later changes to the parser.
    """
    nodes: dict[int, Node] = {}
    articles = []
    for clause in clauses:
        node = Node(clause.kind, clause.label, heading=clause.heading, text=clause.text,
                    number=clause.number, sub_number=clause.sub_number, anchor=clause.anchor)
        nodes[clause.id] = node
        if clause.parent_id is not None and clause.parent_id in nodes:
            nodes[clause.parent_id].children.append(node)
        if clause.kind == "article":
            articles.append(node)
    return articles


def overrides_for(old: DraftVersion, new: DraftVersion) -> list[AlignmentOverride]:
    """Return the staff corrections for this pair of versions, oldest first."""
    return list(db.session.scalars(
        select(AlignmentOverride).where(AlignmentOverride.old_version_id == old.id,
                                        AlignmentOverride.new_version_id == new.id)
        .order_by(AlignmentOverride.id)))


def _indexes(overrides: list[AlignmentOverride], old: list[Node], new: list[Node]
             ) -> list[tuple[list[int], list[int]]]:
    old_at = {node.anchor: i for i, node in enumerate(old)}
    new_at = {node.anchor: j for j, node in enumerate(new)}
    return [([old_at[a] for a in o.old_anchors], [new_at[a] for a in o.new_anchors])
            for o in overrides]


class AlignmentCache:
    """The most recently used alignments of an application, shared by its threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Alignment] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Alignment | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, value: Alignment) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def align_versions(old: DraftVersion, new: DraftVersion) -> Alignment:
    """Align two stored versions with their staff corrections (cached per application).

    A version's clauses never change, so the key is the two versions (with their creation
    times, since ids can be reused after a replaced text) and the corrections in force.
    """
    overrides = overrides_for(old, new)
    key = (old.id, old.created_at, new.id, new.created_at,
           tuple((tuple(o.old_anchors), tuple(o.new_anchors)) for o in overrides))
    cache: AlignmentCache = current_app.extensions["minyi_alignment_cache"]
    found = cache.get(key)
    if found is None:
        old_nodes = article_nodes(_clauses(old))
        new_nodes = article_nodes(_clauses(new))
        found = align(old_nodes, new_nodes, overrides=_indexes(overrides, old_nodes, new_nodes))
        cache.put(key, found)
    return found


def compare(old: DraftVersion, new: DraftVersion) -> comparison.Comparison:
    """Return the comparison of two versions of one draft, rows ready to print."""
    return comparison.build(align_versions(old, new))


# --- staff corrections --------------------------------------------------------------------


def correct_pairing(old: DraftVersion, new: DraftVersion, old_anchors: list[str],
                    new_anchors: list[str], *, user: User) -> AlignmentOverride:
    """Record that these old articles became these new ones (one side may be empty).

    Corrections already made for the pair that name any of the same articles are replaced.
    When the versions are consecutive the lineage of the newer one (and of every version
    after it) is worked out again.
    """
    if old.draft_id != new.draft_id or old.id == new.id:
        raise services.DraftError(_("Choose two different versions of the same draft."))
    old_articles = _article_anchors(old)
    new_articles = _article_anchors(new)
    old_anchors = [a for a in old_articles if a in set(old_anchors)]
    new_anchors = [a for a in new_articles if a in set(new_anchors)]
    if not old_anchors and not new_anchors:
        raise services.DraftError(_("Choose at least one article."))
    if len(old_anchors) > 1 and len(new_anchors) > 1:
        raise services.DraftError(_("Choose one article on at least one side: several old "
                                    "articles merge into one, or one splits into several."))
    for existing in overrides_for(old, new):
        if set(existing.old_anchors) & set(old_anchors) or (
                set(existing.new_anchors) & set(new_anchors)):
            db.session.delete(existing)
    override = AlignmentOverride(draft_id=old.draft_id, old_version_id=old.id,
                                 new_version_id=new.id, old_anchors=old_anchors,
                                 new_anchors=new_anchors, created_by_id=user.id)
    db.session.add(override)
    db.session.flush()
    audit.record(user, "alignment.override", override, old_version=old.sequence,
                 new_version=new.sequence, old=old_anchors, new=new_anchors)
    _relineage_if_consecutive(old, new)
    return override


def remove_correction(override: AlignmentOverride, *, user: User) -> None:
    """Drop a correction: the pair is aligned by content again."""
    old = db.session.get(DraftVersion, override.old_version_id)
    new = db.session.get(DraftVersion, override.new_version_id)
    audit.record(user, "alignment.override_removed", override, old=override.old_anchors,
                 new=override.new_anchors)
    db.session.delete(override)
    db.session.flush()
    if old is not None and new is not None:
        _relineage_if_consecutive(old, new)


def _article_anchors(version: DraftVersion) -> list[str]:
    return list(db.session.scalars(
        select(Clause.anchor).where(Clause.version_id == version.id, Clause.kind == "article")
        .order_by(Clause.position)))


def _relineage_if_consecutive(old: DraftVersion, new: DraftVersion) -> None:
    previous = previous_version(new)
    if previous is None or previous.id != old.id:
        return
    later = db.session.scalars(
        select(DraftVersion).where(DraftVersion.draft_id == new.draft_id,
                                   DraftVersion.sequence >= new.sequence)
        .order_by(DraftVersion.sequence)).all()
    before = old
    for version in later:  # later versions inherited the lineage being corrected
        assign_lineage(before, version)
        before = version


# --- lineage ------------------------------------------------------------------------------


def assign_lineage(old: DraftVersion, new: DraftVersion) -> None:
    """Give each clause of `new` the lineage of the clause it continues in `old`.

    Articles, paragraphs and items follow the alignment's anchor map; chapters and sections
    follow their heading; sub-items their text.  A clause with no predecessor starts a
    lineage of its own.  See ClauseOrigin for the wording a clause carries besides.
    """
    alignment = align_versions(old, new)
    old_clauses = _clauses(old)
    new_clauses = _clauses(new)
    old_at = {c.anchor: c for c in old_clauses}
    new_at = {c.anchor: c for c in new_clauses}
    old_by_id = {c.id: c for c in old_clauses}
    carried = _origins([c.id for c in old_clauses])

    def lineages(clause: Clause) -> set[int]:
        assert clause.lineage_id is not None
        return {clause.lineage_id} | carried.get(clause.id, set())

    successor: dict[int, Clause] = {}
    for old_anchor, new_anchor in alignment.anchor_map.items():
        if old_anchor in old_at and new_anchor in new_at:
            successor[old_at[old_anchor].id] = new_at[new_anchor]
    _match_containers(old_clauses, new_clauses, successor)
    _match_subitems(old_clauses, new_clauses, successor)

    predecessors: dict[int, list[Clause]] = defaultdict(list)
    for old_id, clause in successor.items():
        predecessors[clause.id].append(old_by_id[old_id])
    extra: dict[int, set[int]] = defaultdict(set)
    for pair in alignment.pairs:
        if len(pair.old) == 1 and len(pair.new) > 1:
            # The parts of a split other than the one the article continues in.
            source = old_at[pair.old[0].anchor]
            kept = successor.get(source.id)
            for part in pair.new:
                if kept is None or part.anchor != kept.anchor:
                    extra[new_at[part.anchor].id] |= lineages(source)
    for clause in old_clauses:
        if clause.id in successor or clause.kind not in COMMENTABLE_KINDS:
            continue
        # Deleted from a unit that lives on: its comments belong to that unit now.
        parent = old_by_id.get(clause.parent_id) if clause.parent_id else None
        while parent is not None and parent.kind in COMMENTABLE_KINDS:
            if parent.id in successor:
                extra[successor[parent.id].id] |= lineages(clause)
                break
            parent = old_by_id.get(parent.parent_id) if parent.parent_id else None

    db.session.execute(delete(ClauseOrigin).where(
        ClauseOrigin.clause_id.in_(select(Clause.id).where(Clause.version_id == new.id))))
    rows = []
    for clause in new_clauses:
        before = sorted(predecessors.get(clause.id, []), key=lambda c: c.position)
        lineage = before[0].lineage_id if before else clause.id
        if clause.lineage_id != lineage:
            clause.lineage_id = lineage
        origins = set(extra.get(clause.id, set()))
        for predecessor in before:
            origins |= lineages(predecessor)
        origins.discard(lineage)
        rows += [ClauseOrigin(clause_id=clause.id, lineage_id=x) for x in sorted(origins)]
    db.session.add_all(rows)
    db.session.flush()


def _origins(clause_ids: list[int]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = defaultdict(set)
    if clause_ids:
        for clause_id, lineage_id in db.session.execute(
                select(ClauseOrigin.clause_id, ClauseOrigin.lineage_id)
                .where(ClauseOrigin.clause_id.in_(clause_ids))):
            found[clause_id].add(lineage_id)
    return found


def _match_containers(old: list[Clause], new: list[Clause], successor: dict[int, Clause]) -> None:
    """Chapters and sections continue where kind and heading are the same and unique."""

    def unique(clauses: list[Clause]) -> dict[tuple[str, str], Clause]:
        seen: dict[tuple[str, str], list[Clause]] = defaultdict(list)
        for c in clauses:
            if c.kind in _CONTAINER_KINDS:
                seen[(c.kind, "".join(c.heading.split()))].append(c)
        return {key: found[0] for key, found in seen.items() if len(found) == 1}

    new_unique = unique(new)
    for key, clause in unique(old).items():
        if key in new_unique:
            successor[clause.id] = new_unique[key]


def _match_subitems(old: list[Clause], new: list[Clause], successor: dict[int, Clause]) -> None:
    """A sub-item (目) continues as the sub-item with the same text under its item's successor."""
    children: dict[int, list[Clause]] = defaultdict(list)
    for c in new:
        if c.kind == "subitem" and c.parent_id is not None:
            children[c.parent_id].append(c)
    for c in old:
        if c.kind != "subitem" or c.parent_id not in successor:
            continue
        parent = successor[c.parent_id]
        same = [n for n in children.get(parent.id, []) if n.text == c.text]
        if same:
            successor[c.id] = same[0]


# --- comments on earlier wording ----------------------------------------------------------


def _earlier_versions(version: DraftVersion):
    return select(DraftVersion.id).where(DraftVersion.draft_id == version.draft_id,
                                         DraftVersion.sequence < version.sequence)


def _lineage_sets(clauses: Iterable[Clause]) -> dict[int, set[int]]:
    """Every lineage each clause carries: its own and its origins."""
    clauses = list(clauses)
    carried = _origins([c.id for c in clauses])
    return {c.id: {c.lineage_id or c.id} | carried.get(c.id, set()) for c in clauses}


def add_earlier_counts(tree: list[services.ClauseNode], version: DraftVersion | None) -> None:
    """Set each node's count of published comments on the earlier wording of its subtree.

    Reads the clauses' comment counters, not the comments: two small queries per page.
    """
    if version is None or version.sequence <= 1:
        return
    by_lineage = dict(db.session.execute(
        select(Clause.lineage_id, func.sum(Clause.comment_count))
        .where(Clause.version_id.in_(_earlier_versions(version)), Clause.comment_count > 0)
        .group_by(Clause.lineage_id)).all())
    if not by_lineage:
        return
    nodes = []
    stack = list(tree)
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node.children)
    sets = _lineage_sets(node.clause for node in nodes)

    def total(node: services.ClauseNode) -> int:
        own = sum(by_lineage.get(x, 0) for x in sets[node.clause.id])
        node.earlier_comments = own + sum(total(child) for child in node.children)
        return node.earlier_comments

    for root in tree:
        total(root)


@dataclass
class EarlierWording:
    """A clause of an earlier version whose comments are shown with a newer clause."""

    clause: Clause
    citation: str
    text: str


@dataclass
class EarlierComments:
    """One page of the published comments on the earlier wording of a clause."""

    wordings: list[EarlierWording]
    comments: list[Comment]
    total: int
    next_cursor: str | None
    #: comment.clause_id → the wording it was made on
    where: dict[int, EarlierWording] = field(default_factory=dict)


def subtree(unit: Clause) -> list[Clause]:
    """Return the unit and every clause under it, in reading order."""
    later = (Clause.version_id == unit.version_id, Clause.position > unit.position)
    # the subtree ends at the next clause as high as the unit: only the rows in between load
    end = select(func.min(Clause.position)).where(*later, Clause.depth <= unit.depth)
    end = end.scalar_subquery()
    inside = db.session.scalars(
        select(Clause).where(*later, or_(end.is_(None), Clause.position < end))
        .order_by(Clause.position))
    return [unit, *inside]


def earlier_comments(unit: Clause, version: DraftVersion, *, per_page: int = 20,
                     cursor: str | None = None) -> EarlierComments | None:
    """Return the published comments on the earlier wording of a unit of `version` and of its
    parts, newest first with keyset pagination; None when there are none."""
    if version.sequence <= 1:
        return None
    lineages = set().union(*_lineage_sets(subtree(unit)).values())
    old = db.session.scalars(
        select(Clause).options(joinedload(Clause.version))
        .where(Clause.version_id.in_(_earlier_versions(version)),
               Clause.lineage_id.in_(lineages), Clause.comment_count > 0)
        .order_by(Clause.version_id, Clause.position)).all()
    if not old:
        return None
    wordings = [EarlierWording(c, services.unit_label(c), services.unit_text(c)) for c in old]
    stmt = (select(Comment).options(joinedload(Comment.author))
            .where(Comment.clause_id.in_([c.id for c in old]), Comment.status == "published")
            .order_by(Comment.id.desc()))
    after = plain_number(cursor)
    if after is not None:
        stmt = stmt.where(Comment.id < after)
    rows = list(db.session.scalars(stmt.limit(per_page + 1)).unique())
    next_cursor = str(rows[per_page - 1].id) if len(rows) > per_page else None
    return EarlierComments(wordings, rows[:per_page], sum(c.comment_count for c in old),
                           next_cursor, {w.clause.id: w for w in wordings})
