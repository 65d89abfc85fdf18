"""Personal data: a user downloads their data and deletes their account, contact data is
erased a retention period after a draft is adopted, and every export of personal data is
logged and listed for administrators."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import func, select
from support import PASSWORD

from app.extensions import db
from app.models import AuditLog, User, utcnow
from drafts import opinions
from drafts.models import Comment, CommentSupport
from hearings.models import (
    Hearing,
    HearingEvent,
    HearingNote,
    HearingQuestion,
    ObserverRegistration,
    SpeakerPosition,
    SpeakerRegistration,
)


def translated(message: str, locale: str = "zh", **params: object) -> str:
    with force_locale(locale):
        return str(escape(gettext(message, **params)))


def audit_entries(action: str) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action)
                                   .order_by(AuditLog.id)))


@pytest.fixture
def hearing_of(app, make_user):
    """Make a hearing on a draft in a status, with one question; commits."""
    counter = iter(range(1, 1000))

    def factory(draft, status: str = "held") -> Hearing:
        n = next(counter)
        hearing = Hearing(slug=f"hearing-{n}", draft_id=draft.id, title=f"听证会 {n}",
                          starts_at=utcnow() - timedelta(days=1), status=status,
                          notice_published_at=utcnow() - timedelta(days=30))
        hearing.questions.append(HearingQuestion(text="是否收费？", is_main=True, position=1))
        db.session.add(hearing)
        db.session.commit()
        return hearing

    return factory


def register(hearing: Hearing, user: User | None, name: str = "李华", **fields):
    registration = SpeakerRegistration(
        hearing_id=hearing.id, user_id=user.id if user else None, name=name,
        phone=fields.pop("phone", "13912345678"), email=fields.pop("email", "lihua@example.com"),
        key_points=fields.pop("key_points", "停放点应当增加。"), sector="居民", region="东城区",
        status=fields.pop("status", "selected"), **fields)
    registration.positions = [SpeakerPosition(question_id=hearing.questions[0].id,
                                              stance="support", text="支持")]
    db.session.add(registration)
    db.session.commit()
    return registration


def observe(hearing: Hearing, user: User, **fields) -> ObserverRegistration:
    observer = ObserverRegistration(hearing_id=hearing.id, user_id=user.id, phone="010-12345678",
                                    reason="关心此事", **fields)
    db.session.add(observer)
    db.session.commit()
    return observer


@pytest.fixture
def person(client, make_user):
    user = make_user("public", email="lihua@example.com", name="李华")
    user.region = "东城区"
    db.session.commit()
    client.login(user)
    return user


def decide(comment: Comment, outcome: str = "not_adopted", reason: str = "已有规定。") -> None:
    staff = db.session.scalar(select(User).where(User.role == "staff"))
    opinions.decide(comment.draft, [comment], outcome, reason, None, user=staff)
    db.session.commit()


# --- downloading one's data -----------------------------------------------------------------


def test_the_account_page_offers_the_download_and_the_deletion(client, person):
    page = client.get("/account").get_data(as_text=True)

    assert translated("Download your data") in page
    assert 'action="/account/data"' in page and 'name="csrf_token"' in page
    assert 'href="/account/delete"' in page
    assert "lihua@example.com" in page


def test_a_user_downloads_everything_stored_about_them_as_json(
        client, person, make_user, make_draft, make_comment, hearing_of):
    draft = make_draft()
    mine = make_comment(draft, body="建议增加充电桩。", user=person)
    decide(mine, "adopted", "")
    other = make_comment(draft, body="别人的意见。", user=make_user("public"))
    db.session.add(CommentSupport(comment_id=other.id, user_id=person.id))
    hearing = hearing_of(draft)
    register(hearing, person)
    observe(hearing, person)
    db.session.add(HearingNote(hearing_id=hearing.id, author_id=person.id, kind="observation",
                               visibility="private", body="我的旁听笔记"))
    db.session.commit()

    response = client.post_form("/account/data", {"format": "json"})

    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename=minyi-data-")
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "lihua@example.com"
    assert [c["body"] for c in data["comments"]] == ["建议增加充电桩。"]
    assert data["comments"][0]["disposition"]["outcome"] == "adopted"
    assert data["supports"] == [{"comment": other.id, "created_at": data["supports"][0][
        "created_at"]}]
    assert data["hearing_registrations"][0]["phone"] == "13912345678"
    assert data["hearing_registrations"][0]["positions"][0]["stance"] == "support"
    assert data["observer_applications"][0]["reason"] == "关心此事"
    assert data["hearing_notes"][0]["body"] == "我的旁听笔记"
    assert "别人的意见。" not in response.get_data(as_text=True)
    [entry] = audit_entries("personal_data.download")
    assert (entry.actor_id, entry.object_id, entry.details) == (person.id, person.id,
                                                                {"format": "json"})


def test_the_zip_holds_the_json_and_the_written_statement(client, person, make_draft,
                                                          hearing_of):
    from hearings import services

    registration = register(hearing_of(make_draft(), status="announced"), person)
    services.store_statement(registration, services.Upload("陈述.pdf", b"%PDF-1.4 statement"))
    db.session.commit()

    response = client.post_form("/account/data", {"format": "zip"})

    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    names = archive.namelist()
    assert "minyi-data.json" in names and "README.txt" in names
    statement = json.loads(archive.read("minyi-data.json"))["hearing_registrations"][0][
        "statement"]
    assert statement in names and archive.read(statement) == b"%PDF-1.4 statement"


def test_the_download_needs_a_login_and_a_csrf_token(client, make_user):
    assert client.post_form("/account/data", {"format": "json"}).status_code in (302, 401)
    client.login(make_user("public"))
    assert client.post("/account/data", data={"format": "json"}).status_code == 400
    assert audit_entries("personal_data.download") == []


# --- deleting an account ----------------------------------------------------------------------


def delete(client, password: str = PASSWORD, confirm: str | None = "y", query: str = ""):
    data = {"password": password}
    if confirm:
        data["confirm"] = confirm
    return client.post_form(f"/account/delete{query}", data)


def test_a_wrong_password_or_a_missing_tick_deletes_nothing(client, person):
    wrong = delete(client, password="not-my-password", query="?lang=en")
    unticked = delete(client, confirm=None, query="?lang=en")

    assert "The password is not right." in wrong.get_data(as_text=True)
    assert "Tick the box to confirm." in unticked.get_data(as_text=True)
    db.session.refresh(person)
    assert person.deleted_at is None and person.email == "lihua@example.com"


def test_deleting_an_account_erases_it_and_keeps_the_comments_anonymised(
        client, person, make_draft, make_comment, make_client):
    draft = make_draft()
    comment = make_comment(draft, body="建议增加充电桩。", user=person, region="东城区")
    decide(comment)
    other_browser = make_client()
    other_browser.login(person)

    response = delete(client)

    assert response.status_code == 302
    user = db.session.get(User, person.id)
    assert user.deleted_at is not None and not user.active
    assert (user.name, user.region) == ("", "")
    assert "lihua" not in user.email and not user.check_password(PASSWORD)
    kept = db.session.get(Comment, comment.id)
    assert kept.body == "建议增加充电桩。" and kept.disposition.outcome == "not_adopted"
    page = client.get(f"/drafts/{draft.slug}/clauses/art-6").get_data(as_text=True)
    assert "建议增加充电桩。" in page and "李华" not in page
    assert translated("Former participant") in page
    english = client.get(f"/drafts/{draft.slug}/clauses/art-6?lang=en").get_data(as_text=True)
    assert "Former participant" in english
    [listed] = client.get(f"/api/v1/drafts/{draft.slug}/comments").get_json()["comments"]
    assert (listed["body"], listed["author"]) == ("建议增加充电桩。", "已注销用户")
    # logged out here and in every other browser
    assert client.get("/account").status_code in (302, 401)
    assert other_browser.get("/account").status_code in (302, 401)
    [entry] = audit_entries("account.delete")
    assert entry.actor_id == person.id and entry.details["comments_kept"] == 1
    assert "lihua" not in json.dumps(entry.details, ensure_ascii=False)


def test_the_email_address_is_free_again_after_deletion(client, person):
    delete(client)
    client.post_form("/register", {"name": "新的李华", "email": "lihua@example.com",
                                   "password": "a-long-password",
                                   "confirm": "a-long-password"})

    assert db.session.scalar(select(func.count()).select_from(User).where(
        User.email == "lihua@example.com")) == 1


def test_a_held_hearing_keeps_the_registration_anonymised_and_drops_the_rest(
        client, person, make_draft, hearing_of):
    draft = make_draft()
    held, coming = hearing_of(draft, "held"), hearing_of(draft, "announced")
    on_record = register(held, person, representative="李华", expertise="律师")
    upcoming = register(coming, person, status="registered")
    seen, pending = observe(held, person), observe(coming, person)
    shared = HearingNote(hearing_id=held.id, author_id=person.id, kind="question",
                         visibility="staff", body="请问收费标准？")
    private = HearingNote(hearing_id=held.id, author_id=person.id, kind="observation",
                          visibility="private", body="只给自己看")
    db.session.add_all([shared, private])
    db.session.flush()
    db.session.add_all([
        HearingEvent(hearing_id=held.id, seq=1, type="note_created", audience="staff",
                     payload={"id": shared.id, "author": "李华", "author_id": person.id,
                              "body": "请问收费标准？"}),
        HearingEvent(hearing_id=held.id, seq=2, type="note_created",
                     audience=f"private:{person.id}",
                     payload={"id": private.id, "author": "李华", "author_id": person.id,
                              "body": "只给自己看"}),
        HearingEvent(hearing_id=held.id, seq=3, type="speaker_changed", audience="public",
                     payload={"speaker_id": on_record.id, "speaker": "李华"}),
    ])
    db.session.commit()
    ids = (on_record.id, upcoming.id, seen.id, pending.id, shared.id, private.id)

    delete(client)

    kept = db.session.get(SpeakerRegistration, ids[0])
    assert kept is not None and kept.name == "陈述人（账号已注销）"
    assert (kept.phone, kept.email, kept.representative, kept.expertise) == ("", "", "", "")
    assert kept.key_points == "停放点应当增加。" and kept.positions[0].stance == "support"
    assert db.session.get(SpeakerRegistration, ids[1]) is None
    assert (db.session.get(ObserverRegistration, ids[2]).phone,
            db.session.get(ObserverRegistration, ids[2]).reason) == ("", "")
    assert db.session.get(ObserverRegistration, ids[3]) is None
    assert db.session.get(HearingNote, ids[4]).body == "请问收费标准？"
    assert db.session.get(HearingNote, ids[5]) is None
    events = db.session.scalars(select(HearingEvent).order_by(HearingEvent.seq)).all()
    stored = json.dumps([e.payload for e in events], ensure_ascii=False)
    assert "李华" not in stored and "只给自己看" not in stored
    assert events[2].payload["speaker"] == "陈述人（账号已注销）"
    assert events[0].payload["body"] == "请问收费标准？"


def test_staff_accounts_are_not_deleted_by_their_holders(client, make_user):
    staff = make_user("staff")
    client.login(staff)

    response = delete(client, query="?lang=en")

    assert "closed by an administrator" in response.get_data(as_text=True)
    assert db.session.get(User, staff.id).deleted_at is None


def test_removed_registrations_take_their_statement_files_with_them(client, person,
                                                                     make_draft, hearing_of):
    from hearings import services

    registration = register(hearing_of(make_draft(), status="announced"), person)
    services.store_statement(registration, services.Upload("陈述.pdf", b"%PDF-1.4 statement"))
    db.session.commit()
    path = services.statement_file(registration)
    assert path is not None and path.exists()

    delete(client)

    assert not path.exists()


# --- retention ------------------------------------------------------------------------------


def adopted_long_ago(make_draft, days: int):
    draft = make_draft(status="adopted")
    draft.adopted_at = utcnow() - timedelta(days=days)
    db.session.commit()
    return draft


def guest_comment(draft, body: str = "访客意见", email: str = "guest@example.com") -> Comment:
    comment = Comment(draft_id=draft.id, version_id=draft.current_version_id, stance="suggest",
                      body=body, guest_name="访客", guest_email=email, status="published",
                      submission_key=f"guest-{draft.id}-{body}", origin="abcdef0123456789")
    db.session.add(comment)
    db.session.commit()
    return comment


def test_a_draft_records_when_it_was_adopted(make_draft):
    draft = make_draft(status="adopted")

    assert draft.adopted_at is not None and utcnow() - draft.adopted_at < timedelta(minutes=1)


def test_the_purge_is_a_dry_run_by_default(runner, make_draft, hearing_of):
    old = adopted_long_ago(make_draft, 400)
    comment = guest_comment(old)
    registration = register(hearing_of(old), None)

    result = runner.invoke(args=["privacy", "purge"])

    assert result.exit_code == 0, result.output
    assert "would erase: 1 guest e-mail addresses" in result.output
    assert "dry run" in result.output
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).guest_email == "guest@example.com"
    assert db.session.get(SpeakerRegistration, registration.id).phone == "13912345678"
    assert audit_entries("privacy.purge") == []


def test_the_purge_erases_contact_data_only_past_the_retention_period(
        runner, app, make_draft, make_user, hearing_of):
    app.config["RETENTION_DAYS"] = 180
    old, recent = adopted_long_ago(make_draft, 200), adopted_long_ago(make_draft, 100)
    still_open = make_draft()
    erased, kept, open_kept = guest_comment(old), guest_comment(recent), guest_comment(still_open)
    old_speaker, recent_speaker = register(hearing_of(old), None), register(hearing_of(recent),
                                                                            None)
    old_observer = observe(old_speaker.hearing, make_user("public"))

    result = runner.invoke(args=["privacy", "purge", "--apply"])

    assert result.exit_code == 0, result.output
    db.session.expire_all()
    gone = db.session.get(Comment, erased.id)
    assert (gone.guest_email, gone.origin) == ("", "")
    assert (gone.guest_name, gone.body) == ("访客", "访客意见")
    assert db.session.get(Comment, kept.id).guest_email == "guest@example.com"
    assert db.session.get(Comment, open_kept.id).guest_email == "guest@example.com"
    speaker = db.session.get(SpeakerRegistration, old_speaker.id)
    assert (speaker.phone, speaker.email, speaker.name) == ("", "", "李华")
    assert db.session.get(SpeakerRegistration, recent_speaker.id).email == "lihua@example.com"
    assert db.session.get(ObserverRegistration, old_observer.id).phone == ""
    [entry] = audit_entries("privacy.purge")
    assert entry.details["drafts"] == [old.slug] and entry.details["guest_emails"] == 1
    again = runner.invoke(args=["privacy", "purge", "--apply"])
    assert "erased: 0 guest e-mail addresses" in again.output
    assert len(audit_entries("privacy.purge")) == 1


def test_the_days_can_be_given_on_the_command_line(runner, make_draft):
    comment = guest_comment(adopted_long_ago(make_draft, 20))

    runner.invoke(args=["privacy", "purge", "--days", "30", "--apply"])
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).guest_email == "guest@example.com"

    runner.invoke(args=["privacy", "purge", "--days", "10", "--apply"])
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).guest_email == ""


# --- the log of exports ---------------------------------------------------------------------


def test_staff_registration_exports_are_logged_and_carry_contact_data(
        client, make_user, make_draft, hearing_of):
    hearing = hearing_of(make_draft(), "announced")
    register(hearing, None, key_points="=HYPERLINK(\"x\")")
    observe(hearing, make_user("public", name="旁听者"))
    staff = make_user("staff")
    client.login(staff)

    speakers = client.get(f"/staff/hearings/{hearing.slug}/speakers.csv")
    observers = client.get(f"/staff/hearings/{hearing.slug}/observers.csv")

    text = speakers.get_data(as_text=True)
    assert speakers.status_code == 200 and "13912345678" in text and "lihua@example.com" in text
    assert "'=HYPERLINK" in text
    assert "010-12345678" in observers.get_data(as_text=True)
    entries = audit_entries("registrations.export")
    assert [(e.actor_id, e.object_id, e.details["kind"]) for e in entries] == [
        (staff.id, hearing.id, "speakers"), (staff.id, hearing.id, "observers")]


def test_the_public_and_deputies_cannot_export_registrations(client, make_user, make_draft,
                                                             hearing_of):
    hearing = hearing_of(make_draft(), "announced")
    assert client.get(f"/staff/hearings/{hearing.slug}/speakers.csv").status_code in (302, 401)
    client.login(make_user("deputy"))
    assert client.get(f"/staff/hearings/{hearing.slug}/speakers.csv").status_code == 403
    assert audit_entries("registrations.export") == []


def test_administrators_see_every_export_of_personal_data(client, make_user, make_draft,
                                                          hearing_of):
    draft = make_draft(title="停放条例")
    hearing = hearing_of(draft, "announced")
    staff, citizen, admin = make_user("staff", name="工作人员王"), make_user("public"), \
        make_user("admin")
    for browser_user, url in ((staff, f"/staff/drafts/{draft.slug}/comments.csv"),
                              (staff, f"/staff/hearings/{hearing.slug}/speakers.csv")):
        client.login(browser_user)
        assert client.get(url).status_code == 200
    client.login(citizen)
    client.post_form("/account/data", {"format": "json"})
    client.login(admin)

    page = client.get("/admin/personal-data-exports?lang=en").get_data(as_text=True)

    assert "工作人员王" in page and "停放条例" in page and hearing.title in page
    assert "Hearing registration list" in page and "Own data, downloaded by its holder" in page
    assert "Comments (CSV)" in page


@pytest.mark.parametrize("role", ["public", "deputy", "staff"])
def test_only_administrators_see_the_export_log(client, make_user, role):
    client.login(make_user(role))

    assert client.get("/admin/personal-data-exports").status_code == 403


def test_address_hashes_are_erased_after_a_month_whatever_the_draft(runner, app, make_draft):
    draft = make_draft()
    old, recent = guest_comment(draft, "早先的意见"), guest_comment(draft, "新近的意见")
    old.created_at = utcnow() - timedelta(days=31)
    db.session.commit()

    dry = runner.invoke(args=["privacy", "purge"])
    assert "would erase: 0 guest e-mail addresses, 1 comment address hashes" in dry.output
    runner.invoke(args=["privacy", "purge", "--apply"])

    db.session.expire_all()
    assert db.session.get(Comment, old.id).origin == ""
    assert db.session.get(Comment, old.id).guest_email == "guest@example.com"
    assert db.session.get(Comment, recent.id).origin == "abcdef0123456789"
    app.config["ORIGIN_RETENTION_DAYS"] = 0
    runner.invoke(args=["privacy", "purge", "--apply"])
    db.session.expire_all()
    assert db.session.get(Comment, recent.id).origin == ""


def test_a_deleted_account_is_told_nothing_more(client, person, make_draft, make_comment):
    from app.mail import outbox_messages
    from drafts import feedback

    comment = make_comment(make_draft(), user=person)
    delete(client)
    decide(comment)

    run = feedback.send_feedback()

    assert run.emails == 0 and run.untold == 1
    assert outbox_messages() == []
