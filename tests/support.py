"""Paths and values the tests share (a module of its own: `conftest` names several files)."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "laws"
DEMO_TEXT = REPO / "app" / "demo" / "draft.txt"
PASSWORD = "correct-horse-battery"
