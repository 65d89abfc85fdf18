"""Pages in the user's language: Chinese by default, English on request, by cookie or by the
account's choice; times in the configured time zone."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape

from app.extensions import db
from app.models import User
from drafts.models import Comment


def in_chinese(message: str) -> str:
    with force_locale("zh"):
        return str(escape(gettext(message)))


def main_nav(page: str) -> str:
    return re.search(r'<nav[^>]*class="main-nav".*?</nav>', page, re.S).group(0)


def html_lang(page: str) -> str:
    return re.search(r'<html lang="([^"]+)">', page).group(1)


def test_pages_are_in_chinese_by_default(client):
    page = client.get("/drafts/").get_data(as_text=True)

    assert html_lang(page) == "zh-Hans"
    assert in_chinese("Drafts") != "Drafts", "the Chinese catalog is not compiled"
    assert in_chinese("Drafts") in main_nav(page)
    assert ">Drafts<" not in main_nav(page)
    assert 'value="en" lang="en"' in page


def test_lang_en_in_the_query_shows_one_page_in_english(client):
    english = client.get("/drafts/?lang=en").get_data(as_text=True)
    after = client.get("/drafts/").get_data(as_text=True)

    assert html_lang(english) == "en"
    assert ">Drafts</a>" in main_nav(english)
    assert html_lang(after) == "zh-Hans"


def switch_language(browser, language: str, next_url: str = "/drafts/"):
    return browser.post_form(f"/language?next={next_url}", {"language": language})


def test_the_language_switch_sets_a_cookie_and_returns_to_the_page(client):
    response = switch_language(client, "en", "/drafts/")

    assert response.status_code == 302
    assert response.headers["Location"] == "/drafts/"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("minyi_lang="))
    assert cookie.startswith("minyi_lang=en;")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=31536000" in cookie
    page = client.get("/drafts/").get_data(as_text=True)
    assert html_lang(page) == "en"
    assert ">Drafts</a>" in main_nav(page)
    assert 'value="zh" lang="zh-Hans"' in page

    switch_language(client, "zh")
    assert html_lang(client.get("/drafts/").get_data(as_text=True)) == "zh-Hans"


def test_a_logged_in_users_choice_is_kept_with_the_account(client, make_client, make_user):
    user = make_user("public")
    client.login(user)

    switch_language(client, "en")

    assert db.session.get(User, user.id).locale == "en"
    elsewhere = make_client()
    elsewhere.login(user)
    assert html_lang(elsewhere.get("/drafts/mine").get_data(as_text=True)) == "en"


def test_the_query_beats_the_account_and_the_account_beats_the_cookie(client, make_user):
    user = make_user("public")
    user.locale = "zh"
    db.session.commit()
    client.set_cookie("minyi_lang", "en")

    assert html_lang(client.get("/drafts/").get_data(as_text=True)) == "en"
    client.login(user)
    assert html_lang(client.get("/drafts/").get_data(as_text=True)) == "zh-Hans"
    assert html_lang(client.get("/drafts/?lang=en").get_data(as_text=True)) == "en"


def test_the_switch_needs_the_csrf_token_and_a_known_language(client):
    forged = client.post("/language", data={"language": "en"})
    unknown = switch_language(client, "fr")

    assert forged.status_code == 400
    assert unknown.status_code == 302
    assert not any(c.startswith("minyi_lang=") for c in unknown.headers.getlist("Set-Cookie"))
    assert html_lang(client.get("/drafts/").get_data(as_text=True)) == "zh-Hans"


def test_the_switch_does_not_send_the_user_to_another_site(client):
    response = switch_language(client, "en", "https://evil.example/")

    assert response.headers["Location"] == "/"


def test_error_pages_speak_the_users_language(client):
    chinese = client.get("/no-such-page")
    english = client.get("/no-such-page?lang=en")

    assert chinese.status_code == english.status_code == 404
    assert in_chinese("This page does not exist.") in chinese.get_data(as_text=True)
    assert "This page does not exist." in english.get_data(as_text=True)
    assert html_lang(english.get_data(as_text=True)) == "en"


def test_times_are_shown_in_the_configured_time_zone(client, make_draft, make_comment):
    draft = make_draft()
    comment = make_comment(draft, "art-6", "带时间的意见")
    db.session.get(Comment, comment.id).created_at = datetime(2024, 5, 14, 2, 5)
    db.session.commit()

    for query in ("", "?lang=en"):
        page = client.get(f"/drafts/{draft.slug}/clauses/art-6{query}").get_data(as_text=True)
        stamp = re.search(r'<time datetime="([^"]+)"[^>]*>([^<]+)</time>', page)
        assert stamp[1] == "2024-05-14T02:05:00Z"
        assert "10:05" in stamp[2], stamp[2]


@pytest.fixture
def every_role(make_client, make_user):
    """Browsers of an anonymous visitor, a member of the public, staff and an admin."""
    browsers = {"anonymous": make_client()}
    for role in ("public", "staff", "admin"):
        browsers[role] = make_client()
        browsers[role].login(make_user(role))
    return browsers


def test_every_page_renders_in_both_languages(every_role, make_draft, make_comment):
    draft = make_draft(slug="both-languages")
    make_comment(draft, "art-6", "双语页面上的意见")
    make_comment(draft, None, "对整部草案的意见", status="pending")
    pages = {
        "anonymous": ["/", "/drafts/", "/drafts/both-languages",
                      "/drafts/both-languages/clauses/art-6", "/drafts/both-languages/comments",
                      "/login", "/register", "/reset"],
        "public": ["/drafts/mine", "/drafts/both-languages/comment?clause=art-8-p1-i1"],
        "staff": ["/staff/drafts", "/staff/drafts/new", "/staff/drafts/both-languages",
                  "/staff/drafts/both-languages/edit", "/staff/drafts/both-languages/moderation"],
        "admin": ["/admin/users", "/admin/deputy-groups", "/admin/deputy-groups/new"],
    }
    for role, urls in pages.items():
        for url in urls:
            for language, tag in (("zh", "zh-Hans"), ("en", "en")):
                joiner = "&" if "?" in url else "?"
                response = every_role[role].get(f"{url}{joiner}lang={language}")
                assert response.status_code == 200, (role, url, language)
                page = response.get_data(as_text=True)
                assert html_lang(page) == tag, (role, url, language)
                assert '<main id="main"' in page, (role, url)
