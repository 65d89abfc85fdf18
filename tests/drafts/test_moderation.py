"""Moderation: what the public sees before and after a decision, the staff queue, reasons and
the audit trail, the per-clause counter, sorting and keyset pagination."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask import current_app
from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog
from drafts import services
from drafts.models import Clause, Comment


def translated(message: str, **params: object) -> str:
    """Return a message as a Chinese page shows it."""
    with force_locale("zh"):
        return str(escape(gettext(message, **params)))


def shown_ids(page: str) -> list[int]:
    """Return the ids of the comments on a public page, in page order."""
    return [int(n) for n in re.findall(r'<article class="comment" id="comment-(\d+)"', page)]


def clause_count(draft, anchor: str) -> int:
    return db.session.scalar(select(Clause.comment_count).where(
        Clause.version_id == draft.current_version_id, Clause.anchor == anchor))


def public_views(client, draft, anchor: str = "art-6") -> dict[str, str]:
    """Return every public rendering of the draft's comments, the API's as text."""
    return {
        "clause": client.get(f"/drafts/{draft.slug}/clauses/{anchor}").get_data(as_text=True),
        "draft": client.get(f"/drafts/{draft.slug}").get_data(as_text=True),
        "draft comments": client.get(f"/drafts/{draft.slug}/comments").get_data(as_text=True),
        "api": str(client.get(f"/api/v1/drafts/{draft.slug}/comments").get_json()),
        "api clause": str(client.get(
            f"/api/v1/drafts/{draft.slug}/comments?clause={anchor}").get_json()),
    }


@pytest.fixture
def staff(make_user):
    return make_user("staff", name="法工委 王立")


@pytest.fixture
def moderator(make_client, staff):
    browser = make_client()
    browser.login(staff)
    return browser


def decide(moderator, comment: Comment, action: str, reason: str = ""):
    return moderator.post_form(f"/staff/comments/{comment.id}/moderate?status={comment.status}",
                               {"action": action, "reason": reason})


def status_of(comment: Comment) -> str:
    return db.session.get(Comment, comment.id).status


# --- pre- and post-moderation ---------------------------------------------------------------


def test_pre_moderated_comments_stay_out_of_public_until_published(client, make_draft,
                                                                  make_comment, moderator):
    draft = make_draft(moderation="pre")
    comment = make_comment(draft, "art-6", "等待审核的意见", status="pending")
    whole = make_comment(draft, None, "等待审核的整体意见", status="pending")

    before = public_views(client, draft)
    for name, text in before.items():
        assert "等待审核的意见" not in text and "等待审核的整体意见" not in text, name
    assert clause_count(draft, "art-6") == 0

    assert decide(moderator, comment, "publish").status_code == 302
    decide(moderator, whole, "publish")

    after = public_views(client, draft)
    for name in ("clause", "api", "api clause"):
        assert "等待审核的意见" in after[name], name
    assert "等待审核的整体意见" in after["draft"]
    assert "等待审核的整体意见" in after["draft comments"]
    assert clause_count(draft, "art-6") == 1


def test_post_moderated_comments_are_shown_at_once(client, make_draft, make_user):
    draft = make_draft(moderation="post")
    client.login(make_user("public"))
    page = client.get(f"/drafts/{draft.slug}/comment?clause=art-6").get_data(as_text=True)
    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page)[1]

    response = client.post_form(f"/drafts/{draft.slug}/comment", {
        "stance": "support", "body": "立即公开的意见", "clause": "art-6", "submission_key": key})

    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert translated("Your comment has been received and published.") in thanks
    assert "立即公开的意见" in client.get(f"/drafts/{draft.slug}/clauses/art-6").get_data(
        as_text=True)
    assert clause_count(draft, "art-6") == 1


# --- the staff queue ------------------------------------------------------------------------


def test_the_queue_lists_comments_by_status_with_counts(make_draft, make_comment, moderator):
    draft = make_draft()
    make_comment(draft, "art-6", "待审一，电话13812345678", status="pending")
    make_comment(draft, "art-7", "待审二", status="pending")
    make_comment(draft, "art-8-p1-i1", "已发布的", status="published")
    make_comment(draft, "art-9", "已隐藏的", status="hidden", reason="离题")
    make_comment(draft, None, "已拒绝的", status="rejected", reason="广告")

    pending = moderator.get(f"/staff/drafts/{draft.slug}/moderation").get_data(as_text=True)
    hidden = moderator.get(f"/staff/drafts/{draft.slug}/moderation?status=hidden").get_data(
        as_text=True)

    assert "待审一，电话13812345678" in pending and "待审二" in pending
    assert pending.index("待审一") < pending.index("待审二")
    for other in ("已发布的", "已隐藏的", "已拒绝的"):
        assert other not in pending
    for label, count in (("Waiting for moderation", 2), ("Published", 1), ("Hidden", 1),
                         ("Rejected as spam", 1), ("Waiting for e-mail confirmation", 0)):
        assert f"{translated(label)} ({count})" in pending
    assert "已隐藏的" in hidden and "待审一" not in hidden
    assert translated("Reason: %(reason)s", reason="离题") in hidden


# --- decisions, reasons and the audit log ---------------------------------------------------


@pytest.mark.parametrize("action", ["hide", "reject"])
def test_hiding_or_rejecting_needs_a_reason(make_draft, make_comment, moderator, staff, action):
    draft = make_draft()
    comment = make_comment(draft, "art-6", status="published")

    response = decide(moderator, comment, action, reason="   ")

    page = moderator.get(response.headers["Location"]).get_data(as_text=True)
    assert translated("Give a reason for hiding or rejecting a comment.") in page
    assert status_of(comment) == "published"
    assert db.session.scalars(select(AuditLog).where(AuditLog.actor_id == staff.id)).all() == []


def test_every_decision_is_audited_with_actor_action_and_reason(make_draft, make_comment,
                                                                moderator, staff):
    draft = make_draft()
    comment = make_comment(draft, "art-6", "一条意见", status="pending")

    decide(moderator, comment, "publish")
    decide(moderator, comment, "hide", "含有人身攻击")
    decide(moderator, comment, "reject", "重复广告")

    rows = db.session.scalars(select(AuditLog).where(
        AuditLog.object_type == "comments", AuditLog.object_id == comment.id,
        AuditLog.actor_id == staff.id).order_by(AuditLog.id)).all()
    assert [(r.action, r.details.get("reason"), r.details.get("before")) for r in rows] == [
        ("comment.publish", None, "pending"),
        ("comment.hide", "含有人身攻击", "published"),
        ("comment.reject", "重复广告", "hidden"),
    ]
    stored = db.session.get(Comment, comment.id)
    assert (stored.status, stored.moderation_reason, stored.moderated_by_id) == (
        "rejected", "重复广告", staff.id)


def test_the_clause_counter_follows_publish_hide_publish(client, make_draft, make_comment,
                                                         moderator):
    draft = make_draft()
    first = make_comment(draft, "art-8-p1-i2", "第一条", status="pending")
    make_comment(draft, "art-8-p1-i2", "第二条", status="published")
    counts = []

    for action, reason in (("publish", ""), ("hide", "离题"), ("publish", ""),
                           ("publish", ""), ("reject", "广告"), ("hide", "离题")):
        decide(moderator, db.session.get(Comment, first.id), action, reason)
        counts.append(clause_count(draft, "art-8-p1-i2"))

    assert counts == [2, 1, 2, 2, 1, 1]
    clause_page = client.get(f"/drafts/{draft.slug}/clauses/art-8-p1-i2").get_data(as_text=True)
    assert len(shown_ids(clause_page)) == 1
    api = client.get(f"/api/v1/drafts/{draft.slug}").get_json()
    chapter = next(c for c in api["clauses"] if c["anchor"] == "ch-2")
    article = next(c for c in chapter["children"] if c["anchor"] == "art-8")
    assert article["comment_count"] == 1


def test_an_unconfirmed_guest_comment_cannot_be_moderated(make_draft, moderator):
    draft = make_draft(allow_guests=True)
    data = services.CommentInput(stance="support", body="访客意见", submission_key="g" * 20,
                                 guest_name="路人", guest_email="guest@example.com")
    comment, _new = services.submit_comment(draft, None, data, user=None)
    db.session.commit()

    response = decide(moderator, comment, "publish")

    page = moderator.get(response.headers["Location"]).get_data(as_text=True)
    assert translated("The commenter has not confirmed the e-mail address yet.") in page
    assert status_of(comment) == "unconfirmed"


def test_an_unknown_decision_is_refused(make_draft, make_comment, moderator):
    draft = make_draft()
    comment = make_comment(draft, "art-6", status="pending")

    decide(moderator, comment, "delete", "不要了")

    assert status_of(comment) == "pending"


# --- what the public sees -------------------------------------------------------------------


def test_public_pages_and_the_api_show_only_published_comments(client, make_draft, make_comment):
    draft = make_draft(allow_guests=True)
    bodies = {status: make_comment(draft, "art-6", f"状态为{status}的意见", status=status)
              for status in ("published", "pending", "hidden", "rejected")}
    guest = services.CommentInput(stance="oppose", body="状态为unconfirmed的意见",
                                  submission_key="u" * 20, guest_name="路人",
                                  guest_email="guest@example.com")
    services.submit_comment(draft, services.clause_by_anchor(draft.current_version, "art-6"),
                            guest, user=None)
    db.session.commit()

    views = public_views(client, draft)

    for name in ("clause", "api", "api clause"):
        assert "状态为published的意见" in views[name], name
    for name, text in views.items():
        for status in ("pending", "hidden", "rejected", "unconfirmed"):
            assert f"状态为{status}的意见" not in text, (name, status)
    assert shown_ids(views["clause"]) == [bodies["published"].id]


def test_comments_sort_by_newest_or_by_support(client, make_draft, make_comment, make_user):
    draft = make_draft()
    old, middle, new = (make_comment(draft, "art-6", f"意见{n}") for n in range(3))
    supporters = [make_user("public") for _ in range(2)]
    for user in supporters:
        services.toggle_support(db.session.get(Comment, middle.id), user)
    services.toggle_support(db.session.get(Comment, old.id), supporters[0])
    db.session.commit()

    newest = client.get(f"/drafts/{draft.slug}/clauses/art-6").get_data(as_text=True)
    supported = client.get(f"/drafts/{draft.slug}/clauses/art-6?sort=support").get_data(
        as_text=True)

    assert shown_ids(newest) == [new.id, middle.id, old.id]
    assert shown_ids(supported) == [middle.id, old.id, new.id]


def follow_pages(client, url: str) -> list[list[int]]:
    """Read a comment list page by page through its "More comments" link."""
    pages = []
    while url:
        page = client.get(url).get_data(as_text=True)
        pages.append(shown_ids(page))
        more = re.search(r'<a rel="next" href="([^"]+)">', page)
        url = unescape(more[1]) if more else ""
        assert len(pages) < 10, "the pages do not end"
    return pages


@pytest.mark.parametrize("sort", ["new", "support"])
def test_more_comments_pages_show_every_published_comment_exactly_once(
        client, make_draft, make_comment, make_user, sort):
    draft = make_draft()
    comments = [make_comment(draft, "art-11-p1-i2", f"第{n}条意见") for n in range(45)]
    make_comment(draft, "art-11-p1-i2", "未发布", status="pending")
    make_comment(draft, "art-11-p1-i3", "别的项")
    supporters = [make_user("public") for _ in range(3)]
    for n, comment in enumerate(comments):
        for user in supporters[: n % 4]:
            services.toggle_support(db.session.get(Comment, comment.id), user)
    db.session.commit()
    per_page = current_app.config["COMMENTS_PER_PAGE"]

    pages = follow_pages(client, f"/drafts/{draft.slug}/clauses/art-11-p1-i2?sort={sort}")

    assert per_page == 20
    assert [len(p) for p in pages] == [20, 20, 5]
    seen = [ident for page in pages for ident in page]
    if sort == "new":
        expected = sorted((c.id for c in comments), reverse=True)
    else:
        expected = [c.id for c in sorted(comments, key=lambda c: (-(comments.index(c) % 4),
                                                                  -c.id))]
    assert seen == expected


def test_more_comments_on_the_draft_as_a_whole(client, make_draft, make_comment):
    draft = make_draft()
    comments = [make_comment(draft, None, f"整体意见{n}") for n in range(23)]
    make_comment(draft, "art-6", "条文意见")

    pages = follow_pages(client, f"/drafts/{draft.slug}/comments")
    show = client.get(f"/drafts/{draft.slug}").get_data(as_text=True)

    assert [len(p) for p in pages] == [20, 3]
    assert sorted(i for p in pages for i in p) == sorted(c.id for c in comments)
    assert f'href="/drafts/{draft.slug}/comments"' in show
    assert len(shown_ids(show)) == 5
