"""The record after the hearing: review window, corrections, sign-off, opinions, the report."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, utcnow
from drafts.models import Comment
from hearings import live, record, report
from hearings.models import HearingNote, HearingNoteRevision


@pytest.fixture(autouse=True)
def english_messages(app):
    """These tests read the English messages: make English the default language."""
    app.config["BABEL_DEFAULT_LOCALE"] = "en"


@pytest.fixture
def held(make_hearing, make_speaker, make_user):
    """A hearing of two speakers with record notes, just ended."""
    hearing = make_hearing()
    chair, recorder = hearing.chair, hearing.recorder
    speaker_user = make_user("public", name="张明")
    first = make_speaker(hearing, "张明", "support", user=speaker_user, order=1,
                         sector="居民", region="东城区")
    second = make_speaker(hearing, "某物业公司", "oppose", order=2, kind="organisation",
                          representative="王经理", sector="物业服务")
    live.change_speaker(hearing, chair, first.id, "陈述")
    live.post_note(hearing, recorder, "张明认为应当允许可拆卸电池进户充电。")
    live.post_note(hearing, recorder, "张明提到第十一条。", clause_lineage_ids=[11])
    live.change_speaker(hearing, chair, second.id, "陈述")
    live.post_note(hearing, recorder, "物业公司认为应当一律禁止进户充电。")
    live.end_hearing(hearing, chair)
    db.session.commit()
    hearing.speaker_user = speaker_user
    return hearing


def test_record_is_assembled_in_sections(held):
    sections = record.record_sections(record.record_notes(held))
    assert [s.heading for s in sections] == ["陈述：张明", "陈述：某物业公司（王经理）"]
    assert [len(s.notes) for s in sections] == [2, 1]


def test_observations_are_not_part_of_the_record(make_hearing, make_observer):
    hearing = make_hearing()
    deputy = make_observer(hearing)
    live.post_note(hearing, hearing.recorder, "正式记录")
    live.post_note(hearing, deputy, "代表提问", kind="question", visibility="staff")
    assert [n.body for n in record.record_notes(hearing)] == ["正式记录"]


def test_the_record_opens_only_after_the_hearing(make_hearing):
    hearing = make_hearing()
    with pytest.raises(record.RecordError, match="End the hearing"):
        record.open_record(hearing, hearing.recorder)


def test_opening_the_record_files_each_statement_once(held):
    filed = record.open_record(held, held.recorder)
    db.session.commit()
    assert held.status == "record_review" and held.record_opened_at is not None
    assert len(filed) == 2
    comments = record.hearing_opinions(held)
    assert {c.status for c in comments} == {"published"}
    assert {c.source for c in comments} == {"hearing"}
    by_key = {c.submission_key.rsplit(":", 1)[0]: c for c in comments}
    assert set(by_key) == {f"hearing:{held.id}:speaker"}
    zhang = next(c for c in comments if c.author_id == held.speaker_user.id)
    assert zhang.stance == "support"
    assert "张明的陈述重点" in zhang.body and "高层住宅是否应当" in zhang.body
    company = next(c for c in comments if c.author_id is None)
    assert company.stance == "oppose" and company.display_name == "某物业公司"
    assert record.file_speaker_statements(held) == []
    with pytest.raises(record.RecordError):
        record.open_record(held, held.recorder)


def test_only_speakers_ask_for_corrections_within_the_window(held, make_user):
    note = record.record_notes(held)[0]
    with pytest.raises(record.RecordError, match="not open"):
        record.request_correction(held, held.speaker_user, "请更正", note_id=note.id)
    record.open_record(held, held.recorder)
    with pytest.raises(record.RecordError, match="speakers"):
        record.request_correction(held, make_user("public"), "请更正", note_id=note.id)
    with pytest.raises(record.RecordError):
        record.request_correction(held, held.speaker_user, "   ", note_id=note.id)
    late = record.review_closes_at(held) + timedelta(minutes=1)
    with pytest.raises(record.RecordError, match="not open"):
        record.request_correction(held, held.speaker_user, "请更正", note_id=note.id, now=late)
    correction = record.request_correction(held, held.speaker_user, "应为百分之三十",
                                           note_id=note.id)
    assert correction.status == "pending" and correction.note_id == note.id


def test_review_window_follows_the_configured_days(app, held):
    assert record.review_closes_at(held) == held.ends_at + timedelta(days=5)
    app.config["HEARING_DEADLINES"] = {"record_review_days_after": 3}
    assert record.review_closes_at(held) == held.ends_at + timedelta(days=3)


def test_accepting_a_correction_revises_the_note(held, make_user):
    record.open_record(held, held.recorder)
    note = record.record_notes(held)[0]
    correction = record.request_correction(held, held.speaker_user, "我说的是可拆卸电池",
                                           note_id=note.id)
    with pytest.raises(record.RecordError, match="staff"):
        record.decide_correction(correction, make_user("public"), accept=True, body="x")
    with pytest.raises(record.RecordError, match="revision"):
        record.decide_correction(correction, held.recorder, accept=True, body="更正后",
                                 base_revision=0)
    events = record.decide_correction(correction, held.recorder, accept=True,
                                      body="张明认为应当允许合格的可拆卸电池进户充电。",
                                      base_revision=1, response="已更正")
    db.session.commit()
    assert [e.type for e in events] == ["note_updated"]
    db.session.refresh(note)
    assert note.revision == 2 and "合格的" in note.body
    assert db.session.scalars(select(HearingNoteRevision.body).where(
        HearingNoteRevision.note_id == note.id).order_by(HearingNoteRevision.revision)
    ).all() == ["张明认为应当允许可拆卸电池进户充电。", note.body]
    assert correction.status == "accepted" and correction.decided_by_id == held.recorder_id
    assert db.session.scalar(select(AuditLog.action).where(
        AuditLog.action == "hearing.correction_accepted")) is not None
    with pytest.raises(record.RecordError, match="decided"):
        record.decide_correction(correction, held.recorder, accept=False, response="x")


def test_an_omission_becomes_a_new_note_and_a_rejection_needs_a_reason(held):
    record.open_record(held, held.recorder)
    omission = record.request_correction(held, held.speaker_user, "漏记了我关于收费的意见")
    record.decide_correction(omission, held.recorder, accept=True,
                             body="张明补充：充电收费应当公示。")
    added = record.record_notes(held)[-1]
    assert added.body == "张明补充：充电收费应当公示。"
    assert added.speaker.name == "张明"
    wrong = record.request_correction(held, held.speaker_user, "把我的立场改成反对")
    with pytest.raises(record.RecordError, match="reason"):
        record.decide_correction(wrong, held.recorder, accept=False)
    record.decide_correction(wrong, held.recorder, accept=False,
                             response="记录与现场录音一致，不予更正。")
    assert wrong.status == "rejected" and wrong.response.startswith("记录与现场录音一致")


def test_chair_and_recorder_sign_after_the_review(held, make_user):
    record.open_record(held, held.recorder)
    pending = record.request_correction(held, held.speaker_user, "请更正")
    after = record.review_closes_at(held) + timedelta(hours=1)
    with pytest.raises(record.RecordError, match="until"):
        record.sign_off(held, held.recorder, "recorder")
    with pytest.raises(record.RecordError, match="correction"):
        record.sign_off(held, held.recorder, "recorder", now=after)
    record.decide_correction(pending, held.recorder, accept=False, response="无误")
    with pytest.raises(record.RecordError, match="chair and recorder"):
        record.sign_off(held, make_user("staff"), "chair", now=after)
    with pytest.raises(record.RecordError, match="chair and recorder"):
        record.sign_off(held, held.recorder, "chair", now=after)
    record.sign_off(held, held.recorder, "recorder", now=after)
    assert held.status == "record_review"
    with pytest.raises(record.RecordError, match="already"):
        record.sign_off(held, held.recorder, "recorder", now=after)
    record.sign_off(held, held.chair, "chair", now=after)
    db.session.commit()
    assert held.status == "closed"
    assert set(record.signoffs(held)) == {"chair", "recorder"}
    assert record.signoffs(held)["chair"].user_id == held.chair_id


def test_observers_hand_in_one_written_opinion(held, make_observer, make_user):
    observer = make_observer(held, kind="public")
    invited = make_observer(held, status="invited")
    assert not record.may_hand_in_opinion(make_user("public"), held)
    assert not record.may_hand_in_opinion(invited, held)
    comment = record.hand_in_opinion(held, observer, "suggest", "建议增加充电设施的用地保障条款。")
    db.session.commit()
    assert comment.source == "hearing" and comment.status == "pending"
    assert record.written_opinion(held, observer) == comment
    with pytest.raises(record.RecordError, match="already"):
        record.hand_in_opinion(held, observer, "suggest", "再交一份")
    with pytest.raises(record.RecordError):
        record.hand_in_opinion(held, make_user("public"), "suggest", "不是旁听人员")
    assert db.session.scalar(select(Comment.id).where(Comment.body == "不是旁听人员")) is None


def test_no_written_opinion_before_the_hearing(make_hearing, make_observer):
    hearing = make_hearing()
    observer = make_observer(hearing, kind="public")
    with pytest.raises(record.RecordError):
        record.hand_in_opinion(hearing, observer, "support", "提前提交")


def test_report_groups_opinions_by_question_and_position(held, make_observer):
    held.questions[1].clause_lineage_ids = [11]
    record.open_record(held, held.recorder)
    observer = make_observer(held, kind="public")
    record.hand_in_opinion(held, observer, "oppose", "旁听人员的书面意见")
    report.set_suggestion(held, held.recorder, held.questions[0].id, "建议区分电池类型。")
    report.set_suggestion(held, held.recorder, None, "建议修改第十一条。")
    report.set_suggestion(held, held.recorder, None, "建议修改第十一条，并补充用地保障。")
    db.session.commit()

    built = report.build_report(held)

    assert built.facts.speakers == 2
    assert built.facts.stances == {"support": 1, "oppose": 1}
    assert built.facts.sectors == ["居民", "物业服务"]
    assert built.facts.public_observers == 1
    assert built.facts.record_notes == 3
    first, second = built.questions
    assert list(first.positions) == ["support", "oppose"]
    (zhang,) = first.positions["support"]
    assert zhang.name == "张明"
    assert [n.body for n in zhang.statements] == ["张明认为应当允许可拆卸电池进户充电。"]
    assert [n.body for n in second.positions["support"][0].statements] == ["张明提到第十一条。"]
    assert first.suggestion == "建议区分电池类型。" and second.suggestion == ""
    assert built.general_suggestion == "建议修改第十一条，并补充用地保障。"
    assert [c.body for c in built.written_opinions] == ["旁听人员的书面意见"]


def test_only_staff_write_suggestions(held, make_observer):
    deputy = make_observer(held)
    with pytest.raises(record.RecordError):
        report.set_suggestion(held, deputy, None, "代表写的建议")
    with pytest.raises(record.RecordError):
        report.set_suggestion(held, held.recorder, 99999, "不存在的事项")


def test_demo_notes_tell_a_finished_hearing(make_hearing, make_speaker, make_observer,
                                            make_user):
    from app.demo.live_notes import load_demo_notes

    hearing = make_hearing(starts_at=utcnow() - timedelta(days=20))
    speaker_user = make_user("public")
    for n in range(3):
        make_speaker(hearing, f"陈述人{n + 1}", ("support", "oppose", "other")[n], order=n + 1,
                     user=speaker_user if n == 0 else None)
    notes = load_demo_notes(hearing, {}, notes_per_speaker=2, observers=[make_observer(hearing)])
    db.session.commit()
    assert len(notes) == 1 + 3 * 2 + 2 + 2 + 1
    assert hearing.status == "closed"
    assert db.session.scalar(select(HearingNote).where(HearingNote.revision == 2)) is not None
    assert len(record.hearing_opinions(hearing)) == 3


# --- the pages --------------------------------------------------------------------------------


def test_record_pages_from_review_to_signatures(app, held, make_client, make_user):
    staff = make_client()
    staff.login(held.recorder)
    speaker = make_client()
    speaker.login(held.speaker_user)
    base = f"/hearings/{held.slug}/record"

    assert speaker.get(base).status_code == 403  # not open yet
    assert staff.post_form(f"{base}/open").status_code == 302
    page = speaker.get(base).get_data(as_text=True)
    assert "张明认为应当允许可拆卸电池进户充电。" in page and 'id="correction"' in page
    note = record.record_notes(held)[0]
    assert speaker.post_form(f"{base}/corrections", {"note_id": note.id,
                                                     "text": "我说的是合格的电池"}
                             ).status_code == 302
    correction = record.corrections(held)[0]
    outsider = make_client()
    outsider.login(make_user("public"))
    assert outsider.get(base).status_code == 403
    assert outsider.post_form(f"{base}/corrections/{correction.id}",
                              {"decision": "accept", "body": "x"}).status_code == 403
    assert staff.post_form(f"{base}/corrections/{correction.id}", {
        "decision": "accept", "body": "张明认为应当允许合格的电池进户充电。", "revision": 1,
        "response": "已更正"}).status_code == 302
    assert "已更正" in speaker.get(base).get_data(as_text=True)

    response = staff.get(f"{base}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.get_data()[:5] == b"%PDF-"
    response.close()
    # the review window is still open: signing is refused with the date it closes
    refused = staff.post_form(f"{base}/sign", {"role": "recorder"}, follow_redirects=True)
    assert "may ask for corrections until" in refused.get_data(as_text=True)


def test_report_page_stores_suggestions(held, make_client, make_user):
    record.open_record(held, held.recorder)
    db.session.commit()
    staff = make_client()
    staff.login(held.recorder)
    base = f"/hearings/{held.slug}/report"
    question = held.questions[0]
    assert staff.post_form(base, {"question_id": question.id, "body": "建议区分电池类型。"}
                           ).status_code == 302
    assert staff.post_form(base, {"question_id": "", "body": "建议修改第十一条。"}
                           ).status_code == 302
    page = staff.get(base).get_data(as_text=True)
    assert "建议区分电池类型。" in page and "建议修改第十一条。" in page and "某物业公司" in page
    assert report.suggestions(held) == {question.id: "建议区分电池类型。",
                                        None: "建议修改第十一条。"}
    pdf = staff.get(f"{base}.pdf")
    assert pdf.mimetype == "application/pdf"
    pdf.close()
    citizen = make_client()
    citizen.login(make_user("public"))
    assert citizen.get(base).status_code == 403
    assert citizen.get(f"{base}.pdf").status_code == 403


def test_written_opinion_form(held, make_observer, make_client):
    observer = make_observer(held, kind="public")
    browser = make_client()
    browser.login(observer)
    url = f"/hearings/{held.slug}/opinion"
    assert "<form" in browser.get(url).get_data(as_text=True)
    response = browser.post_form(url, {"stance": "suggest", "body": "建议补充用地保障。"})
    assert response.status_code == 302
    page = browser.get(url).get_data(as_text=True)
    assert "建议补充用地保障。" in page and "<textarea" not in page
    assert record.written_opinion(held, observer).body == "建议补充用地保障。"
