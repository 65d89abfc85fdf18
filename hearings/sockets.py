"""The `/hearings` Socket.IO namespace: observers follow a hearing live, staff write its record.

A client connects with `auth={"hearing": <id>, "csrf_token": <token>}` and joins the hearing's
room, the staff room if it runs the hearing, and a room of its own for private notes. Events
are documented in docs/live-notes.md. Handlers follow the shape of a request: load, authorise,
call a service, commit once, then broadcast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, Namespace, emit, join_room
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from app.extensions import db, socketio
from app.models import User
from app.signals import message_queue_restored
from hearings import live
from hearings.models import Hearing, HearingEvent

NAMESPACE = "/hearings"
#: events stored this long before the message queue was lost are delivered again after it is
#: back: they may have been committed before the loss and published after it
REDELIVERY_MARGIN = timedelta(seconds=10)


def hearing_room(hearing_id: int) -> str:
    return f"hearing:{hearing_id}"


def staff_room(hearing_id: int) -> str:
    return f"hearing:{hearing_id}:staff"


def user_room(hearing_id: int, user_id: int) -> str:
    return f"hearing:{hearing_id}:user:{user_id}"


def rooms_for(event: HearingEvent) -> list[str]:
    """Return the rooms an event goes to, following its audience."""
    if event.audience == "public":
        return [hearing_room(event.hearing_id)]
    scope, _sep, user_id = event.audience.partition(":")
    own = user_room(event.hearing_id, int(user_id))
    if scope == "shared":
        return [staff_room(event.hearing_id), own]
    return [own]


def broadcast(*events: HearingEvent, local: bool = False) -> None:
    """Send committed events to everyone who may see them; `local`: only to this process's
    clients, not through the message queue."""
    for event in events:
        socketio.emit(event.type, live.envelope(event), to=rooms_for(event), namespace=NAMESPACE,
                      ignore_queue=local)


@message_queue_restored.connect
def deliver_again(app: Flask, since: datetime) -> None:
    """Send this process's observers, again, their hearings' events since the message queue
    was lost: what other processes published meanwhile did not reach them. Clients ignore
    the events they already have."""
    namespace = socketio.server.namespace_handlers.get(NAMESPACE) if socketio.server else None
    if not isinstance(namespace, HearingNamespace):
        return
    hearing_ids = {connection.hearing_id for connection in list(namespace.connections.values())}
    with app.app_context():
        for hearing_id in sorted(hearing_ids):
            broadcast(*live.events_since(hearing_id, since - REDELIVERY_MARGIN), local=True)


def _user() -> User | None:
    return current_user if current_user.is_authenticated else None


def _csrf_valid(token: object) -> bool:
    try:
        validate_csrf(token if isinstance(token, str) else None)
    except ValidationError:
        return False
    return True


@dataclass
class Connection:
    """What the namespace remembers about one connected client."""

    hearing_id: int
    #: the CSRF token came with the connection, so events need not carry it
    csrf_ok: bool


def _failure(message: str) -> dict:
    return {"ok": False, "error": message}


class HearingNamespace(Namespace):
    """Live notes, speaker and timer of one hearing per connection."""

    def __init__(self, namespace: str = NAMESPACE) -> None:
        super().__init__(namespace)
        self.connections: dict[str, Connection] = {}

    def on_connect(self, auth: dict | None = None) -> None:
        auth = auth if isinstance(auth, dict) else {}
        hearing = _hearing_by_id(auth.get("hearing"))
        if hearing is None:
            raise ConnectionRefusedError({"error": _("No such hearing.")})
        user = _user()
        if not live.can_observe(user, hearing):
            raise ConnectionRefusedError(
                {"error": _("You are not among the observers of this hearing.")})
        join_room(hearing_room(hearing.id))
        if live.is_hearing_staff(user, hearing):
            join_room(staff_room(hearing.id))
        if user is not None:
            join_room(user_room(hearing.id, user.id))
        self.connections[request.sid] = Connection(
            hearing.id, "csrf_token" in auth and _csrf_valid(auth["csrf_token"]))
        emit("state", live.live_state(hearing))

    def on_disconnect(self, reason: str | None = None) -> None:
        self.connections.pop(request.sid, None)

    def _hearing(self) -> Hearing | None:
        connection = self.connections.get(request.sid)
        return db.session.get(Hearing, connection.hearing_id) if connection else None

    def on_catch_up(self, data: dict | None = None) -> dict:
        """Answer with the events after `after_seq` that this client may see."""
        hearing = self._hearing()
        if hearing is None:
            return _failure(_("Connect to a hearing first."))
        data = data if isinstance(data, dict) else {}
        try:
            after = max(int(data.get("after_seq", 0)), 0)
        except (TypeError, ValueError):
            return _failure(_("after_seq must be a number."))
        events = live.events_after(hearing, _user(), after)
        return {"ok": True, "events": [live.envelope(e) for e in events],
                "more": len(events) == live.CATCH_UP_PAGE, "last_seq": hearing.last_seq}

    def _change(self, data: object, action: Callable[[Hearing, User, dict], list[HearingEvent]]
                ) -> dict:
        """Run a state-changing action: check the CSRF token and the user, commit, broadcast."""
        hearing = self._hearing()
        if hearing is None:
            return _failure(_("Connect to a hearing first."))
        data = data if isinstance(data, dict) else {}
        connection = self.connections[request.sid]
        if not (connection.csrf_ok or _csrf_valid(data.get("csrf_token"))):
            return _failure(_("The form has expired; reload the page and try again."))
        user = _user()
        if user is None:
            return _failure(_("Log in first."))
        try:
            events = action(hearing, user, data)
        except live.LiveError as error:
            db.session.rollback()
            return _failure(str(error))
        db.session.commit()
        broadcast(*events)
        return {"ok": True, "seq": events[-1].seq, "event": live.envelope(events[-1])}

    def on_post_note(self, data: dict | None = None) -> dict:
        def action(hearing: Hearing, user: User, data: dict) -> list[HearingEvent]:
            _note, event = live.post_note(
                hearing, user, str(data.get("body", "")),
                kind=str(data.get("kind", "record")),
                visibility=str(data.get("visibility", "public")),
                clause_lineage_ids=_list(data.get("clause_lineage_ids")),
                speaker_id=data.get("speaker_id") or None,
                agenda_item=data.get("agenda_item"),
            )
            return [event]

        return self._change(data, action)

    def on_edit_note(self, data: dict | None = None) -> dict:
        def action(hearing: Hearing, user: User, data: dict) -> list[HearingEvent]:
            note = live.note_by_id(hearing, data.get("note_id"))
            if note is None:
                raise live.LiveError(_("No such note."))
            try:
                base = int(data.get("revision"))
            except (TypeError, ValueError) as error:
                raise live.LiveError(_("Say which revision you edited.")) from error
            clauses = data.get("clause_lineage_ids")
            return [live.edit_note(note, user, str(data.get("body", "")), base_revision=base,
                                   clause_lineage_ids=None if clauses is None else _list(clauses))]

        return self._change(data, action)

    def on_change_speaker(self, data: dict | None = None) -> dict:
        return self._change(data, lambda hearing, user, data: [live.change_speaker(
            hearing, user, data.get("speaker_id"), str(data.get("agenda_item", "")))])

    def on_start_timer(self, data: dict | None = None) -> dict:
        return self._change(data, lambda hearing, user, data: [live.start_timer(hearing, user)])

    def on_extend_timer(self, data: dict | None = None) -> dict:
        return self._change(data, lambda hearing, user, data: [
            live.extend_timer(hearing, user, data.get("seconds"))])


def _hearing_by_id(value: object) -> Hearing | None:
    try:
        return db.session.get(Hearing, int(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _list(value: object) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
