"""Pages for the live hearing, the record and the report."""

from __future__ import annotations

from flask import Blueprint, Flask

from app.extensions import socketio
from hearings.sockets import HearingNamespace

live_blueprint = Blueprint("hearing_live", __name__, url_prefix="/hearings")


def init_app(app: Flask) -> None:
    """Register the live pages and the `/hearings` Socket.IO namespace."""
    app.register_blueprint(live_blueprint)
    socketio.on_namespace(HearingNamespace())
