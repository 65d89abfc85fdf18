"""Draft and comment operations: plain arguments in, model objects out; callers commit."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app import audit, signals
from app.extensions import db
from app.models import User, utcnow
from drafts.models import (
    AGE_BANDS,
    COMMENTABLE_KINDS,
    STANCES,
    Clause,
    Comment,
    CommentSupport,
    Draft,
    DraftVersion,
)
from drafts.parser import ParsedText, docx_text, int_to_chinese_numeral, parse

#: which status a draft may move to from each status
TRANSITIONS = {
    "draft": ("open",),
    "open": ("closed",),
    "closed": ("open", "adopted"),
    "adopted": (),
}
UPLOAD_SUFFIXES = (".txt", ".md", ".docx")


class DraftError(ValueError):
    """An operation on a draft that cannot be carried out; the message is for the user."""


class CommentError(ValueError):
    """A comment that cannot be accepted; `field` names the form field at fault, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- reading texts ------------------------------------------------------------------------


def read_upload(filename: str, data: bytes) -> tuple[str, ParsedText]:
    """Return the text of an uploaded .txt, .md or .docx file and its parse."""
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in UPLOAD_SUFFIXES:
        raise DraftError(_("Upload a .txt, .md or .docx file."))
    if suffix == ".docx":
        try:
            text = docx_text(data)
        except ValueError as error:
            raise DraftError(
                _("The .docx file cannot be read: %(reason)s", reason=str(error))
            ) from error
        return text, parse(text)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DraftError(_("The file is not UTF-8 or GB18030 text."))
    return text, parse(text)


# --- drafts and versions ------------------------------------------------------------------


def make_slug(title: str) -> str:
    """Return a URL name for a new draft: ASCII words of the title, else a random one."""
    words = re.findall(r"[A-Za-z0-9]+", title.lower())
    base = "-".join(words)[:60].strip("-") or "draft"
    slug = base
    while db.session.scalar(select(Draft.id).where(Draft.slug == slug)) is not None:
        slug = f"{base}-{secrets.token_hex(2)}"
    return slug


def create_draft(
    title: str,
    text: str,
    *,
    user: User | None,
    slug: str | None = None,
    summary: str = "",
    explanation: str = "",
    office: str = "",
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    moderation: str = "pre",
    allow_guests: bool = False,
    sectors: list[str] | None = None,
    regions: list[str] | None = None,
    version_label: str = "征求意见稿",
    source_filename: str = "",
    parsed: ParsedText | None = None,
) -> Draft:
    """Create a draft (status "draft") with its first version parsed from `text`."""
    if slug and db.session.scalar(select(Draft.id).where(Draft.slug == slug)) is not None:
        raise DraftError(_("This URL name is already used by another draft."))
    check_window(opens_at, closes_at)
    draft = Draft(
        slug=slug or make_slug(title),
        title=title.strip(),
        summary=summary,
        explanation=explanation,
        office=office,
        opens_at=opens_at,
        closes_at=closes_at,
        moderation=moderation,
        allow_guests=allow_guests,
        sectors=sectors or [],
        regions=regions or [],
        created_by_id=user.id if user else None,
    )
    db.session.add(draft)
    db.session.flush()
    version = add_version(draft, text, label=version_label, user=user,
                          source_filename=source_filename, parsed=parsed)
    draft.current_version = version
    audit.record(user, "draft.create", draft, title=draft.title)
    return draft


def check_window(opens_at: datetime | None, closes_at: datetime | None) -> None:
    """Refuse a comment window that closes before it opens."""
    if opens_at and closes_at and closes_at <= opens_at:
        raise DraftError(_("The comment window must close after it opens."))


def add_version(
    draft: Draft,
    text: str,
    *,
    label: str,
    user: User | None,
    note: str = "",
    source_filename: str = "",
    parsed: ParsedText | None = None,
) -> DraftVersion:
    """Parse `text` and store it as the draft's next version with its clause tree."""
    parsed = parsed or parse(text)
    if not parsed.articles():
        raise DraftError(_("No articles were found in the text (lines starting with 第…条 "
                           "or Article …)."))
    sequence = (db.session.scalar(
        select(func.max(DraftVersion.sequence)).where(DraftVersion.draft_id == draft.id)
    ) or 0) + 1
    version = DraftVersion(
        draft=draft,
        sequence=sequence,
        label=label,
        note=note,
        text_title=parsed.title,
        preamble=list(parsed.preamble),
        language=parsed.language,
        source_text=text,
        source_filename=source_filename,
        created_by_id=user.id if user else None,
    )
    db.session.add(version)
    db.session.flush()
    _store_clauses(version, parsed)
    signals.version_created.send(version)
    return version


def _store_clauses(version: DraftVersion, parsed: ParsedText) -> None:
    position = 0

    def store(node, parent: Clause | None, depth: int) -> None:
        nonlocal position
        position += 1
        clause = Clause(
            version=version,
            parent=parent,
            kind=node.kind,
            label=node.label,
            heading=node.heading,
            text=node.text,
            number=node.number,
            sub_number=node.sub_number,
            anchor=node.anchor,
            position=position,
            depth=depth,
        )
        db.session.add(clause)
        for child in node.children:
            store(child, clause, depth + 1)

    for node in parsed.nodes:
        store(node, None, 0)
    db.session.flush()
    db.session.execute(
        update(Clause)
        .where(Clause.version_id == version.id, Clause.lineage_id.is_(None))
        .values(lineage_id=Clause.id)
    )


def replace_text(draft: Draft, text: str, *, user: User | None, source_filename: str = "",
                 parsed: ParsedText | None = None) -> DraftVersion:
    """Replace the only version's text while the draft is unpublished."""
    if draft.status != "draft":
        raise DraftError(_("A published draft's text cannot be replaced; add a new version."))
    version = draft.current_version
    label = version.label if version else "征求意见稿"
    draft.current_version = None
    db.session.flush()
    if version is not None:
        db.session.delete(version)
        db.session.flush()
    new = add_version(draft, text, label=label, user=user, source_filename=source_filename,
                      parsed=parsed)
    new.sequence = 1
    draft.current_version = new
    return new


def change_status(draft: Draft, status: str, *, user: User, reason: str = "") -> None:
    """Move a draft along draft → open → closed → adopted."""
    if status not in TRANSITIONS.get(draft.status, ()):
        raise DraftError(_("A draft cannot move from this status to that one."))
    before = draft.status
    draft.status = status
    if status == "open" and draft.published_at is None:
        draft.published_at = utcnow()
        if draft.opens_at is None:
            draft.opens_at = draft.published_at
        signals.draft_published.send(draft)
    if status == "adopted":
        draft.adopted_at = utcnow()
    audit.record(user, "draft.status", draft, before=before, after=status, reason=reason or None)


def public_drafts() -> list[Draft]:
    """Return the drafts the public can see, newest first."""
    return list(db.session.scalars(
        select(Draft).where(Draft.status != "draft").order_by(Draft.published_at.desc())
    ))


# Statements of the hottest paths are built once: building one costs about as much CPU as
# running it on SQLite (docs/benchmarks.md, intake).
_DRAFT_BY_SLUG = select(Draft).where(Draft.slug == bindparam("slug")).options(
    joinedload(Draft.current_version).defer(DraftVersion.source_text))
_DRAFT_WITH_UNIT = (
    select(Draft, Clause)
    .outerjoin(Clause, and_(Clause.version_id == Draft.current_version_id,
                            Clause.anchor == bindparam("anchor")))
    .where(Draft.slug == bindparam("slug"))
)


def draft_by_slug(slug: str) -> Draft | None:
    """Return the draft with its current version (every page of a draft reads it)."""
    return db.session.scalar(_DRAFT_BY_SLUG, {"slug": slug})


def draft_with_unit(slug: str, anchor: str) -> tuple[Draft | None, Clause | None]:
    """Return the draft and the clause of its current version that `anchor` names, in one
    query; the clause is None when the anchor is empty or names nothing."""
    row = db.session.execute(_DRAFT_WITH_UNIT, {"slug": slug, "anchor": anchor}).first()
    return (row[0], row[1]) if row is not None else (None, None)


# --- the clause tree ----------------------------------------------------------------------


@dataclass
class ClauseNode:
    """A clause with its children and the published comments on its whole subtree."""

    clause: Clause
    children: list[ClauseNode]
    total_comments: int = 0
    #: published comments on the earlier wording of the subtree (see drafts.versions)
    earlier_comments: int = 0
    #: the parent clause's node; None at the top of the tree
    parent: ClauseNode | None = field(default=None, repr=False, compare=False)
    #: whether the text is English, which changes how citations read
    english: bool = False

    # Citations are made from the parent's on first use: unit_label per clause walked the
    # parents through the ORM, and making all of them for every request of the draft page
    # cost a tenth of it when its rendered text comes from the cache.
    @cached_property
    def citation_parts(self) -> list[str]:
        """Return the citation's parts from the article down; empty above articles."""
        if self.clause.kind not in CITED_KINDS:
            return []
        above = self.parent.citation_parts if self.parent is not None else []
        return [*above, _citation_part(self.clause, self.english)]

    @property
    def citation(self) -> str:
        """Return what unit_label returns for the clause, e.g. 第八条第一款第一项."""
        return _join_citation(self.clause, self.citation_parts, self.english)


def clause_tree(version: DraftVersion) -> list[ClauseNode]:
    """Load the version's clauses in one query and return the tree with subtree counts."""
    clauses = db.session.scalars(
        select(Clause).where(Clause.version_id == version.id).order_by(Clause.position)
    ).all()
    english = version.language == "en"
    nodes: dict[int, ClauseNode] = {}
    roots: list[ClauseNode] = []
    for clause in clauses:
        parent = nodes[clause.parent_id] if clause.parent_id is not None else None
        node = ClauseNode(clause, [], parent=parent, english=english)
        nodes[clause.id] = node
        if parent is None:
            roots.append(node)
        else:
            parent.children.append(node)

    def total(node: ClauseNode) -> int:
        node.total_comments = node.clause.comment_count + sum(total(c) for c in node.children)
        return node.total_comments

    for root in roots:
        total(root)
    return roots


def clause_by_anchor(version: DraftVersion, anchor: str) -> Clause | None:
    return db.session.scalar(
        select(Clause).where(Clause.version_id == version.id, Clause.anchor == anchor)
    )


def article_of(clause: Clause) -> Clause:
    """Return the article a clause belongs to (itself for articles and above)."""
    node = clause
    while node.kind in ("paragraph", "item", "subitem") and node.parent is not None:
        node = node.parent
    return node


# --- comments -----------------------------------------------------------------------------


def new_submission_key() -> str:
    """Return a fresh key for a comment form; the same key never yields two comments."""
    return secrets.token_urlsafe(24)


@dataclass
class CommentInput:
    """What a commenter typed, as plain data."""

    stance: str
    body: str
    submission_key: str
    proposed_wording: str = ""
    region: str = ""
    sector: str = ""
    age_band: str = ""
    guest_name: str = ""
    guest_email: str = ""


def submit_comment(
    draft: Draft,
    clause: Clause | None,
    data: CommentInput,
    *,
    user: User | None,
    max_length: int = 5000,
    now: datetime | None = None,
) -> tuple[Comment, bool]:
    """Accept a comment; return it and whether it is new (False for a repeated submission)."""
    existing = comment_by_submission_key(data.submission_key)
    if existing is not None:
        return existing, False
    if not draft.is_open_for_comment(now):
        raise CommentError(_("This draft is not open for comment."))
    if clause is not None and (
        clause.kind not in COMMENTABLE_KINDS or clause.version_id != draft.current_version_id
    ):
        raise CommentError(_("Comments can be made on an article, paragraph or item."))
    body = data.body.strip()
    if not body:
        raise CommentError(_("Write your comment."), "body")
    if len(body) > max_length:
        raise CommentError(_("Keep the comment within %(n)d characters.", n=max_length), "body")
    if len(data.proposed_wording) > max_length:
        raise CommentError(_("Keep the proposed wording within %(n)d characters.", n=max_length),
                           "proposed_wording")
    if data.stance not in STANCES:
        raise CommentError(_("Choose whether you support, oppose or suggest a change."), "stance")
    if data.age_band and data.age_band not in AGE_BANDS:
        raise CommentError(_("Choose an age band from the list."), "age_band")
    if draft.sectors and data.sector and data.sector not in draft.sectors:
        raise CommentError(_("Choose a sector from the list."), "sector")
    if draft.regions and data.region and data.region not in draft.regions:
        raise CommentError(_("Choose a region from the list."), "region")
    if user is None:
        if not draft.allow_guests:
            raise CommentError(_("Log in to comment on this draft."))
        if not data.guest_name.strip() or not data.guest_email.strip():
            raise CommentError(_("Give your name and e-mail address."), "guest_name")
        status = "unconfirmed"
    else:
        status = "published" if draft.moderation == "post" else "pending"
    comment = Comment(
        draft_id=draft.id,
        version_id=draft.current_version_id,
        clause_id=clause.id if clause else None,
        author_id=user.id if user else None,
        guest_name=data.guest_name.strip() if user is None else "",
        guest_email=data.guest_email.strip().lower() if user is None else "",
        stance=data.stance,
        body=body,
        proposed_wording=data.proposed_wording.strip(),
        region=data.region,
        sector=data.sector,
        age_band=data.age_band,
        status=status,
        submission_key=data.submission_key,
    )
    db.session.add(comment)
    if status == "published":
        _count(comment, +1)
    db.session.flush()
    signals.comment_submitted.send(comment)
    return comment, True


#: a Core query: on the hot path the key is almost always new, and a miss through the ORM
#: costs its whole execution machinery for no row
_COMMENT_ID_BY_KEY = select(Comment.__table__.c.id).where(
    Comment.__table__.c.submission_key == bindparam("key"))


def comment_by_submission_key(key: str) -> Comment | None:
    found = db.session.connection().scalar(_COMMENT_ID_BY_KEY, {"key": key})
    return db.session.get(Comment, found) if found is not None else None


def is_duplicate_submission(error: IntegrityError) -> bool:
    """Tell whether a failed commit was a second insert of the same submission key."""
    return "submission_key" in str(error.orig)


def _count(comment: Comment, delta: int) -> None:
    """Keep the clause's published-comment counter in step with a status change."""
    if comment.clause_id is not None:
        db.session.execute(
            update(Clause)
            .where(Clause.id == comment.clause_id)
            .values(comment_count=Clause.comment_count + delta)
        )


MODERATION_ACTIONS = {"publish": "published", "hide": "hidden", "reject": "rejected"}


def moderate(comment: Comment, action: str, *, user: User, reason: str = "") -> None:
    """Publish, hide or reject a comment, with a reason, and log the decision."""
    if action not in MODERATION_ACTIONS:
        raise CommentError(_("Unknown moderation action."))
    if action != "publish" and not reason.strip():
        raise CommentError(_("Give a reason for hiding or rejecting a comment."), "reason")
    if comment.status == "unconfirmed":
        raise CommentError(_("The commenter has not confirmed the e-mail address yet."))
    new_status = MODERATION_ACTIONS[action]
    before = comment.status
    if before == new_status:
        return
    if before == "published":
        _count(comment, -1)
    elif new_status == "published":
        _count(comment, +1)
    comment.status = new_status
    comment.moderation_reason = reason.strip()
    comment.moderated_by_id = user.id
    comment.moderated_at = utcnow()
    audit.record(user, f"comment.{action}", comment, before=before, reason=reason.strip() or None)
    signals.comment_moderated.send(comment, action=action)


def confirm_guest_comment(comment: Comment) -> None:
    """Mark a guest's e-mail as confirmed and queue or publish the comment."""
    if comment.status != "unconfirmed":
        return
    comment.status = "published" if comment.draft.moderation == "post" else "pending"
    if comment.status == "published":
        _count(comment, +1)


def toggle_support(comment: Comment, user: User) -> bool:
    """Add or remove the user's support for a published comment; return whether it is on."""
    if comment.status != "published":
        raise CommentError(_("Only published comments can be supported."))
    support = db.session.scalar(select(CommentSupport).where(
        CommentSupport.comment_id == comment.id, CommentSupport.user_id == user.id))
    if support is None:
        db.session.add(CommentSupport(comment_id=comment.id, user_id=user.id))
        delta = 1
    else:
        db.session.delete(support)
        delta = -1
    db.session.execute(update(Comment).where(Comment.id == comment.id)
                       .values(support_count=Comment.support_count + delta))
    return delta > 0


@dataclass
class CommentPage:
    """One page of comments and the cursor to the next page."""

    comments: list[Comment]
    next_cursor: str | None


def published_comments(
    draft: Draft,
    clause: Clause | None,
    *,
    sort: str = "new",
    cursor: str | None = None,
    per_page: int = 20,
    whole_draft_only: bool = True,
) -> CommentPage:
    """Return published comments under a clause (or the draft) with keyset pagination."""
    stmt = select(Comment).options(joinedload(Comment.author)).where(
        Comment.status == "published"
    )
    if clause is not None:
        stmt = stmt.where(Comment.clause_id == clause.id)
    else:
        stmt = stmt.where(Comment.draft_id == draft.id)
        if whole_draft_only:
            stmt = stmt.where(Comment.clause_id.is_(None))
    support_cursor, id_cursor = _parse_cursor(cursor)
    by_support = stmt.order_by(Comment.support_count.desc(), Comment.id.desc())
    if sort == "support" and id_cursor is not None:
        # Two index seeks: the rest of the cursor's support level, then the lower levels.
        # One query with "fewer supports, or as many and a smaller id" made SQLite walk every
        # entry above the cursor: 30 ms half-way down a clause with 90,000 comments.
        rows = _first(stmt.where(Comment.support_count == support_cursor, Comment.id < id_cursor)
                      .order_by(Comment.id.desc()), per_page + 1)
        if len(rows) <= per_page:
            rows += _first(by_support.where(Comment.support_count < support_cursor),
                           per_page + 1 - len(rows))
    elif sort == "support":
        rows = _first(by_support, per_page + 1)
    else:
        if id_cursor is not None:
            stmt = stmt.where(Comment.id < id_cursor)
        rows = _first(stmt.order_by(Comment.id.desc()), per_page + 1)
    next_cursor = None
    if len(rows) > per_page:
        rows = rows[:per_page]
        last = rows[-1]
        next_cursor = f"{last.support_count}.{last.id}" if sort == "support" else str(last.id)
    return CommentPage(rows, next_cursor)


def _first(stmt, limit: int) -> list[Comment]:
    return list(db.session.scalars(stmt.limit(limit)).unique())


def _parse_cursor(cursor: str | None) -> tuple[int, int | None]:
    if not cursor:
        return 0, None
    try:
        if "." in cursor:
            support, ident = cursor.split(".", 1)
            return int(support), int(ident)
        return 0, int(cursor)
    except ValueError:
        return 0, None


def comments_by_author(user: User) -> list[Comment]:
    """Return everything the user wrote, newest first."""
    return list(db.session.scalars(
        select(Comment).options(joinedload(Comment.draft), joinedload(Comment.clause))
        .where(Comment.author_id == user.id).order_by(Comment.id.desc())
    ))


def moderation_queue(draft: Draft, status: str, *, page: int = 1, per_page: int = 50):
    """Return a page of the draft's comments in one status, oldest first for pending ones."""
    stmt = select(Comment).options(joinedload(Comment.author), joinedload(Comment.clause)).where(
        Comment.draft_id == draft.id, Comment.status == status
    )
    stmt = stmt.order_by(Comment.id.asc() if status == "pending" else Comment.id.desc())
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def status_counts(draft: Draft) -> dict[str, int]:
    """Return how many of the draft's comments are in each status."""
    return dict(db.session.execute(
        select(Comment.status, func.count()).where(Comment.draft_id == draft.id)
        .group_by(Comment.status)
    ).all())


#: the clause kinds whose labels make up a citation
CITED_KINDS = ("article", "paragraph", "item", "subitem")


def unit_label(clause: Clause) -> str:
    """Return the citation of a clause, e.g. 第八条第一款第（一）项 or Article 8(1)(a)."""
    chain = []
    node: Clause | None = clause
    while node is not None and node.kind in CITED_KINDS:
        chain.append(node)
        node = node.parent
    english = clause.version.language == "en" if clause.version else False
    parts = [_citation_part(unit, english) for unit in reversed(chain)]
    return _join_citation(clause, parts, english)


def _citation_part(unit: Clause, english: bool) -> str:
    """Return one unit's part of a citation: 第八条, 第一款, 第一项 or (a)."""
    if unit.kind == "article":
        return unit.label
    if english:
        return f"({unit.number})" if unit.kind == "paragraph" else unit.label
    if unit.kind == "paragraph" or not unit.number:
        return unit.label
    word = "项" if unit.kind == "item" else "目"
    return f"第{int_to_chinese_numeral(unit.number)}{word}"


def _join_citation(clause: Clause, parts: list[str], english: bool) -> str:
    if not parts:
        return f"{clause.label} {clause.heading}".strip()
    return (" " if english else "").join(parts)


def unit_text(clause: Clause) -> str:
    """Return the readable text of a clause and everything under it."""
    later = (Clause.version_id == clause.version_id, Clause.position > clause.position)
    # the subtree ends before the next clause at the clause's depth or above: loading every
    # later clause instead made a comment page on an early article load hundreds of rows
    end = select(func.min(Clause.position)).where(*later, Clause.depth <= clause.depth)
    end = end.scalar_subquery()
    children = db.session.scalars(
        select(Clause).where(*later, or_(end.is_(None), Clause.position < end))
        .order_by(Clause.position)
    )
    lines = [f"{clause.label}{clause.text}" if clause.kind in ("item", "subitem") else clause.text]
    lines += [f"{child.label}{child.text}" if child.kind in ("item", "subitem") else child.text
              for child in children]
    return "\n".join(line for line in lines if line)
