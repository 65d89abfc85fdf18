"""Drafts, versions, clauses, comments and moderation."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the public and staff blueprints and the template helpers."""
    from drafts import display, flood_routes, opinion_routes, report_cli, version_routes
    from drafts.routes import drafts_blueprint, staff_drafts_blueprint

    app.register_blueprint(drafts_blueprint)
    app.register_blueprint(staff_drafts_blueprint)
    display.init_app(app)
    version_routes.init_app(app)
    opinion_routes.init_app(app)
    report_cli.init_app(app)
    flood_routes.init_app(app)
