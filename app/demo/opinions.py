"""The demo draft's opinions compiled: letters, a symposium and a small e-mail campaign entered
by staff, a deputy's suggestion, campaigns found, and a disposition for every opinion, so
that `minyi report adopted e-bike-charging` makes a full report."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import User, utcnow
from drafts import campaigns, opinions
from drafts import services as drafts
from drafts.models import Comment, Draft

#: offline opinions: (source, occasion, name, clause anchor in the first text, stance, text)
OFFLINE = [
    ("letter", "青禾市物业管理协会来函", "青禾市物业管理协会", "art-10", "suggest",
     "充电设施的收费应当包含电费和服务费两部分，服务费标准建议由价格主管部门制定指导价。"),
    ("symposium", "东城区居民座谈会", "东城区居民代表", "art-11-p1-i2", "oppose",
     "座谈会上多数居民认为，高层住宅一律禁止户内充电在执行中难以落实，应当先建好集中充电设施。"),
    ("research", "北塘区立法调研", "北塘区消防救援大队", "art-15", "suggest",
     "消防救援机构检查发现的隐患应当抄告物业服务人和街道办事处，形成闭环管理。"),
]
#: an e-mail campaign: the same text with small edits, as staff received it
CAMPAIGN = "强烈建议在老旧小区加装充电设施时由政府给予补贴，不能让居民承担全部费用。"
CAMPAIGN_COPIES = ("", "您好！", "我是老旧小区居民，", "", "")
CAMPAIGN_ENDINGS = ("", "谢谢！", "望采纳。", "请认真考虑。", "")
#: the deputy's suggestion on the current text: (deputy e-mail, anchor, text)
SUGGESTION = ("deputy2@demo.minyi", "art-12",
              "建议对私拉电线充电的行为，由物业服务人先行劝阻并留存记录，劝阻无效的再报告执法部门。")

#: dispositions: (how the opinion is found, outcome, reason, anchor in the second text)
DISPOSITIONS = [
    ("新小区同步建设", "adopted", "", "art-6"),
    ("老小区公共区域有限", "adopted", "", "art-7-p2"),
    ("Auto cut-off", "already_provided", "第八条第一款第一项已经要求充电设施具备充满自动断电功能。",
     "art-8-p1-i1"),
    ("高层住宅户内一律禁止充电", "partly_adopted",
     "修改后的草案允许符合标准的可拆卸电池带回户内充电，整车进户仍然禁止。", "art-11-p1-i2"),
    ("可拆卸的合格电池", "partly_adopted",
     "修改后的草案允许符合标准的可拆卸电池带回户内充电，整车进户仍然禁止。", "art-11-p1-i2"),
    ("信息平台应当与消防", "adopted", "", "art-16"),
    ("整部条例方向很好", "adopted", "", None),
    ("收费应当包含电费", "not_adopted",
     "收费标准属于价格管理事项，由价格主管部门依照价格法规定，本条例不再重复规定。", "art-10"),
    ("座谈会上多数居民", "partly_adopted",
     "修改后的草案增加了建设集中充电设施的要求，户内充电的限制同时放宽。", "art-11-p1-i2"),
    ("消防救援机构检查发现", "adopted", "", "art-15"),
    ("强烈建议在老旧小区加装", "out_of_scope",
     "补贴资金的安排属于政府预算事项，不属于本条例的调整范围，已转送市财政局研究。", None),
    ("增加宣传教育的规定很好", "already_provided",
     "第四条已经规定宣传教育，消防演练由实施办法细化。", "art-4"),
    ("采纳了业主大会决定", "adopted", "", "art-7-p2"),
    ("由物业服务人先行劝阻", "adopted", "", "art-13"),
]
#: the reason given to every hearing statement and written opinion
HEARING_REASON = "听证会上的意见已逐条研究，修改后的草案第七条、第十一条吸收了其中的主要建议。"


def load_demo_opinions(draft: Draft, users: dict[str, User]) -> None:
    """Record the offline opinions and the deputy's suggestion, find campaigns, and decide
    every published or recorded opinion of the demo draft."""
    staff = users["staff@demo.minyi"]
    first = opinions.first_version(draft)
    current = draft.current_version
    now = utcnow()
    for index, (source, detail, name, anchor, stance, body) in enumerate(OFFLINE):
        opinions.record_offline_opinion(draft, drafts.clause_by_anchor(first, anchor),
                                        opinions.OfflineOpinion(
            source=source, source_detail=detail, name=name, stance=stance, body=body,
            received_at=now - timedelta(days=2 + index),
            submission_key=f"demo-offline-{index:02d}-{draft.slug}"), user=staff)
    for index, (opening, ending) in enumerate(zip(CAMPAIGN_COPIES, CAMPAIGN_ENDINGS,
                                                  strict=True)):
        opinions.record_offline_opinion(draft, None, opinions.OfflineOpinion(
            source="email", source_detail="市人大常委会公开邮箱", name=f"来信人{index + 1}",
            email=f"resident{index + 1}@example.org", stance="suggest",
            body=opening + CAMPAIGN + ending, received_at=now - timedelta(days=1),
            submission_key=f"demo-campaign-{index:02d}-{draft.slug}"), user=staff)
    email, anchor, body = SUGGESTION
    opinions.submit_deputy_suggestion(draft, drafts.clause_by_anchor(current, anchor),
                                      user=users[email], stance="suggest", body=body,
                                      submission_key=f"demo-deputy-{draft.slug}")
    campaigns.cluster_draft(draft, user=staff)
    counted = list(db.session.scalars(opinions.counted(select(Comment), draft)
                                      .order_by(Comment.id)))
    for needle, outcome, reason, target in DISPOSITIONS:
        chosen = [c for c in counted if needle in c.body]
        if not chosen:
            continue
        opinions.decide(draft, chosen, outcome, reason,
                        drafts.clause_by_anchor(current, target) if target else None, user=staff)
    hearing = [c for c in counted if c.source == "hearing"]
    if hearing:
        opinions.decide(draft, hearing, "partly_adopted", HEARING_REASON,
                        drafts.clause_by_anchor(current, "art-11"), user=staff)

