"""Paths and values the tests share (a module of its own: `conftest` names several files)."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "laws"
DEMO_TEXT = REPO / "app" / "demo" / "draft.txt"
PASSWORD = "correct-horse-battery"


def chart_bars(page: str) -> dict[str, list[tuple[str, list[int]]]]:
    """Read the bar charts of a page (app.charts): their accessible names, each mapped to the
    label and the bar values of every row, from the SVG itself."""
    import re
    from html import unescape

    found = {}
    for name, body in re.findall(r'<svg[^>]*role="img"[^>]*aria-label="([^"]*)"[^>]*>(.*?)</svg>',
                                 page, re.S):
        rows: list[tuple[str, list[int]]] = []
        for element in re.findall(r'<text x="[\d.]+" y="[\d.]+" text-anchor="end">([^<]*)</text>'
                                  r'|data-value="(\d+)"', body):
            label, value = element
            if label:
                rows.append((unescape(label), []))
            else:
                rows[-1][1].append(int(value))
        found[unescape(name)] = rows
    return found
