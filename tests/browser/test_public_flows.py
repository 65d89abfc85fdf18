"""A member of the public in a real browser: register, read the draft, comment on an article
with the keyboard alone, find the comment under "My comments"; register to speak at the demo
hearing; switch the language."""

from __future__ import annotations

import re
from itertools import count

from playwright.sync_api import Page, expect

from app.demo import DRAFT_SLUG
from app.demo.hearing import HEARING_SLUG

from .conftest import reload_until, tab_to

DRAFT_TITLE = "青禾市电动自行车停放充电管理条例（征求意见稿）"
_people = count(1)


def register(page: Page, server, name: str) -> str:
    """Create an account through the register form; return its e-mail."""
    email = f"browser{next(_people)}-{id(page)}@example.org"
    page.goto(server("/"))
    main_nav(page).get_by_role("link", name="注册").click()
    page.get_by_label("姓名").fill(name)
    page.get_by_label("电子邮箱").fill(email)
    page.get_by_label(re.compile("^密码")).fill("browser-password-1")
    page.get_by_label("再次输入密码").fill("browser-password-1")
    page.get_by_role("main").get_by_role("button", name="注册").click()
    expect(page.get_by_role("status")).to_contain_text("您的账号已创建")
    return email


def main_nav(page: Page):
    """Return the site's main navigation (in Chinese)."""
    return page.get_by_role("navigation", name="主导航")


def focused(page: Page, expression: str):
    """Evaluate a JavaScript expression on the focused element."""
    return page.evaluate(f"(element => {expression})(document.activeElement)")


def test_a_member_of_the_public_comments_on_an_article_with_the_keyboard(new_page, demo_server):
    page = new_page()
    register(page, demo_server, "键盘用户")
    expect(main_nav(page).get_by_role("link", name="我的意见")).to_be_visible()

    page.get_by_role("link", name=DRAFT_TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(DRAFT_TITLE)
    expect(page.get_by_role("article", name="第六条")).to_contain_text("新建住宅小区应当")

    # from here on, only the keyboard
    comment_link = page.get_by_role("link", name=re.compile(r"^提意见\s*（第六条）$"))
    tab_to(page, comment_link)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("对第六条提意见")

    tab_to(page, page.get_by_role("radio").first)
    page.keyboard.press("Space")
    while focused(page, "element.value") != "suggest":
        page.keyboard.press("ArrowDown")
    expect(page.get_by_role("radio", name="建议修改")).to_be_checked()
    page.keyboard.press("Tab")
    assert focused(page, "element.name") == "body"
    body = "建议把配套比例写进条例：新建小区不低于规划户数的百分之三十。"
    page.keyboard.type(body)
    tab_to(page, page.get_by_role("button", name="提交意见"))
    with page.expect_navigation():
        page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("感谢您提出意见")
    expect(page.get_by_role("main")).to_contain_text("经审核后公开")
    main_nav(page).get_by_role("link", name="我的意见").click()
    mine = page.get_by_role("listitem").filter(has_text=body)
    expect(mine).to_contain_text("第六条")
    expect(mine).to_contain_text("待审核")
    expect(mine).to_contain_text("建议修改")


def test_a_speaker_registers_for_the_demo_hearing(new_page, demo_server):
    page = new_page()
    email = register(page, demo_server, "听证报名人")
    main_nav(page).get_by_role("link", name="听证会").click()
    page.get_by_role("link", name="《青禾市电动自行车停放充电管理条例（草案）》立法听证会").click()
    expect(page).to_have_url(demo_server(f"/hearings/{HEARING_SLUG}"))
    page.get_by_role("link", name="报名担任陈述人").click()

    expect(page.get_by_label("姓名或单位名称")).to_have_value("听证报名人")
    page.get_by_label("行业").select_option("居民")
    page.get_by_label("地区").select_option("南山区")
    page.get_by_label("联系电话").fill("0571-12345678")
    stances = ["支持", "其他", "反对"]
    questions = page.get_by_role("group", name=re.compile(r"^听证事项\d"))
    expect(questions).to_have_count(len(stances))
    for question, stance in zip(questions.all(), stances, strict=True):
        question.get_by_role("radio", name=stance, exact=True).check()
    page.get_by_label("陈述重点").fill("老旧小区应当先建公共充电设施，再执行户内禁止。")
    page.get_by_role("main").get_by_role("button", name="注册").click()

    expect(page.get_by_role("status")).to_contain_text("感谢报名")
    expect(page.get_by_role("heading", level=1)).to_have_text("我的陈述人报名")
    expect(page.get_by_role("main")).to_contain_text("已报名")
    expect(page.get_by_role("main")).to_contain_text("老旧小区应当先建公共充电设施")
    assert [m["Subject"] for m in demo_server.outbox() if m["To"] == email]


def test_switching_the_language_changes_the_page_language(new_page, demo_server):
    page = new_page()
    page.goto(demo_server(f"/drafts/{DRAFT_SLUG}"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(main_nav(page).get_by_role("link", name="法规草案")).to_be_visible()

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(demo_server(f"/drafts/{DRAFT_SLUG}"))
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Drafts")).to_be_visible()
    expect(page.get_by_role("heading", name="Comments on the draft as a whole")).to_be_visible()
    # the law stays in its own language, marked as such
    article = page.get_by_role("article", name="第六条")
    expect(article.locator("xpath=ancestor::*[@lang][1]")).to_have_attribute("lang", "zh-Hans")

    nav.get_by_role("link", name="Hearings").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Legislative hearings")

    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("立法听证会")


def test_a_chinese_phrase_from_the_header_search_finds_the_clause_highlighted(new_page,
                                                                            demo_server):
    page = new_page()
    page.goto(demo_server("/"))
    search = page.get_by_role("search", name="站内搜索")
    search.get_by_role("searchbox").fill("可拆卸蓄电池")
    search.get_by_role("button", name="搜索").click()

    expect(page).to_have_url(re.compile(r"/search\?q="))
    hit = page.get_by_role("main").get_by_role("listitem").filter(has_text="第十一条第一款第二项")
    reload_until(page, hit)
    expect(hit.first.locator("mark")).to_have_text(["可拆卸蓄电池"])
    hit.first.get_by_role("link").first.click()
    expect(page.get_by_role("main")).to_contain_text("将符合国家标准的可拆卸蓄电池带入户内充电")
