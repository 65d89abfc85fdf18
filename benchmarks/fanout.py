"""Live-note fanout: post → receipt latency at every observer of a hearing, and lost notes.

Two scenarios, as in production: ONE gunicorn process with one gevent worker (`gunicorn -k
gevent -w 1 --worker-connections 4000 'app:create_app()'`), and TWO such processes sharing the
database and a Redis message queue (REDIS_URL; a channel of the run's own), the observers
spread over both and the notes posted alternately through each. WebSocket is served by
simple-websocket, which python-engineio uses under gevent when gevent-websocket is not
installed (that package is unmaintained), so the plain gevent worker class is the right one.
The database is SQLite; Redis is the machine's (`--redis URL`, default redis://127.0.0.1:6379/0).

N observers (python-socketio asyncio clients over WebSocket, anonymous members of the public
following a hearing whose live notes are public) are spread over client processes, so they
do not share one interpreter; the machine's cores are shared by the servers and the clients,
so client-side decoding is part of the measured latency. A recorder logs in, connects with
its CSRF token and posts notes at a steady rate over the socket. Every observer notes when
each note arrives; latency = arrival − the moment the recorder sent it (one clock: the
machine's monotonic clock). An observer that is disconnected catches up with `after_seq`
when it reconnects, as the browser client does. After the last note the observers wait until
they have every note, or until nothing has arrived for 10 s: `lost` counts the (observer,
note) pairs still missing then, `duplicates` notes received twice; both must be 0. The CPU
time of the server workers and of the observers is reported per note, with the load average.
Goals: p99 ≤ 100 ms with 1,000 observers on one process, p99 ≤ 250 ms with 5,000 on two;
--quick uses 300 and 500 (under a minute unless the machine is loaded). `--only one|two`,
`--observers N` and `--processes N` (client processes) run one scenario or another size.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

from benchmarks import common

#: per size, the two scenarios: (name, server processes, observers, notes, notes a second,
#: client processes). A client process keeps up with about 500 observers on a loaded machine:
#: with 1,000 or more its event loop falls so far behind that its clients miss the server's
#: pings and give up their connections.
SIZES = {
    "smoke": [("one process", 1, 20, 10, 5.0, 1), ("two processes", 2, 20, 10, 5.0, 1)],
    "quick": [("one process", 1, 300, 16, 2.0, 2), ("two processes", 2, 500, 16, 2.0, 2)],
    "full": [("one process", 1, 1000, 60, 2.0, 2), ("two processes", 2, 5000, 40, 1.0, 10)],
}
#: p99 goal by the number of server processes
GOAL_P99_MS = {1: 100.0, 2: 250.0}
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
#: after the last note: observers wait until they have every note, or until none has arrived
#: for QUIET_S seconds (what is missing then is lost), at most DRAIN_S seconds
QUIET_S = 10.0
DRAIN_S = 120.0
CONNECT_TIMEOUT_S = 180.0
#: seconds the server may take to start: importing the app takes long on a loaded machine
START_TIMEOUT_S = 180.0
#: connections an observer process opens at once
CONNECT_CONCURRENCY = 25
SERVER_MODE = ("gunicorn -k gevent -w 1 (simple-websocket) per process, SQLite; two processes: "
               "Redis message queue")
MARKER = "bench-note-"


# --- the server ------------------------------------------------------------------------------


def seed(data_dir: Path, hearings: int) -> dict:
    """Create the schema, a recorder, a draft and `hearings` hearings whose live notes are
    public (one per scenario)."""
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from app import create_app
    from app.extensions import db
    from app.models import User, utcnow
    from drafts import services as drafts
    from hearings.models import Hearing

    app = create_app({"DATA_DIR": str(data_dir), "SEARCH_INDEXER_THREAD": False})
    with app.app_context():
        upgrade(directory=str(common.REPO / "app" / "migrations"))
        recorder = User(email="recorder@bench.minyi", name="记录人", role="staff",
                        password_hash=generate_password_hash(common.PASSWORD, method="scrypt"))
        db.session.add(recorder)
        db.session.flush()
        text = (common.REPO / "app" / "demo" / "draft.txt").read_text(encoding="utf-8")
        draft = drafts.create_draft("电动自行车停放充电管理条例（草案）", text, user=recorder)
        rows = [Hearing(slug=f"fanout-{n}", draft_id=draft.id,
                        version_id=draft.current_version_id, title=f"推送基准听证会 {n}",
                        starts_at=utcnow() - timedelta(minutes=5), status="announced",
                        public_live=True, recorder_id=recorder.id) for n in range(hearings)]
        db.session.add_all(rows)
        db.session.commit()
        facts = {"hearings": [(h.id, h.slug) for h in rows], "recorder": recorder.email}
        db.engine.dispose()
    return facts


def copy_database(source: Path, target: Path) -> None:
    """Copy a SQLite database with what its write-ahead log still holds."""
    with sqlite3.connect(source) as original, sqlite3.connect(target) as copy:
        original.backup(copy)
    original.close()
    copy.close()


def start_server(data_dir: Path, port: int, redis_url: str | None = None,
                 channel: str | None = None) -> subprocess.Popen:
    """Start gunicorn with one gevent worker (on Redis when given); do not wait for it."""
    env = dict(os.environ, MINYI_DATA_DIR=str(data_dir), MINYI_INDEXER_THREAD="0",
               MINYI_RATELIMIT="0", SECRET_KEY="minyi-benchmark")
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    if redis_url:
        env.update(REDIS_URL=redis_url, MINYI_SOCKETIO_CHANNEL=channel or "")
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    with (data_dir / f"server-{port}.log").open("w") as log:  # a file: nobody reads a pipe
        return subprocess.Popen(
            # no control socket: its default path is shared by every gunicorn on the machine
            [gunicorn, "-k", "gevent", "-w", "1", "--worker-connections", "6000",
             "--graceful-timeout", "5", "--no-control-socket", "-b", f"127.0.0.1:{port}",
             "app:create_app()"],
            env=env, cwd=common.REPO, stdout=log, stderr=subprocess.STDOUT)


def wait_until_up(data_dir: Path, port: int, process: subprocess.Popen) -> None:
    """Wait until a server answers; importing the app takes long on a loaded machine."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("the server did not start: " + (
                    data_dir / f"server-{port}.log").read_text()[-2000:]) from None
            time.sleep(0.2)


def stop_servers(processes: list[subprocess.Popen]) -> None:
    """Stop the servers, all at once."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def recorder_login(base: str, email: str, slug: str) -> tuple[str, str]:
    """Log the recorder in; return its session cookie header and the live page's CSRF token."""
    import requests

    session = requests.Session()
    page = session.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = session.post(f"{base}/login", data={"email": email, "password": common.PASSWORD,
                                                   "csrf_token": token}, timeout=10)
    response.raise_for_status()
    live = session.get(f"{base}/hearings/{slug}/live", timeout=10).text
    csrf = re.search(r'data-csrf="([^"]+)"', live).group(1)
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    return cookie, csrf


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pid(master: int) -> int:
    """Return the process id of gunicorn's (only) worker."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0])


# --- observers, in their own processes -------------------------------------------------------


async def _observers(bases: list[str], hearing: int, offset: int, count: int, notes: int,
                     ready, stop) -> dict:
    import aiohttp
    import socketio

    receipts: list[tuple[int, str, float]] = []
    totals = {"connected": 0, "failed": 0, "reconnects": 0, "duplicates": 0, "caught_up": 0}
    clients: list = []
    tasks: set[asyncio.Task] = set()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    # One HTTP session for all the process's clients, without aiohttp's default cap of 100
    # connections: every WebSocket holds one for the whole run.
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def observe(index: int) -> None:
        client = socketio.AsyncClient(reconnection=True, reconnection_delay=0.5,
                                      http_session=http)
        seen: set[int] = set()
        state = {"last_seq": 0, "connects": 0}

        def receive(envelope: dict, arrived: float) -> None:
            if envelope["seq"] in seen:
                totals["duplicates"] += 1
                return
            seen.add(envelope["seq"])
            state["last_seq"] = max(state["last_seq"], envelope["seq"])
            if envelope["type"] == "note_created":
                receipts.append((index, envelope["payload"]["body"], arrived))

        async def catch_up() -> None:
            # Ask until answered, page by page; a connection that drops meanwhile asks again
            # when it is back.
            more = True
            while more and client.connected:
                try:
                    answer = await client.call("catch_up", {"after_seq": state["last_seq"]},
                                               namespace="/hearings", timeout=30)
                except socketio.exceptions.SocketIOError:
                    await asyncio.sleep(0.5)
                    continue
                for envelope in answer["events"]:
                    totals["caught_up"] += envelope["seq"] not in seen
                    receive(envelope, time.monotonic())
                more = answer["more"]

        @client.on("note_created", namespace="/hearings")
        async def note_created(envelope: dict) -> None:
            receive(envelope, time.monotonic())

        @client.on("connect", namespace="/hearings")
        async def connected() -> None:
            state["connects"] += 1
            if state["connects"] > 1:
                totals["reconnects"] += 1
                # not awaited here: the answer comes through the loop this handler holds
                task = asyncio.ensure_future(catch_up())
                tasks.add(task)
                task.add_done_callback(tasks.discard)

        async with gate:
            try:
                await client.connect(bases[(offset + index) % len(bases)],
                                     namespaces=["/hearings"], transports=["websocket"],
                                     auth={"hearing": hearing}, wait_timeout=60)
            except socketio.exceptions.ConnectionError:
                totals["failed"] += 1
                return
        totals["connected"] += 1
        clients.append(client)

    await asyncio.gather(*(observe(i) for i in range(count)))
    ready.put(totals["connected"])
    cpu_at_start = time.process_time()
    while not stop.is_set():
        await asyncio.sleep(0.1)
    # Drain: a loaded machine may still be delivering, and observers whose connection
    # dropped may still be connecting again; wait for every note, or for quiet with every
    # observer connected.
    started = last_change = time.monotonic()
    have = len(receipts)
    while have < count * notes and time.monotonic() - started < DRAIN_S:
        await asyncio.sleep(0.2)
        if len(receipts) != have or tasks:
            have, last_change = len(receipts), time.monotonic()
        elif (time.monotonic() - last_change > QUIET_S
              and all(client.connected for client in clients)):
            break
    cpu = time.process_time() - cpu_at_start
    await asyncio.gather(*(client.disconnect() for client in clients))
    await asyncio.gather(*tasks, return_exceptions=True)
    await http.close()
    return {"receipts": receipts, "drain_s": time.monotonic() - started, "cpu_s": cpu, **totals}


def observer_process(bases: list[str], hearing: int, offset: int, count: int, notes: int,
                     ready, stop, results) -> None:
    """Run `count` observers, spread over the servers, until told to stop; send back what
    they received."""
    outcome = asyncio.run(_observers(bases, hearing, offset, count, notes, ready, stop))
    outcome["receipts"] = [(offset + i, body, at) for i, body, at in outcome["receipts"]]
    results.put(outcome)


# --- the recorder -----------------------------------------------------------------------------


async def record(bases: list[str], hearing: int, cookie: str, csrf: str, notes: int,
                 rate: float) -> tuple[dict[str, float], int]:
    """Post `notes` notes at `rate` a second, through each server in turn; return when each
    note the server confirmed was sent, by its text, and how many went unconfirmed."""
    import socketio

    clients = []
    for base in bases:
        client = socketio.AsyncClient()
        await client.connect(base, namespaces=["/hearings"], transports=["websocket"],
                             headers={"Cookie": cookie}, auth={"hearing": hearing,
                                                               "csrf_token": csrf})
        clients.append(client)
    sent: dict[str, float] = {}
    answers = []
    started = time.monotonic()
    for n in range(notes):
        await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        body = f"{MARKER}{n:05d} 陈述人认为应当允许合格的可拆卸电池进户充电。"
        sent[body] = time.monotonic()
        # a generous timeout: an overloaded machine answers late, which the figures show
        answers.append(asyncio.ensure_future(clients[n % len(clients)].call(
            "post_note", {"body": body}, namespace="/hearings", timeout=180)))
    # An overloaded server may drop the recorder's connection (no answer to its pings): such
    # notes are counted as unconfirmed, and not expected from the observers.
    results = await asyncio.gather(*answers, return_exceptions=True)
    await asyncio.gather(*(client.disconnect() for client in clients))
    refused = [r for r in results if isinstance(r, dict) and not r.get("ok")]
    if refused:
        raise RuntimeError(f"the server refused notes: {refused[:3]}")
    confirmed = {body: at for (body, at), result in zip(sent.items(), results, strict=True)
                 if isinstance(result, dict)}
    return confirmed, notes - len(confirmed)


# --- the run ----------------------------------------------------------------------------------


def run_scenario(servers: list[tuple[str, subprocess.Popen]], hearing: tuple[int, str],
                 recorder: str, observers: int, notes: int, rate: float, processes: int) -> dict:
    """Connect the observers to the servers, post the notes, and return the figures."""
    bases = [base for base, _process in servers]
    context = multiprocessing.get_context("spawn")
    ready, results, stop = context.Queue(), context.Queue(), context.Event()
    workers = []
    try:
        started = time.monotonic()
        share = -(-observers // processes)
        for p in range(processes):
            count = min(share, observers - p * share)
            worker = context.Process(target=observer_process, args=(
                bases, hearing[0], p * share, count, notes, ready, stop, results))
            worker.start()
            workers.append(worker)
        connected = sum(ready.get(timeout=CONNECT_TIMEOUT_S) for _ in workers)
        connect_s = time.monotonic() - started
        print(f"{connected}/{observers} observers connected to {len(servers)} server "
              f"process(es) in {connect_s:.1f} s ({processes} client processes)", flush=True)
        cookie, csrf = recorder_login(bases[0], recorder, hearing[1])
        server_workers = [worker_pid(process.pid) for _base, process in servers]
        server_cpu = sum(cpu_seconds(pid) for pid in server_workers)
        sent, unconfirmed = asyncio.run(record(bases, hearing[0], cookie, csrf, notes, rate))
        stop.set()
        outcomes = [results.get(timeout=DRAIN_S + 60) for _ in workers]
        server_cpu = sum(cpu_seconds(pid) for pid in server_workers) - server_cpu
        clients_cpu = sum(o["cpu_s"] for o in outcomes)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.terminate()

    latencies = [(at - sent[body]) * 1000 for outcome in outcomes
                 for _index, body, at in outcome["receipts"] if body in sent]
    delivered = {(index, body) for outcome in outcomes for index, body, _at in outcome["receipts"]
                 if body in sent}
    stats = common.percentiles(latencies)
    figures = {
        "server_processes": len(servers),
        "observers": observers,
        "connected": connected,
        "client_processes": processes,
        "connect_s": round(connect_s, 1),
        "notes": notes,
        "rate_per_s": rate,
        "receipts": len(latencies),
        "p50_ms": stats["p50_ms"],
        "p95_ms": stats["p95_ms"],
        "p99_ms": stats["p99_ms"],
        "max_ms": round(max(latencies), 3) if latencies else 0.0,
        "unconfirmed": unconfirmed,
        "lost": observers * len(sent) - len(delivered),
        "duplicates": sum(o["duplicates"] for o in outcomes),
        "reconnects": sum(o["reconnects"] for o in outcomes),
        "caught_up": sum(o["caught_up"] for o in outcomes),
        "drain_s": round(max(o["drain_s"] for o in outcomes), 1),
        "goal_p99_ms": GOAL_P99_MS[len(servers)],
        # CPU time spent per note while the notes went out: the servers' workers together,
        # and all observer processes together (they share the machine's cores with them)
        "server_cpu_ms_per_note": round(server_cpu * 1000 / notes, 1),
        "server_cpu_us_per_receipt": round(server_cpu * 1e6 / max(len(latencies), 1), 1),
        "clients_cpu_ms_per_note": round(clients_cpu * 1000 / notes, 1),
        "load_average": common.load_average(),
    }
    figures["within_goal"] = (figures["p99_ms"] <= figures["goal_p99_ms"] and figures["lost"] == 0
                              and unconfirmed == 0)
    print(f"{notes} notes at {rate}/s to {connected} observers on {len(servers)} server "
          f"process(es): p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms, "
          f"p99 {figures['p99_ms']:.1f} ms, max {figures['max_ms']:.1f} ms; "
          f"lost {figures['lost']}, duplicates {figures['duplicates']}, unconfirmed {unconfirmed}, "
          f"reconnects {figures['reconnects']} ({figures['caught_up']} events caught up)")
    print(f"CPU per note: servers {figures['server_cpu_ms_per_note']} ms "
          f"({figures['server_cpu_us_per_receipt']} µs per receipt), observers "
          f"{figures['clients_cpu_ms_per_note']} ms; load average {figures['load_average']}",
          flush=True)
    return figures


def main(argv: list[str]) -> int:
    """Print the figures; with --json the last line is one JSON object of them."""

    def extra(parser) -> None:
        parser.add_argument("--redis", default=os.environ.get("MINYI_BENCH_REDIS_URL",
                                                              DEFAULT_REDIS_URL),
                            help="the Redis of the two-process scenario")
        parser.add_argument("--only", choices=("one", "two"),
                            help="run only the one-process or the two-process scenario")
        parser.add_argument("--observers", type=int, help="override the number of observers")
        parser.add_argument("--processes", type=int, help="override the client processes")

    args = common.parse_args("fanout", __doc__.split("\n")[0], argv, extra)
    scenarios = [s for s in SIZES[args.size]
                 if args.only is None or s[1] == {"one": 1, "two": 2}[args.only]]
    scenarios = [(name, servers, args.observers or observers, notes, rate,
                  args.processes or processes)
                 for name, servers, observers, notes, rate, processes in scenarios]
    channel = f"minyi-bench-fanout-{uuid.uuid4().hex}"

    # The seeded database (migrations, a draft, a hearing per scenario) is built once and
    # copied for each run.
    cache, facts, _seconds = common.cached_folder(
        f"fanout-{common.schema_revision()}", lambda folder: seed(folder, len(SIZES["full"])))
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="minyi-bench-fanout.") as folder:
        data_dir = Path(folder)
        copy_database(cache / "minyi.sqlite3", data_dir / "minyi.sqlite3")
        # Every server starts at once: starting is slow on a loaded machine.
        servers: list[list[tuple[str, subprocess.Popen]]] = []
        try:
            for _name, count, *_rest in scenarios:
                group = []
                for _ in range(count):
                    port = common.free_port()
                    process = start_server(data_dir, port, args.redis if count > 1 else None,
                                           channel)
                    group.append((f"http://127.0.0.1:{port}", process))
                servers.append(group)
            for group in servers:
                for base, process in group:
                    wait_until_up(data_dir, int(base.rsplit(":", 1)[1]), process)
            for (name, count, observers, notes, rate, processes), group in zip(
                    scenarios, servers, strict=True):
                hearing = facts["hearings"][count - 1]
                results[name] = run_scenario(group, hearing, facts["recorder"], observers,
                                             notes, rate, processes)
        finally:
            stop_servers([process for group in servers for _base, process in group])

    figures = {
        "server": SERVER_MODE,
        "scenarios": results,
        "lost": sum(r["lost"] for r in results.values()),
        "duplicates": sum(r["duplicates"] for r in results.values()),
        "within_goal": all(r["within_goal"] for r in results.values()),
    }
    common.emit(figures, args.json)
    return 0 if figures["lost"] == 0 and figures["duplicates"] == 0 else 1
