"""The demo hearing: a notice published, twelve registrants, a proposed selection, deputies."""

from __future__ import annotations

from datetime import timedelta

from app.accounts.services import create_user, find_user_by_email
from app.extensions import db
from app.models import User, utcnow
from drafts.models import Draft
from hearings import services
from hearings.models import Hearing

HEARING_SLUG = "demo-hearing"

QUESTIONS = [
    ("高层住宅建筑的户内是否应当一律禁止为电动自行车充电？", ["art-11-p1-i2"], True),
    ("充电设施的收费标准应当由市场决定，还是由政府指导？", ["art-10"], False),
    ("对个人在禁止区域充电的罚款幅度是否适当？", ["art-18"], False),
]

#: (name, kind, representative, sector, region, expertise, stances on the three questions,
#:  key points, days before now that they registered, demo account or None)
REGISTRANTS = [
    ("张明", "person", "", "居民", "东城区", "", ("oppose", "other", "support"),
     "户内一律禁止过严：可拆卸电池带回家充电很普遍，建议区分电池与整车。", 5.8,
     "citizen1@demo.minyi"),
    ("陈芳", "person", "", "居民", "西湖区", "", ("support", "support", "support"),
     "高层火灾扑救难，户内禁止充电是必要的底线，应当严格执行。", 5.5, "citizen2@demo.minyi"),
    ("青禾市物业管理协会", "organisation", "刘建国", "物业服务", "南山区", "小区设施管理",
     ("support", "other", "oppose"),
     "物业难以入户检查，禁止规定应当配套公共充电设施的建设时限。", 5.1, None),
    ("北塘区消防志愿服务队", "organisation", "周强", "消防", "北塘区", "火灾案例",
     ("support", "support", "support"), "近三年本市电动自行车火灾多数发生在夜间户内充电。", 4.9,
     None),
    ("李娜", "person", "", "电动自行车经营", "东城区", "电池销售与维修",
     ("oppose", "oppose", "other"), "合格的锂电池配合智能充电器风险可控，建议以标准代替禁止。",
     4.4, None),
    ("王海", "person", "", "法律工作者", "西湖区", "行政法", ("other", "other", "oppose"),
     "“一律禁止”与个人财产使用的边界需要说明理由；罚款下限可以降低。", 3.9, None),
    ("赵丽", "person", "", "居民", "青禾县", "", ("oppose", "support", "oppose"),
     "县城多为多层住宅，公共充电桩少，禁止规定应当分步实施。", 3.2, "citizen3@demo.minyi"),
    ("青禾骑手服务站", "organisation", "孙晓", "电动自行车经营", "南山区", "外卖骑手",
     ("oppose", "oppose", "oppose"), "骑手收入低，换电柜覆盖不足，户内禁止会影响生计。", 2.8, None),
    ("吴敏", "person", "", "物业服务", "东城区", "", ("support", "other", "support"),
     "建议明确物业发现户内充电后的劝阻和报告程序。", 2.1, None),
    ("郑凯", "person", "", "其他", "北塘区", "城市规划", ("other", "support", "other"),
     "应当先评估现有充电设施缺口，再确定禁止的实施时间。", 1.6, None),
    ("冯雪", "person", "", "居民", "南山区", "", ("support", "oppose", "support"),
     "邻居在楼道充电让我很担心，支持禁止并加强巡查。", 1.1, None),
    ("何平", "person", "", "法律工作者", "青禾县", "消费者权益", ("oppose", "other", "oppose"),
     "对个人首次违法宜先警告，罚款上限五百元偏高。", 0.4, None),
]


def _registrant_account(index: int, name: str) -> User:
    """Return the demo account of a registrant who has none among the demo users."""
    from app.demo import DEMO_PASSWORD

    email = f"speaker{index:02d}@demo.minyi"
    return find_user_by_email(email) or create_user(email, DEMO_PASSWORD, name)


def load_demo_hearing(draft: Draft, users: dict[str, User]) -> Hearing:
    """Create the demo hearing on the demo draft; `users` maps the demo e-mails to accounts."""
    existing = services.hearing_by_slug(HEARING_SLUG)
    if existing is not None:
        return existing
    staff = users["staff@demo.minyi"]
    now = utcnow()
    start = (now + timedelta(days=24)).replace(hour=1, minute=30, second=0, microsecond=0)
    plan = services.HearingInput(
        title="《青禾市电动自行车停放充电管理条例（草案）》立法听证会",
        slug=HEARING_SLUG,
        starts_at=start,
        ends_at=start + timedelta(hours=3, minutes=30),
        questions=[services.QuestionInput(text, anchors, main)
                   for text, anchors, main in QUESTIONS],
        description="本次听证会围绕草案中争议较大的三个问题听取各方意见。陈述人应当围绕听证事项"
        "客观陈述事实，每人发言不超过八分钟。",
        organiser="青禾市人大常委会法制工作委员会",
        place="青禾市人大常委会机关三楼听证室",
        online_url="https://example.org/live/demo-hearing",
        speaker_seats=8,
        public_observer_seats=20,
        deputy_observer_seats=10,
        chair=staff,
        recorder=staff,
        officers=[("林国栋", "常委会委员"), ("许静", "法制工作委员会副主任")],
    )
    hearing = services.create_hearing(draft, plan, user=staff)
    services.take_step(hearing, "notice", user=staff, now=now - timedelta(days=6))
    for index, (name, kind, representative, sector, region, expertise, stances, points, days,
                email) in enumerate(REGISTRANTS, start=1):
        account = users.get(email) if email else _registrant_account(index, name)
        data = services.RegistrationInput(
            name=name, kind=kind, representative=representative, sector=sector, region=region,
            expertise=expertise, key_points=points, phone=f"0571-8800{index:04d}",
            positions=[services.PositionInput(q.id, stance)
                       for q, stance in zip(hearing.questions, stances, strict=True)])
        services.register_speaker(hearing, account, data, now=now - timedelta(days=days))
    services.add_invited_speaker(hearing, services.RegistrationInput(
        name="江教授", sector="高校", region="", expertise="锂电池安全",
        key_points="锂电池热失控的条件与户内充电的实际风险。", is_expert=True), user=staff)
    services.propose_selection(hearing, services.default_seats(hearing), 3, user=staff)
    deputies = [u for u in users.values() if u.is_deputy]
    services.invite_deputies(hearing, deputies, user=staff)
    for observer in services.observers(hearing, "deputy"):
        if observer.user.email == "deputy1@demo.minyi":
            services.set_embedded(observer, True, user=staff)
            services.answer_invitation(observer, True)
    db.session.flush()
    return hearing
