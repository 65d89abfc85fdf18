"""Template helpers for drafts: labels in the user's language and the comment heat scale."""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable

from flask import Flask, current_app, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from app.charts import Chart
from drafts import services
from drafts.forms import COMMENT_STATUS_LABELS, KIND_LABELS, STANCE_LABELS, STATUS_LABELS
from drafts.parser import ParseWarning

STATUS_ACTION_LABELS = {
    "open": _l("Publish for comment"),
    "closed": _l("Close the comment period"),
    "adopted": _l("Mark as adopted"),
}
HEAT_LEVELS = 5
#: bars in the chart of the most-commented articles
CHART_ARTICLES = 20
#: rendered draft texts each application keeps (about 250 KB each for 120 articles)
TEXT_CACHE_SIZE = 32


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


def _walk(tree: list[services.ClauseNode], kind: str) -> list[services.ClauseNode]:
    """Return the nodes of one kind in reading order."""
    found = []
    stack = list(reversed(tree))
    while stack:
        node = stack.pop()
        if node.clause.kind == kind:
            found.append(node)
        else:
            stack.extend(reversed(node.children))
    return found


def concentration(tree: list[services.ClauseNode]) -> list[Chart]:
    """Chart where the published comments on a text concentrate: per chapter in reading order,
    and the most-commented articles; comments on the earlier wording of a clause are a
    second bar when there are any."""
    chapters = _walk(tree, "chapter")
    articles = [node for node in _walk(tree, "article")
                if node.total_comments or node.earlier_comments]
    articles.sort(key=lambda node: -(node.total_comments + node.earlier_comments))
    earlier = any(node.earlier_comments for node in [*chapters, *articles])
    series = (_("On this text"), _("On the earlier wording")) if earlier else None

    def row(node: services.ClauseNode) -> tuple[str, int, int | None]:
        label = node.clause.label
        if node.clause.kind == "chapter" and node.clause.heading:
            label = f"{label} {node.clause.heading}"
        return label, node.total_comments, node.earlier_comments if earlier else None

    return [
        Chart(_("Comments by chapter"), [row(node) for node in chapters], series),
        Chart(_("The most-commented articles"),
              [row(node) for node in articles[:CHART_ARTICLES]], series),
    ]


class FragmentCache:
    """The most recently used rendered fragments, shared by the threads of a process."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._fragments: OrderedDict[Hashable, Markup] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(self, key: Hashable, render: Callable[[], str]) -> Markup:
        """Return the fragment stored under `key`, rendering and storing it when missing."""
        with self._lock:
            fragment = self._fragments.get(key)
            if fragment is not None:
                self._fragments.move_to_end(key)
                return fragment
        fragment = Markup(render())
        with self._lock:
            self._fragments[key] = fragment
            while len(self._fragments) > self.size:
                self._fragments.popitem(last=False)
        return fragment


def cached_text(draft, version, tree: list[services.ClauseNode], is_open: bool,
                caller: Callable[[], str]) -> Markup:
    """Render a draft's text (the call block) once per text, counts, window state and language.

    Rendering the ~450 units of a 120-article text with their links takes tens of
    milliseconds, most of the draft page's time. Everything the block shows is in the key:
    a version's clauses never change (a new text is a new version), and every comment count
    is hashed, so a published or withdrawn comment renders the text anew.
    """
    counts = []
    stack = list(tree)
    while stack:
        node = stack.pop()
        counts.append((node.clause.comment_count, node.earlier_comments))
        stack.extend(node.children)
    key = (draft.id, draft.slug, version.id if version else None,
           version.created_at if version else None, is_open, str(get_locale()),
           request.script_root, hash(tuple(counts)))
    return current_app.extensions["minyi_text_cache"].get_or_render(key, caller)


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
    app.extensions["minyi_text_cache"] = FragmentCache(TEXT_CACHE_SIZE)

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
            "cached_text": cached_text,
        }
