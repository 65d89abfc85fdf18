"""Feedback to commenters: what became of their opinions, in one e-mail per person and draft
with every decision not yet told, and the signed link that stops such e-mails."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import audit
from app.extensions import db
from app.mail import send_email
from app.models import User, utcnow
from drafts.models import Comment, Disposition, Draft, FeedbackOptOut

#: dispositions read per query while sending
BATCH = 500


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="feedback-opt-out")


def opt_out_token(email: str) -> str:
    """Return the token of the link that stops feedback e-mails to this address."""
    return _serializer().dumps(email.lower())


def opt_out(token: str) -> str | None:
    """Stop feedback e-mails to the address in the token; return it, or None if invalid.

    An account holder's setting is switched off; an address without an account is listed.
    """
    try:
        email = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(email, str) or not email:
        return None
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None:
        set_feedback_emails(user, False)
    elif db.session.scalar(select(FeedbackOptOut.id).where(FeedbackOptOut.email == email)) is None:
        entry = FeedbackOptOut(email=email)
        db.session.add(entry)
        db.session.flush()
        audit.record(None, "feedback.opt_out", entry)
    return email


def set_feedback_emails(user: User, wanted: bool) -> None:
    """Switch the user's feedback e-mails on or off."""
    if user.feedback_emails != wanted:
        user.feedback_emails = wanted
        audit.record(user, "feedback.setting", user, after=wanted)


def recipient(comment: Comment, opted_out: set[str]) -> tuple[str, str] | None:
    """Return the (e-mail, locale) to tell about the opinion, or None for nobody."""
    if comment.author is not None:
        user = comment.author
        if not user.active or not user.feedback_emails:
            return None
        return user.email, user.locale or ""
    email = comment.guest_email.strip().lower()
    if not email or comment.status == "unconfirmed" or email in opted_out:
        return None
    return email, ""


@dataclass
class FeedbackRun:
    """What one sending run did."""

    emails: int = 0
    decisions: int = 0
    #: decisions nobody can be told of (no address, opted out)
    untold: int = 0


def pending(draft: Draft | None = None):
    """Return the query of final decisions whose commenter has not been told yet."""
    stmt = select(Disposition).where(Disposition.notified_at.is_(None),
                                     Disposition.review_state.in_(("", "approved")))
    if draft is not None:
        stmt = stmt.where(Disposition.draft_id == draft.id)
    return stmt


def send_feedback(draft: Draft | None = None) -> FeedbackRun:
    """E-mail every commenter the decisions on their opinions not yet told, one e-mail per
    person and draft, and mark those decisions told; the caller commits."""
    from drafts.opinions import OUTCOME_LABELS

    opted_out = set(db.session.scalars(select(FeedbackOptOut.email)))
    batches: dict[tuple[str, int], list[Disposition]] = defaultdict(list)
    locales: dict[str, str] = {}
    accounts: set[str] = set()
    untold: Counter[int] = Counter()
    now = utcnow()
    last = 0
    while True:
        rows = db.session.scalars(
            pending(draft).where(Disposition.id > last)
            .options(joinedload(Disposition.comment).joinedload(Comment.author),
                     joinedload(Disposition.comment).joinedload(Comment.clause),
                     joinedload(Disposition.clause))
            .order_by(Disposition.id).limit(BATCH)).all()
        for disposition in rows:
            disposition.notified_at = now
            found = recipient(disposition.comment, opted_out)
            if found is None:
                untold[disposition.draft_id] += 1
                continue
            email, locale = found
            locales[email] = locale
            if disposition.comment.author_id is not None:
                accounts.add(email)
            batches[email, disposition.draft_id].append(disposition)
        if len(rows) < BATCH:
            break
        last = rows[-1].id
    drafts = {d.id: d for d in db.session.scalars(
        select(Draft).where(Draft.id.in_({key[1] for key in batches} | set(untold))))}
    told: Counter[int] = Counter()
    emails: Counter[int] = Counter()
    from drafts.services import unit_label

    for (email, draft_id), decisions in batches.items():
        target = drafts[draft_id]
        with force_locale(locales[email] or current_app.config["BABEL_DEFAULT_LOCALE"]):
            items = [{
                "clause": unit_label(d.comment.clause) if d.comment.clause else
                _("the draft as a whole"),
                "excerpt": _excerpt(d.comment.body),
                "outcome": str(OUTCOME_LABELS[d.outcome]),
                "reason": d.reason,
                "affected": unit_label(d.clause) if d.clause else "",
            } for d in decisions]
            send_email(
                email, _("What became of your opinions on %(title)s", title=target.title),
                "emails/feedback_decided.txt", draft=target, items=items,
                feedback_url=_external("opinions.feedback", slug=target.slug),
                mine_url=_external("drafts.my_comments") if email in accounts else "",
                opt_out_url=_external("opinions.opt_out", token=opt_out_token(email)))
        emails[draft_id] += 1
        told[draft_id] += len(decisions)
    for draft_id, target in drafts.items():
        audit.record(None, "feedback.sent", target, emails=emails[draft_id],
                     decisions=told[draft_id], untold=untold[draft_id])
    db.session.flush()
    return FeedbackRun(sum(emails.values()), sum(told.values()), sum(untold.values()))


def _excerpt(text: str, length: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[:length] + "…"


def _external(endpoint: str, **values: object) -> str:
    """Return an absolute URL, inside a request or from the command line."""
    from flask import has_request_context

    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    base = current_app.config["SERVER_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)
