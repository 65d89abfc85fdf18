"""Fixtures for the search tests: draining the change log, hearings and their notes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask

from app.extensions import db
from app.models import User, utcnow
from hearings.models import Hearing, HearingNote


@pytest.fixture
def drain(app: Flask) -> Callable[[], int]:
    """Apply everything logged so far to the index, as the indexer thread would."""
    from search.indexer import drain as drain_log

    return lambda: drain_log(app)


@pytest.fixture
def make_hearing(app: Flask, make_draft) -> Callable[..., Hearing]:
    """Create a hearing on a draft; commits."""
    counter = iter(range(1, 1000))

    def factory(draft=None, *, status: str = "announced", public_live: bool = True,
                title: str = "电动自行车充电安全管理立法听证会") -> Hearing:
        draft = draft or make_draft()
        hearing = Hearing(slug=f"search-hearing-{next(counter)}", draft_id=draft.id,
                          version_id=draft.current_version_id, title=title, status=status,
                          public_live=public_live, starts_at=utcnow() - timedelta(hours=1))
        db.session.add(hearing)
        db.session.commit()
        return hearing

    return factory


@pytest.fixture
def add_note(app: Flask) -> Callable[..., HearingNote]:
    """Add a note to a hearing through the live-notes service; commits."""
    from hearings import live

    def factory(hearing: Hearing, author: User, body: str, *, kind: str = "record",
                visibility: str = "public", clause_lineage_ids=()) -> HearingNote:
        note, _event = live.add_note(hearing, author, body, kind=kind, visibility=visibility,
                                     clause_lineage_ids=clause_lineage_ids)
        db.session.commit()
        return note

    return factory
