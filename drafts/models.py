"""Drafts, their versions, the clause tree of each version, and comments."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.abuse import request_origin
from app.extensions import db
from app.models import User, utcnow

DRAFT_STATUSES = ("draft", "open", "closed", "adopted")
STANCES = ("support", "oppose", "suggest")
#: "recorded": entered by staff (letters, symposia …) or sent through the deputies' form;
#: counted and decided like the others but not listed with the public comments
COMMENT_STATUSES = ("unconfirmed", "pending", "published", "hidden", "rejected", "recorded")
#: where an opinion came from; staff enter the offline ones by hand
OPINION_SOURCES = ("online", "hearing", "deputy", "letter", "email", "symposium", "research",
                   "expert", "liaison")
#: the sources staff record by hand, with the date and the occasion
OFFLINE_SOURCES = ("letter", "email", "symposium", "research", "expert", "liaison")
AGE_BANDS = ("under_18", "18_29", "30_44", "45_59", "60_plus")
CLAUSE_KINDS = ("part", "subpart", "chapter", "section", "article", "paragraph", "item", "subitem")
#: clause kinds a comment can be attached to
COMMENTABLE_KINDS = ("article", "paragraph", "item", "subitem")


class Draft(db.Model):
    """A draft regulation published for comment."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: URL name, unique
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    #: the drafting explanation (起草说明)
    explanation: Mapped[str] = mapped_column(Text, default="")
    #: the office responsible for the draft
    office: Mapped[str] = mapped_column(String(200), default="")
    #: one of DRAFT_STATUSES
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    #: comment window, naive UTC
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    #: "pre": comments wait for a moderator; "post": published at once, moderated after
    moderation: Mapped[str] = mapped_column(String(8), default="pre")
    #: whether people without an account may comment (name + confirmed e-mail)
    allow_guests: Mapped[bool] = mapped_column(default=False)
    #: choices offered for the commenter's sector/occupation, set by staff per draft
    sectors: Mapped[list] = mapped_column(JSON, default=list)
    #: choices offered for the commenter's region
    regions: Mapped[list] = mapped_column(JSON, default=list)
    #: the version shown to the public
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("draft_versions.id", use_alter=True, ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    #: whether every disposition needs a second staff member's review before it counts
    review_required: Mapped[bool] = mapped_column(default=False)
    #: when staff declared the adopted-opinions report final; None while it is being compiled
    report_finalised_at: Mapped[datetime | None]
    #: when the draft was adopted; personal data is erased a retention period after it
    adopted_at: Mapped[datetime | None]
    #: whether commenters must answer a simple question first (staff switch it on in a flood)
    challenge_required: Mapped[bool] = mapped_column(default=False)

    versions: Mapped[list[DraftVersion]] = relationship(
        back_populates="draft",
        foreign_keys="DraftVersion.draft_id",
        order_by="DraftVersion.sequence",
        cascade="all, delete-orphan",
    )
    current_version: Mapped[DraftVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )

    def is_open_for_comment(self, now: datetime | None = None) -> bool:
        """Tell whether the comment window is open now."""
        now = now or utcnow()
        if self.status != "open":
            return False
        if self.opens_at and now < self.opens_at:
            return False
        return not (self.closes_at and now >= self.closes_at)

    @property
    def is_public(self) -> bool:
        return self.status != "draft"


class DraftVersion(db.Model):
    """One text of a draft, such as the 征求意见稿 or the 二审稿."""

    __tablename__ = "draft_versions"
    __table_args__ = (UniqueConstraint("draft_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"))
    #: 1 for the first version, then 2, 3 …
    sequence: Mapped[int] = mapped_column(default=1)
    #: e.g. 征求意见稿, 一审稿, 通过稿
    label: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")
    #: the title found in the text itself
    text_title: Mapped[str] = mapped_column(String(300), default="")
    #: history lines before the body
    preamble: Mapped[list] = mapped_column(JSON, default=list)
    #: "zh" or "en"
    language: Mapped[str] = mapped_column(String(8), default="zh")
    #: the text exactly as pasted or extracted from the upload
    source_text: Mapped[str] = mapped_column(Text, default="")
    source_filename: Mapped[str] = mapped_column(String(255), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    draft: Mapped[Draft] = relationship(back_populates="versions", foreign_keys=[draft_id])
    clauses: Mapped[list[Clause]] = relationship(
        back_populates="version", order_by="Clause.position", cascade="all, delete-orphan"
    )


class Clause(db.Model):
    """One unit of a version's structure: chapter, article, paragraph, item …"""

    __tablename__ = "clauses"
    __outbox__ = "clause"
    __table_args__ = (
        UniqueConstraint("version_id", "anchor"),
        Index("ix_clauses_version_position", "version_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("draft_versions.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("clauses.id", ondelete="CASCADE"))
    #: one of CLAUSE_KINDS
    kind: Mapped[str] = mapped_column(String(16))
    #: as displayed: 第十二条, （一）
    label: Mapped[str] = mapped_column(String(64), default="")
    heading: Mapped[str] = mapped_column(String(300), default="")
    #: the unit's own text, without its children
    text: Mapped[str] = mapped_column(Text, default="")
    number: Mapped[int | None]
    sub_number: Mapped[int] = mapped_column(default=0)
    #: URL fragment, unique within the version: art-12-p2-i3
    anchor: Mapped[str] = mapped_column(String(64))
    #: pre-order position in the version
    position: Mapped[int]
    depth: Mapped[int] = mapped_column(default=0)
    #: identity of the clause across versions; equal to the id of its first appearance
    lineage_id: Mapped[int | None] = mapped_column(index=True)
    #: published comments on this unit (denormalised for the draft page)
    comment_count: Mapped[int] = mapped_column(default=0)

    version: Mapped[DraftVersion] = relationship(back_populates="clauses")
    parent: Mapped[Clause | None] = relationship(remote_side=[id])

    @property
    def is_commentable(self) -> bool:
        return self.kind in COMMENTABLE_KINDS


class Comment(db.Model):
    """An opinion on a clause or on a draft as a whole."""

    __tablename__ = "comments"
    __outbox__ = "comment"
    __table_args__ = (
        Index("ix_comments_clause_status_id", "clause_id", "status", "id"),
        Index("ix_comments_clause_status_support", "clause_id", "status", "support_count", "id"),
        Index("ix_comments_draft_status_id", "draft_id", "status", "id"),
        Index("ix_comments_author", "author_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"))
    #: the version the commenter read
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("draft_versions.id", ondelete="SET NULL")
    )
    #: None for a comment on the whole draft
    clause_id: Mapped[int | None] = mapped_column(ForeignKey("clauses.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: guests only: the name they gave and their e-mail (never public)
    guest_name: Mapped[str] = mapped_column(String(100), default="")
    guest_email: Mapped[str] = mapped_column(String(254), default="")
    #: one of STANCES
    stance: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    #: the wording the commenter proposes instead
    proposed_wording: Mapped[str] = mapped_column(Text, default="")
    region: Mapped[str] = mapped_column(String(100), default="")
    sector: Mapped[str] = mapped_column(String(100), default="")
    age_band: Mapped[str] = mapped_column(String(16), default="")
    #: one of COMMENT_STATUSES
    status: Mapped[str] = mapped_column(String(16), default="pending")
    #: where the opinion came from: one of OPINION_SOURCES
    source: Mapped[str] = mapped_column(String(16), default="online")
    #: offline opinions: the occasion or sender as staff recorded it, e.g. 东城区座谈会
    source_detail: Mapped[str] = mapped_column(String(300), default="")
    #: offline opinions: when the letter arrived or the meeting took place (naive UTC)
    received_at: Mapped[datetime | None]
    #: the campaign (identical or lightly edited texts) the opinion belongs to, if any
    cluster_id: Mapped[int | None] = mapped_column(
        ForeignKey("opinion_clusters.id", ondelete="SET NULL"), index=True)
    #: a topic staff gave the opinion in the workspace, e.g. 收费标准
    topic: Mapped[str] = mapped_column(String(100), default="")
    #: the reason the moderator gave for the last decision
    moderation_reason: Mapped[str] = mapped_column(Text, default="")
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    moderated_at: Mapped[datetime | None]
    #: random key of the form that produced the comment: a retry never creates a second one
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    support_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: a keyed hash of the sender's network address, to find floods from one address; never
    #: shown, and erased with the contact data (app/abuse.py)
    origin: Mapped[str] = mapped_column(String(16), default=request_origin)

    draft: Mapped[Draft] = relationship()
    clause: Mapped[Clause | None] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    disposition: Mapped[Disposition | None] = relationship(back_populates="comment",
                                                           uselist=False)

    @property
    def display_name(self) -> str:
        if self.author is not None:
            return self.author.name if not self.author.is_deleted else _("Former participant")
        return self.guest_name


class CommentSupport(db.Model):
    """One user's support (agreement) for a published comment."""

    __tablename__ = "comment_supports"
    __table_args__ = (UniqueConstraint("comment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlignmentOverride(db.Model):
    """A staff correction of how the articles of two versions pair up.

    Used whenever the two versions are compared; when they are consecutive it also decides
    the clause lineage of the newer one.  One side may be empty: the articles of the other
    side are then insertions (or deletions) whatever their similarity.
    """

    __tablename__ = "alignment_overrides"
    __table_args__ = (Index("ix_alignment_overrides_versions", "old_version_id",
                            "new_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"))
    old_version_id: Mapped[int] = mapped_column(
        ForeignKey("draft_versions.id", ondelete="CASCADE"))
    new_version_id: Mapped[int] = mapped_column(
        ForeignKey("draft_versions.id", ondelete="CASCADE"))
    #: anchors of the old articles in the group, in reading order
    old_anchors: Mapped[list] = mapped_column(JSON, default=list)
    #: anchors of the new articles in the group, in reading order
    new_anchors: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClauseOrigin(db.Model):
    """An earlier lineage whose wording a clause carries besides its own `lineage_id`.

    A merged article keeps the lineage of the first article merged into it and records the
    others here; the parts of a split that did not keep the lineage record the article they
    came from; an article records the paragraphs and items deleted from it.  Comments on
    those earlier clauses are shown as comments on the earlier wording of this one.
    """

    __tablename__ = "clause_origins"
    __table_args__ = (UniqueConstraint("clause_id", "lineage_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the clause in the newer version (the unique constraint also indexes it)
    clause_id: Mapped[int] = mapped_column(ForeignKey("clauses.id", ondelete="CASCADE"))
    #: a lineage_id of clauses in earlier versions
    lineage_id: Mapped[int] = mapped_column(index=True)


# --- compiling opinions -------------------------------------------------------------------

#: what became of an opinion: 采纳, 部分采纳, 未采纳, 已有规定, 不属于本法规调整范围
OUTCOMES = ("adopted", "partly_adopted", "not_adopted", "already_provided", "out_of_scope")
#: a second staff member's review of a disposition, on drafts that ask for one
REVIEW_STATES = ("pending", "approved", "returned")


class OpinionCluster(db.Model):
    """A campaign: opinions on one draft whose texts are identical or lightly edited copies."""

    __tablename__ = "opinion_clusters"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"),
                                          index=True)
    #: how many opinions were received with this text (members of the cluster)
    size: Mapped[int] = mapped_column(default=0)
    #: the member shown for the whole cluster: the earliest one received
    representative_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Disposition(db.Model):
    """What staff decided about one opinion, why, and the clause of the newer text it touched.

    One row per opinion, changed in place; every change is also written to the audit log,
    which keeps the history.
    """

    __tablename__ = "dispositions"
    __table_args__ = (Index("ix_dispositions_draft_outcome", "draft_id", "outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"),
                                            unique=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"))
    #: one of OUTCOMES
    outcome: Mapped[str] = mapped_column(String(20))
    #: why; required unless the opinion was adopted
    reason: Mapped[str] = mapped_column(Text, default="")
    #: the clause of the newer version the opinion affected (or would have)
    clause_id: Mapped[int | None] = mapped_column(ForeignKey("clauses.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: one of REVIEW_STATES on drafts whose dispositions are reviewed, else ""
    review_state: Mapped[str] = mapped_column(String(16), default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    #: what the reviewer said when returning the decision
    review_note: Mapped[str] = mapped_column(Text, default="")
    #: when the commenter was told of this decision; None until the next feedback e-mail
    notified_at: Mapped[datetime | None] = mapped_column(index=True)

    comment: Mapped[Comment] = relationship(back_populates="disposition")
    clause: Mapped[Clause | None] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])

    @property
    def is_final(self) -> bool:
        """Tell whether the decision counts: reviewed and approved where review is asked."""
        return self.review_state in ("", "approved")


class FeedbackOptOut(db.Model):
    """An e-mail address of a commenter without an account who wants no feedback e-mails."""

    __tablename__ = "feedback_opt_outs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: lower-cased
    email: Mapped[str] = mapped_column(String(254), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
