"""Floods of comments: find the comments one text, one campaign or one address sent within a
time window, and hide or reject them in one step, each decision logged as a moderator's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from app import audit
from app.extensions import db
from app.models import User
from drafts import services
from drafts.models import Comment, Draft

#: statuses a flood can be picked from: waiting for moderation, or already published
FLOOD_STATUSES = ("pending", "published")
FLOOD_ACTIONS = ("hide", "reject")
#: shortest text to match: a word or two would catch honest comments by the hundred
MIN_TEXT = 4
#: comments decided per flush
BATCH = 500


class FloodError(ValueError):
    """A flood selection that cannot be acted on; the message is for the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class Selection:
    """Which comments of a draft to pick: the status, at least one of text, campaign or
    address, and optionally a time window (naive UTC)."""

    status: str = "pending"
    text: str = ""
    cluster_id: int | None = None
    origin: str = ""
    since: datetime | None = None
    until: datetime | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.text.strip() or self.cluster_id or self.origin)

    def details(self) -> dict:
        """Return the criteria as the audit log keeps them."""
        return {"status": self.status, "text": self.text.strip() or None,
                "cluster_id": self.cluster_id, "origin": self.origin or None,
                "since": self.since.isoformat(timespec="minutes") if self.since else None,
                "until": self.until.isoformat(timespec="minutes") if self.until else None}


def check(selection: Selection) -> None:
    """Raise FloodError unless the selection is narrow enough to act on."""
    if selection.status not in FLOOD_STATUSES:
        raise FloodError(_("Choose the comments waiting for moderation or the published ones."),
                         "status")
    if selection.is_empty:
        raise FloodError(_("Choose a text, a campaign or an address."), "text")
    if selection.text.strip() and len(selection.text.strip()) < MIN_TEXT:
        raise FloodError(_("Give at least %(n)d characters of the text.", n=MIN_TEXT), "text")
    if selection.since and selection.until and selection.until <= selection.since:
        raise FloodError(_("The end of the time window must come after its start."), "until")


def _window(stmt: Select, draft: Draft, status: str, since: datetime | None,
            until: datetime | None) -> Select:
    stmt = stmt.where(Comment.draft_id == draft.id, Comment.status == status)
    if since is not None:
        stmt = stmt.where(Comment.created_at >= since)
    if until is not None:
        stmt = stmt.where(Comment.created_at < until)
    return stmt


def matching(draft: Draft, selection: Selection) -> Select:
    """Return the query for the selected comments, oldest first."""
    stmt = _window(select(Comment), draft, selection.status, selection.since, selection.until)
    text = selection.text.strip()
    if text:
        stmt = stmt.where(func.lower(Comment.body).contains(text.lower(), autoescape=True))
    if selection.cluster_id:
        stmt = stmt.where(Comment.cluster_id == selection.cluster_id)
    if selection.origin:
        stmt = stmt.where(Comment.origin == selection.origin)
    return stmt.order_by(Comment.id)


def count(draft: Draft, selection: Selection) -> int:
    return db.session.scalar(select(func.count()).select_from(
        matching(draft, selection).order_by(None).subquery()))


def sample(draft: Draft, selection: Selection, limit: int = 20) -> list[Comment]:
    return list(db.session.scalars(matching(draft, selection).limit(limit)))


@dataclass
class Source:
    """One address or campaign and how many of the draft's comments came from it."""

    key: str | int
    comments: int
    first: datetime
    last: datetime
    example: str = ""


def busiest_origins(draft: Draft, status: str, since: datetime | None = None,
                    until: datetime | None = None, limit: int = 10) -> list[Source]:
    """Return the addresses that sent the most comments in the window (two or more)."""
    stmt = _window(select(Comment.origin, func.count(), func.min(Comment.created_at),
                          func.max(Comment.created_at)), draft, status, since, until)
    rows = db.session.execute(
        stmt.where(Comment.origin != "").group_by(Comment.origin)
        .having(func.count() > 1).order_by(func.count().desc(), Comment.origin).limit(limit))
    return [Source(origin, n, first, last) for origin, n, first, last in rows]


def largest_campaigns(draft: Draft, status: str, since: datetime | None = None,
                      until: datetime | None = None, limit: int = 10) -> list[Source]:
    """Return the campaigns with the most comments in the window, with an example text."""
    stmt = _window(select(Comment.cluster_id, func.count(), func.min(Comment.created_at),
                          func.max(Comment.created_at), func.min(Comment.id)),
                   draft, status, since, until)
    rows = db.session.execute(
        stmt.where(Comment.cluster_id.is_not(None)).group_by(Comment.cluster_id)
        .order_by(func.count().desc(), Comment.cluster_id).limit(limit)).all()
    examples = dict(db.session.execute(select(Comment.id, Comment.body).where(
        Comment.id.in_([row[4] for row in rows]))).all()) if rows else {}
    return [Source(cluster, n, first, last, examples.get(example, "")[:120])
            for cluster, n, first, last, example in rows]


def moderate_flood(draft: Draft, selection: Selection, action: str, reason: str, *,
                   user: User) -> int:
    """Hide or reject every selected comment with the reason; return how many.

    Each comment gets the moderator's decision as if taken one by one (its own audit entry
    and counters); one more entry records the selection.  The caller commits.
    """
    check(selection)
    if action not in FLOOD_ACTIONS:
        raise FloodError(_("Choose whether to hide or to reject the comments."), "action")
    if not reason.strip():
        raise FloodError(_("Give a reason for hiding or rejecting a comment."), "reason")
    done, last = 0, 0
    while True:
        batch = list(db.session.scalars(matching(draft, selection).where(Comment.id > last)
                                        .limit(BATCH)))
        for comment in batch:
            services.moderate(comment, action, user=user, reason=reason)
        done += len(batch)
        db.session.flush()
        if len(batch) < BATCH:
            break
        last = batch[-1].id
    audit.record(user, "comment.bulk_moderate", draft, decision=action, reason=reason.strip(),
                 count=done, **selection.details())
    return done


def set_challenge(draft: Draft, required: bool, *, user: User) -> None:
    """Switch the question before commenting on or off; the caller commits."""
    if draft.challenge_required == required:
        return
    draft.challenge_required = required
    audit.record(user, "draft.challenge", draft, required=required)
