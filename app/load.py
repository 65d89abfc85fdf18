"""Load shedding: each process works on at most `MAX_INFLIGHT` requests at once and answers
the excess at once with 503 and Retry-After, instead of queueing them until clients time out.

The bound is per process: a gevent worker accepts every connection and would otherwise run a
thousand requests side by side, each finishing a thousand times later. A rejected request
costs no database work: it is answered before the session, the account or the rate limiter
is looked at, in the language of `?lang=` or the language cookie. Socket.IO's long-polling
requests and static files are not counted: they are held open or cost nothing.
"""

from __future__ import annotations

import os
import threading

from flask import Flask, Response, g, jsonify, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _

from app.i18n import LANGUAGE_COOKIE

#: paths not counted against the bound
EXEMPT_PREFIXES = ("/socket.io", "/static/")


class InFlight:
    """A count of the requests under way in this process, bounded."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        #: requests answered 503 since the process started
        self.shed = 0
        self._guard = threading.Lock()

    def enter(self) -> bool:
        """Count a request in; return False (and count it as shed) when the bound is reached."""
        with self._guard:
            if self.limit and self.count >= self.limit:
                self.shed += 1
                return False
            self.count += 1
            return True

    def leave(self) -> None:
        with self._guard:
            self.count -= 1


def busy_response(app: Flask) -> Response:
    """Return the 503 answer, in the language the request asks for without an account."""
    language = request.args.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if language not in app.config["LANGUAGES"]:
        language = app.config["BABEL_DEFAULT_LOCALE"]
    retry = app.config["SHED_RETRY_AFTER"]
    with force_locale(language):
        message = _("The service is busy. Please try again in a moment.")
        if request.path.startswith("/api/") or \
                request.accept_mimetypes.best == "application/json":
            response = jsonify({"error": {"code": 503, "message": message}})
        else:
            response = Response(render_template("busy.html", message=message, language=language,
                                                retry=retry), mimetype="text/html")
    response.status_code = 503
    response.headers["Retry-After"] = str(retry)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Count requests in and out; answer 503 beyond the bound."""
    app.config.setdefault("MAX_INFLIGHT", int(os.environ.get("MINYI_MAX_INFLIGHT") or 32))
    app.config.setdefault("SHED_RETRY_AFTER", int(os.environ.get("MINYI_SHED_RETRY_AFTER") or 2))
    inflight = app.extensions["minyi_inflight"] = InFlight(app.config["MAX_INFLIGHT"])

    def shed():
        if request.path.startswith(EXEMPT_PREFIXES):
            return None
        if not inflight.enter():
            return busy_response(app)
        g.minyi_counted = True
        return None

    def release(_error: BaseException | None) -> None:
        if g.pop("minyi_counted", False):
            inflight.leave()

    # first of all the before-request functions, so a rejection costs no rate-limit lookup
    app.before_request_funcs.setdefault(None, []).insert(0, shed)
    app.teardown_request(release)
