"""Accessibility in a real browser: axe-core on every main page in Chinese and in English,
keyboard use of the draft page and the comment form, a visible focus, and 320 px screens.

The axe checks open their pages with Playwright's bypass_csp: axe is injected as an inline
script, which Minyi's Content-Security-Policy (script-src 'self') would refuse. Every other
check runs under the real policy.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from app.demo import DRAFT_SLUG
from app.demo.hearing import HEARING_SLUG
from app.demo.live_notes import FINISHED_SLUG

from .conftest import axe_violations, describe, tab_to

STAFF = "staff@demo.minyi"
CITIZEN = "citizen1@demo.minyi"
#: a demo account with no speaker registration, to see the empty registration form
NEWCOMER = "deputy2@demo.minyi"
DEPUTY = "deputy1@demo.minyi"
DRAFT = f"/drafts/{DRAFT_SLUG}"
LANG_ATTRIBUTE = {"zh": "zh-Hans", "en": "en"}


def submit_empty(page: Page) -> None:
    """Send the form without filling it in, so that its errors are shown."""
    page.get_by_role("main").locator("button[type=submit]").last.click()
    expect(page.get_by_role("alert")).to_be_visible()


def open_tables(page: Page) -> None:
    """Open the tables under the charts, so that they are checked too."""
    for summary in page.locator("details.chart-numbers > summary").all():
        summary.click()


#: name: (account or None, path, what to do on the page before checking it)
PAGES: dict[str, tuple[str | None, str, Callable[[Page], None] | None]] = {
    "home": (None, "/", None),
    "drafts": (None, "/drafts/", None),
    "draft": (None, DRAFT, None),
    "clause-comments": (None, f"{DRAFT}/clauses/art-11-p1-i2", None),
    "comment-form-errors": (CITIZEN, f"{DRAFT}/comment?clause=art-6", submit_empty),
    "login": (None, "/login", None),
    "register": (None, "/register", None),
    "my-comments": (CITIZEN, "/drafts/mine", None),
    "staff-drafts": (STAFF, "/staff/drafts", None),
    "staff-preview": (STAFF, f"/staff/drafts/{DRAFT_SLUG}", None),
    "moderation": (STAFF, f"/staff/drafts/{DRAFT_SLUG}/moderation", None),
    "hearings": (None, "/hearings/", None),
    "hearing-notice": (None, f"/hearings/{HEARING_SLUG}", None),
    "speaker-registration": (NEWCOMER, f"/hearings/{HEARING_SLUG}/register", None),
    "my-registration": (CITIZEN, f"/hearings/{HEARING_SLUG}/registration", None),
    "staff-hearings": (STAFF, "/staff/hearings/", None),
    "staff-hearing": (STAFF, f"/staff/hearings/{HEARING_SLUG}", None),
    "selection": (STAFF, f"/staff/hearings/{HEARING_SLUG}/registrations", None),
    "statistics": (None, f"{DRAFT}/statistics", open_tables),
    "feedback": (None, f"{DRAFT}/feedback", open_tables),
    "versions": (None, f"{DRAFT}/versions", None),
    "compare": (None, f"{DRAFT}/compare", None),
    "staff-compare": (STAFF, f"/staff/drafts/{DRAFT_SLUG}/compare?changed=1", None),
    "workspace": (STAFF, f"/staff/drafts/{DRAFT_SLUG}/opinions", open_tables),
    "opinion": (STAFF, "/staff/opinions/19", None),
    "report": (STAFF, f"/staff/drafts/{DRAFT_SLUG}/report", None),
    "search-results": (None, "/search?q=可拆卸蓄电池", None),
    "live": (DEPUTY, f"/hearings/{FINISHED_SLUG}/live", None),
    "record": (CITIZEN, f"/hearings/{FINISHED_SLUG}/record", None),
    "account": (CITIZEN, "/account", None),
    "reset-password": (None, "/reset", None),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_or_critical_axe_violations(new_page, demo_server, name: str, lang: str):
    account, path, prepare = PAGES[name]
    page = new_page(as_user=account, lang=lang, bypass_csp=True)
    page.goto(demo_server(path))
    if prepare:
        prepare(page)
    expect(page.locator("html")).to_have_attribute("lang", LANG_ATTRIBUTE[lang])
    violations = axe_violations(page)
    assert not violations, f"{path} ({lang}):\n{describe(violations)}"


def test_the_axe_check_reports_what_it_should(new_page, demo_server):
    page = new_page(bypass_csp=True)
    page.goto(demo_server("/login"))
    page.evaluate("""() => {
        document.querySelector('label[for=email]').remove();
        document.querySelector('main').append(document.createElement('button'));
    }""")
    found = {v["id"] for v in axe_violations(page)}
    assert {"label", "button-name"} <= found, found


def focus_style(page: Page) -> dict[str, str]:
    return page.evaluate("""() => {
        const style = getComputedStyle(document.activeElement);
        return {outline: style.outlineStyle, width: style.outlineWidth,
                shadow: style.boxShadow, tag: document.activeElement.tagName};
    }""")


def test_the_skip_link_comes_first_is_visible_and_leads_to_the_main_content(new_page,
                                                                           demo_server):
    page = new_page()
    page.goto(demo_server(DRAFT))
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到主要内容")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0 and box["width"] > 10
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
    page.keyboard.press("Tab")
    # the next stop is inside the main content, not back in the header
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")


@pytest.mark.parametrize("role, name", [
    ("link", re.compile(r"^提意见\s*（第六条）$")),
    ("button", "English"),
])
def test_the_keyboard_focus_is_visible(new_page, demo_server, role: str, name):
    page = new_page()
    page.goto(demo_server(DRAFT))
    tab_to(page, page.get_by_role(role, name=name))
    style = focus_style(page)
    width = float(style["width"].removesuffix("px") or 0)
    assert (style["outline"] != "none" and width >= 2) or style["shadow"] != "none", style


def test_the_comment_form_can_be_corrected_with_the_keyboard(new_page, demo_server):
    page = new_page(as_user=CITIZEN)
    page.goto(demo_server(f"{DRAFT}/comment?clause=art-6"))
    send = page.get_by_role("button", name="提交意见")
    tab_to(page, send)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("link")).to_have_count(2)

    # each error in the summary leads to its field
    tab_to(page, summary.get_by_role("link", name=re.compile("^您的意见")))
    page.keyboard.press("Enter")
    body = page.get_by_role("textbox", name="您的意见")
    expect(body).to_be_focused()
    expect(body).to_have_attribute("aria-invalid", "true")
    page.keyboard.type("充电设施应当与主体工程同步验收。")

    tab_to(page, summary.get_by_role("link", name=re.compile("^您的态度")), key="Shift+Tab")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the link moved the focus start point to the group
    assert page.evaluate("document.activeElement.name") == "stance"
    page.keyboard.press("Space")
    tab_to(page, send)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("感谢您提出意见")


@pytest.mark.parametrize("account, path", [
    (None, "/"),
    (None, DRAFT),
    (None, f"{DRAFT}/clauses/art-8"),
    (CITIZEN, f"{DRAFT}/comment?clause=art-8-p1-i1"),
    (None, f"/hearings/{HEARING_SLUG}"),
    (NEWCOMER, f"/hearings/{HEARING_SLUG}/register"),
    (STAFF, f"/staff/hearings/{HEARING_SLUG}/registrations"),
    (None, f"{DRAFT}/statistics"),
    (None, f"{DRAFT}/feedback"),
    (None, f"{DRAFT}/compare"),
    (STAFF, f"/staff/drafts/{DRAFT_SLUG}/opinions"),
    (None, "/search?q=可拆卸蓄电池"),
])
def test_usable_at_320_pixels_without_scrolling_sideways(new_page, demo_server, account, path):
    page = new_page(as_user=account, viewport={"width": 320, "height": 640})
    page.goto(demo_server(path))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{path} is {width} px wide"


def test_a_charts_figures_open_with_the_keyboard(new_page, demo_server):
    page = new_page()
    page.goto(demo_server(f"{DRAFT}/statistics"))
    chart = page.get_by_role("figure", name="各章的意见数")
    expect(chart.get_by_role("img")).to_have_attribute("aria-label",
                                                       re.compile(r"^各章的意见数。第一章"))
    table = chart.get_by_role("table")
    expect(table).to_be_hidden()
    tab_to(page, chart.locator("summary"))
    assert focus_style(page)["outline"] != "none"
    page.keyboard.press("Enter")
    expect(table).to_be_visible()
    expect(table.get_by_role("row")).to_have_count(1 + 6)  # the six chapters of the demo
