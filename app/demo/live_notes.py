"""Demo notes of a finished hearing: the live record taken through the same services as at a
real hearing, then the record's review, a correction, and the signatures."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from app.extensions import db
from app.models import User, utcnow
from hearings import live, record
from hearings.models import Hearing, HearingNote, SpeakerRegistration

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
