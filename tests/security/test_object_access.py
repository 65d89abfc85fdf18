"""Object-level checks: people act only on their own registrations, seats and notes; a
deputy's private observation reaches nobody else through any page, API, search, export or PDF;
Socket.IO events that change state check the session, the role and the CSRF token."""

from __future__ import annotations

import io

import pytest
from flask_socketio.test_client import SocketIOTestClient
from pypdf import PdfReader
from security_world import DEMO_PASSWORD, build_world
from sqlalchemy import select
from support import PASSWORD
from test_authorization import POLICIES, fill

from app.accounts.services import find_user_by_email
from app.demo.hearing import HEARING_SLUG
from app.extensions import db, socketio
from hearings.models import Hearing, HearingNote, SpeakerRegistration


def logged_in(make_client, user, password: str = DEMO_PASSWORD):
    browser = make_client()
    response = browser.post_form("/login", {"email": user.email, "password": password})
    assert response.status_code == 302
    return browser


def registration_of(user, slug: str = HEARING_SLUG) -> SpeakerRegistration:
    return db.session.scalars(select(SpeakerRegistration).join(
        Hearing, SpeakerRegistration.hearing_id == Hearing.id).where(
        Hearing.slug == slug, SpeakerRegistration.user_id == user.id)).one()


def test_withdrawing_touches_only_ones_own_registration(app, make_client):
    world = build_world(app)
    citizen, other = world.users["public"], world.users["other"]
    before = registration_of(citizen).status
    browser = logged_in(make_client, other)

    response = browser.post_form(f"/hearings/{HEARING_SLUG}/registration/withdraw")

    assert response.status_code == 302
    assert registration_of(other).status == "withdrawn"
    assert registration_of(citizen).status == before != "withdrawn"


def test_nobody_else_downloads_a_speakers_statement_or_reads_their_registration(app,
                                                                                make_client):
    world = build_world(app)
    own = registration_of(world.users["public"])
    browser = logged_in(make_client, world.users["other"])

    statement = browser.get(f"/hearings/registrations/{own.id}/statement")
    staff_view = browser.get(f"/staff/hearings/{HEARING_SLUG}/registrations/{own.id}")
    mine = browser.get(f"/hearings/{HEARING_SLUG}/registration").get_data(as_text=True)

    assert statement.status_code == 403
    assert staff_view.status_code == 403
    assert own.key_points not in mine and registration_of(world.users["other"]).key_points in mine


def test_my_comments_lists_only_ones_own(app, make_client):
    world = build_world(app)
    from drafts.models import Comment

    theirs = db.session.scalars(select(Comment).where(
        Comment.author_id == world.users["public"].id)).all()
    page = logged_in(make_client, world.users["other"]).get("/drafts/mine").get_data(as_text=True)

    assert theirs and not [c.body for c in theirs if c.body in page]


def test_only_its_author_edits_an_observation(app, make_client):
    world = build_world(app)
    note = db.session.get(HearingNote, world.private_note_id)
    url = f"/hearings/{note.hearing.slug}/live/notes/{note.id}"
    deputy2 = find_user_by_email("deputy2@demo.minyi")

    codes = {role: logged_in(make_client, user).post_form(
        url, {"body": "改写", "revision": "1"}).status_code
        for role, user in (("deputy2", deputy2), ("staff", world.users["staff"]),
                           ("public", world.users["public"]))}

    assert codes == {"deputy2": 403, "staff": 403, "public": 403}
    assert db.session.get(HearingNote, note.id).body == world.private_note


def _text(response) -> str:
    data = response.get_data()
    if response.mimetype == "application/pdf":
        return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return data.decode("utf-8", "replace")


@pytest.mark.parametrize("role", ["anonymous", "public", "other deputy", "staff", "admin"])
def test_a_private_observation_reaches_nobody_else(app, make_client, role):
    """Every GET route of the URL map with a policy (test_authorization fails for the others),
    as every other role, plus the search API."""
    from search.indexer import drain

    world = build_world(app)
    drain(app)
    secret = world.private_note
    browser = make_client()
    if role == "other deputy":
        browser = logged_in(make_client, find_user_by_email("deputy2@demo.minyi"))
    elif role != "anonymous":
        browser = logged_in(make_client, world.users[role])
    leaks = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint not in POLICIES or rule.endpoint == "static":
            continue
        response = browser.get(fill(rule, world))
        if response.status_code == 200 and secret in _text(response):
            leaks.append(rule.rule)
        response.close()
    found = browser.get("/api/v1/search", query_string={"q": "专题调研", "type": "note"})

    assert leaks == []
    assert found.status_code == 200 and found.get_json()["hits"] == []


def test_the_author_finds_the_private_observation(app, make_client):
    """The control for the test above: the note is there to be leaked."""
    from search.indexer import drain

    world = build_world(app)
    drain(app)
    browser = logged_in(make_client, world.users["deputy"])
    note = db.session.get(HearingNote, world.private_note_id)

    page = browser.get(f"/hearings/{note.hearing.slug}/live").get_data(as_text=True)
    hits = browser.get("/api/v1/search", query_string={"q": "专题调研", "type": "note"}
                       ).get_json()["hits"]

    assert world.private_note in page
    assert [hit["id"] for hit in hits] == [note.id]


# --- Socket.IO ----------------------------------------------------------------------------


def connect(app, browser, hearing: Hearing, *, csrf: bool) -> SocketIOTestClient:
    auth = {"hearing": hearing.id}
    token = browser.csrf_token()
    if csrf:
        auth["csrf_token"] = token
    with app.app_context():
        client = SocketIOTestClient(app, socketio, namespace="/hearings",
                                    flask_test_client=browser, auth=auth)
    client.token = token
    return client


def emit(app, client, event: str, data: dict):
    with app.app_context():
        answer = client.emit(event, data, namespace="/hearings", callback=True)
    db.session.rollback()
    return answer


def notes_of(hearing: Hearing) -> int:
    return len(db.session.scalars(select(HearingNote).where(
        HearingNote.hearing_id == hearing.id)).all())


def test_socket_events_that_change_state_check_csrf_session_and_role(app, make_client):
    world = build_world(app)
    hearing = db.session.scalars(select(Hearing).where(Hearing.slug == HEARING_SLUG)).one()
    assert hearing.public_live  # anonymous and public clients may connect and listen
    staff = logged_in(make_client, world.users["staff"])
    record = {"body": "记录", "kind": "record", "visibility": "public"}
    count = notes_of(hearing)

    without_token = connect(app, staff, hearing, csrf=False)
    refused_csrf = emit(app, without_token, "post_note", record)
    stolen_token = emit(app, without_token, "post_note", {**record, "csrf_token": "forged"})
    anonymous = connect(app, make_client(), hearing, csrf=True)
    refused_anonymous = emit(app, anonymous, "post_note", record)
    citizen = connect(app, logged_in(make_client, world.users["public"]), hearing, csrf=True)
    refused_citizen = [emit(app, citizen, event, data) for event, data in (
        ("post_note", record), ("start_timer", {}), ("extend_timer", {"seconds": 60}),
        ("change_speaker", {"agenda_item": "开场"}),
        ("post_note", {"body": "观察", "kind": "observation", "visibility": "private"}))]
    assert notes_of(hearing) == count

    accepted = emit(app, without_token, "post_note", {**record, "csrf_token": without_token.token})

    assert [a["ok"] for a in (refused_csrf, stolen_token, refused_anonymous, *refused_citizen)
            ] == [False] * 8
    assert accepted["ok"] and notes_of(hearing) == count + 1


def test_a_hearing_not_followed_in_public_refuses_outsiders_connections(app, make_client,
                                                                        make_user):
    world = build_world(app)
    hearing = db.session.scalars(select(Hearing).where(Hearing.slug == HEARING_SLUG)).one()
    hearing.public_live = False
    db.session.commit()

    outsiders = [connect(app, browser, hearing, csrf=True) for browser in (
        make_client(), logged_in(make_client, make_user("public"), PASSWORD))]
    deputy = connect(app, logged_in(make_client, world.users["deputy"]), hearing, csrf=True)

    assert [c.is_connected("/hearings") for c in outsiders] == [False, False]
    assert deputy.is_connected("/hearings")
