"""A burst of comments at twice the measured capacity: quick refusals, no timeouts, none lost.

One gunicorn worker (`-k gevent`, as deployed) serves `app:create_app()` over a copy of the
intake benchmark's seeded SQLite database (the 120-article draft open for comment, one
account per client session), rate limits off so that only load shedding refuses. First the
capacity is measured: closed-loop clients post comments as fast as they are answered, and
the accepted comments per second are the capacity. Then an open-loop generator sends comments
at twice that rate for 60 s (10 s with --quick), whatever the answers: every request has 10 s
to be answered. Each answer is counted as accepted (the redirect to its receipt), rejected
(503 from load shedding, or 429), or an error; a request without an answer in 10 s timed out.
Afterwards every accepted submission key is looked up in the database (`lost` must be 0), and
so is every key sent, to count comments stored although their answer never arrived.

The same burst is then sent to a server without load shedding (`MINYI_MAX_INFLIGHT=0`,
`MINYI_SHED_MAX_WAIT_MS=0`; 20 s at most) for comparison. The load generator runs on the
same cores as the server.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import resource
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import common

#: client processes, sessions per process, closed-loop tasks per process, seconds
SIZES = {
    "smoke": {"processes": 1, "sessions": 4, "closed": 8, "capacity_s": 2.0, "burst_s": 3.0,
              "unbounded_s": 0.0},
    "quick": {"processes": 2, "sessions": 8, "closed": 8, "capacity_s": 4.0, "burst_s": 10.0,
              "unbounded_s": 10.0},
    "full": {"processes": 2, "sessions": 8, "closed": 8, "capacity_s": 10.0, "burst_s": 60.0,
             "unbounded_s": 20.0},
}
#: the burst rate as a multiple of the capacity
OVERLOAD = 2.0
#: seconds a request may wait for its answer
TIMEOUT_S = 10.0
#: seconds a log-in or form read before the load may take
SETUP_TIMEOUT_S = 120.0
#: requests under way per process in the bounded server (the default of MINYI_MAX_INFLIGHT)
BOUND = 32
#: the bounded server's limit on the time requests wait for their turn (the default)
MAX_WAIT_MS = 500
ANCHORS = ("art-3", "art-5", "art-18", "art-40", "art-41", "art-77", "art-90", "art-101")
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Tally:
    """What the clients saw: latencies of the answers by outcome, and the keys sent."""

    accepted: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    accepted_ms: list[float] = field(default_factory=list)
    rejected_ms: list[float] = field(default_factory=list)
    rejected_503: int = 0
    rejected_429: int = 0
    timed_out: int = 0
    errors: int = 0
    first_error: str = ""
    late_starts: int = 0
    client_cpu_s: float = 0.0

    def add(self, other: Tally) -> None:
        for name in ("accepted", "sent", "accepted_ms", "rejected_ms"):
            getattr(self, name).extend(getattr(other, name))
        for name in ("rejected_503", "rejected_429", "timed_out", "errors", "late_starts",
                     "client_cpu_s"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.first_error = self.first_error or other.first_error


@dataclass
class Job:
    """What one client process does: log in its sessions, then post closed- or open-loop."""

    base: str
    emails: list[str]
    seconds: float
    #: open loop: requests per second from this process; 0 means closed loop
    rate: float
    closed_tasks: int
    seed: int


def _form(rng, key: str, csrf: str) -> dict[str, str]:
    stance = rng.choice(("support", "oppose", "suggest"))
    return {"csrf_token": csrf, "clause": rng.choice(ANCHORS), "stance": stance,
            "body": common.comment_body(rng), "submission_key": key,
            "proposed_wording": common.proposed_wording(rng) if stance == "suggest" else "",
            "region": rng.choice(common.REGIONS), "sector": rng.choice(common.SECTORS)}


async def _session(job: Job, email: str):
    """Log in through the real form; return the session and its CSRF token."""
    import aiohttp

    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.CookieJar(unsafe=True),
        timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
    # setting up is not measured: a log-in hashes the password, slow on a busy machine
    setup = aiohttp.ClientTimeout(total=SETUP_TIMEOUT_S)
    page = await (await session.get(job.base + "/login", timeout=setup)).text()
    async with session.post(job.base + "/login", allow_redirects=False, timeout=setup, data={
            "csrf_token": _CSRF.search(page).group(1), "email": email,
            "password": common.PASSWORD}) as answer:
        if answer.status != 302:
            raise RuntimeError(f"login of {email} answered {answer.status}")
    form = await (await session.get(
        f"{job.base}/drafts/{common.DRAFT_SLUG}/comment?clause=art-3", timeout=setup)).text()
    return session, _CSRF.search(form).group(1)


async def _post(job: Job, session, csrf: str, rng, tally: Tally) -> None:
    """Post one comment and count its outcome."""

    import aiohttp

    key = secrets.token_urlsafe(24)
    tally.sent.append(key)
    started = time.perf_counter()
    try:
        async with session.post(f"{job.base}/drafts/{common.DRAFT_SLUG}/comment",
                                data=_form(rng, key, csrf), allow_redirects=False) as answer:
            await answer.read()
            status, location = answer.status, answer.headers.get("Location", "")
    except TimeoutError:
        tally.timed_out += 1
        return
    except aiohttp.ClientError as error:
        tally.errors += 1
        tally.first_error = tally.first_error or repr(error)
        return
    elapsed = (time.perf_counter() - started) * 1000
    if status == 302 and "/submitted/" in location:
        tally.accepted.append(key)
        tally.accepted_ms.append(elapsed)
    elif status in (503, 429):
        setattr(tally, f"rejected_{status}", getattr(tally, f"rejected_{status}") + 1)
        tally.rejected_ms.append(elapsed)
    else:
        tally.errors += 1
        tally.first_error = tally.first_error or f"{status} {location}"


async def _load(job: Job) -> Tally:
    import asyncio
    import random

    rng = random.Random(job.seed)
    sessions = [await _session(job, email) for email in job.emails]  # one log-in at a time
    tally = Tally()
    deadline = time.monotonic() + job.seconds
    if job.rate:
        # open loop: the n-th request leaves at start + n / rate, answered or not
        tasks, start, n = [], time.monotonic(), 0
        while True:
            due = start + n / job.rate
            if due >= deadline:
                break
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.05:
                tally.late_starts += 1
            session, csrf = sessions[n % len(sessions)]
            tasks.append(asyncio.create_task(_post(job, session, csrf, rng, tally)))
            n += 1
        await asyncio.gather(*tasks)
    else:
        async def loop(index: int) -> None:
            session, csrf = sessions[index % len(sessions)]
            while time.monotonic() < deadline:
                await _post(job, session, csrf, rng, tally)

        await asyncio.gather(*(loop(i) for i in range(job.closed_tasks)))
    for session, _csrf in sessions:
        await session.close()
    return tally


def client_process(job: Job, ready, results) -> None:
    """Run one client process's load after every process is ready; report its tally."""
    import asyncio
    import traceback

    ready.wait()
    before = resource.getrusage(resource.RUSAGE_SELF)
    try:
        tally = asyncio.run(_load(job))
    except Exception:  # reported to the parent, which would otherwise wait in vain
        results.put(traceback.format_exc())
        return
    after = resource.getrusage(resource.RUSAGE_SELF)
    tally.client_cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    results.put(tally)


def drive(base: str, master: int, plan: dict, seconds: float, rate: float) -> tuple[Tally, float,
                                                                                    float]:
    """Run the client processes; return their tally, the wall seconds and the server CPU s."""
    from benchmarks.intake import worker_cpu_seconds

    context = multiprocessing.get_context("spawn")
    processes = plan["processes"]
    ready = context.Barrier(processes + 1)
    results = context.Queue()
    emails = [f"user{n + 1}@example.org" for n in range(processes * plan["sessions"])]
    jobs = [Job(base, emails[p::processes], seconds, rate / processes, plan["closed"], seed=p)
            for p in range(processes)]
    children = [context.Process(target=client_process, args=(job, ready, results))
                for job in jobs]
    for child in children:
        child.start()
    ready.wait(timeout=120)
    cpu_before, started = worker_cpu_seconds(master), time.monotonic()
    total = Tally()
    for _ in children:
        found = results.get(timeout=seconds + TIMEOUT_S + 120)
        if isinstance(found, str):
            raise RuntimeError(f"a client process failed:\n{found}")
        total.add(found)
    wall, cpu = time.monotonic() - started, worker_cpu_seconds(master) - cpu_before
    for child in children:
        child.join()
    return total, wall, cpu


def figures_of(tally: Tally, database: Path, wall: float, cpu: float,
               seconds: float) -> dict[str, Any]:
    """Return the counts, the check against the database and the latencies of a burst."""
    from benchmarks.intake import stored_keys

    stored = stored_keys(database, tally.sent)
    accepted = set(tally.accepted)
    answers = tally.accepted_ms + tally.rejected_ms
    return {
        "sent": len(tally.sent), "sent_per_s": round(len(tally.sent) / seconds, 1),
        "accepted": len(accepted), "accepted_per_s": round(len(accepted) / seconds, 1),
        "rejected_503": tally.rejected_503, "rejected_429": tally.rejected_429,
        "timed_out": tally.timed_out, "errors": tally.errors,
        "lost": len(accepted - stored),
        "stored_without_answer": len(stored - accepted),
        "p50_ms": common.percentiles(answers)["p50_ms"],
        "p99_ms": common.percentiles(answers)["p99_ms"],
        "accepted_p99_ms": common.percentiles(tally.accepted_ms)["p99_ms"],
        "rejected_p99_ms": common.percentiles(tally.rejected_ms)["p99_ms"],
        "late_starts": tally.late_starts,
        "wall_s": round(wall, 1), "server_cpu_s": round(cpu, 2),
        "client_cpu_s": round(tally.client_cpu_s, 2),
        **({"first_error": tally.first_error} if tally.first_error else {}),
    }


def burst(seeded: Path, scratch: Path, plan: dict, bound: int, seconds: float,
          rate: float | None) -> dict[str, Any]:
    """Serve a fresh copy of the database with one gevent worker bounded to `bound` requests
    and their wait to MAX_WAIT_MS (0: neither); measure the capacity when `rate` is None,
    then send the burst."""
    from benchmarks.intake import DB_FILE, gunicorn

    folder = scratch / f"bound-{bound}"
    folder.mkdir()
    shutil.copy(seeded, folder / DB_FILE)
    env = {"MINYI_DATA_DIR": str(folder), "MINYI_MAX_INFLIGHT": str(bound),
           "MINYI_SHED_MAX_WAIT_MS": str(MAX_WAIT_MS if bound else 0)}
    found: dict[str, Any] = {"bound": bound}
    with gunicorn("app:create_app()", "gevent", env) as (base, master):
        if rate is None:
            closed, wall, cpu = drive(base, master, plan, plan["capacity_s"], 0.0)
            found["capacity_per_s"] = round(len(closed.accepted) / plan["capacity_s"], 1)
            found["capacity_p99_ms"] = common.percentiles(closed.accepted_ms)["p99_ms"]
            found["capacity_errors"] = closed.errors + closed.timed_out
            found["capacity_server_cpu_ms_per_comment"] = round(
                cpu * 1000 / max(len(closed.accepted), 1), 2)
            rate = OVERLOAD * found["capacity_per_s"]
        found["rate_per_s"] = round(rate, 1)
        tally, wall, cpu = drive(base, master, plan, seconds, rate)
    found.update(figures_of(tally, folder / DB_FILE, wall, cpu, seconds))
    return found


def run(size: str) -> dict[str, Any]:
    """Measure the capacity, then the burst on the bounded and the unbounded server."""
    from benchmarks.intake import seeded_database

    plan = SIZES[size]
    seeded, _facts = seeded_database(plan["processes"] * plan["sessions"])
    with tempfile.TemporaryDirectory(prefix="minyi-burst-") as scratch:
        bounded = burst(seeded, Path(scratch), plan, BOUND, plan["burst_s"], None)
        results = {"bounded": bounded}
        if plan["unbounded_s"]:
            results["unbounded"] = burst(seeded, Path(scratch), plan, 0, plan["unbounded_s"],
                                         bounded["rate_per_s"])
    return {
        "benchmark": "burst", "size": size, "capacity_per_s": bounded["capacity_per_s"],
        "rate_per_s": bounded["rate_per_s"], "seconds": plan["burst_s"],
        "accepted": bounded["accepted"],
        "rejected": bounded["rejected_503"] + bounded["rejected_429"],
        "timed_out": bounded["timed_out"], "errors": bounded["errors"],
        "lost": sum(row["lost"] for row in results.values()),
        "p99_ms": bounded["p99_ms"], "cores": common.cpu_count(),
        "load_average": common.load_average(), "servers": results,
    }


def print_figures(figures: dict[str, Any]) -> None:
    """Print the capacity and one line per server."""
    print(f"\nburst ({figures['size']}): capacity {figures['capacity_per_s']:.1f} comments/s "
          f"(one gevent worker), burst at {figures['rate_per_s']:.1f}/s; {figures['cores']} "
          f"cores shared with the load generator (load average {figures['load_average']})")
    print(f"{'server':<10}{'s':>5}{'sent':>7}{'accept':>8}{'503':>7}{'429':>5}{'t/o':>6}"
          f"{'err':>5}{'lost':>5}{'p50 ms':>9}{'p99 ms':>9}{'acc p99':>9}{'rej p99':>9}"
          f"{'srv cpu':>8}")
    for name, row in figures["servers"].items():
        print(f"{name:<10}{row['wall_s']:>5.0f}{row['sent']:>7}{row['accepted']:>8}"
              f"{row['rejected_503']:>7}{row['rejected_429']:>5}{row['timed_out']:>6}"
              f"{row['errors']:>5}{row['lost']:>5}{row['p50_ms']:>9.1f}{row['p99_ms']:>9.1f}"
              f"{row['accepted_p99_ms']:>9.1f}{row['rejected_p99_ms']:>9.1f}"
              f"{row['server_cpu_s']:>8.1f}")
        if row.get("first_error"):
            print(f"  first error: {row['first_error']}")
    print("t/o: no answer within 10 s; lost: accepted but not in the database; srv cpu: CPU "
          "seconds of the gunicorn worker during the burst.")


def main(argv: list[str]) -> int:
    """Run the benchmark from the command line."""
    args = common.parse_args("burst", __doc__.splitlines()[0], argv)
    os.environ.pop("DATABASE_URL", None)
    figures = run(args.size)
    print_figures(figures)
    common.emit(figures, args.json)
    return 0 if figures["lost"] == 0 else 1
