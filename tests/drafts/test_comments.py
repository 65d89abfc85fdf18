"""Commenting through the real forms: units, validation in the user's language, the comment
window, repeated submissions, guests, support and "my comments"."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from html import unescape

import pytest
import requests
from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from support import PASSWORD
from werkzeug.serving import make_server

from app.extensions import db
from app.mail import outbox_messages
from app.models import utcnow
from drafts import services
from drafts.models import Comment, CommentSupport

REGIONS = ["东城区", "西湖区"]
SECTORS = ["居民", "物业服务"]


def translated(message: str, locale: str, **params: object) -> str:
    """Return a message as the page shows it in `locale`, HTML-escaped."""
    with force_locale(locale):
        return str(escape(gettext(message, **params)))


def form_key(page: str) -> str:
    """Return the submission key of the comment form on the page."""
    match = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page)
    assert match, "no submission key on the page"
    return match.group(1)


def comment_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Comment))


def send_comment(client, draft, anchor: str | None = None, query: str = "", **fields):
    """Open the comment form like a browser, then send it with `fields`."""
    target = f"?clause={anchor}" if anchor else ""
    page = client.get(f"/drafts/{draft.slug}/comment{target}").get_data(as_text=True)
    data = {"stance": "suggest", "body": "建议明确充电设施的比例。", "clause": anchor or "",
            "submission_key": form_key(page), **fields}
    return client.post_form(f"/drafts/{draft.slug}/comment{query}", data)


@pytest.fixture
def draft(make_draft):
    return make_draft(regions=REGIONS, sectors=SECTORS)


@pytest.fixture
def citizen(client, make_user):
    user = make_user("public", name="张明")
    client.login(user)
    return user


# --- what a comment holds ------------------------------------------------------------------


@pytest.mark.parametrize("anchor", ["art-6", "art-7-p2", "art-8-p1-i3", None])
def test_logged_in_user_comments_on_an_article_paragraph_item_or_the_whole_draft(
        client, draft, citizen, anchor):
    response = send_comment(client, draft, anchor, stance="oppose", body="第一段。\n第二段。",
                            proposed_wording="改为：应当同步建设。", region="西湖区",
                            sector="物业服务", age_band="45_59")

    comment = db.session.scalars(select(Comment)).one()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/drafts/{draft.slug}/submitted/{comment.submission_key}")
    assert (comment.clause.anchor if comment.clause else None) == anchor
    assert comment.author_id == citizen.id
    assert (comment.stance, comment.body, comment.proposed_wording) == (
        "oppose", "第一段。\n第二段。", "改为：应当同步建设。")
    assert (comment.region, comment.sector, comment.age_band) == ("西湖区", "物业服务", "45_59")
    assert comment.status == "pending"
    assert comment.version_id == draft.current_version_id
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert translated("Your comment has been received. It will be published after moderation.",
                      "zh") in thanks


def test_the_form_offers_the_drafts_regions_and_sectors_and_the_users_defaults(
        client, draft, make_user):
    user = make_user("public")
    user.region = "西湖区"
    db.session.commit()
    client.login(user)
    page = client.get(f"/drafts/{draft.slug}/comment?clause=art-6").get_data(as_text=True)
    region_select = re.search(r'<select[^>]*name="region".*?</select>', page, re.S).group(0)
    assert [unescape(v) for v in re.findall(r'<option[^>]*value="([^"]*)"', region_select)] == [
        "", *REGIONS]
    assert re.search(r'<option selected value="西湖区">|<option value="西湖区" selected',
                     region_select)
    assert 'name="sector"' in page and "物业服务" in page
    assert "第六条" in page


def test_region_and_sector_are_free_text_when_the_draft_has_no_lists(client, make_draft,
                                                                     citizen):
    plain = make_draft()
    page = client.get(f"/drafts/{plain.slug}/comment").get_data(as_text=True)
    assert re.search(r'<input type="text" id="region" name="region"', page)
    assert re.search(r'<input type="text" id="sector" name="sector"', page)
    assert not re.search(r'<select[^>]*name="(region|sector)"', page)

    send_comment(client, plain, "art-6", region="青禾县城关镇", sector="外卖骑手")

    comment = db.session.scalars(select(Comment)).one()
    assert (comment.region, comment.sector) == ("青禾县城关镇", "外卖骑手")


def test_a_region_outside_the_drafts_list_is_refused_and_the_text_is_kept(client, draft,
                                                                         citizen):
    response = send_comment(client, draft, "art-6", body="我的意见原文", region="火星区")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert translated("Choose a region from the list.", "zh") in page
    assert re.search(r'<textarea[^>]*name="body"[^>]*>\s*我的意见原文</textarea>', page)
    assert comment_count() == 0


def test_a_sector_or_age_band_outside_the_lists_is_refused(client, draft, citizen):
    sector = send_comment(client, draft, "art-6", sector="黑客").get_data(as_text=True)
    age = send_comment(client, draft, "art-6", age_band="200_plus").get_data(as_text=True)

    assert translated("Choose a sector from the list.", "zh") in sector
    assert 'id="age_band-error"' in age
    assert comment_count() == 0


# --- validation in the user's language ------------------------------------------------------


def test_too_long_comment_is_refused_in_chinese_by_default_and_kept_in_the_form(
        client, draft, citizen):
    body = "长" * 5001
    response = send_comment(client, draft, "art-6", body=body)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="zh-Hans">' in page
    assert "字段长度不能超过 5000 个字符" in page
    assert body in page
    assert comment_count() == 0


@pytest.mark.parametrize("how", ["query", "cookie"])
def test_too_long_comment_is_refused_in_english_when_asked(client, draft, citizen, how):
    if how == "cookie":
        client.set_cookie("minyi_lang", "en")
    query = "?lang=en" if how == "query" else ""
    page = send_comment(client, draft, "art-6", query=query, body="x" * 5001).get_data(
        as_text=True)

    assert '<html lang="en">' in page
    assert "Field cannot be longer than 5000 characters." in page
    assert comment_count() == 0


def test_exactly_the_length_limit_is_accepted(client, draft, citizen):
    response = send_comment(client, draft, "art-6", body="满" * 5000)

    assert response.status_code == 302
    assert len(db.session.scalars(select(Comment)).one().body) == 5000


@pytest.mark.parametrize("body", ["", "   \n\u3000 \t"])
def test_empty_or_blank_comment_is_refused_with_a_message_in_each_language(
        client, draft, citizen, body):
    zh = send_comment(client, draft, "art-6", body=body).get_data(as_text=True)
    en = send_comment(client, draft, "art-6", query="?lang=en", body=body).get_data(as_text=True)

    assert translated("Write your comment.", "zh") in zh
    assert "Write your comment." in en
    assert comment_count() == 0


def test_a_stance_outside_the_list_is_refused_and_a_missing_one_explained(client, draft,
                                                                         citizen):
    odd = send_comment(client, draft, "art-6", stance="abstain", body="弃权的意见")
    missing = send_comment(client, draft, "art-6", query="?lang=en", stance="")

    odd_page = odd.get_data(as_text=True)
    assert odd.status_code == 200
    assert "不是有效的选择" in odd_page
    assert "弃权的意见" in odd_page
    assert "Choose whether you support, oppose or suggest a change." in missing.get_data(
        as_text=True)
    assert comment_count() == 0


def test_proposed_wording_over_the_limit_is_refused(client, draft, citizen):
    page = send_comment(client, draft, "art-6", query="?lang=en",
                        proposed_wording="y" * 5001).get_data(as_text=True)

    assert "Field cannot be longer than 5000 characters." in page
    assert comment_count() == 0


# --- where a comment may go -----------------------------------------------------------------


def test_a_chapter_cannot_be_commented_on(client, draft, citizen):
    assert client.get(f"/drafts/{draft.slug}/comment?clause=ch-2").status_code == 404
    assert client.get(f"/drafts/{draft.slug}/clauses/ch-2").status_code == 404
    # A form sent for a chapter anyway is refused with a message, keeping what was typed.
    key = form_key(client.get(f"/drafts/{draft.slug}/comment").get_data(as_text=True))
    response = client.post_form(f"/drafts/{draft.slug}/comment", {
        "stance": "suggest", "body": "对整章的意见", "clause": "ch-2", "submission_key": key})

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert translated("Comments can be made on an article, paragraph or item.", "zh") in page
    assert "对整章的意见" in page
    assert comment_count() == 0


def test_an_anchor_that_is_not_in_the_draft_is_not_found(client, draft, citizen):
    assert client.get(f"/drafts/{draft.slug}/comment?clause=art-99").status_code == 404


def test_a_clause_of_another_drafts_version_is_refused(draft, make_draft, make_user):
    other = make_draft(slug="other-draft")
    foreign = services.clause_by_anchor(other.current_version, "art-6")
    data = services.CommentInput(stance="support", body="挂错了草案", submission_key="k" * 20)

    with pytest.raises(services.CommentError):
        services.submit_comment(draft, foreign, data, user=make_user("public"))
    assert comment_count() == 0


# --- the comment window ---------------------------------------------------------------------


@pytest.mark.parametrize("window", [
    {"opens_at": timedelta(days=2), "closes_at": timedelta(days=30)},
    {"opens_at": timedelta(days=-30), "closes_at": timedelta(hours=-1)},
    {"status": "closed"},
    {"status": "adopted"},
])
def test_comments_outside_the_window_are_refused_with_a_message(client, make_draft, citizen,
                                                                 window):
    kwargs = {key: utcnow() + value if isinstance(value, timedelta) else value
              for key, value in window.items()}
    shut = make_draft(**kwargs)
    form = client.get(f"/drafts/{shut.slug}/comment?clause=art-6").get_data(as_text=True)
    response = send_comment(client, shut, "art-6", body="窗口之外的意见")

    message = translated("This draft is not open for comment.", "zh")
    assert message in form
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert "窗口之外的意见" in response.get_data(as_text=True)
    assert comment_count() == 0


def test_an_unpublished_draft_takes_no_comments(client, make_draft, make_user, citizen):
    hidden = make_draft(status="draft")
    assert client.get(f"/drafts/{hidden.slug}/comment").status_code == 404

    staff = make_user("staff")
    client.login(staff)
    response = send_comment(client, hidden, "art-6")
    assert translated("This draft is not open for comment.", "zh") in response.get_data(
        as_text=True)
    assert comment_count() == 0


# --- the same submission twice -------------------------------------------------------------


def test_the_same_submission_twice_yields_one_comment_and_the_same_redirect(client, draft,
                                                                           citizen):
    page = client.get(f"/drafts/{draft.slug}/comment?clause=art-6").get_data(as_text=True)
    data = {"stance": "support", "body": "同意。", "clause": "art-6",
            "submission_key": form_key(page)}

    first = client.post_form(f"/drafts/{draft.slug}/comment", data)
    second = client.post_form(f"/drafts/{draft.slug}/comment", data)

    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert comment_count() == 1


def test_the_service_returns_the_existing_comment_for_a_repeated_key(draft, make_user):
    user = make_user("public")
    clause = services.clause_by_anchor(draft.current_version, "art-6")
    data = services.CommentInput(stance="support", body="同意。", submission_key="same-key-0001")

    first, first_new = services.submit_comment(draft, clause, data, user=user)
    db.session.commit()
    again, again_new = services.submit_comment(draft, clause, data, user=user)

    assert (first_new, again_new) == (True, False)
    assert again.id == first.id
    assert comment_count() == 1


@pytest.fixture
def lost_race(monkeypatch):
    """Make the first look-up of a submission key miss, as when a parallel request has not
    committed yet when this one checks."""
    real = services.comment_by_submission_key
    calls = []

    def first_misses(key: str):
        calls.append(key)
        return None if len(calls) == 1 else real(key)

    monkeypatch.setattr(services, "comment_by_submission_key", first_misses)
    return calls


def test_a_second_insert_of_the_same_key_is_recognised_as_a_duplicate(draft, make_user,
                                                                      lost_race):
    user = make_user("public")
    db.session.add(Comment(draft_id=draft.id, author_id=user.id, stance="support", body="先到",
                           submission_key="raced-key-00001", status="pending"))
    db.session.commit()
    data = services.CommentInput(stance="support", body="后到", submission_key="raced-key-00001")

    with pytest.raises(IntegrityError) as caught:
        services.submit_comment(draft, None, data, user=user)
        db.session.commit()
    db.session.rollback()

    assert services.is_duplicate_submission(caught.value)
    assert comment_count() == 1


def test_a_submission_that_loses_the_race_redirects_to_the_winners_comment(
        client, draft, citizen, lost_race):
    page = client.get(f"/drafts/{draft.slug}/comment?clause=art-6").get_data(as_text=True)
    key = form_key(page)
    winner = Comment(draft_id=draft.id, author_id=citizen.id, stance="support", body="同意。",
                     submission_key=key, status="pending")
    db.session.add(winner)
    db.session.commit()

    response = client.post_form(f"/drafts/{draft.slug}/comment",
                                {"stance": "support", "body": "同意。", "clause": "art-6",
                                 "submission_key": key})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/submitted/{key}")
    assert lost_race == [key, key]
    assert comment_count() == 1


def test_concurrent_posts_of_one_form_against_a_real_server_store_one_comment(app, draft,
                                                                             make_user):
    user = make_user("public")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        browser = requests.Session()
        login_page = browser.get(f"{base}/login").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page)[1]
        browser.post(f"{base}/login", data={"csrf_token": token, "email": user.email,
                                           "password": PASSWORD})
        form = browser.get(f"{base}/drafts/{draft.slug}/comment?clause=art-6").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)[1]
        data = {"csrf_token": token, "stance": "support", "body": "并发提交的意见",
                "clause": "art-6", "submission_key": form_key(form)}
        start = threading.Barrier(4)
        results: list[requests.Response] = []

        def post() -> None:
            tab = requests.Session()
            tab.cookies.update(browser.cookies)
            start.wait()
            results.append(tab.post(f"{base}/drafts/{draft.slug}/comment", data=data,
                                    allow_redirects=False, timeout=30))

        workers = [threading.Thread(target=post) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        server.shutdown()
        thread.join()
        server.server_close()

    assert [r.status_code for r in results] == [302] * 4
    assert len({r.headers["Location"] for r in results}) == 1
    db.session.expire_all()
    assert comment_count() == 1


# --- guests ---------------------------------------------------------------------------------


def confirmation_link(app) -> str:
    """Return the path of the confirmation link in the last e-mail of the outbox."""
    body = outbox_messages()[-1].get_content()
    match = re.search(r"https?://[^/\s]+(/drafts/confirm/\S+)", body)
    assert match, body
    return match.group(1)


def test_guests_must_log_in_when_the_draft_does_not_allow_them(client, draft):
    response = client.get(f"/drafts/{draft.slug}/comment?clause=art-6")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_guest_must_give_name_and_email(client, make_draft):
    open_draft = make_draft(allow_guests=True)
    page = client.get(f"/drafts/{open_draft.slug}/comment?clause=art-6").get_data(as_text=True)
    assert 'name="guest_name"' in page and 'name="guest_email"' in page

    response = send_comment(client, open_draft, "art-6", guest_name="", guest_email="")
    assert translated("Give your name and e-mail address.", "zh") in response.get_data(
        as_text=True)
    invalid = send_comment(client, open_draft, "art-6", guest_name="王", guest_email="not-mail")
    assert "无效的 Email 地址" in invalid.get_data(as_text=True)
    assert comment_count() == 0


@pytest.mark.parametrize(("moderation", "after_confirmation"),
                         [("pre", "pending"), ("post", "published")])
def test_a_guest_comment_waits_for_the_emailed_confirmation(client, app, make_draft, make_user,
                                                            moderation, after_confirmation):
    open_draft = make_draft(allow_guests=True, moderation=moderation)
    response = send_comment(client, open_draft, "art-6", body="访客的意见",
                            guest_name="路人甲", guest_email="Guest.Person@Example.com")
    assert response.status_code == 302
    comment = db.session.scalars(select(Comment)).one()
    assert comment.status == "unconfirmed"
    assert comment.author_id is None
    assert comment.guest_email == "guest.person@example.com"
    message = outbox_messages()[-1]
    assert message["To"] == "guest.person@example.com"
    assert "访客的意见" not in client.get(f"/drafts/{open_draft.slug}/clauses/art-6").get_data(
        as_text=True)

    link = confirmation_link(app)
    assert "访客的意见" in client.get(link).get_data(as_text=True)
    confirmed = client.post_form(link)
    assert confirmed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).status == after_confirmation
    client.post_form(link)
    assert db.session.get(Comment, comment.id).status == after_confirmation

    public = client.get(f"/drafts/{open_draft.slug}/clauses/art-6").get_data(as_text=True)
    assert ("访客的意见" in public) == (after_confirmation == "published")


def test_a_guests_email_never_appears_in_public(client, app, make_draft, make_user):
    open_draft = make_draft(allow_guests=True, moderation="post")
    sent = send_comment(client, open_draft, "art-6", body="访客对第六条的意见", guest_name="路人乙",
                        guest_email="secret.guest@example.com")
    send_comment(client, open_draft, None, body="访客对整部草案的意见", guest_name="路人乙",
                 guest_email="secret.guest@example.com")
    for message in outbox_messages():
        link = re.search(r"https?://[^/\s]+(/drafts/confirm/\S+)", message.get_content())[1]
        client.post_form(link)

    pages = {
        "clause": f"/drafts/{open_draft.slug}/clauses/art-6",
        "draft": f"/drafts/{open_draft.slug}",
        "draft comments": f"/drafts/{open_draft.slug}/comments",
        "api comments": f"/api/v1/drafts/{open_draft.slug}/comments",
        "api clause comments": f"/api/v1/drafts/{open_draft.slug}/comments?clause=art-6",
        "api draft": f"/api/v1/drafts/{open_draft.slug}",
        "thanks": sent.headers["Location"],
    }
    texts = {name: client.get(url).get_data(as_text=True) for name, url in pages.items()}
    texts.update({name: json.dumps(client.get(url).get_json(), ensure_ascii=False)
                  for name, url in pages.items() if url.startswith("/api/")})
    assert "访客对第六条的意见" in texts["clause"]
    assert "访客对整部草案的意见" in texts["draft"]
    assert "路人乙" in texts["api comments"]
    for name, text in texts.items():
        assert "secret.guest" not in text, name


def test_a_forged_confirmation_link_is_not_found(client):
    assert client.get("/drafts/confirm/not-a-real-token").status_code == 404


# --- support --------------------------------------------------------------------------------


def support_count(comment: Comment) -> int:
    db.session.expire_all()
    return db.session.get(Comment, comment.id).support_count


def test_logged_in_users_toggle_support_on_a_published_comment(client, make_client, draft,
                                                               citizen, make_user, make_comment):
    comment = make_comment(draft, "art-6", "建议提高比例。")
    url = f"/drafts/comments/{comment.id}/support"

    response = client.post_form(url)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/drafts/{draft.slug}/clauses/art-6#comment-{comment.id}")
    assert support_count(comment) == 1
    deputy = make_user("deputy")
    other = make_client()
    other.login(deputy)
    other.post_form(url)
    assert support_count(comment) == 2
    page = client.get(f"/drafts/{draft.slug}/clauses/art-6").get_data(as_text=True)
    assert re.search(r"\(2\)<span class=\"visually-hidden\">", page)

    client.post_form(url)
    assert support_count(comment) == 1
    assert db.session.scalars(select(CommentSupport.user_id)).all() == [deputy.id]


@pytest.mark.parametrize("status", ["pending", "hidden", "rejected"])
def test_unpublished_comments_cannot_be_supported(client, draft, citizen, make_comment, status):
    comment = make_comment(draft, "art-6", status=status)

    response = client.post_form(f"/drafts/comments/{comment.id}/support", follow_redirects=True)

    assert translated("Only published comments can be supported.", "zh") in response.get_data(
        as_text=True)
    assert support_count(comment) == 0
    assert db.session.scalar(select(func.count()).select_from(CommentSupport)) == 0


def test_anonymous_visitors_cannot_support(client, draft, make_comment):
    comment = make_comment(draft, "art-6")

    response = client.post_form(f"/drafts/comments/{comment.id}/support")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert support_count(comment) == 0


def test_support_without_the_csrf_token_is_refused(client, draft, citizen, make_comment):
    comment = make_comment(draft, "art-6")

    response = client.post(f"/drafts/comments/{comment.id}/support")

    assert response.status_code == 400
    assert support_count(comment) == 0


# --- my comments ----------------------------------------------------------------------------


def test_my_comments_lists_everything_i_wrote_with_its_status_and_nothing_of_others(
        client, draft, citizen, make_user, make_comment):
    make_comment(draft, "art-6", "我的待审意见", user=citizen, status="pending")
    make_comment(draft, "art-7-p2", "我的已发布意见", user=citizen)
    make_comment(draft, "art-8-p1-i1", "我的垃圾广告", user=citizen, status="rejected",
                 reason="广告信息")
    make_comment(draft, None, "我的被隐藏意见", user=citizen, status="hidden", reason="人身攻击")
    make_comment(draft, "art-6", "别人的意见", user=make_user("public"))

    page = client.get("/drafts/mine").get_data(as_text=True)

    for body in ("我的待审意见", "我的已发布意见", "我的垃圾广告", "我的被隐藏意见"):
        assert body in page
    assert "别人的意见" not in page
    for label in ("Waiting for moderation", "Published", "Rejected as spam", "Hidden"):
        assert translated(label, "zh") in page
    assert translated("Reason: %(reason)s", "zh", reason="广告信息") in page
    assert translated("Reason: %(reason)s", "zh", reason="人身攻击") in page
    assert page.index("我的被隐藏意见") < page.index("我的待审意见")


def test_my_comments_needs_a_login(client):
    response = client.get("/drafts/mine")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
