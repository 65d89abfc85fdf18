"""What the tests of compiling opinions share: a draft with a second reading text and opinions
from several sources, people, and a shortcut to decide opinions."""

from __future__ import annotations

from dataclasses import dataclass, field

from support import REPO

from app.extensions import db
from app.models import User
from drafts import opinions, services, versions
from drafts.models import Clause, Comment, Draft, DraftVersion

SECOND = (REPO / "app" / "demo" / "draft_v2.txt").read_text(encoding="utf-8")


def clause(version: DraftVersion, anchor: str) -> Clause:
    found = services.clause_by_anchor(version, anchor)
    assert found is not None, anchor
    return found


@dataclass
class Scene:
    """A draft open for comment with opinions on its first text and a second reading text."""

    draft: Draft
    first: DraftVersion
    second: DraftVersion
    staff: User
    reviewer: User
    citizen: User
    deputy: User
    comments: dict[str, Comment] = field(default_factory=dict)

    def decide(self, names: list[str], outcome: str, reason: str = "",
               anchor: str | None = None, user: User | None = None) -> None:
        target = clause(self.second, anchor) if anchor else None
        opinions.decide(self.draft, [self.comments[n] for n in names], outcome, reason, target,
                        user=user or self.staff)
        db.session.commit()


def make_scene(make_draft, make_user, make_comment) -> Scene:
    """Create the scene: online comments by a named citizen (with a phone number in one), a
    letter, and the second reading text made current."""
    draft = make_draft()
    staff = make_user("staff", name="法工委 王立")
    reviewer = make_user("staff", name="法工委 李审")
    citizen = make_user("public", email="wang.xiaoming@example.com", name="王小明")
    deputy = make_user("deputy", name="李代表", deputy_level="city")
    first = draft.current_version
    scene = Scene(draft, first, first, staff, reviewer, citizen, deputy)
    scene.comments["charging"] = make_comment(
        draft, "art-6", "新小区同步建设充电设施很有必要，建议比例不低于百分之三十。",
        user=citizen, stance="support")
    scene.comments["owners"] = make_comment(
        draft, "art-7-p2", "增设停放场所应当先征求业主意见，并公示方案。联系电话13812345678。",
        user=citizen)
    scene.comments["battery"] = make_comment(
        draft, "art-11-p1-i2", "建议允许可拆卸电池带回户内充电，整车不得进户。")
    scene.comments["whole"] = make_comment(draft, None, "整部条例方向很好，希望尽快出台。",
                                           stance="support")
    scene.comments["letter"], _new = opinions.record_offline_opinion(
        draft, clause(first, "art-10"), opinions.OfflineOpinion(
            source="letter", stance="suggest", body="收费标准应当由价格主管部门指导。",
            submission_key="letter-key-0000000001", source_detail="物业管理协会来函",
            name="青禾市物业管理协会", email="association@example.org"), user=staff)
    db.session.commit()
    scene.second = versions.add_version(draft, SECOND, label="二审稿", user=staff,
                                        make_current=True)
    db.session.commit()
    return scene
