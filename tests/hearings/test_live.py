"""Live notes through the Socket.IO test client: broadcast, catch-up, revisions, permissions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ChangeLog
from hearings import live
from hearings.models import HearingEvent, HearingNote, HearingNoteRevision


@pytest.fixture(autouse=True)
def english_messages(app):
    """These tests read the English messages: make English the default language."""
    app.config["BABEL_DEFAULT_LOCALE"] = "en"


def received(sio, name: str) -> list[dict]:
    """Return the payloads of the events of one name that reached a client since last asked."""
    return [packet["args"][0] for packet in sio.get_received("/hearings")
            if packet["name"] == name]


def events_named(packets: list[dict], name: str) -> list[dict]:
    return [packet["args"][0] for packet in packets if packet["name"] == name]


def post(sio, body: str, **extra) -> dict:
    return sio.emit("post_note", {"body": body, **extra}, namespace="/hearings", callback=True)


@pytest.fixture
def hearing(make_hearing):
    return make_hearing()


@pytest.fixture
def recorder(hearing):
    return db.session.get(type(hearing.recorder), hearing.recorder_id)


def test_note_reaches_every_observer(hearing, recorder, make_observer, live_client):
    console = live_client(recorder, hearing)
    first = live_client(make_observer(hearing), hearing)
    second = live_client(make_observer(hearing), hearing)
    for sio in (console, first, second):
        assert sio.is_connected("/hearings")
        sio.get_received("/hearings")

    answer = post(console, "陈述人认为应当允许可拆卸电池进户充电。")

    assert answer["ok"] is True
    for sio in (first, second, console):
        (note_created,) = received(sio, "note_created")
        assert note_created["seq"] == answer["seq"]
        assert note_created["payload"]["body"] == "陈述人认为应当允许可拆卸电池进户充电。"
        assert note_created["payload"]["revision"] == 1
        assert note_created["payload"]["author"] == recorder.name


def test_connect_sends_state_and_late_joiner_gets_full_history(
        hearing, recorder, make_speaker, make_observer, live_client):
    speaker = make_speaker(hearing, "张明", order=1)
    console = live_client(recorder, hearing)
    console.emit("change_speaker", {"speaker_id": speaker.id, "agenda_item": "陈述"},
                 namespace="/hearings", callback=True)
    for n in range(3):
        post(console, f"第{n + 1}条记录")

    late = live_client(make_observer(hearing), hearing)
    (state,) = received(late, "state")
    assert state["speaker"]["name"] == "张明"
    assert state["agenda_item"] == "陈述"
    assert state["last_seq"] == 4

    history = late.emit("catch_up", {"after_seq": 0}, namespace="/hearings", callback=True)
    assert [e["seq"] for e in history["events"]] == [1, 2, 3, 4]
    assert [e["type"] for e in history["events"]] == ["speaker_changed"] + ["note_created"] * 3
    assert history["events"][1]["payload"]["speaker"] == "张明"
    assert history["more"] is False


def test_reconnect_catch_up_returns_exactly_the_missed_events(
        hearing, recorder, make_observer, live_client):
    console = live_client(recorder, hearing)
    deputy = make_observer(hearing)
    observer = live_client(deputy, hearing)
    post(console, "断线前的记录")
    seen = [e["seq"] for e in received(observer, "note_created")]
    assert seen == [1]

    observer.disconnect(namespace="/hearings")
    for n in range(5):
        post(console, f"断线期间的记录 {n}")
    private_of_other = live_client(make_observer(hearing), hearing)
    post(private_of_other, "别人的私人笔记", kind="observation", visibility="private")

    back = live_client(deputy, hearing)
    answer = back.emit("catch_up", {"after_seq": seen[-1]}, namespace="/hearings", callback=True)

    assert [e["seq"] for e in answer["events"]] == [2, 3, 4, 5, 6]
    assert [e["payload"]["body"] for e in answer["events"]] == [
        f"断线期间的记录 {n}" for n in range(5)]
    assert answer["last_seq"] == 7


def test_catch_up_pages_long_histories(hearing, recorder, live_client, monkeypatch):
    monkeypatch.setattr(live, "CATCH_UP_PAGE", 3)
    console = live_client(recorder, hearing)
    for n in range(7):
        post(console, f"记录 {n}")
    seqs, after, more = [], 0, True
    while more:
        answer = console.emit("catch_up", {"after_seq": after}, namespace="/hearings",
                              callback=True)
        seqs += [e["seq"] for e in answer["events"]]
        after, more = seqs[-1], answer["more"]
    assert seqs == list(range(1, 8))


def test_sequence_has_no_gaps_when_a_change_fails(hearing, recorder, live_client):
    console = live_client(recorder, hearing)
    post(console, "第一条")
    assert post(console, "   ")["ok"] is False
    post(console, "第二条")
    seqs = db.session.scalars(select(HearingEvent.seq).where(
        HearingEvent.hearing_id == hearing.id).order_by(HearingEvent.seq)).all()
    assert seqs == [1, 2]


def test_edit_keeps_revisions_and_stale_edit_is_rejected(
        hearing, recorder, make_observer, live_client):
    console = live_client(recorder, hearing)
    other_recorder = live_client(hearing.chair, hearing)
    observer = live_client(make_observer(hearing), hearing)
    note_id = post(console, "初稿")["event"]["payload"]["id"]

    first = console.emit("edit_note", {"note_id": note_id, "revision": 1, "body": "第二稿"},
                         namespace="/hearings", callback=True)
    stale = other_recorder.emit("edit_note", {"note_id": note_id, "revision": 1,
                                              "body": "基于初稿的修改"},
                                namespace="/hearings", callback=True)

    assert first["ok"] is True
    assert first["event"]["payload"]["revision"] == 2
    assert stale["ok"] is False
    assert "revision 2" in stale["error"] and "revision 1" in stale["error"]
    note = db.session.get(HearingNote, note_id)
    db.session.refresh(note)
    assert (note.body, note.revision) == ("第二稿", 2)
    texts = db.session.scalars(select(HearingNoteRevision.body).where(
        HearingNoteRevision.note_id == note_id).order_by(HearingNoteRevision.revision)).all()
    assert texts == ["初稿", "第二稿"]
    updates = received(observer, "note_updated")
    assert [(u["payload"]["body"], u["payload"]["revision"]) for u in updates] == [("第二稿", 2)]
    logged = db.session.scalars(select(ChangeLog.op).where(ChangeLog.entity == "note",
                                                           ChangeLog.entity_id == note_id))
    assert list(logged) == ["upsert", "upsert"]  # created, edited: the search index follows


def test_private_and_shared_notes_reach_only_their_audience(
        hearing, recorder, make_observer, make_user, live_client):
    author = make_observer(hearing)
    other_deputy = make_observer(hearing)
    staff_sio = live_client(recorder, hearing)
    author_sio = live_client(author, hearing)
    other_sio = live_client(other_deputy, hearing)
    for sio in (staff_sio, author_sio, other_sio):
        sio.get_received("/hearings")

    private = post(author_sio, "只给自己看的笔记", kind="observation", visibility="private")
    shared = post(author_sio, "与工作人员共享的观察", kind="observation", visibility="staff")
    question = post(author_sio, "请主持人追问收费依据", kind="question", visibility="staff")
    assert private["ok"] and shared["ok"] and question["ok"]

    def bodies(sio):
        return [e["payload"]["body"] for e in received(sio, "note_created")]

    assert bodies(author_sio) == [
        "只给自己看的笔记", "与工作人员共享的观察", "请主持人追问收费依据"]
    assert bodies(staff_sio) == ["与工作人员共享的观察", "请主持人追问收费依据"]
    assert bodies(other_sio) == []

    def caught_up(sio):
        answer = sio.emit("catch_up", {"after_seq": 0}, namespace="/hearings", callback=True)
        return [e["payload"]["body"] for e in answer["events"]]

    assert caught_up(other_sio) == []
    assert caught_up(staff_sio) == ["与工作人员共享的观察", "请主持人追问收费依据"]
    assert len(caught_up(author_sio)) == 3
    assert [n.body for n in live.visible_notes(hearing, other_deputy)] == []
    assert len(live.visible_notes(hearing, recorder)) == 2


def test_connect_requires_the_right_to_observe(hearing, make_user, make_observer, live_client):
    assert not live_client(None, hearing).is_connected("/hearings")
    assert not live_client(make_user("public"), hearing).is_connected("/hearings")
    assert not live_client(make_user("deputy"), hearing).is_connected("/hearings")
    declined = make_observer(hearing, status="declined")
    assert not live_client(declined, hearing).is_connected("/hearings")
    assert live_client(make_observer(hearing, status="invited"), hearing).is_connected(
        "/hearings")
    assert live_client(make_observer(hearing, kind="public"), hearing).is_connected("/hearings")
    assert live_client(make_user("staff"), hearing).is_connected("/hearings")


def test_public_hearing_admits_anyone_read_only(make_hearing, make_user, live_client):
    hearing = make_hearing(public_live=True)
    anonymous = live_client(None, hearing)
    citizen = live_client(make_user("public"), hearing)
    assert anonymous.is_connected("/hearings") and citizen.is_connected("/hearings")
    assert post(anonymous, "匿名者的记录")["ok"] is False
    assert post(citizen, "公众的记录")["ok"] is False
    assert post(citizen, "公众的观察", kind="observation", visibility="private")["ok"] is False
    assert db.session.scalar(select(func.count(HearingNote.id))) == 0


def test_a_hearing_not_yet_announced_is_for_staff_only(make_hearing, make_user, live_client):
    hearing = make_hearing(status="planned", public_live=True)
    assert not live_client(None, hearing).is_connected("/hearings")
    assert live_client(make_user("staff"), hearing).is_connected("/hearings")


def test_unknown_hearing_is_refused(app, make_client):
    from app.extensions import socketio

    sio = socketio.test_client(app, namespace="/hearings", flask_test_client=make_client(),
                               auth={"hearing": 9999})
    assert not sio.is_connected("/hearings")


def test_each_event_checks_the_role(hearing, make_observer, make_speaker, live_client):
    deputy_sio = live_client(make_observer(hearing), hearing)
    speaker = make_speaker(hearing, "李华")

    def refused(event, data):
        answer = deputy_sio.emit(event, data, namespace="/hearings", callback=True)
        return answer["ok"] is False and answer["error"]

    assert refused("post_note", {"body": "代表写的正式记录"})
    assert refused("post_note", {"body": "公开观察", "kind": "observation",
                                 "visibility": "public"})
    assert refused("post_note", {"body": "私下提问", "kind": "question", "visibility": "private"})
    assert refused("change_speaker", {"speaker_id": speaker.id})
    assert refused("start_timer", {})
    assert refused("extend_timer", {"seconds": 60})
    assert db.session.scalar(select(func.count(HearingEvent.id))) == 0


def test_only_the_author_edits_an_observation(hearing, make_observer, recorder, live_client):
    author_sio = live_client(make_observer(hearing), hearing)
    staff_sio = live_client(recorder, hearing)
    note_id = post(author_sio, "观察", kind="observation", visibility="staff")["event"][
        "payload"]["id"]
    answer = staff_sio.emit("edit_note", {"note_id": note_id, "revision": 1, "body": "改写"},
                            namespace="/hearings", callback=True)
    assert answer["ok"] is False
    answer = author_sio.emit("edit_note", {"note_id": note_id, "revision": 1, "body": "补充"},
                             namespace="/hearings", callback=True)
    assert answer["ok"] is True


def test_state_changes_need_a_csrf_token(hearing, recorder, live_client):
    without = live_client(recorder, hearing, with_csrf=False)
    assert without.is_connected("/hearings")
    refused = post(without, "没有令牌")
    assert refused["ok"] is False
    assert post(without, "错误令牌", csrf_token="forged")["ok"] is False
    assert post(without, "令牌随事件发送", csrf_token=without.csrf_token)["ok"] is True
    caught = without.emit("catch_up", {"after_seq": 0}, namespace="/hearings", callback=True)
    assert caught["ok"] is True
    with_auth = live_client(recorder, hearing)
    assert post(with_auth, "令牌随连接发送")["ok"] is True


def test_speaker_change_and_timer(hearing, recorder, make_speaker, make_observer, live_client):
    speaker = make_speaker(hearing, "某物业公司", kind="organisation", representative="王经理",
                           order=1, speaking_minutes=8)
    console = live_client(recorder, hearing)
    observer = live_client(make_observer(hearing), hearing)
    observer.get_received("/hearings")

    assert console.emit("start_timer", {}, namespace="/hearings", callback=True)["ok"] is False
    changed = console.emit("change_speaker", {"speaker_id": speaker.id, "agenda_item": "陈述"},
                           namespace="/hearings", callback=True)
    started = console.emit("start_timer", {}, namespace="/hearings", callback=True)
    extended = console.emit("extend_timer", {"seconds": 120}, namespace="/hearings",
                            callback=True)
    too_long = console.emit("extend_timer", {"seconds": 10_000}, namespace="/hearings",
                            callback=True)

    assert changed["ok"] and started["ok"] and extended["ok"] and not too_long["ok"]
    packets = observer.get_received("/hearings")
    (speaker_changed,) = events_named(packets, "speaker_changed")
    assert speaker_changed["payload"]["speaker"]["name"] == "某物业公司（王经理）"
    assert speaker_changed["payload"]["timer"]["running"] is False
    timers = events_named(packets, "timer")
    assert [t["payload"]["action"] for t in timers] == ["start", "extend"]
    assert timers[0]["payload"]["allowed_seconds"] == 480
    assert timers[1]["payload"]["allowed_seconds"] == 600
    assert timers[1]["payload"]["extra_seconds"] == 120
    assert 590 < timers[1]["payload"]["remaining_seconds"] <= 600

    note = post(console, "陈述人介绍了小区充电桩建设情况")
    assert note["event"]["payload"]["speaker_id"] == speaker.id
    assert note["event"]["payload"]["agenda_item"] == "陈述"


def test_notes_refer_to_clauses(hearing, recorder, live_client):
    console = live_client(recorder, hearing)
    answer = post(console, "涉及第十一条", clause_lineage_ids=[11, "11", 12])
    assert answer["event"]["payload"]["clause_lineage_ids"] == [11, 12]
    assert post(console, "错误条款", clause_lineage_ids=["x"])["ok"] is False


def test_no_notes_after_the_hearing(make_hearing, live_client):
    hearing = make_hearing(status="held")
    recorder = hearing.recorder
    console = live_client(recorder, hearing)
    assert post(console, "会后补记")["ok"] is False


# --- the pages, with and without JavaScript --------------------------------------------------


def test_live_page_shows_the_notes_without_javascript(hearing, recorder, make_observer,
                                                      make_speaker, make_client):
    speaker = make_speaker(hearing, "张明", order=1)
    live.change_speaker(hearing, hearing.chair, speaker.id, "陈述")
    live.post_note(hearing, recorder, "张明支持第十一条的修改。")
    db.session.commit()
    browser = make_client()
    browser.login(make_observer(hearing))
    page = browser.get(f"/hearings/{hearing.slug}/live").get_data(as_text=True)
    assert "张明支持第十一条的修改。" in page
    assert "陈述：张明" in page
    assert f'data-last-seq="{hearing.last_seq}"' in page
    assert f'href="/hearings/{hearing.slug}/live"' in page  # the refresh link
    assert "<script>" not in page and " onclick=" not in page
    assert 'id="console-heading"' not in page


def test_live_page_refuses_those_who_may_not_observe(hearing, make_user, make_client):
    browser = make_client()
    assert browser.get(f"/hearings/{hearing.slug}/live").status_code == 302  # to the login
    browser.login(make_user("public"))
    assert browser.get(f"/hearings/{hearing.slug}/live").status_code == 403
    assert browser.get(f"/hearings/{hearing.slug}/chair").status_code == 403
    assert browser.get("/hearings/no-such-hearing/live").status_code == 404


def test_recorder_works_without_javascript(hearing, recorder, make_speaker, make_client):
    speaker = make_speaker(hearing, "李华", order=1)
    browser = make_client()
    browser.login(recorder)
    base = f"/hearings/{hearing.slug}/live"
    assert browser.post_form(f"{base}/speaker", {"speaker_id": speaker.id,
                                                  "agenda_item": "陈述"}).status_code == 302
    assert browser.post_form(f"{base}/timer", {"action": "start"}).status_code == 302
    assert browser.post_form(f"{base}/timer", {"action": "extend",
                                                "seconds": 120}).status_code == 302
    response = browser.post_form(f"{base}/notes", {"kind": "record", "body": "李华发言要点"})
    assert response.status_code == 302
    note = db.session.scalar(select(HearingNote))
    assert (note.body, note.speaker_id, note.agenda_item) == ("李华发言要点", speaker.id, "陈述")
    browser.post_form(f"{base}/notes/{note.id}", {"body": "李华发言要点（修订）", "revision": 1})
    stale = browser.post_form(f"{base}/notes/{note.id}", {"body": "旧稿", "revision": 1},
                              follow_redirects=True)
    assert "Someone changed this note" in stale.get_data(as_text=True)
    page = browser.get(base).get_data(as_text=True)
    assert "李华发言要点（修订）" in page and 'id="console-heading"' in page
    chair = browser.get(f"/hearings/{hearing.slug}/chair").get_data(as_text=True)
    assert "李华" in chair and 'id="timer"' in chair
    types = db.session.scalars(select(HearingEvent.type).order_by(HearingEvent.seq)).all()
    assert types == ["speaker_changed", "timer", "timer", "note_created", "note_updated"]
    assert browser.post_form(f"{base}/end").status_code == 302
    db.session.refresh(hearing)
    assert hearing.status == "held"


def test_after_the_hearing_the_live_page_only_reads(hearing, recorder, make_client):
    live.post_note(hearing, recorder, "会中记录")
    live.end_hearing(hearing, recorder)
    db.session.commit()
    browser = make_client()
    browser.login(recorder)
    page = browser.get(f"/hearings/{hearing.slug}/live").get_data(as_text=True)
    assert "会中记录" in page and f'href="/hearings/{hearing.slug}/record"' in page
    assert 'id="console-heading"' not in page and 'class="edit-note-form"' not in page


def test_http_changes_reach_socket_observers(hearing, recorder, make_observer, live_client,
                                             make_client):
    observer = live_client(make_observer(hearing), hearing)
    observer.get_received("/hearings")
    browser = make_client()
    browser.login(recorder)
    browser.post_form(f"/hearings/{hearing.slug}/live/notes", {"body": "无脚本发出的记录"})
    (created,) = received(observer, "note_created")
    assert created["payload"]["body"] == "无脚本发出的记录"


def test_deputy_observation_form(hearing, make_observer, make_client):
    deputy = make_observer(hearing)
    browser = make_client()
    browser.login(deputy)
    browser.post_form(f"/hearings/{hearing.slug}/live/notes",
                      {"kind": "question", "visibility": "private", "body": "请问收费依据？"})
    note = db.session.scalar(select(HearingNote))
    assert (note.kind, note.visibility, note.author_id) == ("question", "staff", deputy.id)
    refused = browser.post_form(f"/hearings/{hearing.slug}/live/notes",
                                {"kind": "record", "body": "代表写记录"}, follow_redirects=True)
    assert "Only the recorder and staff write the record." in refused.get_data(as_text=True)


def test_fanout_benchmark_delivers_every_note(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "MINYI_BENCH_CACHE": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    process = subprocess.run([sys.executable, "-m", "benchmarks", "fanout", "--smoke", "--json"],
                             cwd=repo, env=env, capture_output=True, text=True, timeout=300,
                             check=False)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    figures = json.loads(process.stdout.strip().splitlines()[-1])
    assert figures["lost"] == 0 and figures["duplicates"] == 0
    scenarios = figures["scenarios"]
    assert [s["server_processes"] for s in scenarios.values()] == [1, 2]
    for scenario in scenarios.values():
        assert scenario["connected"] == scenario["observers"] == 20
        assert scenario["receipts"] == 20 * scenario["notes"]
        assert scenario["lost"] == 0 and scenario["duplicates"] == 0
        assert 0 < scenario["p50_ms"] <= scenario["p99_ms"] <= scenario["max_ms"]
        assert scenario["server_cpu_ms_per_note"] > 0
