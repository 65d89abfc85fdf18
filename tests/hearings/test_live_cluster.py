"""Live notes across processes, for real: two gunicorn processes (one gevent worker each) share
the test's database (SQLite, or PostgreSQL when MINYI_TEST_DATABASE_URL is set) and a Redis
message queue. Observers are python-socketio clients that follow a hearing the way live.js
does. An observer on one process receives within a second a note posted through the other;
and after dropped connections, a restarted process or a restarted Redis, every observer has
every note exactly once.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import redis
import socketio
from sqlalchemy import select
from support import PASSWORD, REPO

from app.extensions import db
from hearings.models import HearingNote

#: the machine's Redis (scripts/test makes sure it runs); each test uses a channel of its own
SHARED_REDIS_URL = os.environ.get("MINYI_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
#: seconds a process may take to start: importing the app is slow on a loaded machine
START_TIMEOUT_S = 120.0
#: seconds within which an observer must have a note posted through another process
DELIVERY_S = 1.0
#: seconds within which observers must have every note after a fault
SETTLE_S = 60.0
NAMESPACE = "/hearings"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Node:
    """One gunicorn process with one gevent worker, as in production."""

    def __init__(self, name: str, env: dict[str, str], folder: Path) -> None:
        self.name, self.env, self.folder = name, env, folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = (self.folder / f"{self.name}-{self.starts}.log").open("w")
        with log:
            self.process = subprocess.Popen(
                # no control socket: its default path is shared by every gunicorn on the machine
                [str(BIN / "gunicorn"), "-k", "gevent", "-w", "1", "--no-control-socket",
                 "--graceful-timeout", "2", "-b", f"127.0.0.1:{self.port}", "app:create_app()"],
                env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)

    async def ready(self) -> None:
        """Wait until the process answers, subscribed to the message queue."""
        deadline = time.monotonic() + START_TIMEOUT_S
        async with aiohttp.ClientSession() as http:
            while True:
                try:
                    async with http.get(self.url + "/login",
                                        timeout=aiohttp.ClientTimeout(total=5)) as response:
                        if response.status == 200:
                            return
                except (TimeoutError, aiohttp.ClientError):
                    pass
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} did not start:\n{self.log()[-3000:]}")
                await asyncio.sleep(0.2)

    def log(self) -> str:
        return (self.folder / f"{self.name}-{self.starts}.log").read_text(errors="replace")

    def kill(self) -> None:
        """Kill the whole process group at once (kill -9): no goodbye to the clients."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()


class RedisServer:
    """A redis-server of the test's own, which it may stop and start again on the same port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


class Relay:
    """A TCP relay in front of a process; cutting it drops every connection through it at
    once, as a broken network does."""

    def __init__(self, target: Node) -> None:
        self.target = target
        self.links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self.url = ""

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream, up_writer = await asyncio.open_connection("127.0.0.1", self.target.port)
        except OSError:
            writer.transport.abort()
            return
        link = (writer, up_writer)
        self.links.add(link)
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(upstream, writer))
        finally:
            self.links.discard(link)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.transport.abort()

    def cut(self) -> int:
        """Drop every connection through the relay; return how many there were."""
        links = list(self.links)
        for link in links:
            for writer in link:
                writer.transport.abort()
        return len(links)

    async def close(self) -> None:
        self.cut()
        self.server.close()
        await self.server.wait_closed()


class Observer:
    """A client that follows a hearing as live.js does: it applies each event once, in order
    of `seq`; on every (re)connect it asks for what came after the last event it applied, and
    a gap that does not fill within half a second is settled by asking again."""

    def __init__(self, name: str, url: str, hearing_id: int) -> None:
        self.name, self.url, self.hearing_id = name, url, hearing_id
        self.client = socketio.AsyncClient(reconnection=True, reconnection_delay=0.2,
                                           reconnection_delay_max=1.0)
        self.last_seq = 0
        self.waiting: dict[int, dict] = {}
        #: the bodies of the notes applied, in the order they were applied
        self.notes: list[str] = []
        self.arrived: dict[str, float] = {}
        #: events that arrived again after they had been applied (and were ignored)
        self.repeats = 0
        self.connects = 0
        self.catching_up = False
        self.gap: asyncio.TimerHandle | None = None
        self.tasks: set[asyncio.Task] = set()
        self.client.on("connect", self._connected, namespace=NAMESPACE)
        self.client.on("disconnect", self._disconnected, namespace=NAMESPACE)
        self.client.on("note_created", self._receive, namespace=NAMESPACE)

    async def connect(self) -> None:
        await self.client.connect(self.url, namespaces=[NAMESPACE], transports=["websocket"],
                                  auth={"hearing": self.hearing_id}, wait_timeout=60)

    async def close(self) -> None:
        if self.gap is not None:
            self.gap.cancel()
        await self.client.disconnect()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def _spawn(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _connected(self) -> None:
        self.connects += 1
        self.catching_up = False
        self._spawn(self.catch_up())

    async def _disconnected(self, reason: object = None) -> None:
        self.catching_up = False

    async def _receive(self, envelope: dict) -> None:
        if envelope["seq"] <= self.last_seq:
            self.repeats += 1
            return
        self.waiting[envelope["seq"]] = envelope
        self._drain()

    async def catch_up(self) -> None:
        if self.catching_up:
            return
        self.catching_up = True
        connects = self.connects
        try:
            answer = await self.client.call("catch_up", {"after_seq": self.last_seq},
                                            namespace=NAMESPACE, timeout=15)
        except (socketio.exceptions.TimeoutError, socketio.exceptions.SocketIOError):
            answer = None
        if connects != self.connects:  # meant for an earlier connection
            return
        self.catching_up = False
        if answer is None or not answer["ok"]:
            return
        for envelope in answer["events"]:
            if envelope["seq"] > self.last_seq:
                self.last_seq = envelope["seq"]
                self._apply(envelope)
            else:
                self.repeats += 1
        if answer["more"]:
            await self.catch_up()
            return
        self.last_seq = max(self.last_seq, answer["last_seq"])
        self._drain()

    def _drain(self) -> None:
        for seq in [seq for seq in self.waiting if seq <= self.last_seq]:
            del self.waiting[seq]
            self.repeats += 1
        while self.last_seq + 1 in self.waiting:
            envelope = self.waiting.pop(self.last_seq + 1)
            self.last_seq = envelope["seq"]
            self._apply(envelope)
        if self.waiting and self.gap is None:
            self.gap = asyncio.get_running_loop().call_later(0.5, self._gap_settled)
        elif not self.waiting and self.gap is not None:
            self.gap.cancel()
            self.gap = None

    def _gap_settled(self) -> None:
        self.gap = None
        self._spawn(self.catch_up())

    def _apply(self, envelope: dict) -> None:
        if envelope["type"] == "note_created":
            body = envelope["payload"]["body"]
            self.notes.append(body)
            self.arrived.setdefault(body, time.monotonic())


class Recorder:
    """The hearing's recorder, logged in once: posts notes through a process's plain form
    (the page without JavaScript) or over its socket."""

    def __init__(self, email: str, slug: str, hearing_id: int) -> None:
        self.email, self.slug, self.hearing_id = email, slug, hearing_id
        # unsafe: keep cookies for 127.0.0.1; one jar, so the session works on every process
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                          timeout=aiohttp.ClientTimeout(total=60))
        self.csrf = ""

    async def login(self, node: Node) -> None:
        async with self.http.get(node.url + "/login") as response:
            page = await response.text()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        async with self.http.post(node.url + "/login", allow_redirects=False, data={
                "email": self.email, "password": PASSWORD, "csrf_token": token}) as response:
            assert response.status == 302, await response.text()
        async with self.http.get(f"{node.url}/hearings/{self.slug}/live") as response:
            self.csrf = re.search(r'data-csrf="([^"]+)"', await response.text()).group(1)

    async def post_form(self, node: Node, body: str) -> None:
        """Post a note through the process's form; fail unless it was saved."""
        async with self.http.post(f"{node.url}/hearings/{self.slug}/live/notes",
                                  allow_redirects=False,
                                  data={"body": body, "csrf_token": self.csrf}) as response:
            assert response.status == 302, await response.text()
            # a saved note sends the browser to its anchor; a refusal back to the bare page
            assert "#note-" in response.headers["Location"], response.headers["Location"]

    async def socket_to(self, node: Node) -> socketio.AsyncClient:
        cookie = "; ".join(f"{c.key}={c.value}" for c in self.http.cookie_jar)
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(node.url, namespaces=[NAMESPACE], transports=["websocket"],
                             headers={"Cookie": cookie}, wait_timeout=60,
                             auth={"hearing": self.hearing_id, "csrf_token": self.csrf})
        return client

    async def close(self) -> None:
        await self.http.close()


@pytest.fixture
def hearing(app, make_hearing):
    """A hearing whose live notes are public, in the database the processes share."""
    return make_hearing(public_live=True)


@pytest.fixture
def start_cluster(app, hearing, tmp_path) -> Iterator:
    """Start gunicorn processes on the test's database and a Redis; always stop them."""
    nodes: list[Node] = []
    channel = f"minyi-test-{uuid.uuid4().hex}"

    def factory(redis_url: str, names: tuple[str, ...] = ("a", "b")) -> list[Node]:
        for name in names:
            env = dict(
                os.environ,
                DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                MINYI_DATA_DIR=str(tmp_path / f"node-{name}"),
                REDIS_URL=redis_url,
                MINYI_SOCKETIO_CHANNEL=channel,
                SECRET_KEY=app.config["SECRET_KEY"],
                MINYI_INDEXER_THREAD="0",
                MINYI_RATELIMIT="0",
            )
            node = Node(name, env, tmp_path)
            nodes.append(node)
            node.start()
        return nodes

    yield factory
    for node in nodes:
        node.kill()


def recorder_of(hearing) -> str:
    return db.session.get(type(hearing.recorder), hearing.recorder_id).email


async def until(condition, seconds: float) -> bool:
    """Wait until `condition()` holds or `seconds` pass; return whether it held."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def saved_notes(hearing) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(HearingNote.body).where(
        HearingNote.hearing_id == hearing.id).order_by(HearingNote.id)))


def test_a_note_posted_through_one_process_reaches_observers_of_the_other(
        hearing, start_cluster):
    a, b = start_cluster(SHARED_REDIS_URL)

    async def scenario() -> None:
        await asyncio.gather(a.ready(), b.ready())
        on_a = Observer("on-a", a.url, hearing.id)
        on_b = Observer("on-b", b.url, hearing.id)
        recorder = Recorder(recorder_of(hearing), hearing.slug, hearing.id)
        console = None
        try:
            await asyncio.gather(on_a.connect(), on_b.connect(), recorder.login(a))
            # Warm up both ways (first requests compile templates, open connections).
            await recorder.post_form(a, "预热：经由甲进程")
            console = await recorder.socket_to(b)
            answer = await console.call("post_note", {"body": "预热：经由乙进程"},
                                        namespace=NAMESPACE, timeout=30)
            assert answer["ok"], answer
            assert await until(lambda: len(on_a.notes) == len(on_b.notes) == 2, 30)

            # A → B: the plain form of process A; the observer of process B has it in 1 s.
            await recorder.post_form(a, "陈述人认为应当允许合格电池进户充电。")
            assert await until(lambda: "陈述人认为应当允许合格电池进户充电。" in on_b.notes,
                               DELIVERY_S), on_b.notes

            # B → A: over process B's socket; the observer of process A has it in 1 s.
            answer = await console.call("post_note", {"body": "物业服务企业应当配合。"},
                                        namespace=NAMESPACE, timeout=30)
            assert answer["ok"], answer
            assert await until(lambda: "物业服务企业应当配合。" in on_a.notes, DELIVERY_S), \
                on_a.notes

            assert await until(lambda: len(on_a.notes) == len(on_b.notes) == 4, 10)
            for observer in (on_a, on_b):
                assert observer.notes == saved_notes(hearing)
        finally:
            if console is not None:
                await console.disconnect()
            await asyncio.gather(on_a.close(), on_b.close(), recorder.close())

    asyncio.run(scenario())


def test_observers_have_every_note_once_after_dropped_connections_and_a_restarted_process(
        hearing, start_cluster):
    a, b = start_cluster(SHARED_REDIS_URL)
    expected: list[str] = []

    async def scenario() -> None:
        await asyncio.gather(a.ready(), b.ready())
        relay = Relay(a)
        await relay.start()
        direct = [Observer(f"a{n}", a.url, hearing.id) for n in range(3)]
        relayed = [Observer(f"relayed{n}", relay.url, hearing.id) for n in range(3)]
        on_b = [Observer(f"b{n}", b.url, hearing.id) for n in range(3)]
        observers = direct + relayed + on_b
        recorder = Recorder(recorder_of(hearing), hearing.slug, hearing.id)
        try:
            await asyncio.gather(*(o.connect() for o in observers), recorder.login(a))
            for n in range(36):
                body = f"第{n + 1}条记录：陈述人就电池进户充电发表意见。"
                await recorder.post_form(a, body)
                expected.append(body)
                if n == 8:  # the network under three observers of A breaks
                    assert relay.cut() == 3
                if n == 17:  # process B dies with three observers, and comes back
                    b.kill()
                    b.start()
                await asyncio.sleep(0.05)
            await b.ready()
            await recorder.post_form(b, "重启后经由乙进程的记录。")
            expected.append("重启后经由乙进程的记录。")

            assert await until(lambda: all(len(o.notes) >= len(expected) for o in observers),
                               SETTLE_S), {o.name: len(o.notes) for o in observers}
            await asyncio.sleep(1)  # anything doubled would arrive by now
            assert saved_notes(hearing) == expected
            for observer in observers:
                assert observer.notes == expected, observer.name
            # the faults happened: every relayed and every B observer connected again
            assert all(o.connects >= 2 for o in relayed + on_b)
            assert all(o.connects == 1 for o in direct)
        finally:
            await asyncio.gather(*(o.close() for o in observers), recorder.close())
            await relay.close()

    asyncio.run(scenario())


def test_notes_posted_while_redis_is_down_are_saved_and_delivered_when_it_is_back(
        hearing, start_cluster, tmp_path):
    queue = RedisServer(tmp_path)
    queue.start()
    try:
        a, b = start_cluster(queue.url)

        async def scenario() -> None:
            await asyncio.gather(a.ready(), b.ready())
            on_a = [Observer(f"a{n}", a.url, hearing.id) for n in range(2)]
            on_b = [Observer(f"b{n}", b.url, hearing.id) for n in range(2)]
            observers = on_a + on_b
            recorder = Recorder(recorder_of(hearing), hearing.slug, hearing.id)
            expected = ["开始前的记录。"]
            try:
                await asyncio.gather(*(o.connect() for o in observers), recorder.login(a))
                await recorder.post_form(a, expected[0])
                assert await until(lambda: all(o.notes == expected for o in observers), 30)

                queue.kill()
                during = [f"Redis 停止期间的第{n + 1}条记录。" for n in range(5)]
                for body in during:
                    started = time.monotonic()
                    await recorder.post_form(a, body)  # saved, and answered promptly
                    assert time.monotonic() - started < 10
                expected.extend(during)
                assert saved_notes(hearing) == expected
                # A's own observers have them at once; B's cannot while the queue is down
                assert await until(lambda: all(o.notes == expected for o in on_a), 10)
                await asyncio.sleep(1)
                assert all(o.notes == expected[:1] for o in on_b)

                queue.start()
                assert await until(lambda: all(o.notes == expected for o in on_b), 20), \
                    [o.notes for o in on_b]
                # delivered by the processes, not by a reconnection's catch-up
                assert all(o.connects == 1 for o in observers)

                console = await recorder.socket_to(b)
                answer = await console.call("post_note", {"body": "Redis 恢复后的记录。"},
                                            namespace=NAMESPACE, timeout=30)
                await console.disconnect()
                assert answer["ok"], answer
                expected.append("Redis 恢复后的记录。")
                assert await until(lambda: all(len(o.notes) >= len(expected)
                                               for o in observers), 10)
                await asyncio.sleep(1)
                for observer in observers:
                    assert observer.notes == expected, observer.name
            finally:
                await asyncio.gather(*(o.close() for o in observers), recorder.close())

        asyncio.run(scenario())
    finally:
        queue.kill()
