"""Speaker registration, written statements, withdrawal, observers and deputies."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import docx
import pytest
from sqlalchemy import select

from app.extensions import db
from app.mail import outbox_messages
from app.models import DeputyGroup, utcnow
from hearings import services
from hearings.models import ObserverRegistration, SpeakerRegistration

PHONE = "13912345678"
EMAIL = "speaker.contact@example.org"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def docx_bytes() -> bytes:
    document = docx.Document()
    document.add_paragraph("书面陈述：建议区分可拆卸电池与整车充电。")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def hearing(make_hearing):
    """An announced hearing 30 days away, registration open."""
    start = utcnow() + timedelta(days=30)
    return make_hearing(starts_at=start, ends_at=start + timedelta(hours=3),
                        notice_published_at=utcnow())


def form_data(hearing, stance: str = "oppose", **fields) -> dict:
    data = {"kind": "person", "name": "张明", "phone": PHONE, "email": EMAIL,
            "sector": "居民", "region": "东城区", "expertise": "",
            "key_points": "整车进户充电风险大，但应允许可拆卸电池。"}
    for question in hearing.questions:
        data[f"stance_{question.id}"] = stance
        data[f"position_text_{question.id}"] = "理由见陈述重点。"
    data.update(fields)
    return data


def register(client, hearing, **fields):
    return client.post_form(f"/hearings/{hearing.slug}/register", form_data(hearing, **fields),
                            content_type="multipart/form-data")


def test_register_confirm_by_email_and_see_only_my_own(client, make_client, make_user, hearing):
    user = make_user("public", name="张明")
    client.login(user)
    response = register(client, hearing)
    assert response.status_code == 302, response.get_data(as_text=True)
    registration = services.registration_of(hearing, user)
    assert (registration.status, registration.phone, registration.email) == (
        "registered", PHONE, EMAIL)
    assert {p.stance for p in registration.positions} == {"oppose"}
    [mail] = outbox_messages()
    assert mail["To"] == EMAIL and hearing.slug in mail.get_content()
    # the same address edits the registration; a second registration is impossible
    edited = register(client, hearing, key_points="修改后的陈述重点。")
    assert edited.status_code == 302
    assert db.session.query(SpeakerRegistration).count() == 1
    with pytest.raises(services.HearingError):
        services.register_speaker(hearing, user, services.RegistrationInput(name="张明"))
    other = make_client()
    other.login(make_user("public"))
    assert other.get(f"/hearings/{hearing.slug}/registration").status_code == 404
    page = client.get(f"/hearings/{hearing.slug}/registration").get_data(as_text=True)
    assert PHONE in page and "修改后的陈述重点。" in page


def test_registration_requires_a_position_on_every_question(client, make_user, hearing):
    client.login(make_user("public"))
    data = form_data(hearing)
    del data[f"stance_{hearing.questions[1].id}"]
    response = client.post_form(f"/hearings/{hearing.slug}/register", data)
    assert response.status_code == 200
    assert db.session.scalar(select(SpeakerRegistration)) is None


def test_edit_until_the_deadline_then_refused_with_a_message(client, make_user, hearing):
    user = make_user("public")
    client.login(user)
    register(client, hearing)
    changed = client.post_form(f"/hearings/{hearing.slug}/register",
                               form_data(hearing, key_points="新的重点。", stance="support"),
                               content_type="multipart/form-data")
    assert changed.status_code == 302
    registration = services.registration_of(hearing, user)
    assert registration.key_points == "新的重点。"
    assert {p.stance for p in registration.positions} == {"support"}
    hearing.starts_at = utcnow() + timedelta(days=9, hours=23)
    db.session.commit()
    refused = client.post_form(f"/hearings/{hearing.slug}/register?lang=en",
                               form_data(hearing, key_points="太晚了。"))
    assert refused.status_code == 200
    assert "Registration closed on" in refused.get_data(as_text=True)
    assert services.registration_of(hearing, user).key_points == "新的重点。"
    withdraw = client.post_form(f"/hearings/{hearing.slug}/registration/withdraw")
    assert withdraw.status_code == 302
    assert services.registration_of(hearing, user).status == "registered"
    newcomer = make_user("public")
    client.login(newcomer)
    assert register(client, hearing).status_code == 200
    assert services.registration_of(hearing, newcomer) is None


def test_contact_details_are_never_on_public_pages(client, make_client, make_user, hearing):
    user = make_user("public", name="张明")
    client.login(user)
    register(client, hearing)
    staff = make_user("staff")
    registration = services.registration_of(hearing, user)
    services.move(registration, "selected", user=staff)
    services.take_step(hearing, "selection", user=staff)
    db.session.commit()
    public = make_client()
    deputy = make_client()
    deputy.login(make_user("deputy"))
    for browser in (public, deputy):
        for url in (f"/hearings/{hearing.slug}", "/hearings/",
                    f"/hearings/{hearing.slug}/calendar.ics"):
            body = browser.get(url).get_data(as_text=True)
            assert PHONE not in body and EMAIL not in body and user.email not in body, url
    assert "张明" in public.get(f"/hearings/{hearing.slug}").get_data(as_text=True)
    staff_browser = make_client()
    staff_browser.login(staff)
    staff_page = staff_browser.get(
        f"/staff/hearings/{hearing.slug}/registrations/{registration.id}").get_data(as_text=True)
    assert PHONE in staff_page and EMAIL in staff_page


def upload(client, hearing, name: str, data: bytes):
    return client.post(f"/hearings/{hearing.slug}/registration/statement",
                       data={"csrf_token": client.csrf_token(),
                             "statement": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_statement_upload_checks_content_size_and_storage(app, client, make_client, make_user,
                                                          hearing):
    user = make_user("public")
    client.login(user)
    response = client.post_form(
        f"/hearings/{hearing.slug}/register",
        {**form_data(hearing), "statement": (io.BytesIO(PDF), "../../我的 陈述<1>.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    registration = services.registration_of(hearing, user)
    stored = Path(app.config["UPLOAD_DIR"]) / registration.statement_path
    assert stored.read_bytes() == PDF
    assert stored.parent == Path(app.config["UPLOAD_DIR"]) / "hearings" / str(hearing.id)
    assert "陈述" not in stored.name and stored.suffix == ".pdf"
    assert Path(app.static_folder) not in stored.parents
    assert registration.statement_filename == "我的 陈述_1.pdf"
    # a PNG named .pdf, a text file named .docx, a PDF named .docx: refused by content
    for name, data in (("x.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 100),
                       ("x.docx", b"PK\x03\x04 not really a zip"), ("x.docx", PDF)):
        upload(client, hearing, name, data)
        assert services.registration_of(hearing, user).statement_path == \
            registration.statement_path, name
    app.config["HEARING_STATEMENT_MAX_BYTES"] = 2000
    big = docx_bytes()
    assert len(big) > 2000
    upload(client, hearing, "big.docx", big)
    assert services.registration_of(hearing, user).statement_filename == "我的 陈述_1.pdf"
    app.config["HEARING_STATEMENT_MAX_BYTES"] = 10 * 1024 * 1024
    upload(client, hearing, "陈述.docx", big)
    replaced = services.registration_of(hearing, user)
    assert replaced.statement_filename == "陈述.docx" and not stored.exists()

    url = f"/hearings/registrations/{replaced.id}/statement"
    with client.get(url) as mine:
        assert mine.status_code == 200 and mine.get_data() == big
        disposition = mine.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E9%99%88%E8%BF%B0.docx" in disposition
    stranger = make_client()
    assert stranger.get(url).status_code == 302  # to the login page
    stranger.login(make_user("public"))
    assert stranger.get(url).status_code == 403
    staff = make_client()
    staff.login(make_user("staff"))
    with staff.get(url) as response:
        assert response.status_code == 200


def test_statement_type_is_judged_by_content():
    assert services.statement_type("a.pdf", PDF, 10_000) == "pdf"
    assert services.statement_type("a.DOCX", docx_bytes(), 100_000) == "docx"
    for name, data, limit in (("a.pdf", b"", 10), ("a.txt", PDF, 10_000),
                              ("a.pdf", PDF, 10), ("a.exe", b"MZ\x90\x00", 10_000)):
        with pytest.raises(services.HearingError):
            services.statement_type(name, data, limit)


def test_withdrawal_of_a_selected_speaker_promotes_the_waitlist_and_notifies(
        client, make_user, make_hearing):
    start = utcnow() + timedelta(days=30)
    hearing = make_hearing(starts_at=start, ends_at=start + timedelta(hours=3),
                           notice_published_at=utcnow() - timedelta(days=2))
    staff = make_user("staff")
    users = [make_user("public") for _ in range(4)]
    for user, stance in zip(users, ("oppose", "support", "support", "oppose"), strict=True):
        client.login(user)
        register(client, hearing, stance=stance, email=f"{user.id}@example.org")
    services.propose_selection(hearing, 2, 2, user=staff)
    services.take_step(hearing, "selection", user=staff)
    mails = services.take_step(hearing, "speaker_notice", user=staff)
    db.session.commit()
    assert len(mails) == 4
    regs = {r.user_id: r for r in services.registrations(hearing)}
    assert [regs[u.id].status for u in users] == ["selected", "selected", "waitlisted",
                                                  "waitlisted"]
    # the oppose speaker leaves: the waitlisted oppose registrant (second on the list) moves up
    client.login(users[0])
    assert client.post_form(f"/hearings/{hearing.slug}/registration/withdraw").status_code == 302
    regs = {r.user_id: r for r in services.registrations(hearing)}
    assert regs[users[0].id].status == "withdrawn"
    assert regs[users[3].id].status == "selected"
    assert regs[users[3].id].selection_reason == "promoted"
    assert regs[users[3].id].speaking_order is not None
    assert (regs[users[2].id].status, regs[users[2].id].waitlist_position) == ("waitlisted", 1)
    notified = [m for m in outbox_messages() if m["To"] == f"{users[3].id}@example.org"]
    assert len(notified) == 2  # the confirmation, then the promotion
    # a selected speaker may still withdraw after registration closed (cannot attend)
    hearing.starts_at = utcnow() + timedelta(days=5)
    db.session.commit()
    client.login(users[1])
    client.post_form(f"/hearings/{hearing.slug}/registration/withdraw")
    regs = {r.user_id: r for r in services.registrations(hearing)}
    assert regs[users[1].id].status == "withdrawn" and regs[users[2].id].status == "selected"


def test_public_apply_to_observe_and_staff_admit(client, make_client, make_user, hearing):
    applicants = [make_user("public") for _ in range(3)]
    for user in applicants:
        client.login(user)
        response = client.post_form(f"/hearings/{hearing.slug}/observe", {"phone": "010-1234"})
        assert response.status_code == 302
    hearing.public_observer_seats = 2
    db.session.commit()
    staff = make_client()
    staff.login(make_user("staff"))
    staff.post_form(f"/staff/hearings/{hearing.slug}/observers/admit")
    statuses = [services.observer_of(hearing, u).status for u in applicants]
    assert statuses == ["accepted", "accepted", "applied"]
    third = services.observer_of(hearing, applicants[2])
    staff.post_form(f"/staff/hearings/{hearing.slug}/observers/{third.id}/decide",
                    {"decision": "admit"})
    assert services.observer_of(hearing, applicants[2]).status == "applied"  # no seat left
    staff.post_form(f"/staff/hearings/{hearing.slug}/observers/{third.id}/decide",
                    {"decision": "reject"})
    assert services.observer_of(hearing, applicants[2]).status == "not_admitted"
    # staff tell every applicant (3 days before)
    staff.post_form(f"/staff/hearings/{hearing.slug}/steps/observer_notice",
                    {"override_reason": ""})
    assert len(outbox_messages()) == 3
    # applications close 7 days before
    hearing.starts_at = utcnow() + timedelta(days=6)
    db.session.commit()
    late = make_user("public")
    client.login(late)
    client.post_form(f"/hearings/{hearing.slug}/observe", {})
    assert services.observer_of(hearing, late) is None


def test_staff_invite_a_deputy_group_and_deputies_answer(client, make_client, make_user,
                                                         hearing):
    group = DeputyGroup(name="城建环资代表小组")
    db.session.add(group)
    db.session.commit()
    members = [make_user("deputy") for _ in range(2)]
    for member in members:
        member.deputy_group_id = group.id
    loner = make_user("deputy")
    db.session.commit()
    staff = make_client()
    staff.login(make_user("staff"))
    staff.post_form(f"/staff/hearings/{hearing.slug}/observers/invite",
                    {"group": str(group.id), "deputies": str(loner.id), "embedded": "y"})
    invited = db.session.scalars(select(ObserverRegistration)).all()
    assert {(o.user_id, o.kind, o.status, o.embedded) for o in invited} == {
        (u.id, "deputy", "invited", True) for u in [*members, loner]}
    assert len(outbox_messages()) == 3
    observer = services.observer_of(hearing, loner)
    staff.post_form(f"/staff/hearings/{hearing.slug}/observers/{observer.id}/decide",
                    {"decision": "unembed"})
    assert services.observer_of(hearing, loner).embedded is False
    client.login(members[0])
    page = client.get("/hearings/mine?lang=en").get_data(as_text=True)
    assert hearing.title in page and "Accept the invitation" in page
    client.post_form(f"/hearings/{hearing.slug}/invitation", {"decision": "accept"})
    assert services.observer_of(hearing, members[0]).status == "accepted"
    client.login(members[1])
    client.post_form(f"/hearings/{hearing.slug}/invitation", {"decision": "decline"})
    assert services.observer_of(hearing, members[1]).status == "declined"
    # deputies cannot reach the staff pages
    assert client.get(f"/staff/hearings/{hearing.slug}/observers").status_code == 403
