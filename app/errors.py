"""Error pages in the user's language, and JSON errors under /api/."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import db


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        401: _("Please log in to continue."),
        403: _("You do not have permission to see this page."),
        404: _("This page does not exist."),
        405: _("This action is not allowed here."),
        413: _("The file is too large."),
        429: _("Too many requests. Please wait a moment and try again."),
        500: _("Something went wrong on our side. Nothing you sent was half-saved; "
               "please try again."),
        503: _("The service is busy. Please try again in a moment."),
    }


def init_app(app: Flask) -> None:
    """Register handlers that render every HTTP error the same way."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return _render(400, _("The form has expired or was sent from another site. "
                              "Reload the page and send it again; what you typed is kept "
                              "in your browser's back history."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code == 401 and not request.path.startswith("/api/"):
            from flask import redirect, url_for

            return redirect(url_for("auth.login", next=request.full_path))
        return _render(error.code or 500, None)

    @app.errorhandler(500)
    def server_error(error: Exception):
        db.session.rollback()
        return _render(500, None)


def _render(code: int, message: str | None):
    message = message or _messages().get(code, _("An error occurred."))
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify({"error": {"code": code, "message": message}}), code
    return render_template("error.html", code=code, message=message), code
