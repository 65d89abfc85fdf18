"""Accounts, deputy groups, the audit log and the change log shared by every module."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db

ROLES = ("public", "deputy", "staff", "admin")
DEPUTY_LEVELS = ("national", "region", "city", "county", "township")


def utcnow() -> datetime:
    """Return the current time as naive UTC, the form every timestamp is stored in."""
    return datetime.now(UTC).replace(tzinfo=None)


class DeputyGroup(db.Model):
    """A deputy group (代表小组): deputies organised by field or area."""

    __tablename__ = "deputy_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the group's name, e.g. 城建环资代表小组
    name: Mapped[str] = mapped_column(String(200), unique=True)
    #: what the group covers
    description: Mapped[str] = mapped_column(Text, default="")

    members: Mapped[list[User]] = relationship(back_populates="deputy_group")


class User(UserMixin, db.Model):
    """A person with an account: member of the public, deputy, staff or admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: login name, stored lower-cased; never shown in public
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: display name
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(256))
    #: one of ROLES
    role: Mapped[str] = mapped_column(String(16), default="public")
    #: preferred UI language, or None to follow the site default
    locale: Mapped[str | None] = mapped_column(String(8))
    #: deputies only: one of DEPUTY_LEVELS
    deputy_level: Mapped[str | None] = mapped_column(String(16))
    deputy_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("deputy_groups.id", ondelete="SET NULL")
    )
    #: region and sector offered as defaults when commenting
    region: Mapped[str] = mapped_column(String(100), default="")
    sector: Mapped[str] = mapped_column(String(100), default="")
    #: whether to e-mail the user what became of their opinions
    feedback_emails: Mapped[bool] = mapped_column(default=True)
    #: deactivated accounts cannot log in
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: when the user deleted the account: the row stays, emptied, so that what the person
    #: contributed keeps its place (app/privacy.py)
    deleted_at: Mapped[datetime | None]

    deputy_group: Mapped[DeputyGroup | None] = relationship(back_populates="members")

    def set_password(self, password: str) -> None:
        """Store a salted scrypt hash of the password."""
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        """Tell whether the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def has_role(self, *roles: str) -> bool:
        """Tell whether the user holds one of the roles; admins hold staff rights too."""
        return self.role in roles or (self.role == "admin" and "staff" in roles)

    @property
    def is_staff(self) -> bool:
        return self.role in ("staff", "admin")

    @property
    def is_deputy(self) -> bool:
        return self.role == "deputy"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class AuditLog(db.Model):
    """An append-only record of a staff decision or other sensitive action."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: who acted; None for the system
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: dotted name of the action, e.g. comment.publish
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int | None]
    #: free-form details such as the reason given
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    actor: Mapped[User | None] = relationship()


class ChangeLog(db.Model):
    """An outbox row written in the same transaction as a change to a searchable object."""

    __tablename__ = "change_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: kind of object: clause, comment, note
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int]
    #: upsert or delete
    op: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
