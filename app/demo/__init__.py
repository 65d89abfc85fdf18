"""A demo that tells the whole story: users of every role, a draft open for comment, comments."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from app.accounts.services import create_user, find_user_by_email
from app.demo.hearing import load_demo_hearing
from app.demo.live_notes import load_demo_finished_hearing
from app.demo.opinions import load_demo_opinions
from app.demo.versions import load_demo_second_reading
from app.extensions import db
from app.models import DeputyGroup, User, utcnow
from drafts import services as drafts
from drafts.models import Draft

DEMO_PASSWORD = "minyi-demo"
DRAFT_SLUG = "e-bike-charging"

USERS = [
    ("admin@demo.minyi", "管理员", "admin", None),
    ("staff@demo.minyi", "法工委 王立", "staff", None),
    ("deputy1@demo.minyi", "李代表", "deputy", "city"),
    ("deputy2@demo.minyi", "赵代表", "deputy", "county"),
    ("citizen1@demo.minyi", "张明", "public", None),
    ("citizen2@demo.minyi", "陈芳", "public", None),
    ("citizen3@demo.minyi", "Alex Li", "public", None),
]

REGIONS = ["东城区", "西湖区", "南山区", "北塘区", "青禾县"]
SECTORS = ["居民", "物业服务", "消防", "电动自行车经营", "法律工作者", "其他"]

#: (author e-mail, clause anchor or None, stance, text, proposed wording, status)
COMMENTS = [
    ("citizen1@demo.minyi", "art-6", "support",
     "新小区同步建设充电设施很有必要，建议明确比例不低于户数的百分之三十。", "", "published"),
    ("citizen2@demo.minyi", "art-7-p2", "suggest",
     "老小区公共区域有限，增设停放场所时应当先征求全体业主意见，并公示方案。",
     "增设停放场所和充电设施，应当经业主大会决定，并在小区显著位置公示不少于七日。",
     "published"),
    ("citizen3@demo.minyi", "art-8-p1-i1", "support",
     "Auto cut-off when charging is complete should be mandatory for every charger.", "",
     "published"),
    ("citizen1@demo.minyi", "art-11-p1-i2", "oppose",
     "高层住宅户内一律禁止充电过于严格，建议区分可拆卸电池和整车充电。", "", "published"),
    ("citizen2@demo.minyi", "art-11-p1-i2", "suggest",
     "建议允许将可拆卸的合格电池带回户内充电，但禁止整车进户。我的电话13812345678，欢迎联系。",
     "", "published"),
    ("deputy1@demo.minyi", "art-16", "suggest",
     "信息平台应当与消防、住建部门数据联通，用大数据优化充电设施布局。", "", "published"),
    ("citizen3@demo.minyi", "art-18", "oppose",
     "The fine for individuals should be lower for a first offence; a warning would be fairer.",
     "", "pending"),
    ("citizen1@demo.minyi", None, "support",
     "整部条例方向很好，希望尽快出台，解决楼道充电的安全隐患。", "", "published"),
    ("citizen2@demo.minyi", "art-10", "suggest",
     "收费标准应当由价格主管部门指导，避免小区充电收费过高。", "", "pending"),
    ("citizen3@demo.minyi", "art-12-p1", "support", "买便宜药请联系 spam@example.com", "",
     "rejected"),
]


def load_demo() -> Draft:
    """Create the demo users, draft and comments; do nothing if the demo is already there."""
    existing = drafts.draft_by_slug(DRAFT_SLUG)
    if existing is not None:
        return existing
    group = db.session.scalar(select(DeputyGroup).where(DeputyGroup.name == "城建环资代表小组"))
    if group is None:
        group = DeputyGroup(name="城建环资代表小组",
                            description="城市建设、环境与资源保护领域的代表")
        db.session.add(group)
        db.session.flush()
    users: dict[str, User] = {}
    for email, name, role, level in USERS:
        user = find_user_by_email(email) or create_user(
            email, DEMO_PASSWORD, name, role=role, deputy_level=level,
            deputy_group=group if role == "deputy" else None)
        users[email] = user
    staff = users["staff@demo.minyi"]
    text = (Path(__file__).parent / "draft.txt").read_text(encoding="utf-8")
    now = utcnow()
    draft = drafts.create_draft(
        "青禾市电动自行车停放充电管理条例（征求意见稿）",
        text,
        user=staff,
        slug=DRAFT_SLUG,
        summary="规范电动自行车停放和充电，预防火灾，方便群众出行。欢迎对任何一条、一款、一项发表意见。",
        explanation="近年来，本市电动自行车保有量快速增长，楼道停放、私拉电线充电引发的火灾时有发生。"
        "为了从源头上消除隐患，市人大常委会法制工作委员会会同有关部门起草了本条例草案。",
        office="市人大常委会法制工作委员会",
        opens_at=now - timedelta(days=3),
        closes_at=now + timedelta(days=27),
        moderation="pre",
        allow_guests=True,
        sectors=SECTORS,
        regions=REGIONS,
    )
    drafts.change_status(draft, "open", user=staff)
    version = draft.current_version
    for index, (email, anchor, stance, body, wording, status) in enumerate(COMMENTS):
        clause = drafts.clause_by_anchor(version, anchor) if anchor else None
        data = drafts.CommentInput(
            stance=stance, body=body, proposed_wording=wording,
            submission_key=f"demo-{index:04d}-{DRAFT_SLUG}",
            region=REGIONS[index % len(REGIONS)], sector=SECTORS[index % len(SECTORS)],
        )
        comment, _new = drafts.submit_comment(draft, clause, data, user=users[email])
        if status != "pending":
            action = {"published": "publish", "rejected": "reject", "hidden": "hide"}[status]
            drafts.moderate(comment, action, user=staff,
                            reason="" if action == "publish" else "广告信息")
    load_demo_hearing(draft, users)
    load_demo_finished_hearing(draft, users)
    load_demo_second_reading(draft, users)
    load_demo_opinions(draft, users)
    db.session.flush()
    return draft
