"""Screenshots of the main pages at desktop and phone widths, for the README.

They are written to a temporary folder, or to the folder named by MINYI_SCREENSHOTS: run
`MINYI_SCREENSHOTS=docs/screenshots python -m pytest tests/browser/test_screenshots.py` to
refresh the README's pictures (the demo's dates move with the clock, so every run differs).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.demo import DRAFT_SLUG
from app.demo.hearing import HEARING_SLUG
from app.demo.live_notes import FINISHED_SLUG

from .conftest import REPO, reload_until

DRAFT = f"/drafts/{DRAFT_SLUG}"
HEARING = f"/hearings/{HEARING_SLUG}"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
#: the README's pictures stay small
MAX_BYTES = 300 * 1024
STAFF = "staff@demo.minyi"
README_SECTION = "## Screenshots"


@dataclass(frozen=True)
class Shot:
    """What to photograph: a page, seen by whom, on what screen."""

    path: str
    viewport: dict
    account: str | None = None
    lang: str = "zh"
    #: the whole page rather than the first screen
    full_page: bool = False
    #: text to wait for (reloading) before the picture is taken
    wait_for: str | None = None


SHOTS: dict[str, Shot] = {
    "home-desktop.png": Shot("/", DESKTOP),
    "draft-desktop.png": Shot(DRAFT, DESKTOP),
    "draft-phone.png": Shot(f"{DRAFT}#art-8", PHONE),
    "clause-comments-phone.png": Shot(f"{DRAFT}/clauses/art-11-p1-i2", PHONE, full_page=True),
    "comment-form-phone.png": Shot(f"{DRAFT}/comment?clause=art-7-p2", PHONE,
                                   account="citizen1@demo.minyi"),
    "hearing-notice-desktop.png": Shot(HEARING, DESKTOP),
    "speaker-registration-phone.png": Shot(f"{HEARING}/register", PHONE,
                                           account="deputy2@demo.minyi"),
    "staff-preview-desktop.png": Shot(f"/staff/drafts/{DRAFT_SLUG}", DESKTOP, account=STAFF),
    "moderation-desktop.png": Shot(f"/staff/drafts/{DRAFT_SLUG}/moderation", DESKTOP,
                                   account=STAFF),
    "selection-desktop.png": Shot(f"/staff{HEARING}/registrations", DESKTOP, account=STAFF),
    "draft-english-phone.png": Shot(f"{DRAFT}#art-11", PHONE, lang="en"),
    "statistics-desktop.png": Shot(f"{DRAFT}/statistics", DESKTOP, full_page=True),
    "feedback-phone.png": Shot(f"{DRAFT}/feedback", PHONE),
    "compare-desktop.png": Shot(f"{DRAFT}/compare?changed=1", DESKTOP),
    "search-desktop.png": Shot("/search?q=可拆卸蓄电池", DESKTOP, wait_for="第十一条第一款第二项"),
    "workspace-desktop.png": Shot(f"/staff/drafts/{DRAFT_SLUG}/opinions", DESKTOP,
                                  account=STAFF),
    "selection-phone.png": Shot(f"/staff{HEARING}/registrations#positions-chart-1", PHONE,
                                account=STAFF),
    "record-desktop.png": Shot(f"/hearings/{FINISHED_SLUG}/record", DESKTOP,
                               account="citizen1@demo.minyi"),
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Where the pictures go: MINYI_SCREENSHOTS, or a temporary folder."""
    target = os.environ.get("MINYI_SCREENSHOTS")
    path = Path(target) if target else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def heading_fonts(page: Page) -> list[str]:
    """Return the fonts Chromium drew the page's (Chinese) h1 with."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    return [font["familyName"] for font in fonts if font["glyphCount"]]


@pytest.mark.parametrize("name", list(SHOTS))
def test_screenshot(new_page, demo_server, folder: Path, name: str):
    shot = SHOTS[name]
    page = new_page(as_user=shot.account, lang=shot.lang, viewport=shot.viewport)
    page.goto(demo_server(shot.path))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    if shot.wait_for:
        reload_until(page, page.get_by_role("main").get_by_text(shot.wait_for))
    fonts = heading_fonts(page)
    assert fonts and all("CJK" in font for font in fonts), fonts  # glyphs, not empty boxes
    assert page.evaluate("document.documentElement.scrollWidth") <= shot.viewport["width"]
    target = folder / name
    page.screenshot(path=target, full_page=shot.full_page, animations="disabled", caret="hide")
    assert target.stat().st_size <= MAX_BYTES, f"{name} is {target.stat().st_size} bytes"


def test_the_readme_shows_every_screenshot():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert README_SECTION in readme
    section = readme.split(README_SECTION, 1)[1].split("\n## ", 1)[0]
    shown = re.findall(r"\(docs/screenshots/([\w-]+\.png)\)", section)
    assert sorted(shown) == sorted(SHOTS)
    for name in shown:
        assert (REPO / "docs" / "screenshots" / name).stat().st_size <= MAX_BYTES
