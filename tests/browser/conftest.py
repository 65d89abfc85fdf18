"""Real-browser fixtures: the app served the way the README starts it, on the demo data, and
Debian's Chromium driven by Playwright.

Each test module gets a server of its own (`demo_server`), started from a copy of demo data
loaded once per test session, so the flows of one module never see what another changed. On
the PostgreSQL run (MINYI_TEST_DATABASE_URL) the servers use PostgreSQL databases cloned from
a demo template database.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from itertools import count
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    expect,
    sync_playwright,
)
from sqlalchemy import create_engine, make_url, text

from app.demo import DEMO_PASSWORD

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
AXE_SCRIPT = REPO / "node_modules" / "axe-core" / "axe.min.js"
#: axe impact levels a page must not have
BLOCKING_IMPACTS = ("serious", "critical")
LANGUAGE_COOKIE = "minyi_lang"
#: seconds a server may take to answer /healthz (a loaded CI machine is slow to import)
START_TIMEOUT = 60
#: seconds a page or an expectation may take (a loaded two-core CI machine is slow)
PAGE_TIMEOUT = 15
#: Tab presses allowed to reach a control, even at the end of the long demo draft
MAX_TABS = 300

expect.set_options(timeout=PAGE_TIMEOUT * 1000)


def _postgres_url() -> str | None:
    """Return this worker's PostgreSQL URL for browser databases, or None on the SQLite run."""
    url = os.environ.get("MINYI_TEST_DATABASE_URL")
    if not url:
        return None
    parsed = make_url(url)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    name = f"{parsed.database}_{worker}_browser" if worker else f"{parsed.database}_browser"
    return parsed.set(database=name).render_as_string(hide_password=False)


def _admin(url: str, *statements: str) -> None:
    """Run statements on the PostgreSQL server of `url` outside any transaction."""
    target = make_url(url).set(drivername="postgresql+psycopg", database="postgres")
    engine = create_engine(target, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def _minyi(*args: str, env: dict[str, str]) -> None:
    """Run a `minyi` command as a reader of the README would; show its output if it fails."""
    result = subprocess.run([str(BIN / "minyi"), *args], env=env, cwd=REPO,
                            capture_output=True, text=True, check=False)
    if result.returncode:
        raise RuntimeError(f"minyi {' '.join(args)} failed:\n{result.stdout}{result.stderr}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class DemoData:
    """A data folder (and on PostgreSQL a template database) holding the loaded demo."""

    folder: Path
    database: str | None
    clones: count = field(default_factory=lambda: count(1))


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory) -> Iterator[DemoData]:
    """Load the demo once per session with `minyi db upgrade` and `minyi demo`."""
    folder = tmp_path_factory.mktemp("demo-data")
    database = _postgres_url()
    env = _server_env(folder, database)
    if database:
        name = make_url(database).database
        _admin(database, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
               f'CREATE DATABASE "{name}"')
    _minyi("db", "upgrade", env=env)
    _minyi("demo", env=env)
    yield DemoData(folder, database)
    if database:
        _admin(database, f'DROP DATABASE IF EXISTS "{make_url(database).database}" WITH (FORCE)')


def _server_env(folder: Path, database: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MINYI_", "FLASK_", "DATABASE_URL", "SECRET_KEY", "REDIS_URL"))}
    env["MINYI_DATA_DIR"] = str(folder)
    if database:
        env["DATABASE_URL"] = database
    return env


@dataclass
class Server:
    """A running Minyi server and the data folder it writes to."""

    url: str
    folder: Path

    def __call__(self, path: str) -> str:
        """Return the absolute URL of a path on this server."""
        return self.url + path

    def outbox(self) -> list[EmailMessage]:
        """Return the e-mails the server has written to its outbox folder."""
        return [message_from_bytes(path.read_bytes(), policy=policy.default)
                for path in (self.folder / "outbox").glob("*.eml")]


@pytest.fixture(scope="module")
def demo_server(demo_data: DemoData, tmp_path_factory) -> Iterator[Server]:
    """Serve a fresh copy of the demo with `minyi run`, as scripts/demo does."""
    folder = tmp_path_factory.mktemp("server")
    shutil.copytree(demo_data.folder, folder, dirs_exist_ok=True)
    database = None
    if demo_data.database:
        template = make_url(demo_data.database).database
        clone = f"{template}_{next(demo_data.clones)}"
        _admin(demo_data.database, f'DROP DATABASE IF EXISTS "{clone}" WITH (FORCE)',
               f'CREATE DATABASE "{clone}" TEMPLATE "{template}"')
        database = make_url(demo_data.database).set(database=clone).render_as_string(
            hide_password=False)
    port = _free_port()
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "minyi"), "run", "--host", "127.0.0.1", "--port", str(port)],
        env=_server_env(folder, database), cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", folder)
    try:
        _wait_until_healthy(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        if database:
            _admin(database, f'DROP DATABASE IF EXISTS "{make_url(database).database}" '
                             "WITH (FORCE)")


def _wait_until_healthy(server: Server, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(server("/healthz"), timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log = (server.folder / "server.log").read_text(errors="replace")
            raise RuntimeError(f"the server did not become healthy:\n{log[-3000:]}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium for one test module.

    Module scope, not session scope: Playwright's sync API refuses to start while another
    instance runs in the same thread, and a module may drive its own.
    """
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        yield chromium
        chromium.close()


def log_in(page: Page, server: Server, email: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the login form (in Chinese, the default language)."""
    page.goto(server("/login"))
    page.get_by_label("电子邮箱").fill(email)
    page.get_by_label("密码").fill(password)
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name="登录").click()
    assert "/login" not in page.url, f"could not log in as {email}"


@pytest.fixture(scope="module")
def signed_in(browser: Browser, demo_server: Server) -> Callable[[str], dict]:
    """Return the browser storage (cookies) of a demo account, logging in once per module."""
    states: dict[str, dict] = {}

    def state(email: str) -> dict:
        if email not in states:
            context = browser.new_context()
            log_in(context.new_page(), demo_server, email)
            states[email] = context.storage_state()
            context.close()
        return states[email]

    return state


@pytest.fixture
def new_page(browser: Browser, demo_server: Server, signed_in) -> Iterator[Callable[..., Page]]:
    """Open pages in fresh browser contexts: `new_page(as_user=None, lang=None, **options)`.

    `as_user` is a demo e-mail to be logged in as; `lang` sets the language cookie as the
    language switch does; other options go to `Browser.new_context` (viewport, bypass_csp).
    """
    contexts: list[BrowserContext] = []

    def factory(as_user: str | None = None, lang: str | None = None, **options) -> Page:
        options.setdefault("viewport", {"width": 1280, "height": 900})
        if as_user:
            options["storage_state"] = signed_in(as_user)
        context = browser.new_context(**options)
        context.set_default_timeout(PAGE_TIMEOUT * 1000)
        if lang:
            context.add_cookies([{"name": LANGUAGE_COOKIE, "value": lang,
                                  "url": demo_server.url}])
        contexts.append(context)
        return context.new_page()

    yield factory
    for context in contexts:
        context.close()


def tab_to(page: Page, target: Locator, key: str = "Tab", limit: int = MAX_TABS) -> int:
    """Press Tab (or `key`, e.g. Shift+Tab) until `target` has the focus; return the presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press(key)
        if target.evaluate("element => element === document.activeElement"):
            return presses
    raise AssertionError(f"{target} was not reached with {limit} presses of {key}")


def axe_violations(page: Page) -> list[dict]:
    """Run axe-core on the page; return the serious and critical violations.

    The page's context must be opened with bypass_csp=True: Minyi's CSP allows scripts from
    its own origin only, and axe is injected as an inline script.
    """
    page.add_script_tag(path=str(AXE_SCRIPT))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}));
    }""")
    return [v for v in result if v["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict]) -> str:
    """Format axe violations for an assertion message."""
    lines = []
    for v in violations:
        lines.append(f"{v['impact']} {v['id']}: {v['help']}")
        lines.extend(f"    {node}" for node in v["nodes"][:5])
    return "\n".join(lines)


#: seconds a freshly started server may take to index the demo for search
INDEX_TIMEOUT = 60


def reload_until(page: Page, target: Locator, timeout: float = INDEX_TIMEOUT) -> None:
    """Reload the page until `target` is on it: a server just started indexes the demo for
    search in the background."""
    deadline = time.monotonic() + timeout
    while not target.count() and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        page.reload()
    expect(target.first).to_be_visible()
