"""Feedback to commenters: the answer under My comments, batched e-mails with a working opt-out,
the account setting, and the public feedback page, which carries no personal data."""

from __future__ import annotations

import re

import pytest
from opinion_helpers import clause, make_scene
from sqlalchemy import select

from app.extensions import db
from app.mail import outbox_messages
from drafts import feedback, opinions
from drafts.models import FeedbackOptOut


@pytest.fixture
def scene(make_draft, make_user, make_comment):
    return make_scene(make_draft, make_user, make_comment)


def bodies() -> list[str]:
    return [m.get_content() for m in outbox_messages()]


def test_my_comments_shows_the_disposition_and_reason_once_it_counts(scene, client):
    opinions.set_review_required(scene.draft, True, user=scene.staff)
    scene.decide(["owners"], "partly_adopted", "公示期限改为七日。", "art-7-p2")
    client.login(scene.citizen)
    assert "公示期限改为七日" not in client.get("/drafts/mine").get_data(as_text=True)

    opinions.review([scene.comments["owners"].disposition], True, user=scene.reviewer)
    db.session.commit()
    page = client.get("/drafts/mine").get_data(as_text=True)
    assert "公示期限改为七日" in page
    assert "第七条第二款" in page  # the clause of the revised text


def test_one_email_per_person_and_draft_lists_every_new_decision_once(scene, app):
    scene.decide(["charging"], "adopted", "", "art-6")
    scene.decide(["owners"], "not_adopted", "业主大会的程序由物业管理条例规定。")
    scene.decide(["letter"], "out_of_scope", "属于价格管理事项。")

    with app.test_request_context("/"):
        run = feedback.send_feedback()
    db.session.commit()
    assert (run.emails, run.decisions) == (2, 3)
    messages = {m["To"]: m.get_content() for m in outbox_messages()}
    mine = messages["wang.xiaoming@example.com"]
    assert "业主大会的程序由物业管理条例规定" in mine and "第六条" in mine
    assert "/drafts/feedback/stop/" in mine and f"/drafts/{scene.draft.slug}/feedback" in mine
    assert "属于价格管理事项" in messages["association@example.org"]

    with app.test_request_context("/"):
        assert feedback.send_feedback().emails == 0  # nothing new
    scene.decide(["owners"], "adopted", "", "art-7-p2")  # a changed decision is told again
    with app.test_request_context("/"):
        assert (feedback.send_feedback().decisions, len(outbox_messages())) == (1, 3)


def test_the_opt_out_link_asks_first_then_stops_the_emails(scene, app, make_client):
    scene.decide(["charging"], "adopted", "", "art-6")
    with app.test_request_context("/"):
        feedback.send_feedback()
    db.session.commit()
    link = re.search(r"http://[^\s]+/drafts/feedback/stop/\S+", bodies()[0]).group(0)
    path = link.split("localhost", 1)[1]
    browser = make_client()
    assert "Stop" in browser.get(path + "?lang=en").get_data(as_text=True)
    db.session.refresh(scene.citizen)
    assert scene.citizen.feedback_emails  # opening the link is not enough
    assert browser.post_form(path).status_code == 200
    db.session.refresh(scene.citizen)
    assert not scene.citizen.feedback_emails

    scene.decide(["owners"], "adopted", "", "art-7-p2")
    with app.test_request_context("/"):
        run = feedback.send_feedback()
    assert (run.emails, run.untold, len(outbox_messages())) == (0, 1, 1)
    assert browser.post_form("/drafts/feedback/stop/forged-token").status_code == 404


def test_a_commenter_without_an_account_can_opt_out_too(scene, app, client):
    token = feedback.opt_out_token("association@example.org")
    client.post_form(f"/drafts/feedback/stop/{token}")
    assert db.session.scalar(select(FeedbackOptOut.email)) == "association@example.org"
    scene.decide(["letter"], "not_adopted", "属于价格管理事项。")
    with app.test_request_context("/"):
        assert feedback.send_feedback().emails == 0


def test_the_account_setting_switches_the_emails_off_and_on(scene, client):
    client.login(scene.citizen)
    client.post_form("/drafts/mine/feedback-emails", {})
    db.session.refresh(scene.citizen)
    assert not scene.citizen.feedback_emails
    client.post_form("/drafts/mine/feedback-emails", {"feedback_emails": "y"})
    db.session.refresh(scene.citizen)
    assert scene.citizen.feedback_emails


def test_minyi_opinions_send_feedback(scene, runner):
    scene.decide(["charging"], "adopted", "", "art-6")
    result = runner.invoke(args=["opinions", "send-feedback", "--draft", scene.draft.slug])
    assert result.exit_code == 0, result.output
    assert "1 e-mails about 1 decisions" in result.output
    assert outbox_messages()[0]["To"] == "wang.xiaoming@example.com"


def test_the_public_feedback_page_shows_counts_decisions_and_reasons(scene, make_client):
    scene.decide(["charging"], "adopted", "", "art-6")
    scene.decide(["battery"], "not_adopted", "户内充电的火灾风险较大。", "art-11-p1-i2")
    page = make_client().get(f"/drafts/{scene.draft.slug}/feedback").get_data(as_text=True)

    assert "户内充电的火灾风险较大" in page
    assert "新小区同步建设充电设施很有必要" in page  # the adopted opinion, quoted
    article = clause(scene.second, "art-6")
    assert f'id="fb-{article.id}"' in page


def test_the_public_feedback_page_holds_no_names_emails_or_phone_numbers(scene, make_client):
    scene.decide(["charging"], "adopted", "", "art-6")
    scene.decide(["owners"], "adopted", "", "art-7-p2")
    scene.decide(["letter"], "partly_adopted", "部分吸收。", "art-10")
    suggestion, _new = opinions.submit_deputy_suggestion(
        scene.draft, None, user=scene.deputy, stance="suggest", body="建议加强宣传。",
        submission_key="deputy-key-000000000009")
    opinions.decide(scene.draft, [suggestion], "adopted", "", None, user=scene.staff)
    db.session.commit()

    page = make_client().get(f"/drafts/{scene.draft.slug}/feedback").get_data(as_text=True)
    assert "138****5678" in page
    for private in ("王小明", "wang.xiaoming@example.com", "13812345678", "青禾市物业管理协会",
                    "association@example.org", "李代表", "法工委", scene.deputy.email):
        assert private not in page, private
    assert re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", page.split("<main", 1)[1]) is None


def test_the_feedback_page_of_an_unpublished_draft_is_not_found(make_draft, make_client):
    draft = make_draft(status="draft")
    assert make_client().get(f"/drafts/{draft.slug}/feedback").status_code == 404
