"""Comment intake through the real HTTP stack: accepted comments per second and latency.

gunicorn serves `app:create_app()` with one worker (`-k gevent`, then `-k gthread --threads
8`) on 127.0.0.1, over a copy (in a temporary MINYI_DATA_DIR) of a SQLite database migrated
as `minyi db upgrade` does it, holding the fictional 120-article draft open for comment
(pre-moderation) and one account per client thread; that database is made once per schema
revision and kept in the benchmark cache. Rate limits are off (MINYI_RATELIMIT=0).
Client processes of `requests` threads each log in once and GET the comment form (its CSRF
token and submission key), then POST comments as fast as the server takes them: the real CSRF
token, a fresh submission key per comment (made like the server makes them), the full
validation, the moderation queue and the commit. A comment counts as accepted when the
answer is the redirect to its receipt page; afterwards every accepted submission key is
looked up in the database (`lost` must be 0).

The baseline, measured in the same run under the same gunicorn configuration and the same
load generator, is a bare Flask endpoint defined here (`bare_app`) that inserts the same row
into the same kind of SQLite database (same schema, same pragmas) with no CSRF, forms,
validation, sessions or ORM: `ratio` = comments_per_s / baseline comments_per_s.
The load generator runs on the same cores as the server and takes a good share of them.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import common

#: client processes × threads, seconds of load per target, worker classes tried
SIZES = {
    "smoke": {"processes": 1, "threads": 2, "seconds": 1.0, "workers": ("gthread",)},
    "quick": {"processes": 2, "threads": 4, "seconds": 3.0, "workers": ("gevent", "gthread")},
    "full": {"processes": 2, "threads": 8, "seconds": 20.0, "workers": ("gevent", "gthread")},
}
WORKER_OPTIONS = {
    "gevent": ["-k", "gevent", "--worker-connections", "1000"],
    "gthread": ["-k", "gthread", "--threads", "8"],
}
GOAL_PER_S = 500
SLUG = common.DRAFT_SLUG
#: bump when the seeded data changes, so cached databases are made again
SEED_FORMAT = 1
#: the units the clients comment on
ANCHORS = ("art-3", "art-5", "art-18", "art-40", "art-41", "art-77", "art-90", "art-101")
DB_FILE = "minyi.sqlite3"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_KEY = re.compile(r'name="submission_key"[^>]*value="([^"]+)"')


# --- the databases ------------------------------------------------------------------------


def seeded_database(users: int) -> tuple[Path, dict]:
    """Return a migrated database with `users` accounts and the open draft, and its ids; it
    is made once per schema revision and kept in the benchmark cache."""
    folder, facts, seconds = common.cached_folder(
        f"intake-{users}-rev{common.schema_revision()}-f{SEED_FORMAT}",
        lambda scratch: prepare(scratch, users))
    if seconds is not None:
        print(f"seeded a database with {users} accounts in {seconds:.1f} s → {folder}")
    return folder / DB_FILE, facts


def prepare(folder: Path, users: int) -> dict:
    """Make the database in `folder`; return the ids the bare endpoint inserts."""
    import random

    from drafts import services

    with common.new_database(folder, users, random.Random(users)) as (draft, _staff):
        return {"draft_id": draft.id, "version_id": draft.current_version_id,
                "clauses": {anchor: services.clause_by_anchor(draft.current_version, anchor).id
                            for anchor in ANCHORS}}


def stored_keys(database: Path, keys: list[str]) -> set[str]:
    """Return which of the submission keys are in the comments table."""
    found: set[str] = set()
    with closing(sqlite3.connect(database)) as connection:
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(row[0] for row in connection.execute(
                f"SELECT submission_key FROM comments WHERE submission_key IN ({marks})", chunk))
    return found


# --- the bare baseline --------------------------------------------------------------------

_INSERT = (
    "INSERT INTO comments (draft_id, version_id, clause_id, author_id, guest_name, guest_email,"
    " stance, body, proposed_wording, region, sector, age_band, status, source,"
    " moderation_reason, submission_key, support_count, created_at)"
    " VALUES (?, ?, ?, ?, '', '', ?, ?, ?, ?, ?, ?, 'pending', 'online', '', ?, 0,"
    " strftime('%Y-%m-%d %H:%M:%f', 'now'))"
)


def bare_app():
    """Return the baseline: a Flask endpoint that inserts the comment row and redirects."""
    from flask import Flask, redirect, request

    database = os.environ["MINYI_BENCH_DB"]
    local = threading.local()
    app = Flask(__name__)

    def connection() -> sqlite3.Connection:
        if getattr(local, "connection", None) is None:
            local.connection = sqlite3.connect(database, timeout=10)
            for pragma in ("journal_mode=WAL", "busy_timeout=10000", "foreign_keys=ON",
                           "synchronous=NORMAL"):
                local.connection.execute(f"PRAGMA {pragma}")
        return local.connection

    @app.post("/comment")
    def comment():
        form = request.form
        with connection() as db:  # one transaction, committed on leaving
            db.execute(_INSERT, (
                int(form["draft_id"]), int(form["version_id"]), int(form["clause_id"]),
                int(form["author_id"]), form["stance"], form["body"],
                form.get("proposed_wording", ""), form.get("region", ""),
                form.get("sector", ""), form.get("age_band", ""), form["submission_key"]))
        return redirect(f"/submitted/{form['submission_key']}")

    return app


# --- the server ---------------------------------------------------------------------------


@contextmanager
def gunicorn(target: str, worker: str, env: dict[str, str], processes: int = 1):
    """Serve `target` with gunicorn workers of the given class; yield its base URL and pid."""
    port = common.free_port()
    # keep-alive as behind a proxy: gunicorn's 2 s default made it close connections that
    # client threads starved of CPU on a busy machine were about to reuse; no control socket,
    # whose default path every gunicorn on the machine shares
    command = [sys.executable, "-m", "gunicorn", "-w", str(processes), *WORKER_OPTIONS[worker],
               "--keep-alive", "30", "--no-control-socket", "-b", f"127.0.0.1:{port}",
               "--log-level", "warning", target]
    server_env = {**os.environ, **env, "MINYI_RATELIMIT": "0", "MINYI_INDEXER_THREAD": "0",
                  "SECRET_KEY": "minyi-benchmark"}
    server_env.pop("DATABASE_URL", None)
    process = subprocess.Popen(command, cwd=common.REPO, env=server_env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield base, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(base: str, process: subprocess.Popen) -> None:
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn stopped: " + process.stderr.read().decode()[-2000:])
        try:
            requests.get(base + "/", timeout=10)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer within 60 s")


def worker_cpu_seconds(master: int) -> float:
    """Return the CPU seconds used so far by the gunicorn worker(s) of a master process."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:  # fields[1] is the parent pid
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


# --- the load generator -------------------------------------------------------------------


@dataclass
class Job:
    """What one client process does."""

    base: str
    bare: bool
    emails: list[str]
    seconds: float
    facts: dict
    seed: int


@dataclass
class Tally:
    """What the client threads saw."""

    latencies_ms: list[float] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    started: float = float("inf")
    ended: float = 0.0

    def add(self, other: Tally) -> None:
        self.latencies_ms += other.latencies_ms
        self.accepted += other.accepted
        self.errors += other.errors
        self.first_error = self.first_error or other.first_error
        self.started = min(self.started, other.started)
        self.ended = max(self.ended, other.ended)


def _form_fields(rng, key: str) -> dict[str, str]:
    stance = rng.choice(("support", "oppose", "suggest"))
    return {
        "stance": stance, "body": common.comment_body(rng), "submission_key": key,
        "proposed_wording": common.proposed_wording(rng) if stance == "suggest" else "",
        "region": rng.choice(common.REGIONS), "sector": rng.choice(common.SECTORS),
        "age_band": rng.choice(("", "18_29", "30_44", "45_59", "60_plus")),
    }


def _minyi_client(job: Job, email: str, rng):
    """Log in and read the form; return a function that posts one comment."""
    import requests

    session = requests.Session()
    login = session.get(job.base + "/login").text
    answer = session.post(job.base + "/login", allow_redirects=False, data={
        "csrf_token": _CSRF.search(login).group(1), "email": email,
        "password": common.PASSWORD})
    if answer.status_code != 302:
        raise RuntimeError(f"login of {email} answered {answer.status_code}")
    anchor = rng.choice(ANCHORS)
    form = session.get(f"{job.base}/drafts/{SLUG}/comment?clause={anchor}").text
    csrf, first_key = _CSRF.search(form).group(1), _KEY.search(form).group(1)
    keys = iter([first_key])
    url = f"{job.base}/drafts/{SLUG}/comment"

    def post() -> tuple[bool, str, str]:
        key = next(keys, None) or secrets.token_urlsafe(24)  # as services.new_submission_key
        data = {"csrf_token": csrf, "clause": rng.choice(ANCHORS), **_form_fields(rng, key)}
        response = session.post(url, data=data, allow_redirects=False)
        ok = response.status_code == 302 and "/submitted/" in response.headers.get("Location", "")
        return ok, key, f"{response.status_code} {response.text[:200]}"

    return post


def _bare_client(job: Job, user: int, rng):
    """Return a function that posts one row to the bare endpoint."""
    import requests

    session = requests.Session()
    facts = job.facts

    def post() -> tuple[bool, str, str]:
        key = secrets.token_urlsafe(24)
        anchor = rng.choice(ANCHORS)
        data = {"draft_id": facts["draft_id"], "version_id": facts["version_id"],
                "clause_id": facts["clauses"][anchor], "author_id": user,
                **_form_fields(rng, key)}
        response = session.post(job.base + "/comment", data=data, allow_redirects=False)
        ok = response.status_code == 302 and "/submitted/" in response.headers.get("Location", "")
        return ok, key, f"{response.status_code} {response.text[:200]}"

    return post


def client_process(job: Job, ready, results) -> None:
    """Set up one client thread per account, wait for every process, then post for a while."""
    import random

    posters: list = [None] * len(job.emails)

    def setup(index: int) -> None:
        rng = random.Random(job.seed * 1000 + index)
        if job.bare:
            posters[index] = _bare_client(job, index + 1, rng)
        else:
            posters[index] = _minyi_client(job, job.emails[index], rng)

    threads = [threading.Thread(target=setup, args=(i,)) for i in range(len(job.emails))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tallies = [Tally() for _ in posters]

    def load(post, tally: Tally, deadline: float) -> None:
        tally.started = time.time()
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                ok, key, detail = post()
            except Exception as error:  # a refused or broken connection is an error, too
                ok, key, detail = False, "", repr(error)
            tally.latencies_ms.append((time.perf_counter() - started) * 1000)
            if ok:
                tally.accepted.append(key)
            else:
                tally.errors += 1
                tally.first_error = tally.first_error or detail
        tally.ended = time.time()

    ready.wait()
    deadline = time.monotonic() + job.seconds
    threads = [threading.Thread(target=load, args=(post, tally, deadline))
               for post, tally in zip(posters, tallies, strict=True) if post is not None]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = Tally()
    for tally in tallies:
        total.add(tally)
    results.put(total)


def drive(base: str, bare: bool, plan: dict, facts: dict, master: int) -> tuple[Tally, float]:
    """Run the client processes against a server; return their tally and the server CPU s."""
    context = multiprocessing.get_context("spawn")
    processes, threads = plan["processes"], plan["threads"]
    ready = context.Barrier(processes + 1)
    results = context.Queue()
    jobs = [Job(base, bare, [f"user{p * threads + t + 1}@example.org" for t in range(threads)],
                plan["seconds"], facts, seed=p) for p in range(processes)]
    children = [context.Process(target=client_process, args=(job, ready, results))
                for job in jobs]
    for child in children:
        child.start()
    ready.wait(timeout=120)
    cpu_before = worker_cpu_seconds(master)
    total = Tally()
    for _ in children:
        total.add(results.get(timeout=plan["seconds"] + 120))
    cpu = worker_cpu_seconds(master) - cpu_before
    for child in children:
        child.join()
    return total, cpu


def measure(name: str, worker: str, plan: dict, folder: Path, facts: dict) -> dict[str, Any]:
    """Serve one target, load it, check the stored rows and return its figures."""
    database = folder / DB_FILE
    if name == "minyi":
        target, env = "app:create_app()", {"MINYI_DATA_DIR": str(folder)}
    else:
        target, env = "benchmarks.intake:bare_app()", {"MINYI_BENCH_DB": str(database)}
    with gunicorn(target, worker, env, plan["server_processes"]) as (base, master):
        tally, cpu = drive(base, name == "bare", plan, facts, master)
    found = stored_keys(database, tally.accepted)
    seconds = max(tally.ended - tally.started, 1e-9)
    figures: dict[str, Any] = {
        "comments_per_s": round(len(tally.accepted) / seconds, 1),
        "accepted": len(tally.accepted), "errors": tally.errors,
        "lost": len(set(tally.accepted) - found),
        "server_cpu_ms_per_comment": round(cpu * 1000 / max(len(tally.accepted), 1), 3),
        **{k: v for k, v in common.percentiles(tally.latencies_ms).items() if k != "n"},
    }
    if tally.first_error:
        figures["first_error"] = tally.first_error
    return figures


def run(size: str, server_processes: int = 1) -> dict[str, Any]:
    """Measure Minyi and the bare baseline under each worker class."""
    plan = {**SIZES[size], "server_processes": server_processes}
    users = plan["processes"] * plan["threads"]
    results: dict[str, dict[str, Any]] = {}
    seeded, facts = seeded_database(users)
    with tempfile.TemporaryDirectory(prefix="minyi-intake-") as scratch:
        for worker in plan["workers"]:
            row: dict[str, Any] = {}
            for name in ("minyi", "bare"):
                folder = Path(scratch) / f"{worker}-{name}"
                folder.mkdir()
                shutil.copy(seeded, folder / DB_FILE)
                row[name] = measure(name, worker, plan, folder, facts)
            minyi, bare = row["minyi"], row["bare"]
            results[worker] = {**minyi, "baseline_comments_per_s": bare["comments_per_s"],
                               "baseline_p50_ms": bare["p50_ms"],
                               "baseline_server_cpu_ms_per_comment":
                                   bare["server_cpu_ms_per_comment"],
                               "baseline_errors": bare["errors"], "baseline_lost": bare["lost"],
                               "ratio": round(minyi["comments_per_s"]
                                              / max(bare["comments_per_s"], 1e-9), 3)}
    best = max(results, key=lambda worker: results[worker]["comments_per_s"])
    headline = {key: results[best][key] for key in
                ("comments_per_s", "p50_ms", "p99_ms", "lost", "errors", "ratio")}
    return {"benchmark": "intake", "size": size, "worker": best, **headline,
            "goal_comments_per_s": GOAL_PER_S,
            "meets_goal": headline["comments_per_s"] >= GOAL_PER_S,
            "clients": f"{plan['processes']} processes x {plan['threads']} threads",
            "seconds_per_target": plan["seconds"], "cores": common.cpu_count(),
            "server_processes": server_processes,
            "load_average": common.load_average(), "workers": results}


def print_figures(figures: dict[str, Any]) -> None:
    """Print one line per worker class, Minyi and the bare baseline side by side."""
    print(f"\ncomment intake ({figures['size']}): gunicorn -w {figures['server_processes']}, "
          f"clients {figures['clients']}, {figures['seconds_per_target']:g} s per target; "
          f"{figures['cores']} cores shared by the server and the load generator "
          f"(load average {figures['load_average']})")
    print(f"{'worker':<9}{'comments/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'lost':>6}{'errors':>8}"
          f"{'cpu ms/c':>10}   {'bare /s':>9}{'bare p50':>9}{'bare cpu':>9}{'ratio':>7}")
    for worker, row in figures["workers"].items():
        print(f"{worker:<9}{row['comments_per_s']:>11.1f}{row['p50_ms']:>9.2f}"
              f"{row['p99_ms']:>9.2f}{row['lost']:>6}{row['errors']:>8}"
              f"{row['server_cpu_ms_per_comment']:>10.2f}   {row['baseline_comments_per_s']:>9.1f}"
              f"{row['baseline_p50_ms']:>9.2f}{row['baseline_server_cpu_ms_per_comment']:>9.2f}"
              f"{row['ratio']:>7.3f}")
        if row.get("first_error"):
            print(f"  first error: {row['first_error']}")
    verdict = "met" if figures["meets_goal"] else "MISSED"
    print(f"best: {figures['worker']} with {figures['comments_per_s']:.1f} comments/s; goal "
          f"≥ {GOAL_PER_S}/s {verdict}. cpu ms/c: CPU time of the gunicorn worker(s) per "
          "accepted comment.")


def main(argv: list[str]) -> int:
    """Run the benchmark from the command line."""
    args = common.parse_args(
        "intake", __doc__.splitlines()[0], argv,
        lambda parser: parser.add_argument(
            "--server-processes", type=int, default=1, metavar="N",
            help="gunicorn worker processes (-w); the goal is stated for 1"))
    figures = run(args.size, args.server_processes)
    print_figures(figures)
    common.emit(figures, args.json)
    return 0 if figures["lost"] == 0 else 1
