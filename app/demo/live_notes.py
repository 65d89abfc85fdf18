"""Demo notes of a finished hearing: the live record taken through the same services as at a
real hearing, then the record's review, a correction, and the signatures."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import User, utcnow
from drafts.models import Draft
from hearings import live, record, report
from hearings.models import (
    Hearing,
    HearingNote,
    HearingOfficer,
    HearingQuestion,
    ObserverRegistration,
    SpeakerPosition,
    SpeakerRegistration,
)

FINISHED_SLUG = "demo-hearing-held"
#: (name, kind, representative, sector, region, stance on the two questions, account e-mail)
FINISHED_SPEAKERS = (
    ("张明", "person", "", "居民", "东城区", ("oppose", "other"), "citizen1@demo.minyi"),
    ("青禾市物业管理协会", "organisation", "刘建国", "物业服务", "南山区", ("support", "other"),
     None),
    ("北塘区消防志愿服务队", "organisation", "周强", "消防", "北塘区", ("support", "support"),
     None),
    ("李娜", "person", "", "电动自行车经营", "东城区", ("oppose", "oppose"), None),
    ("陈芳", "person", "", "居民", "西湖区", ("support", "support"), "citizen2@demo.minyi"),
    ("王海", "person", "", "法律工作者", "西湖区", ("other", "oppose"), None),
)
FINISHED_QUESTIONS = (
    "老旧小区是否应当限期建成集中充电设施？",
    "集中充电设施的收费是否应当实行政府指导价？",
)

#: what a recorder writes down while a speaker has the floor; {name} and {sector} are filled in
STATEMENT_NOTES = (
    "{name}介绍了{sector}方面的基本情况，认为电动自行车进楼入户充电是火灾的主要隐患之一。",
    "{name}提出，小区集中充电设施不足，居民夜间找不到充电位置，只能把车推上楼。",
    "{name}认为第十一条第一款第二项“一律禁止”过于严格，建议区分可拆卸电池和整车。",
    "{name}举例说明：所在小区去年增设八十个充电口后，楼道充电现象明显减少。",
    "{name}建议充电收费实行政府指导价，并在充电设施显著位置公示收费标准。",
    "{name}提出，老旧小区改造时应当同步规划停放和充电场所，资金由政府补助一部分。",
    "{name}认为物业服务企业的巡查责任应当写明频次，否则难以落实。",
    "{name}表示支持设定罚款，但首次违法应当以警告和教育为主。",
    "{name}提供了书面材料，列出近三年本市电动自行车火灾起数和原因分析。",
    "{name}建议信息平台与消防、住建部门数据联通，用大数据优化充电设施布局。",
)
QUESTIONING_NOTES = (
    "听证人询问：集中充电设施的建设用地如何保障？陈述人回答：可利用小区边角地和地下空间。",
    "听证人询问：可拆卸电池带回户内充电如何监管？陈述人回答：可推广带认证标识的电池。",
)
DEBATE_NOTES = (
    "物业服务企业代表与居民代表就充电收费标准进行了辩论，双方同意收费应当公开透明。",
    "消防部门代表与电动自行车经营者代表就进户充电的风险进行了辩论。",
)
OBSERVATIONS = (
    ("observation", "private", "第十一条的争议较大，会后可组织一次专题调研。"),
    ("question", "staff", "请主持人询问陈述人：充电设施的维护责任由谁承担？"),
)


def load_demo_notes(hearing: Hearing, users: Mapping[str, User], *,
                    notes_per_speaker: int = 3, duration: timedelta = timedelta(hours=3),
                    observers: list[User] | None = None) -> list[HearingNote]:
    """Record a whole hearing: statements, questioning, debate, deputies' observations; end it,
    open the record, accept one correction and sign; times spread over `duration`.

    `users` maps e-mail addresses to the demo's users; the hearing's chair and recorder must be
    set, and its speakers selected with their running order.
    """
    recorder = db.session.get(User, hearing.recorder_id)
    chair = db.session.get(User, hearing.chair_id)
    speakers = live.running_order(hearing)
    notes: list[HearingNote] = []

    def write(body: str, **kwargs) -> HearingNote:
        note, _event = live.post_note(hearing, recorder, body, **kwargs)
        notes.append(note)
        return note

    live.change_speaker(hearing, chair, None, "开场")
    write("主持人宣布听证会开始，介绍听证人、陈述人到会情况，宣布听证规则和会场纪律。")
    for speaker in speakers:
        live.change_speaker(hearing, chair, speaker.id, "陈述")
        live.start_timer(hearing, chair)
        for n in range(notes_per_speaker):
            template = STATEMENT_NOTES[(speaker.id + n) % len(STATEMENT_NOTES)]
            write(template.format(name=live.speaker_label(speaker),
                                  sector=speaker.sector or "本行业"))
    live.change_speaker(hearing, chair, None, "询问")
    for body in QUESTIONING_NOTES:
        write(body)
    live.change_speaker(hearing, chair, None, "辩论")
    for body in DEBATE_NOTES:
        write(body)
    for deputy in observers or []:
        for kind, visibility, body in OBSERVATIONS:
            live.post_note(hearing, deputy, body, kind=kind, visibility=visibility)
    live.change_speaker(hearing, chair, None, "总结")
    write("主持人总结：各方陈述的意见将整理形成听证报告，送常委会组成人员参阅。")

    step = duration / max(len(notes), 1)
    for index, note in enumerate(notes):
        note.created_at = note.updated_at = hearing.starts_at + step * index
    hearing.ends_at = hearing.starts_at + duration
    live.end_hearing(hearing, chair)
    record.open_record(hearing, users.get("staff@demo.minyi", recorder))
    _correct_and_sign(hearing, speakers, notes, recorder, chair)
    db.session.flush()
    return notes


def _correct_and_sign(hearing: Hearing, speakers: list[SpeakerRegistration],
                      notes: list[HearingNote], recorder: User, chair: User) -> None:
    """Let the first speaker with an account ask for a correction, accept it, and sign."""
    speaker = next((s for s in speakers if s.user_id), None)
    if speaker is not None:
        note = next((n for n in notes if n.speaker_id == speaker.id), None)
        if note is not None:
            correction = record.request_correction(
                hearing, speaker.user, "我说的是“百分之三十”，记录写成了“三成左右”，请更正。",
                note_id=note.id, now=hearing.ends_at + timedelta(days=1))
            record.decide_correction(correction, recorder, accept=True,
                                     response="已按陈述人意见更正。",
                                     body=note.body + "（陈述人补正：比例不低于百分之三十。）")
    # A hearing whose review window is still open stays in review, as it would in reality.
    after_review = record.review_closes_at(hearing) + timedelta(hours=1)
    if after_review <= utcnow():
        record.sign_off(hearing, recorder, "recorder", now=after_review)
        record.sign_off(hearing, chair, "chair", now=after_review)


def load_demo_finished_hearing(draft: Draft, users: Mapping[str, User]) -> Hearing:
    """Create a hearing held three weeks ago, with its notes, signed record and report."""
    existing = db.session.scalar(select(Hearing).where(Hearing.slug == FINISHED_SLUG))
    if existing is not None:
        return existing
    staff = users["staff@demo.minyi"]
    starts = (utcnow() - timedelta(days=21)).replace(hour=1, minute=30, second=0, microsecond=0)
    hearing = Hearing(
        slug=FINISHED_SLUG, draft_id=draft.id, version_id=draft.current_version_id,
        title="老旧小区电动自行车集中充电设施建设座谈式听证会",
        organiser="青禾市人大常委会法制工作委员会", place="青禾市东城区社区服务中心",
        starts_at=starts, procedure="simplified", status="announced", public_live=True,
        chair_id=staff.id, recorder_id=staff.id, created_by_id=staff.id,
        notice_published_at=starts - timedelta(days=12))
    hearing.questions = [HearingQuestion(position=i, text=text, is_main=i == 1)
                         for i, text in enumerate(FINISHED_QUESTIONS, start=1)]
    hearing.officers = [HearingOfficer(user_id=staff.id, name=staff.name, title="主持人",
                                       is_chair=True),
                        HearingOfficer(name="许静", title="法制工作委员会副主任")]
    db.session.add(hearing)
    db.session.flush()
    for order, (name, kind, representative, sector, region, stances, email) in enumerate(
            FINISHED_SPEAKERS, start=1):
        speaker = SpeakerRegistration(
            hearing_id=hearing.id, user_id=users[email].id if email else None, kind=kind,
            name=name, representative=representative, sector=sector, region=region,
            status="selected", speaking_order=order, speaking_minutes=8,
            key_points=f"{name}就集中充电设施的建设期限和收费方式陈述意见。")
        speaker.positions = [
            SpeakerPosition(question_id=question.id, stance=stance,
                            text=f"{name}认为：" + STANCE_REASONS[stance])
            for question, stance in zip(hearing.questions, stances, strict=True)]
        db.session.add(speaker)
    deputies = [user for user in users.values() if user.is_deputy]
    for deputy in deputies:
        db.session.add(ObserverRegistration(hearing_id=hearing.id, user_id=deputy.id,
                                            kind="deputy", status="accepted", embedded=True))
    db.session.flush()
    load_demo_notes(hearing, users, notes_per_speaker=3, duration=timedelta(hours=2),
                    observers=deputies[:1])
    for question, text in zip(hearing.questions, SUGGESTIONS, strict=True):
        report.set_suggestion(hearing, staff, question.id, text)
    report.set_suggestion(hearing, staff, None, "建议将本次听证情况和各方意见向常委会会议报告。")
    db.session.flush()
    return hearing


STANCE_REASONS = {
    "support": "应当明确期限和标准，否则规定难以落实。",
    "oppose": "一刀切的要求不符合老旧小区的实际，应当因地制宜。",
    "other": "可以先行试点，总结经验后再作统一规定。",
}
SUGGESTIONS = (
    "建议规定老旧小区集中充电设施的建设期限，并明确资金补助办法。",
    "建议收费实行政府指导价，并要求在充电设施显著位置公示。",
)
