"""Template helpers for drafts: labels in the user's language and the comment heat scale."""

from __future__ import annotations

from collections import Counter

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from drafts import services
from drafts.forms import COMMENT_STATUS_LABELS, KIND_LABELS, STANCE_LABELS, STATUS_LABELS
from drafts.parser import ParseWarning

STATUS_ACTION_LABELS = {
    "open": _l("Publish for comment"),
    "closed": _l("Close the comment period"),
    "adopted": _l("Mark as adopted"),
}
HEAT_LEVELS = 5


def heat_level(count: int, maximum: int) -> int:
    """Return 0 for no comments, else 1..5 relative to the most-commented article."""
    if count <= 0 or maximum <= 0:
        return 0
    return max(1, min(HEAT_LEVELS, -(-count * HEAT_LEVELS // maximum)))


def article_max(tree: list[services.ClauseNode]) -> int:
    """Return the comment count of the most-commented article in the tree."""
    best = 0
    stack = list(tree)
    while stack:
        node = stack.pop()
        if node.clause.kind == "article":
            best = max(best, node.total_comments)
        else:
            stack.extend(node.children)
    return best


def structure_counts(tree: list[services.ClauseNode]) -> dict[str, int]:
    """Count the clauses of each kind, in the order of the kinds."""
    counts: Counter[str] = Counter()
    stack = list(tree)
    while stack:
        node = stack.pop()
        counts[node.clause.kind] += 1
        stack.extend(node.children)
    return {kind: counts[kind] for kind in KIND_LABELS if counts[kind]}


def parse_warning_text(warning: ParseWarning) -> str:
    """Explain a parser warning in the user's language."""
    params = warning.params
    kind = str(KIND_LABELS.get(str(params.get("kind", "article")), params.get("kind", "")))
    if warning.code == "numbering_gap":
        return _("numbering gap: %(label)s found where number %(expected)s was expected (%(kind)s)",
                 label=params.get("label", ""), expected=params.get("expected", ""), kind=kind)
    if warning.code == "numbering_duplicate":
        return _("duplicate number: %(label)s appears more than once (%(kind)s)",
                 label=params.get("label", ""), kind=kind)
    if warning.code == "numbering_order":
        return _("numbering out of order: %(label)s (%(kind)s)", label=params.get("label", ""),
                 kind=kind)
    if warning.code == "unparsed_line":
        return _("line not recognised, kept with %(where)s: %(text)s",
                 where=params.get("attached_to", ""), text=params.get("text", ""))
    if warning.code == "no_articles":
        return _("no articles found")
    return warning.message


def init_app(app: Flask) -> None:
    """Make the helpers and label tables available in every template."""

    @app.context_processor
    def _draft_helpers() -> dict:
        return {
            "draft_status_labels": STATUS_LABELS,
            "comment_status_labels": COMMENT_STATUS_LABELS,
            "stance_labels": STANCE_LABELS,
            "kind_labels": KIND_LABELS,
            "status_action_labels": STATUS_ACTION_LABELS,
            "heat_level": heat_level,
            "article_max": article_max,
            "structure_counts": structure_counts,
            "parse_warning_text": parse_warning_text,
            "unit_label": services.unit_label,
            "unit_text": services.unit_text,
        }
