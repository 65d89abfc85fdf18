"""The demo as a world for security tests: real objects of every kind, and one account of each
role whose rights in that world are known.

- citizen1 (public) registered to speak at the demo hearing, spoke at the held hearing and
  wrote comments; citizen2 (public) is another member of the public with objects of their own;
- deputy1 is an embedded observer of both hearings and wrote a private observation;
- staff@demo is staff and the held hearing's chair and recorder; admin@demo is administrator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from app.accounts.services import find_user_by_email, reset_token
from app.demo import DRAFT_SLUG, load_demo
from app.demo.hearing import HEARING_SLUG
from app.demo.live_notes import FINISHED_SLUG
from app.extensions import db
from app.models import DeputyGroup, User
from drafts import feedback
from drafts.models import AlignmentOverride, Comment, OpinionCluster
from hearings.models import (
    Hearing,
    HearingNote,
    ObserverRegistration,
    RecordCorrection,
    SpeakerRegistration,
)

ROLES = ("anonymous", "public", "deputy", "staff", "admin")
#: the demo account that plays each role
ACCOUNTS = {"public": "citizen1@demo.minyi", "deputy": "deputy1@demo.minyi",
            "staff": "staff@demo.minyi", "admin": "admin@demo.minyi"}
OTHER_CITIZEN = "citizen2@demo.minyi"
DEMO_PASSWORD = "minyi-demo"


@dataclass
class World:
    """Real values for every URL parameter, by (blueprint or endpoint, parameter)."""

    users: dict[str, User]
    values: dict[str, dict[str, object]] = field(default_factory=dict)
    #: the body of the deputy's private observation on the held hearing
    private_note: str = ""
    private_note_id: int = 0


def _one(stmt):
    found = db.session.scalars(stmt).first()
    assert found is not None, str(stmt)
    return found


def build_world(app) -> World:
    """Load the demo and collect the objects the routes take."""
    load_demo()
    db.session.commit()
    users = {role: find_user_by_email(email) for role, email in ACCOUNTS.items()}
    users["other"] = find_user_by_email(OTHER_CITIZEN)
    upcoming = _one(select(Hearing).where(Hearing.slug == HEARING_SLUG))
    held = _one(select(Hearing).where(Hearing.slug == FINISHED_SLUG))
    citizen_comment = _one(select(Comment).where(Comment.author_id == users["public"].id,
                                                 Comment.status == "published"))
    registration = _one(select(SpeakerRegistration).where(
        SpeakerRegistration.hearing_id == upcoming.id,
        SpeakerRegistration.user_id == users["public"].id))
    observer = _one(select(ObserverRegistration).where(
        ObserverRegistration.hearing_id == upcoming.id,
        ObserverRegistration.user_id == users["deputy"].id))
    note = _one(select(HearingNote).where(HearingNote.hearing_id == held.id,
                                          HearingNote.visibility == "private"))
    record_note = _one(select(HearingNote).where(HearingNote.hearing_id == held.id,
                                                 HearingNote.kind == "record"))
    correction = _one(select(RecordCorrection).where(RecordCorrection.hearing_id == held.id))
    cluster = db.session.scalars(select(OpinionCluster)).first()
    override = db.session.scalars(select(AlignmentOverride)).first()
    group = _one(select(DeputyGroup))
    secret = app.config["SECRET_KEY"]
    draft_values = {"slug": DRAFT_SLUG, "anchor": "art-6", "key": citizen_comment.submission_key,
                    "comment_id": citizen_comment.id, "sequence": 1, "fmt": "csv",
                    "cluster_id": cluster.id if cluster else 999_999,
                    "override_id": override.id if override else 999_999}
    values = {
        "drafts": {**draft_values, "token": URLSafeSerializer(secret, salt="guest-comment")
                   .dumps(citizen_comment.id)},
        "versions": draft_values, "staff_drafts": draft_values, "staff_versions": draft_values,
        "staff_opinions": draft_values, "api": draft_values, "floods": draft_values,
        "opinions": {**draft_values, "token": feedback.opt_out_token(users["other"].email)},
        "hearings": {"slug": HEARING_SLUG, "registration_id": registration.id},
        "staff_hearings": {"slug": HEARING_SLUG, "registration_id": registration.id,
                           "observer_id": observer.id, "step": "feedback",
                           "kind": "speakers"},
        "hearing_live": {"slug": FINISHED_SLUG, "note_id": record_note.id,
                         "correction_id": correction.id},
        "admin": {"user_id": users["other"].id, "group_id": group.id},
        "auth": {"token": reset_token(users["other"])},
        "static": {"filename": "css/minyi.css"},
    }
    return World(users=users, values=values, private_note=note.body, private_note_id=note.id)
