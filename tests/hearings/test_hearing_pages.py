"""Staff create and edit a hearing; the public notice, the list and the iCalendar file."""

from __future__ import annotations

from datetime import datetime, timedelta

import icalendar
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, utcnow
from hearings import ical, services
from hearings.models import Hearing

START = "2031-05-20T09:30"  # local time, Asia/Shanghai (UTC+8)


def plan(draft, **overrides) -> dict:
    """The staff form's fields for a hearing on `draft`."""
    data = {
        "draft": draft.slug, "title": "电动自行车充电立法听证会", "slug": "charging-hearing",
        "organiser": "市人大常委会法制工作委员会", "place": "市人大常委会第一会议室",
        "online_url": "", "starts_at": START, "ends_at": "2031-05-20T12:00",
        "procedure": "ordinary", "speaker_seats": "12", "public_observer_seats": "20",
        "deputy_observer_seats": "10", "minutes_per_speaker": "8", "public_live": "y",
        "officers": "李华 | 常委会委员\n周敏 | 法工委副主任",
        "questions-0-text": "高层住宅是否应当禁止电动自行车进户充电？",
        "questions-0-clauses": "art-11-p1-i2, art-11",
        "questions-1-text": "充电收费标准由谁确定？", "questions-1-clauses": "",
        "main_question": "1",
    }
    data.update(overrides)
    return data


@pytest.fixture
def staff_client(client, make_user):
    staff = make_user("staff", name="法工委 王立")
    client.login(staff)
    client.staff = staff
    return client


def test_staff_create_a_hearing_with_questions_linked_to_clauses(staff_client, make_draft):
    draft = make_draft()
    chair = staff_client.staff
    response = staff_client.post_form("/staff/hearings/new", plan(draft, chair=str(chair.id)))
    assert response.status_code == 302, response.get_data(as_text=True)
    hearing = services.hearing_by_slug("charging-hearing")
    assert hearing.starts_at == datetime(2031, 5, 20, 1, 30)  # naive UTC
    assert hearing.ends_at == datetime(2031, 5, 20, 4, 0)
    assert hearing.version_id == draft.current_version_id
    assert [q.text for q in hearing.questions] == ["高层住宅是否应当禁止电动自行车进户充电？",
                                                   "充电收费标准由谁确定？"]
    main = services.main_question(hearing)
    assert main.position == 1
    linked = services.question_clauses(hearing, main)
    assert {c.anchor for c in linked} == {"art-11", "art-11-p1-i2"}
    assert main.clause_lineage_ids == [c.lineage_id for c in sorted(
        linked, key=lambda c: c.anchor != "art-11-p1-i2")]
    assert [(o.name, o.is_chair) for o in hearing.officers] == [
        ("法工委 王立", True), ("李华", False), ("周敏", False)]
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "hearing.create"))


def test_unknown_anchor_end_before_start_and_script_links_are_refused(staff_client, make_draft):
    draft = make_draft()
    bad = staff_client.post_form("/staff/hearings/new",
                                 plan(draft, **{"questions-0-clauses": "art-99"}))
    assert bad.status_code == 200 and "art-99" in bad.get_data(as_text=True)
    backwards = staff_client.post_form("/staff/hearings/new",
                                       plan(draft, ends_at="2031-05-20T08:00"))
    assert backwards.status_code == 200
    script = staff_client.post_form("/staff/hearings/new",
                                    plan(draft, online_url="javascript://example.org/%0Aalert(1)"))
    assert script.status_code == 200
    assert db.session.scalar(select(Hearing)) is None


def test_edit_keeps_question_ids_and_logs_the_change(staff_client, make_draft):
    draft = make_draft()
    staff_client.post_form("/staff/hearings/new", plan(draft))
    hearing = services.hearing_by_slug("charging-hearing")
    first_id = hearing.questions[0].id
    form = staff_client.get("/staff/hearings/charging-hearing/edit").get_data(as_text=True)
    assert "art-11" in form and "2031-05-20T09:30" in form
    response = staff_client.post_form("/staff/hearings/charging-hearing/edit", plan(
        draft, place="市民中心听证室", main_question="2",
        **{"questions-0-text": "高层住宅是否应当一律禁止进户充电？"}))
    assert response.status_code == 302, response.get_data(as_text=True)
    hearing = services.hearing_by_slug("charging-hearing")
    assert hearing.place == "市民中心听证室"
    assert hearing.questions[0].id == first_id
    assert hearing.questions[0].text == "高层住宅是否应当一律禁止进户充电？"
    assert services.main_question(hearing).position == 2
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "hearing.update"))
    assert entry.details["changes"]["place"] == ["市人大常委会第一会议室", "市民中心听证室"]


def test_notice_page_only_after_publication_and_listed_publicly(client, staff_client, make_draft,
                                                                make_client):
    draft = make_draft()
    staff_client.post_form("/staff/hearings/new", plan(draft))
    public = make_client()
    assert public.get("/hearings/charging-hearing").status_code == 404
    assert public.get("/hearings/charging-hearing/calendar.ics").status_code == 404
    assert "charging-hearing" not in public.get("/hearings/").get_data(as_text=True)
    assert staff_client.get("/hearings/charging-hearing").status_code == 200  # staff preview
    published = staff_client.post_form("/staff/hearings/charging-hearing/steps/notice")
    assert published.status_code == 302
    page = public.get("/hearings/charging-hearing?lang=en").get_data(as_text=True)
    assert "高层住宅是否应当禁止电动自行车进户充电？" in page
    assert "市人大常委会第一会议室" in page
    assert "Register to speak" in page and "Apply to observe" in page
    assert "2031" in page  # the time, and the registration and observing deadlines
    assert f'href="/drafts/{draft.slug}#art-11-p1-i2"' in page
    assert "charging-hearing" in public.get("/hearings/").get_data(as_text=True)


def test_ics_file_parses_and_carries_the_event(staff_client, make_draft, make_client):
    draft = make_draft()
    staff_client.post_form("/staff/hearings/new", plan(
        draft, title="听证会; 充电, 安全\\管理", place="第一会议室，三楼; A座"))
    staff_client.post_form("/staff/hearings/charging-hearing/steps/notice")
    response = make_client().get("/hearings/charging-hearing/calendar.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    raw = response.get_data()
    lines = raw.split(b"\r\n")
    assert lines[-1] == b"" and all(len(line) <= 75 for line in lines)
    assert b"\n" not in raw.replace(b"\r\n", b"")
    calendar = icalendar.Calendar.from_ical(raw)
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "听证会; 充电, 安全\\管理"
    assert str(event["LOCATION"]) == "第一会议室，三楼; A座"
    assert event["DTSTART"].dt == datetime(2031, 5, 20, 1, 30, tzinfo=event["DTSTART"].dt.tzinfo)
    assert event["DTSTART"].dt.utcoffset() == timedelta(0)
    assert event["DTEND"].dt.hour == 4
    assert str(event["UID"]).startswith("hearing-")
    assert "高层住宅是否应当禁止电动自行车进户充电？" in str(event["DESCRIPTION"])
    assert str(event["URL"]).endswith("/hearings/charging-hearing")


def test_folding_never_splits_a_character_and_escaping_round_trips():
    line = "DESCRIPTION:" + "听证会，第十一条；" * 30
    folded = ical.fold(line)
    pieces = folded.encode().split(b"\r\n")
    assert all(len(p) <= 75 for p in pieces)
    assert all(p.startswith(b" ") for p in pieces[1:])
    assert "".join(p.decode()[1:] if i else p.decode() for i, p in enumerate(pieces)) == line
    assert ical.escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_staff_pages_refuse_public_and_deputies(client, make_user, make_hearing):
    hearing = make_hearing(starts_at=utcnow() + timedelta(days=30))
    urls = ["/staff/hearings/", "/staff/hearings/new", f"/staff/hearings/{hearing.slug}",
            f"/staff/hearings/{hearing.slug}/edit", f"/staff/hearings/{hearing.slug}/registrations",
            f"/staff/hearings/{hearing.slug}/observers", f"/staff/hearings/{hearing.slug}/order"]
    assert client.get(urls[0]).status_code == 302  # anonymous: to the login page
    for role in ("public", "deputy"):
        client.login(make_user(role))
        for url in urls:
            assert client.get(url).status_code == 403, (role, url)
        notice = client.post_form(f"/staff/hearings/{hearing.slug}/steps/notice")
        assert notice.status_code == 403
        client.post_form("/logout")


def test_every_page_renders_for_the_demo_hearing(client, make_client):
    from app.demo import DEMO_PASSWORD, load_demo
    from app.demo.hearing import HEARING_SLUG
    from app.models import User

    load_demo()
    db.session.commit()
    hearing = services.hearing_by_slug(HEARING_SLUG)
    registrations = services.registrations(hearing)
    assert len(registrations) >= 13
    assert {r.status for r in registrations} == {"selected", "waitlisted", "not_selected"}
    deputies = services.observers(hearing, "deputy")
    assert len(deputies) == 2 and sum(o.embedded for o in deputies) == 1

    def user(email: str) -> User:
        return db.session.scalar(select(User).where(User.email == email))

    staff = make_client()
    staff.login(user("staff@demo.minyi"), DEMO_PASSWORD)
    first = registrations[0]
    observer = services.observers(hearing)[0]
    for url in ("/staff/hearings/", "/staff/hearings/new", f"/staff/hearings/{HEARING_SLUG}",
                f"/staff/hearings/{HEARING_SLUG}/edit",
                f"/staff/hearings/{HEARING_SLUG}/registrations",
                f"/staff/hearings/{HEARING_SLUG}/registrations?position=oppose&sector=居民",
                f"/staff/hearings/{HEARING_SLUG}/registrations/{first.id}",
                f"/staff/hearings/{HEARING_SLUG}/invited", f"/staff/hearings/{HEARING_SLUG}/order",
                f"/staff/hearings/{HEARING_SLUG}/observers"):
        for lang in ("en", "zh"):
            response = staff.get(f"{url}{'&' if '?' in url else '?'}lang={lang}")
            assert response.status_code == 200, url
    assert observer.user.name in staff.get(
        f"/staff/hearings/{HEARING_SLUG}/observers").get_data(as_text=True)
    citizen = make_client()
    citizen.login(user("citizen1@demo.minyi"), DEMO_PASSWORD)
    for url in ("/hearings/", f"/hearings/{HEARING_SLUG}", f"/hearings/{HEARING_SLUG}/register",
                f"/hearings/{HEARING_SLUG}/registration", f"/hearings/{HEARING_SLUG}/observe",
                "/hearings/mine"):
        assert citizen.get(url).status_code == 200, url
    deputy = make_client()
    deputy.login(user("deputy2@demo.minyi"), DEMO_PASSWORD)
    assert hearing.title in deputy.get("/hearings/mine").get_data(as_text=True)
