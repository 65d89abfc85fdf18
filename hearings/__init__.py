"""Legislative hearings: notice, registration, selection, live notes, record and report."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the hearings blueprints (none yet)."""
