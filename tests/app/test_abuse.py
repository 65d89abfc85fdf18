"""Keeping bots and floods out: the honeypot on the comment and registration forms, the
question staff switch on per draft, the hash of the sender's address, and the moderation
shortcuts that hide or reject a flood in one step."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import func, select

from app import abuse
from app.extensions import db
from app.models import AuditLog, utcnow
from drafts.models import Comment, Draft


def translated(message: str, locale: str = "zh", **params: object) -> str:
    with force_locale(locale):
        return str(escape(gettext(message, **params)))


def field_value(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page) or re.search(
        rf'id="{name}" name="{name}" type="hidden" value="([^"]*)"', page)
    assert match, f"no hidden field {name} on the page"
    return unescape(match.group(1))


def comments_stored() -> int:
    return db.session.scalar(select(func.count()).select_from(Comment))


def open_form(client, draft, query: str = "") -> str:
    response = client.get(f"/drafts/{draft.slug}/comment?clause=art-6{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def send(client, draft, page: str, query: str = "", environ_base: dict | None = None,
         **fields):
    data = {"stance": "suggest", "body": "建议明确充电设施的比例。", "clause": "art-6",
            "submission_key": field_value(page, "submission_key"),
            "challenge_token": field_value(page, "challenge_token"), **fields}
    return client.post_form(f"/drafts/{draft.slug}/comment{query}", data,
                            environ_base=environ_base or {})


@pytest.fixture
def citizen(client, make_user):
    user = make_user("public", name="张明")
    client.login(user)
    return user


def switch_challenge(draft: Draft, on: bool = True) -> None:
    draft.challenge_required = on
    db.session.commit()


def the_question(page: str) -> dict:
    data = abuse.read_challenge(field_value(page, "challenge_token"),
                                field_value(page, "submission_key"))
    assert data is not None
    return data


# --- the honeypot -------------------------------------------------------------------------


def test_the_comment_form_hides_the_honeypot_from_people(client, make_draft, citizen):
    page = open_form(client, make_draft())

    hidden = re.search(r'<div class="visually-hidden" aria-hidden="true">(.*?)</div>', page,
                       re.S)
    assert hidden and 'name="website"' in hidden.group(1)
    assert 'tabindex="-1"' in hidden.group(1) and 'autocomplete="off"' in hidden.group(1)
    assert translated("Leave this field empty") in hidden.group(1)


def test_a_bot_filling_the_honeypot_is_refused_quietly(client, make_draft, citizen):
    draft = make_draft()
    page = open_form(client, draft)

    response = send(client, draft, page, website="http://spam.example")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/drafts/{draft.slug}")
    assert comments_stored() == 0
    followed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "flash" not in followed  # no message: nothing tells the bot what happened


def test_a_person_leaving_the_honeypot_empty_comments_as_usual(client, make_draft, citizen):
    draft = make_draft()

    response = send(client, draft, open_form(client, draft), website="")

    assert response.status_code == 302 and "/submitted/" in response.headers["Location"]
    assert comments_stored() == 1


def test_a_bot_filling_the_registration_honeypot_is_refused_quietly(client, make_user,
                                                                      hearing_world):
    hearing, question = hearing_world
    client.login(make_user("public"))
    data = {"kind": "person", "name": "机器人", "key_points": "广告", "phone": "13800138000",
            "email": "", "sector": "居民", "region": "东城区", f"stance_{question.id}": "support",
            "website": "http://spam.example"}

    response = client.post_form(f"/hearings/{hearing.slug}/register", data)

    from hearings.models import SpeakerRegistration

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/hearings/{hearing.slug}")
    assert db.session.scalar(select(func.count()).select_from(SpeakerRegistration)) == 0


def test_a_person_registering_with_the_honeypot_empty_is_registered(client, make_user,
                                                                      hearing_world):
    hearing, question = hearing_world
    client.login(make_user("public"))
    data = {"kind": "person", "name": "王芳", "key_points": "停放点太少", "phone": "13800138000",
            "email": "", "sector": "居民", "region": "东城区", f"stance_{question.id}": "support",
            "website": ""}

    response = client.post_form(f"/hearings/{hearing.slug}/register", data)

    from hearings.models import SpeakerRegistration

    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(SpeakerRegistration)) == 1


@pytest.fixture
def hearing_world(make_draft, make_user):
    """A hearing on an open draft, announced, open for registration."""
    from hearings.models import Hearing, HearingQuestion

    draft = make_draft()
    hearing = Hearing(slug="e-bike-hearing", draft_id=draft.id, title="电动自行车听证会",
                      starts_at=utcnow() + timedelta(days=30), status="announced",
                      notice_published_at=utcnow())
    question = HearingQuestion(text="是否收费？", is_main=True, position=1)
    hearing.questions.append(question)
    db.session.add(hearing)
    db.session.commit()
    return hearing, question


# --- the question ---------------------------------------------------------------------------


def test_no_question_unless_staff_switch_it_on(client, make_draft, citizen):
    page = open_form(client, make_draft())

    assert 'name="challenge_answer"' not in page


def test_the_question_is_the_label_of_its_field_in_words(client, make_draft, citizen):
    draft = make_draft()
    switch_challenge(draft)

    page = open_form(client, draft)

    data = the_question(page)
    with force_locale("zh"):
        question = abuse.question_text(data)
    assert re.search(r'<label for="challenge_answer">' + re.escape(str(escape(question))), page)
    assert 'inputmode="numeric"' in page and 'aria-describedby="challenge_answer-hint"' in page
    assert str(data["a"]) not in question  # written in words, not digits
    english = client.get(f"/drafts/{draft.slug}/comment?clause=art-6&lang=en")
    assert "What is " in english.get_data(as_text=True)


def test_a_right_answer_lets_the_comment_through(client, make_draft, citizen):
    draft = make_draft()
    switch_challenge(draft)
    page = open_form(client, draft)

    response = send(client, draft, page, challenge_answer=str(abuse.answer_of(
        the_question(page))))

    assert response.status_code == 302
    assert comments_stored() == 1


def test_a_wrong_answer_keeps_the_text_and_asks_another_question(client, make_draft, citizen):
    draft = make_draft()
    switch_challenge(draft)
    page = open_form(client, draft)
    wrong = abuse.answer_of(the_question(page)) + 1

    response = send(client, draft, page, query="?lang=en", body="我的意见很长。",
                    challenge_answer=str(wrong))

    again = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "That answer is not right; here is another question." in again
    assert "我的意见很长。" in again
    assert field_value(again, "challenge_token") != field_value(page, "challenge_token")
    assert comments_stored() == 0


def test_an_empty_answer_is_refused_in_the_users_language(client, make_draft, citizen):
    draft = make_draft()
    switch_challenge(draft)
    page = open_form(client, draft)

    response = send(client, draft, page, challenge_answer="")

    assert translated("Answer the question with a number.") in response.get_data(as_text=True)
    assert comments_stored() == 0


def test_an_absurd_answer_is_refused_without_a_server_error(client, make_draft, citizen):
    draft = make_draft()
    switch_challenge(draft)
    page = open_form(client, draft)

    response = send(client, draft, page, query="?lang=en", challenge_answer="9" * 5000)

    assert response.status_code == 200
    assert "Answer the question with a number." in response.get_data(as_text=True)
    assert comments_stored() == 0


def test_a_token_made_for_another_form_or_forged_does_not_count(client, make_draft, citizen):
    draft = make_draft()
    switch_challenge(draft)
    first, second = open_form(client, draft), open_form(client, draft)
    answer = abuse.answer_of(the_question(first))

    swapped = send(client, draft, second, challenge_token=field_value(first, "challenge_token"),
                   challenge_answer=str(answer))
    # every answer a question can have (1 to 18): a forged token is never answered by luck
    forged = [send(client, draft, second, challenge_token="eyJhIjoxfQ.forged",
                   challenge_answer=str(guess)).status_code for guess in range(1, 19)]

    assert swapped.status_code == 200 and forged == [200] * 18
    assert comments_stored() == 0


def test_a_solved_question_yields_one_comment_however_often_it_is_replayed(
        client, make_draft, citizen):
    draft = make_draft()
    switch_challenge(draft)
    page = open_form(client, draft)
    answer = str(abuse.answer_of(the_question(page)))

    for _ in range(3):
        assert send(client, draft, page, challenge_answer=answer).status_code == 302

    assert comments_stored() == 1


@pytest.mark.parametrize(("text", "number"), [
    ("7", 7), (" 12 ", 12), ("７", 7), ("七", 7), ("十", 10), ("十三", 13), ("两", 2),
    ("Seven", 7), ("eighteen", 18), ("零", 0), ("", None), ("七七", None), ("十零", None),
    ("seven and a half", None), ("²", None), ("9" * 5000, None),
])
def test_answers_are_read_in_digits_chinese_numerals_or_english_words(text, number):
    assert abuse.parse_number(text) == number


def test_every_question_has_an_answer_between_zero_and_eighteen(app):
    with app.test_request_context():
        answers = {abuse.answer_of(abuse.read_challenge(abuse.new_challenge("k"), "k"))
                   for _ in range(300)}
    assert min(answers) >= 0 and max(answers) <= 18 and len(answers) > 5


# --- the sender's address -------------------------------------------------------------------


def test_a_comment_keeps_a_keyed_hash_of_its_address_not_the_address(client, make_draft,
                                                                      citizen):
    draft = make_draft()
    send(client, draft, open_form(client, draft),
         environ_base={"REMOTE_ADDR": "203.0.113.7"})

    comment = db.session.scalars(select(Comment)).one()
    assert len(comment.origin) == 16 and "203.0.113.7" not in comment.origin
    with client.application.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.7"}):
        assert abuse.request_origin() == comment.origin
    with client.application.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.8"}):
        assert abuse.request_origin() != comment.origin


def test_ipv6_addresses_of_one_subscriber_share_an_origin(app):
    def origin(address: str) -> str:
        with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
            return abuse.request_origin()

    assert origin("2001:db8:1:2::1") == origin("2001:db8:1:2:ffff::9")
    assert origin("2001:db8:1:2::1") != origin("2001:db8:1:3::1")


def test_comments_recorded_outside_a_request_have_no_origin(make_draft, make_comment):
    comment = make_comment(make_draft())

    assert comment.origin == ""


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)))


# --- floods -----------------------------------------------------------------------------------

FLOOD_TEXT = "坚决反对收取充电费用，请删除本条。"


@pytest.fixture
def flood(make_draft, make_comment):
    """A draft with a flood from one address, a campaign, and honest comments; all pending."""
    from drafts.models import OpinionCluster

    draft = make_draft()
    now = utcnow()
    campaign = OpinionCluster(draft_id=draft.id, size=3)
    db.session.add(campaign)
    db.session.commit()
    made = {"flood": [], "campaign": [], "honest": [], "late": []}
    for n in range(5):
        made["flood"].append(make_comment(draft, body=f"{FLOOD_TEXT} 第{n}份", status="pending"))
    for n in range(3):
        made["campaign"].append(make_comment(draft, body=f"统一意见：收费应当公开。{n}",
                                             status="pending"))
    for body in ("我觉得停车位不够。", "建议增加夜间照明。"):
        made["honest"].append(make_comment(draft, body=body, status="pending"))
    made["late"].append(make_comment(draft, body=f"{FLOOD_TEXT} 次日", status="pending"))
    for comment in made["flood"]:
        comment.origin, comment.created_at = "a" * 16, now - timedelta(minutes=30)
    for comment in made["campaign"]:
        comment.cluster_id, comment.created_at = campaign.id, now - timedelta(minutes=20)
    for comment in made["honest"]:
        comment.origin, comment.created_at = "b" * 16, now - timedelta(minutes=10)
    made["late"][0].origin = "a" * 16
    made["late"][0].created_at = now + timedelta(days=1)
    db.session.commit()
    return draft, campaign, made


@pytest.fixture
def moderator(client, make_user):
    user = make_user("staff", name="审核员")
    client.login(user)
    return user


def statuses(comments) -> list[str]:
    db.session.expire_all()
    return [db.session.get(Comment, c.id).status for c in comments]


def local_minutes(value) -> str:
    """Return a naive UTC time as the page's datetime-local field expects (Asia/Shanghai)."""
    return (value + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")


def test_staff_see_the_busiest_addresses_and_campaigns(client, flood, moderator):
    draft, campaign, _made = flood

    page = client.get(f"/staff/drafts/{draft.slug}/floods").get_data(as_text=True)

    assert f"origin={'a' * 16}" in page and f"<code>{'a' * 8}</code>" in page
    assert f"cluster={campaign.id}" in page


def test_staff_preview_the_comments_one_text_matches(client, flood, moderator):
    draft, _campaign, _made = flood

    page = client.get(f"/staff/drafts/{draft.slug}/floods",
                      query_string={"text": "坚决反对收取", "lang": "en"}).get_data(as_text=True)

    assert "6 comments match" in page
    assert "我觉得停车位不够。" not in page


def test_a_flood_from_one_address_in_a_window_is_hidden_in_one_step(client, flood, moderator):
    draft, _campaign, made = flood
    now = utcnow()

    response = client.post_form(f"/staff/drafts/{draft.slug}/floods?lang=en", {
        "status": "pending", "origin": "a" * 16, "action": "hide", "reason": "同一地址大量提交",
        "since": local_minutes(now - timedelta(hours=1)), "until": local_minutes(now)})

    assert response.status_code == 302
    assert statuses(made["flood"]) == ["hidden"] * 5
    assert statuses(made["late"] + made["honest"] + made["campaign"]) == ["pending"] * 6
    hidden = db.session.get(Comment, made["flood"][0].id)
    assert (hidden.moderation_reason, hidden.moderated_by_id) == ("同一地址大量提交", moderator.id)
    entries = db.session.scalars(select(AuditLog).where(
        AuditLog.action == "comment.bulk_moderate")).all()
    assert len(entries) == 1 and entries[0].details["count"] == 5
    assert entries[0].details["origin"] == "a" * 16 and entries[0].details["decision"] == "hide"
    assert audit_actions().count("comment.hide") == 5
    flashed = client.get(f"/staff/drafts/{draft.slug}/floods?lang=en").get_data(as_text=True)
    assert "5 comments were hidden." in flashed


def test_a_campaign_is_rejected_in_one_step(client, flood, moderator):
    draft, campaign, made = flood

    client.post_form(f"/staff/drafts/{draft.slug}/floods", {
        "status": "pending", "cluster": str(campaign.id), "action": "reject",
        "reason": "批量提交的相同意见"})

    assert statuses(made["campaign"]) == ["rejected"] * 3
    assert statuses(made["flood"] + made["honest"]) == ["pending"] * 7


def test_comments_matching_a_text_are_hidden_including_published_ones(client, flood,
                                                                       moderator):
    draft, _campaign, made = flood
    from drafts import services

    services.moderate(made["late"][0], "publish", user=moderator)
    db.session.commit()

    client.post_form(f"/staff/drafts/{draft.slug}/floods", {
        "status": "published", "text": "坚决反对收取", "action": "hide", "reason": "刷屏"})

    assert statuses(made["late"]) == ["hidden"]
    assert statuses(made["flood"]) == ["pending"] * 5
    clause = made["late"][0].clause
    db.session.refresh(clause)
    assert clause.comment_count == 0


@pytest.mark.parametrize(("fields", "message"), [
    ({"text": "", "reason": "x"}, "Choose a text, a campaign or an address."),
    ({"cluster": "99999999999", "reason": "x"}, "Number must be between"),
    ({"text": "反对", "reason": "x"}, "Give at least 4 characters of the text."),
    ({"text": "坚决反对收取", "reason": ""}, "Give a reason for hiding or rejecting a comment."),
])
def test_a_selection_too_wide_or_without_a_reason_changes_nothing(client, flood, moderator,
                                                                  fields, message):
    draft, _campaign, made = flood

    response = client.post_form(f"/staff/drafts/{draft.slug}/floods?lang=en",
                                {"status": "pending", "action": "hide", **fields})

    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert statuses(made["flood"] + made["honest"]) == ["pending"] * 7
    assert "comment.bulk_moderate" not in audit_actions()


def test_staff_switch_the_question_on_and_off_and_it_is_logged(client, make_draft, moderator):
    draft = make_draft()

    client.post_form(f"/staff/drafts/{draft.slug}/challenge", {"required": "1"})
    db.session.refresh(draft)
    assert draft.challenge_required
    client.post_form(f"/staff/drafts/{draft.slug}/challenge", {"required": "0"})
    db.session.refresh(draft)
    assert not draft.challenge_required
    details = [e.details for e in db.session.scalars(select(AuditLog).where(
        AuditLog.action == "draft.challenge").order_by(AuditLog.id))]
    assert details == [{"required": True}, {"required": False}]


@pytest.mark.parametrize("role", ["public", "deputy"])
def test_only_staff_reach_the_flood_tools(client, make_user, make_draft, role):
    draft = make_draft()
    client.login(make_user(role))

    assert client.get(f"/staff/drafts/{draft.slug}/floods").status_code == 403
    assert client.post_form(f"/staff/drafts/{draft.slug}/challenge",
                            {"required": "1"}).status_code == 403
    db.session.refresh(draft)
    assert not draft.challenge_required


def test_the_flood_forms_need_a_csrf_token(client, flood, moderator):
    draft, _campaign, made = flood

    response = client.post(f"/staff/drafts/{draft.slug}/floods", data={
        "status": "pending", "origin": "a" * 16, "action": "hide", "reason": "x"})

    assert response.status_code == 400
    assert statuses(made["flood"]) == ["pending"] * 5
