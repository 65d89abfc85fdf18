"""Load shedding: each process works on at most `MAX_INFLIGHT` requests at once, fewer while
requests wait longer than `SHED_MAX_WAIT_MS` for their turn, and answers the excess at once
with 503 and Retry-After, instead of queueing them until clients time out.

The bound is per process: a gevent worker accepts every connection and would otherwise queue a
thousand requests for the CPU, each answered a thousand requests later. A rejected request
costs no database work: it is answered before the session, the account or the rate limiter
is looked at, in the language of `?lang=` or the language cookie. Socket.IO's long-polling
requests and static files are not counted: they are held open or cost nothing.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable

from flask import Flask, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Request

from app.i18n import LANGUAGE_COOKIE

#: paths not counted against the bound
EXEMPT_PREFIXES = ("/socket.io", "/static/")


class InFlight:
    """The requests under way in this process: bounded in number, and in the time they wait
    for the CPU.

    The count alone is not enough on a machine whose CPU is shared: 32 requests of 5 ms are
    160 ms of work, but several seconds of waiting when the process gets a tenth of a core.
    So each admitted request also reports how long it waited for its turn, and while the
    moving average of those waits is above `max_wait` only `floor` requests are admitted.
    """

    #: weight of the newest wait in the moving average
    SMOOTHING = 0.2

    def __init__(self, limit: int, max_wait: float = 0.0, floor: int = 2) -> None:
        self.limit = limit
        self.max_wait = max_wait
        self.floor = floor
        self.count = 0
        #: moving average of the seconds admitted requests waited for their turn
        self.wait = 0.0
        #: requests answered 503 since the process started
        self.shed = 0
        self._guard = threading.Lock()

    def enter(self) -> bool:
        """Count a request in; return False (and count it as shed) when the bound is reached."""
        with self._guard:
            full = self.limit and self.count >= self.limit
            slow = self.max_wait and self.wait > self.max_wait and self.count >= self.floor
            if full or slow:
                self.shed += 1
                return False
            self.count += 1
            return True

    def waited(self, seconds: float) -> None:
        """Record how long an admitted request waited for its turn."""
        with self._guard:
            self.wait += self.SMOOTHING * (seconds - self.wait)

    def leave(self) -> None:
        with self._guard:
            self.count -= 1


class Shedder:
    """WSGI middleware in front of the Flask application: count requests in and out, and
    answer those beyond the bound with a page rendered once per language, so a rejection
    costs no session, account, rate-limit or template work."""

    def __init__(self, app: Flask, inner: Callable) -> None:
        self.app = app
        self.inner = inner
        self.inflight = InFlight(app.config["MAX_INFLIGHT"],
                                 app.config["SHED_MAX_WAIT_MS"] / 1000)
        self._bodies: dict[tuple[str, bool], bytes] = {}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(EXEMPT_PREFIXES):
            return self.inner(environ, start_response)
        if not self.inflight.enter():
            return self.busy(environ, start_response)
        try:
            # Under gevent a request on SQLite runs to its end without yielding, so requests
            # waiting for the CPU are greenlets that have not reached this point and the count
            # would never pass 1. Yielding once here lets every request ready to run count
            # itself in first: the count is then the backlog. Elsewhere it releases the GIL.
            entered = time.monotonic()
            time.sleep(0)
            self.inflight.waited(time.monotonic() - entered)
            return self.inner(environ, start_response)
        finally:
            self.inflight.leave()

    def busy(self, environ: dict, start_response: Callable) -> list[bytes]:
        """Answer 503 with Retry-After, in the language of ?lang= or the language cookie."""
        request = Request(environ, populate_request=False, shallow=True)
        language = request.args.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
        if language not in self.app.config["LANGUAGES"]:
            language = self.app.config["BABEL_DEFAULT_LOCALE"]
        as_json = request.path.startswith("/api/") or \
            request.accept_mimetypes.best == "application/json"
        key = (language, as_json)
        if key not in self._bodies:
            self._bodies[key] = self._render(language, as_json)
        start_response("503 Service Unavailable", [
            ("Content-Type", "application/json" if as_json else "text/html; charset=utf-8"),
            ("Content-Length", str(len(self._bodies[key]))),
            ("Retry-After", str(self.app.config["SHED_RETRY_AFTER"])),
            ("Cache-Control", "no-store")])
        return [self._bodies[key]]

    def _render(self, language: str, as_json: bool) -> bytes:
        with self.app.test_request_context(f"/?lang={language}"), force_locale(language):
            message = _("The service is busy. Please try again in a moment.")
            if as_json:
                return json.dumps({"error": {"code": 503, "message": message}},
                                  ensure_ascii=False).encode()
            return render_template("busy.html", message=message,
                                   retry=self.app.config["SHED_RETRY_AFTER"]).encode()


def init_app(app: Flask) -> None:
    """Put the shedder in front of the application, and behind `PROXY_HOPS` trusted proxies
    take the client's address and scheme from their X-Forwarded headers."""
    app.config.setdefault("MAX_INFLIGHT", int(os.environ.get("MINYI_MAX_INFLIGHT") or 32))
    app.config.setdefault("SHED_MAX_WAIT_MS",
                          int(os.environ.get("MINYI_SHED_MAX_WAIT_MS") or 500))
    app.config.setdefault("SHED_RETRY_AFTER", int(os.environ.get("MINYI_SHED_RETRY_AFTER") or 2))
    shedder = Shedder(app, app.wsgi_app)
    app.extensions["minyi_inflight"] = shedder.inflight
    app.wsgi_app = shedder  # type: ignore[method-assign]
    hops = app.config.get("PROXY_HOPS", 0)
    if hops:
        # behind nginx every client would otherwise have the proxy's address, and share
        # one rate-limit counter
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops,  # type: ignore[method-assign]
                                x_host=hops)
