"""Legislative hearings: notice, registration, selection, live notes, record and report."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the hearings blueprints."""
    from hearings import exports  # noqa: F401  (adds the CSV routes to the staff blueprint)
    from hearings.routes import hearings_blueprint, staff_hearings_blueprint

    app.register_blueprint(hearings_blueprint)
    app.register_blueprint(staff_hearings_blueprint)
    from hearings import live_routes, models  # noqa: F401  (models: the app's metadata)

    live_routes.init_app(app)
