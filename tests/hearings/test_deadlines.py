"""Deadlines from the hearing rules, overrides with reasons, and the staff dashboard."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, utcnow
from hearings import deadlines, services
from hearings.models import DeadlineOverride

START = datetime(2031, 5, 20, 1, 30)
CONFIG = deadlines.settings()


def states(times: deadlines.HearingTimes, now: datetime) -> dict[str, str]:
    return {d.step: d.state for d in deadlines.deadlines(times, now, CONFIG)}


def test_default_due_dates_follow_the_rules():
    times = deadlines.HearingTimes(START, START + timedelta(hours=3),
                                   adopted_at=datetime(2031, 7, 1))
    due = deadlines.due_dates(times, CONFIG)
    assert due["notice"] == START - timedelta(days=20)
    assert due["selection"] == START - timedelta(days=10)
    assert due["speaker_notice"] == due["observer_close"] == START - timedelta(days=7)
    assert due["observer_notice"] == START - timedelta(days=3)
    assert due["record_review"] == START + timedelta(hours=3, days=5)
    assert due["feedback"] == datetime(2031, 7, 16)
    assert deadlines.due_dates(deadlines.HearingTimes(START), CONFIG)["feedback"] is None


def test_settings_merge_and_refuse_unknown_or_negative_values():
    assert deadlines.settings({"notice_days_before": 30})["notice_days_before"] == 30
    assert deadlines.settings({"notice_days_before": 30})["selection_days_before"] == 10
    with pytest.raises(KeyError):
        deadlines.settings({"notice_days": 30})
    with pytest.raises(ValueError):
        deadlines.settings({"warning_days": -1})


def test_states_ok_due_soon_missed_and_done_late():
    times = deadlines.HearingTimes(START)
    notice_due = START - timedelta(days=20)
    assert states(times, notice_due - timedelta(days=4))["notice"] == "ok"
    assert states(times, notice_due - timedelta(days=2))["notice"] == "due_soon"
    assert states(times, notice_due + timedelta(minutes=1))["notice"] == "missed"
    late = deadlines.HearingTimes(START, done={"notice": notice_due + timedelta(days=1)})
    [notice] = [d for d in deadlines.deadlines(late, START, CONFIG) if d.step == "notice"]
    assert notice.done and notice.late and notice.state == "missed"
    assert deadlines.warnings([notice]) == []  # done, though late: nothing left to do
    on_time = deadlines.HearingTimes(START, done={"notice": notice_due})
    assert states(on_time, START)["notice"] == "ok"
    # observer applications close by themselves
    assert states(times, START - timedelta(days=6))["observer_close"] == "ok"
    # a wider warning window from the settings
    wide = deadlines.settings({"warning_days": 10})
    assert {d.step: d.state for d in deadlines.deadlines(
        times, notice_due - timedelta(days=8), wide)}["notice"] == "due_soon"


def test_simplified_procedure_is_exempt_from_the_notice_period_only():
    times = deadlines.HearingTimes(START, procedure="simplified")
    now = START - timedelta(days=12)
    result = {d.step: d for d in deadlines.deadlines(times, now, CONFIG)}
    assert result["notice"].exempt and result["notice"].state == "ok"
    assert not result["selection"].exempt
    assert deadlines.next_deadline(list(result.values())).step == "selection"
    late = deadlines.lateness("notice", times, now, CONFIG)
    assert late.exempt
    assert deadlines.lateness("selection", times, START - timedelta(days=9), CONFIG).state == \
        "missed"
    assert deadlines.lateness("selection", times, START - timedelta(days=11), CONFIG) is None


@pytest.fixture
def staff_client(client, make_user):
    client.staff = make_user("staff")
    client.login(client.staff)
    return client


def test_late_notice_is_refused_without_a_reason_and_allowed_with_one(staff_client,
                                                                      make_hearing):
    hearing = make_hearing(status="planned", starts_at=utcnow() + timedelta(days=15),
                           ends_at=utcnow() + timedelta(days=15, hours=3))
    url = f"/staff/hearings/{hearing.slug}/steps/notice"
    refused = staff_client.post_form(f"{url}?lang=en", {"override_reason": "  "})
    assert refused.status_code == 302
    hearing = services.hearing_by_slug(hearing.slug)
    assert hearing.notice_published_at is None
    assert db.session.scalar(select(DeadlineOverride)) is None
    page = staff_client.get(f"/staff/hearings/{hearing.slug}?lang=en").get_data(as_text=True)
    assert "give the reason for the override" in page

    reason = "主任会议推迟决定，经批准缩短公告期。"
    allowed = staff_client.post_form(url, {"override_reason": reason})
    assert allowed.status_code == 302
    hearing = services.hearing_by_slug(hearing.slug)
    assert hearing.notice_published_at is not None and hearing.status == "announced"
    override = db.session.scalar(select(DeadlineOverride))
    assert (override.deadline, override.reason, override.user_id) == (
        "notice", reason, staff_client.staff.id)
    entry = db.session.scalar(select(AuditLog).where(
        AuditLog.action == "hearing.deadline_override"))
    assert entry.details["reason"] == reason and entry.details["deadline"] == "notice"
    assert entry.actor_id == staff_client.staff.id


def test_a_step_on_time_needs_no_reason_and_records_no_override(staff_client, make_hearing):
    hearing = make_hearing(status="planned", starts_at=utcnow() + timedelta(days=25))
    assert staff_client.post_form(f"/staff/hearings/{hearing.slug}/steps/notice").status_code \
        == 302
    assert services.hearing_by_slug(hearing.slug).notice_published_at is not None
    assert db.session.scalar(select(DeadlineOverride)) is None


def test_simplified_procedure_publishes_late_without_a_reason_but_records_it(staff_client,
                                                                           make_hearing):
    hearing = make_hearing(status="planned", procedure="simplified",
                           starts_at=utcnow() + timedelta(days=5))
    staff_client.post_form(f"/staff/hearings/{hearing.slug}/steps/notice")
    assert services.hearing_by_slug(hearing.slug).notice_published_at is not None
    override = db.session.scalar(select(DeadlineOverride))
    assert override.deadline == "notice" and override.reason
    entry = db.session.scalar(select(AuditLog).where(
        AuditLog.action == "hearing.deadline_override"))
    assert entry.details["exempt"] is True


def test_deadlines_come_from_the_app_config(app, staff_client, make_hearing):
    app.config["HEARING_DEADLINES"] = {"notice_days_before": 10}
    hearing = make_hearing(status="planned", starts_at=utcnow() + timedelta(days=15))
    staff_client.post_form(f"/staff/hearings/{hearing.slug}/steps/notice")
    assert services.hearing_by_slug(hearing.slug).notice_published_at is not None
    assert db.session.scalar(select(DeadlineOverride)) is None


def test_moving_the_hearing_earlier_after_the_notice_needs_an_override(staff_client,
                                                                       make_hearing):
    start = utcnow() + timedelta(days=30)
    hearing = make_hearing(status="planned", starts_at=start, ends_at=start + timedelta(hours=3))
    staff_client.post_form(f"/staff/hearings/{hearing.slug}/steps/notice")
    earlier = start - timedelta(days=20)
    plan = services.HearingInput(
        title=hearing.title, starts_at=earlier, ends_at=earlier + timedelta(hours=3),
        place=hearing.place,
        questions=[services.QuestionInput(q.text, [], q.is_main) for q in hearing.questions])
    hearing = services.hearing_by_slug(hearing.slug)
    with pytest.raises(services.DeadlineMissed):
        services.update_hearing(hearing, plan, user=staff_client.staff)
    db.session.rollback()
    hearing = services.hearing_by_slug(hearing.slug)
    services.update_hearing(hearing, plan, user=staff_client.staff,
                            override_reason="会场临时调整")
    db.session.commit()
    assert db.session.scalar(select(DeadlineOverride)).reason == "会场临时调整"


def test_feedback_is_due_fifteen_days_after_the_regulation_passes(make_hearing, make_draft):
    hearing = make_hearing(make_draft(status="adopted"), starts_at=utcnow() - timedelta(days=40))
    feedback = {d.step: d for d in services.hearing_deadlines(hearing)}["feedback"]
    adopted = services.adopted_at(hearing.draft)
    assert adopted is not None and feedback.due == adopted + timedelta(days=15)
    assert feedback.state == "ok"
    assert {d.step: d for d in services.hearing_deadlines(
        hearing, now=adopted + timedelta(days=13))}["feedback"].state == "due_soon"


def test_dashboard_lists_the_next_deadline_and_warns(staff_client, make_hearing):
    soon = make_hearing(status="planned", title="即将到期的听证会",
                        starts_at=utcnow() + timedelta(days=21, hours=12))
    missed = make_hearing(status="planned", title="已经逾期的听证会",
                          starts_at=utcnow() + timedelta(days=12))
    page = staff_client.get("/staff/hearings/?lang=en").get_data(as_text=True)
    rows = {title: page.split(title, 1)[1].split("</tr>", 1)[0]
            for title in (soon.title, missed.title)}
    assert "Due soon" in rows[soon.title] and "Missed" not in rows[soon.title]
    assert "Publish the notice" in rows[soon.title]
    assert "Missed" in rows[missed.title]
