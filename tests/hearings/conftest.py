"""Factories for hearings, speakers and observers, built straight from the models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask_socketio.test_client import SocketIOTestClient

from app.extensions import db, socketio
from app.models import User, utcnow
from hearings.models import (
    Hearing,
    HearingQuestion,
    ObserverRegistration,
    SpeakerPosition,
    SpeakerRegistration,
)

QUESTIONS = (
    "高层住宅是否应当一律禁止电动自行车进户充电？",
    "小区充电设施的收费标准应当由谁确定？",
)


@pytest.fixture
def make_hearing(app: Flask, make_draft, make_user) -> Callable[..., Hearing]:
    """Create a hearing on a draft with two questions, a chair and a recorder; commits."""
    counter = iter(range(1, 1000))

    def factory(draft=None, *, status: str = "announced", public_live: bool = False,
                starts_at=None, **kwargs) -> Hearing:
        draft = draft or make_draft()
        n = next(counter)
        hearing = Hearing(
            slug=f"hearing-{n}",
            draft_id=draft.id,
            version_id=draft.current_version_id,
            title=kwargs.pop("title", "电动自行车充电安全管理立法听证会"),
            organiser=kwargs.pop("organiser", "市人大常委会法制工作委员会"),
            place=kwargs.pop("place", "市人大常委会第一会议室"),
            starts_at=starts_at or utcnow() - timedelta(hours=1),
            status=status,
            public_live=public_live,
            chair_id=kwargs.pop("chair", None) or make_user("staff", name="主持人 刘").id,
            recorder_id=kwargs.pop("recorder", None) or make_user("staff", name="记录人 孙").id,
            **kwargs,
        )
        hearing.questions = [
            HearingQuestion(position=i, text=text, is_main=i == 1)
            for i, text in enumerate(QUESTIONS, start=1)
        ]
        db.session.add(hearing)
        db.session.commit()
        return hearing

    return factory


@pytest.fixture
def make_speaker(app: Flask) -> Callable[..., SpeakerRegistration]:
    """Add a selected speaker with a stance on every question; commits."""

    def factory(hearing: Hearing, name: str, stance: str = "support", *, user: User | None = None,
                order: int | None = None, key_points: str = "", **kwargs) -> SpeakerRegistration:
        speaker = SpeakerRegistration(
            hearing_id=hearing.id,
            user_id=user.id if user else None,
            name=name,
            status="selected",
            speaking_order=order,
            key_points=key_points or f"{name}的陈述重点：充电安全与便利应当兼顾。",
            **kwargs,
        )
        speaker.positions = [
            SpeakerPosition(question_id=question.id, stance=stance,
                            text=f"{name}就第{question.position}个听证事项的立场和理由。")
            for question in hearing.questions
        ]
        db.session.add(speaker)
        db.session.commit()
        return speaker

    return factory


@pytest.fixture
def make_observer(app: Flask, make_user) -> Callable[..., User]:
    """Invite a deputy or admit a member of the public as observer; returns the user; commits."""

    def factory(hearing: Hearing, kind: str = "deputy", status: str = "accepted",
                user: User | None = None) -> User:
        user = user or make_user("deputy" if kind == "deputy" else "public")
        db.session.add(ObserverRegistration(hearing_id=hearing.id, user_id=user.id, kind=kind,
                                            status=status))
        db.session.commit()
        return user

    return factory


class LiveClient(SocketIOTestClient):
    """A Socket.IO test client whose every event runs in an application context of its own,
    as in production, so `g` and the logged-in user are never shared between clients."""

    def _isolated(self, method, *args, **kwargs):
        with self.app.app_context():
            result = method(*args, **kwargs)
        db.session.rollback()
        return result

    def connect(self, *args, **kwargs):
        return self._isolated(super().connect, *args, **kwargs)

    def emit(self, *args, **kwargs):
        return self._isolated(super().emit, *args, **kwargs)

    def disconnect(self, *args, **kwargs):
        return self._isolated(super().disconnect, *args, **kwargs)


@pytest.fixture
def live_client(app: Flask, make_client):
    """Log a user into a fresh browser and connect it to a hearing's namespace."""

    def factory(user: User | None, hearing: Hearing, *, with_csrf: bool = True):
        browser = make_client()
        if user is not None:
            browser.login(user)
        # The page that opens the connection has put the CSRF secret into the session.
        token = browser.csrf_token()
        auth: dict = {"hearing": hearing.id}
        if with_csrf:
            auth["csrf_token"] = token
        sio = LiveClient(app, socketio, namespace="/hearings", flask_test_client=browser,
                         auth=auth)
        sio.browser, sio.csrf_token = browser, token
        return sio

    return factory
