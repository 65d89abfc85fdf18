"""The opinion workspace: opinions from every source grouped by the articles of the newest text,
dispositions and their audit log, second-person review, offline opinions, deputies'
suggestions, and the finalising of the report."""

from __future__ import annotations

import re

import pytest
from opinion_helpers import clause, make_scene
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog
from drafts import opinions
from drafts.models import Comment, Disposition


@pytest.fixture
def scene(make_draft, make_user, make_comment):
    return make_scene(make_draft, make_user, make_comment)


def audit_actions(comment: Comment) -> list[tuple[str, dict]]:
    return [(e.action, e.details) for e in db.session.scalars(
        select(AuditLog).where(AuditLog.object_type == "comments",
                               AuditLog.object_id == comment.id).order_by(AuditLog.id))]


# --------------------------------------------------------------------------- dispositions


def test_a_reason_is_required_unless_the_opinion_is_adopted(scene):
    for outcome in ("partly_adopted", "not_adopted", "already_provided", "out_of_scope"):
        with pytest.raises(opinions.OpinionError) as error:
            scene.decide(["battery"], outcome, "  ")
        assert error.value.field == "reason"
    scene.decide(["charging"], "adopted", "", "art-6")

    decision = scene.comments["charging"].disposition
    assert (decision.outcome, decision.reason, decision.clause.anchor) == ("adopted", "", "art-6")
    assert decision.clause.version_id == scene.second.id
    assert decision.decided_by_id == scene.staff.id and decision.decided_at is not None


def test_an_unknown_outcome_a_clause_of_another_draft_or_a_pending_comment_is_refused(
        scene, make_draft, make_comment):
    with pytest.raises(opinions.OpinionError):
        scene.decide(["battery"], "rejected", "理由")
    other = make_draft(slug="other-draft")
    with pytest.raises(opinions.OpinionError):
        opinions.decide(scene.draft, [scene.comments["battery"]], "adopted", "",
                        clause(other.current_version, "art-1"), user=scene.staff)
    pending = make_comment(scene.draft, "art-6", "还在等待审核。", status="published")
    pending.status = "pending"
    with pytest.raises(opinions.OpinionError):
        opinions.decide(scene.draft, [pending], "adopted", "", None, user=scene.staff)


def test_every_change_of_a_disposition_goes_to_the_audit_log_with_what_it_replaced(scene):
    scene.decide(["battery"], "not_adopted", "户内充电风险较大。", "art-11-p1-i2")
    scene.decide(["battery"], "not_adopted", "户内充电风险较大。", "art-11-p1-i2")  # no change
    scene.decide(["battery"], "partly_adopted", "允许可拆卸电池进户。", "art-11-p1-i2")

    entries = [e for e in audit_actions(scene.comments["battery"])
               if e[0] == "disposition.set"]
    assert len(entries) == 2
    assert entries[0][1]["outcome"] == "not_adopted" and "before" not in entries[0][1]
    assert entries[1][1]["outcome"] == "partly_adopted"
    assert entries[1][1]["before"]["outcome"] == "not_adopted"
    assert entries[1][1]["before"]["reason"] == "户内充电风险较大。"
    assert db.session.scalar(select(Disposition.reason).where(
        Disposition.comment_id == scene.comments["battery"].id)) == "允许可拆卸电池进户。"


def test_review_by_a_second_person_holds_the_decision_until_approved(scene):
    opinions.set_review_required(scene.draft, True, user=scene.staff)
    scene.decide(["owners"], "adopted", "", "art-7-p2")
    decision = scene.comments["owners"].disposition
    assert decision.review_state == "pending" and not decision.is_final

    with pytest.raises(opinions.OpinionError):
        opinions.review([decision], True, user=scene.staff)  # the one who decided
    with pytest.raises(opinions.OpinionError):
        opinions.review([decision], False, "", user=scene.reviewer)  # a return needs a note
    opinions.review([decision], False, "请写明修改后的条款。", user=scene.reviewer)
    assert decision.review_state == "returned"
    scene.decide(["owners"], "adopted", "已吸收。", "art-7-p2")
    assert decision.review_state == "pending"
    assert opinions.review([decision], True, user=scene.reviewer) == 1
    db.session.commit()

    assert decision.is_final and decision.reviewed_by_id == scene.reviewer.id
    actions = [a for a, _d in audit_actions(scene.comments["owners"])]
    assert actions.count("disposition.set") == 2
    assert "disposition.return" in actions and "disposition.approve" in actions


def test_turning_review_on_sends_existing_decisions_to_review_and_off_counts_them(scene):
    scene.decide(["charging"], "adopted", "", "art-6")
    opinions.set_review_required(scene.draft, True, user=scene.staff)
    assert scene.comments["charging"].disposition.review_state == "pending"
    opinions.set_review_required(scene.draft, False, user=scene.staff)
    assert scene.comments["charging"].disposition.is_final


def test_the_report_is_final_only_when_every_deputy_suggestion_is_answered(scene):
    suggestion, _new = opinions.submit_deputy_suggestion(
        scene.draft, clause(scene.second, "art-12"), user=scene.deputy, stance="suggest",
        body="建议先劝阻再报告执法部门。", submission_key="deputy-key-000000000001")
    db.session.commit()
    with pytest.raises(opinions.OpinionError, match="1"):
        opinions.finalise_report(scene.draft, user=scene.staff)

    opinions.decide(scene.draft, [suggestion], "adopted", "", clause(scene.second, "art-13"),
                    user=scene.staff)
    opinions.finalise_report(scene.draft, user=scene.staff)
    db.session.commit()
    assert scene.draft.report_finalised_at is not None

    scene.decide(["battery"], "not_adopted", "风险较大。")  # any later change reopens it
    assert scene.draft.report_finalised_at is None
    actions = list(db.session.scalars(select(AuditLog.action).where(
        AuditLog.object_type == "drafts", AuditLog.object_id == scene.draft.id)))
    assert "report.finalise" in actions and "report.reopen" in actions


# --------------------------------------------------------------------------- sources


def test_deputies_suggestions_are_marked_and_only_deputies_may_send_them(scene, make_client,
                                                                          make_user):
    deputy = make_client()
    deputy.login(scene.deputy)
    page = deputy.get(f"/drafts/{scene.draft.slug}/suggest?clause=art-12")
    assert page.status_code == 200
    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"',
                    page.get_data(as_text=True)).group(1)
    unit = clause(scene.second, "art-12")
    response = deputy.post_form(f"/drafts/{scene.draft.slug}/suggest", {
        "clause": str(unit.id), "stance": "suggest", "body": "建议留存劝阻记录。",
        "submission_key": key})
    assert response.status_code == 302
    suggestion = db.session.scalar(select(Comment).where(Comment.submission_key == key))
    assert (suggestion.source, suggestion.status, suggestion.clause_id) == (
        "deputy", "recorded", unit.id)
    # not listed with the public comments
    assert "建议留存劝阻记录" not in deputy.get(
        f"/drafts/{scene.draft.slug}/clauses/art-12").get_data(as_text=True)

    citizen = make_client()
    citizen.login(scene.citizen)
    assert citizen.get(f"/drafts/{scene.draft.slug}/suggest").status_code == 403
    anonymous = make_client().get(f"/drafts/{scene.draft.slug}/suggest")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_staff_record_a_letter_with_its_date_and_occasion(scene, client):
    client.login(scene.staff)
    page = client.get(f"/staff/drafts/{scene.draft.slug}/opinions/new").get_data(as_text=True)
    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page).group(1)
    unit = clause(scene.second, "art-10")
    response = client.post_form(f"/staff/drafts/{scene.draft.slug}/opinions/new", {
        "source": "symposium", "source_detail": "东城区居民座谈会", "received_at": "2026-03-05",
        "clause": str(unit.id), "stance": "oppose", "body": "座谈会上居民认为收费偏高。",
        "name": "东城区居民代表", "email": "", "submission_key": key})
    assert response.status_code == 302
    recorded = db.session.scalar(select(Comment).where(Comment.submission_key == key))
    assert (recorded.source, recorded.source_detail, recorded.status) == (
        "symposium", "东城区居民座谈会", "recorded")
    assert recorded.received_at.date().isoformat() == "2026-03-05"
    assert ("opinion.record", {"draft": scene.draft.slug, "source": "symposium",
                               "detail": "东城区居民座谈会"}) in audit_actions(recorded)


def test_an_offline_opinion_needs_a_source_a_text_and_no_future_date(scene):
    def record(**fields):
        data = dict(source="letter", stance="suggest", body="意见。",
                    submission_key="k" * 20) | fields
        return opinions.record_offline_opinion(scene.draft, None, opinions.OfflineOpinion(**data),
                                               user=scene.staff)

    with pytest.raises(opinions.OpinionError):
        record(source="online")
    with pytest.raises(opinions.OpinionError):
        record(body="   ")
    from datetime import timedelta

    from app.models import utcnow

    with pytest.raises(opinions.OpinionError):
        record(received_at=utcnow() + timedelta(days=2))


# --------------------------------------------------------------------------- the workspace


def test_the_workspace_groups_every_source_by_the_articles_of_the_newest_text(scene, client):
    client.login(scene.staff)
    page = client.get(f"/staff/drafts/{scene.draft.slug}/opinions").get_data(as_text=True)

    for name in ("charging", "owners", "battery", "whole", "letter"):
        assert f'name="ids" value="{scene.comments[name].id}"' in page, name
    # the comment on the first text's 第六条 sits under the 二审稿's article of that lineage
    places = opinions.ClausePlaces(scene.draft)
    article = places.article(scene.comments["charging"].clause_id)
    assert article.version_id == scene.second.id
    assert article.lineage_id == clause(scene.first, "art-6").lineage_id
    section = page.split(f'id="g-{article.id}"', 1)[1].split("</section>", 1)[0]
    assert f'name="ids" value="{scene.comments["charging"].id}"' in section
    assert "物业管理协会来函" in page and "王小明" not in section  # names only on the detail


def test_filters_by_source_outcome_and_words(scene, client):
    scene.decide(["charging"], "adopted", "", "art-6")
    client.login(scene.staff)
    url = f"/staff/drafts/{scene.draft.slug}/opinions"

    letters = client.get(url + "?source=letter").get_data(as_text=True)
    assert f'name="ids" value="{scene.comments["letter"].id}"' in letters
    assert f'name="ids" value="{scene.comments["charging"].id}"' not in letters
    undecided = client.get(url + "?outcome=none").get_data(as_text=True)
    assert f'name="ids" value="{scene.comments["charging"].id}"' not in undecided
    assert f'name="ids" value="{scene.comments["battery"].id}"' in undecided
    words = client.get(url + "?q=可拆卸").get_data(as_text=True)
    assert f'name="ids" value="{scene.comments["battery"].id}"' in words
    assert f'name="ids" value="{scene.comments["owners"].id}"' not in words


def test_bulk_selection_decides_several_opinions_at_once_and_keeps_the_filters(scene, client):
    client.login(scene.staff)
    unit = clause(scene.second, "art-11-p1-i2")
    back = f"/staff/drafts/{scene.draft.slug}/opinions?source=online"
    ids = [scene.comments["battery"].id, scene.comments["whole"].id]
    response = client.post_form(f"/staff/drafts/{scene.draft.slug}/opinions/bulk", {
        "ids": [str(i) for i in ids], "action": "decide", "outcome": "partly_adopted",
        "reason": "部分吸收。", "clause": str(unit.id), "back": back})
    assert response.status_code == 302 and response.headers["Location"] == back
    decided = db.session.scalars(select(Disposition).where(Disposition.comment_id.in_(ids)))
    assert {(d.outcome, d.reason, d.clause_id) for d in decided} == {
        ("partly_adopted", "部分吸收。", unit.id)}

    missing_reason = client.post_form(f"/staff/drafts/{scene.draft.slug}/opinions/bulk", {
        "ids": [str(scene.comments["owners"].id)], "action": "decide",
        "outcome": "not_adopted", "reason": "", "back": "https://evil.example/"})
    assert missing_reason.headers["Location"].endswith(f"/staff/drafts/{scene.draft.slug}"
                                                       "/opinions")
    assert scene.comments["owners"].disposition is None


def test_staff_decide_one_opinion_on_its_page_and_see_its_history(scene, client):
    client.login(scene.staff)
    url = f"/staff/opinions/{scene.comments['owners'].id}"
    page = client.get(url).get_data(as_text=True)
    assert "wang.xiaoming@example.com" in page  # staff see who wrote it
    unit = clause(scene.second, "art-7-p2")
    assert f'<option selected value="{unit.id}">' in page  # the clause that continues it
    response = client.post_form(url, {"d-outcome": "adopted", "d-reason": "",
                                      "d-clause": str(unit.id)})
    assert response.status_code == 302
    history = client.get(url).get_data(as_text=True)
    assert "disposition.set" in history and "法工委 王立" in history


def test_only_staff_reach_the_workspace(scene, client):
    url = f"/staff/drafts/{scene.draft.slug}/opinions"
    assert "/login" in client.get(url).headers["Location"]
    client.login(scene.citizen)
    assert client.get(url).status_code == 403
    assert client.get(f"/staff/opinions/{scene.comments['owners'].id}").status_code == 403


def test_opinions_can_be_given_a_topic_and_grouped_by_it(scene, client):
    client.login(scene.staff)
    ids = [scene.comments["charging"].id, scene.comments["letter"].id]
    client.post_form(f"/staff/drafts/{scene.draft.slug}/opinions/bulk", {
        "ids": [str(i) for i in ids], "action": "topic", "topic": "收费标准"})
    assert {scene.comments[n].topic for n in ("charging", "letter")} == {"收费标准"}
    page = client.get(f"/staff/drafts/{scene.draft.slug}/opinions?by_topic=y&lang=en"
                      ).get_data(as_text=True)
    first, rest = page.split('id="g-topic-1"', 1)[1].split("</section>", 1)
    assert "收费标准" in first and all(f'name="ids" value="{i}"' in first for i in ids)
    assert "No topic" in rest and f'name="ids" value="{scene.comments["owners"].id}"' in rest
    filtered = client.get(f"/staff/drafts/{scene.draft.slug}/opinions?topic=收费标准"
                          ).get_data(as_text=True)
    assert f'name="ids" value="{scene.comments["owners"].id}"' not in filtered
    assert ("opinion.topic", {"after": "收费标准"}) in audit_actions(scene.comments["letter"])
