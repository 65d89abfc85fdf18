"""Campaigns: identical and lightly edited texts found among generated opinions with high
precision and recall, stored per draft with stable ids, and counted as received vs unique."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from app.extensions import db
from benchmarks.report import CAMPAIGN_TEXTS, generate_opinions, light_edit
from drafts import campaigns, opinions
from drafts.models import Comment, OpinionCluster


def test_generated_campaigns_are_found_with_high_precision_and_recall():
    texts, truth = generate_opinions(3_000, random.Random(11))
    found = campaigns.find_campaigns(texts)
    scores = campaigns.pair_scores(truth, found)
    assert scores["precision"] >= 0.95 and scores["recall"] >= 0.95, scores
    # every campaign is found as one group, missing hardly any copy
    for campaign in range(len(CAMPAIGN_TEXTS)):
        labels = [f for t, f in zip(truth, found, strict=True) if t == campaign]
        assert len(set(labels) - {-1}) == 1
        assert labels.count(-1) <= max(1, len(labels) // 50)


def test_light_edits_stay_in_the_campaign_and_different_texts_stay_apart():
    rng = random.Random(3)
    copies = [light_edit(CAMPAIGN_TEXTS[0], rng) for _ in range(20)]
    others = ["我认为第十二条的罚款太低。", "建议增加听证程序。", "同意", "同意！", "", "  "]
    labels = campaigns.find_campaigns(copies + others)
    assert len(set(labels[:20])) == 1 and labels[0] >= 0
    assert labels[20] == labels[21] == -1
    assert labels[22] == labels[23] != labels[0]  # the same short text, punctuation aside
    assert labels[24] == labels[25] == -1  # empty texts are nobody's copy


def test_pair_scores_count_pairs():
    scores = campaigns.pair_scores([0, 0, 0, 1, 1, -1], [0, 0, 1, 1, 1, -1])
    assert (scores["true_pairs"], scores["found_pairs"]) == (4, 4)
    assert scores["precision"] == scores["recall"] == 0.5


@pytest.fixture
def draft(make_draft):
    return make_draft()


def test_clustering_a_draft_stores_campaigns_and_keeps_their_ids(draft, make_comment,
                                                                 make_user):
    rng = random.Random(5)
    copies = [make_comment(draft, "art-6", light_edit(CAMPAIGN_TEXTS[1], rng))
              for _ in range(6)]
    alone = make_comment(draft, "art-7", "第七条应当写明公示的期限。")
    first = campaigns.cluster_draft(draft)
    db.session.commit()
    assert (first.campaigns, first.in_campaigns, first.unique) == (1, 6, 2)
    cluster = db.session.scalar(select(OpinionCluster))
    assert (cluster.size, cluster.representative_id) == (6, copies[0].id)
    db.session.refresh(alone)
    assert alone.cluster_id is None

    later = make_comment(draft, "art-6", light_edit(CAMPAIGN_TEXTS[1], rng))
    campaigns.cluster_draft(draft)
    db.session.commit()
    assert db.session.scalar(select(Comment.cluster_id).where(Comment.id == later.id)) \
        == cluster.id
    assert db.session.get(OpinionCluster, cluster.id).size == 7
    totals = opinions.totals(draft)
    assert (totals.received, totals.unique) == (8, 2)


def test_a_campaign_that_breaks_up_is_deleted(draft, make_comment, make_user):
    a = make_comment(draft, "art-6", "强烈要求保留老街区历史风貌，不得大拆大建！")
    b = make_comment(draft, "art-6", "强烈要求保留老街区历史风貌，不得大拆大建。")
    campaigns.cluster_draft(draft)
    db.session.commit()
    assert db.session.scalar(select(OpinionCluster.size)) == 2
    from drafts import services

    services.moderate(b, "reject", user=make_user("staff"), reason="重复刷屏")
    campaigns.cluster_draft(draft)
    db.session.commit()
    assert db.session.scalar(select(OpinionCluster.id)) is None
    db.session.refresh(a)
    assert a.cluster_id is None


def test_one_disposition_applies_to_a_whole_campaign(draft, make_comment, make_user, client):
    rng = random.Random(9)
    copies = [make_comment(draft, "art-6", light_edit(CAMPAIGN_TEXTS[2], rng))
              for _ in range(5)]
    campaigns.cluster_draft(draft)
    db.session.commit()
    staff = make_user("staff")
    client.login(staff)
    response = client.post_form(f"/staff/drafts/{draft.slug}/opinions/bulk", {
        "ids": [str(copies[2].id)], "whole_clusters": "y", "action": "decide",
        "outcome": "not_adopted", "reason": "补偿标准由国家规定。"})
    assert response.status_code == 302
    for copy in copies:
        db.session.refresh(copy)
        assert copy.disposition.outcome == "not_adopted"
    page = client.get(f"/staff/drafts/{draft.slug}/opinions?lang=en").get_data(as_text=True)
    assert page.count('name="ids"') == 1  # the campaign shows once
    assert "campaign: 5 received" in page and "5 here" in page


def test_hearing_statements_are_never_a_campaign(draft, make_comment):
    for n in range(3):
        comment = make_comment(draft, None, f"陈述人{n}在听证会上的陈述。陈述重点：充电设施。")
        comment.source = "hearing"
    db.session.commit()
    assert campaigns.cluster_draft(draft).campaigns == 0
