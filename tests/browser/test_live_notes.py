"""Two real browsers against a real server: a note the recorder posts appears on a deputy's
live page within a second, without a reload."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from .conftest import BIN, REPO, START_TIMEOUT, _free_port

DEMO_TEXT = REPO / "app" / "demo" / "draft.txt"
PASSWORD = "browser-test-password"


def _seed(data_dir: Path) -> dict:
    """Create the users, a draft and a hearing in the server's database."""
    from app import create_app
    from app.accounts.services import create_user
    from app.extensions import db
    from app.models import utcnow
    from drafts import services as drafts
    from hearings.models import Hearing, ObserverRegistration

    app = create_app({"DATA_DIR": str(data_dir), "SEARCH_INDEXER_THREAD": False})
    with app.app_context():
        recorder = create_user("recorder@example.com", PASSWORD, "记录人 孙", role="staff")
        deputy = create_user("deputy@example.com", PASSWORD, "李代表", role="deputy")
        draft = drafts.create_draft("测试条例（草案）", DEMO_TEXT.read_text(encoding="utf-8"),
                                    user=recorder)
        hearing = Hearing(slug="browser-hearing", draft_id=draft.id,
                          version_id=draft.current_version_id, title="浏览器测试听证会",
                          starts_at=utcnow() - timedelta(minutes=30), status="announced",
                          public_live=False,
                          chair_id=recorder.id, recorder_id=recorder.id)
        db.session.add(hearing)
        db.session.flush()
        db.session.add(ObserverRegistration(hearing_id=hearing.id, user_id=deputy.id,
                                            kind="deputy", status="accepted"))
        db.session.commit()
        facts = {"slug": hearing.slug, "recorder": recorder.email, "deputy": deputy.email}
        db.engine.dispose()
    return facts


@pytest.fixture
def server(tmp_path) -> Iterator[tuple[str, dict]]:
    """Serve the app with gunicorn and one gevent worker, as in production."""
    env = dict(os.environ, MINYI_DATA_DIR=str(tmp_path), MINYI_INDEXER_THREAD="0",
               MINYI_RATELIMIT="0", SECRET_KEY="browser-test-secret")
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    subprocess.run([str(BIN / "minyi"), "db", "upgrade"], env=env, cwd=REPO, check=True,
                   capture_output=True)
    facts = _seed(tmp_path)
    port = _free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-k", "gevent", "-w", "1", "--no-control-socket",
             "-b", f"127.0.0.1:{port}", "app:create_app()"],
            env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                urllib.request.urlopen(base + "/login", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the server did not start:\n"
                                       + log_path.read_text()[-3000:]) from None
                time.sleep(0.2)
        yield base, facts
    finally:
        process.terminate()
        process.wait(timeout=10)


def _login(context, base: str, email: str):
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    return page


def test_a_note_appears_in_another_browser_without_a_reload(server, browser: Browser):
    base, facts = server
    live_url = f"{base}/hearings/{facts['slug']}/live"
    recorder = _login(browser.new_context(), base, facts["recorder"])
    deputy = _login(browser.new_context(), base, facts["deputy"])
    for page in (recorder, deputy):
        page.goto(live_url)
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    loaded_at = deputy.evaluate("performance.timeOrigin")

    recorder.fill("#body", "陈述人认为应当允许合格的可拆卸电池进户充电。")
    recorder.click("#console-heading ~ form button[type=submit]")
    posted = time.monotonic()
    expect(deputy.locator("#notes")).to_contain_text(
        "陈述人认为应当允许合格的可拆卸电池进户充电。", timeout=1000)
    seen_after = time.monotonic() - posted

    assert seen_after < 1.0
    assert deputy.evaluate("performance.timeOrigin") == loaded_at  # no reload
    assert recorder.locator("#body").input_value() == ""
    expect(recorder.locator("#notes .note")).to_have_count(1)
    recorder.context.close()
    deputy.context.close()
