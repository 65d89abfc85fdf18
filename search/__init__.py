"""Full-text search over clauses, comments and hearing notes."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the search pages and start the indexer (not yet wired)."""
