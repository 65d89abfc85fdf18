"""The home page and the health check."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import text

from app.extensions import db
from drafts import services as draft_services

core_blueprint = Blueprint("core", __name__)


@core_blueprint.route("/")
def index():
    return render_template("index.html", drafts=draft_services.public_drafts()[:10])


@core_blueprint.route("/healthz")
def health():
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}


def init_app(app) -> None:
    """Register the blueprint."""
    app.register_blueprint(core_blueprint)
