"""Pages for the live hearing, the record and the report."""

from __future__ import annotations

from flask import Blueprint, Flask

from app.extensions import socketio
from hearings import live
from hearings.sockets import HearingNamespace

live_blueprint = Blueprint("hearing_live", __name__, url_prefix="/hearings")


def init_app(app: Flask) -> None:
    """Register the live pages and the `/hearings` Socket.IO namespace."""
    app.register_blueprint(live_blueprint)
    app.jinja_env.filters["speaker_label"] = live.speaker_label
    socketio.on_namespace(HearingNamespace())
