"""Background jobs with one code path: on an RQ worker when Redis is configured, in a thread
of this process otherwise.

A job is a function registered under a name with `@job("name")`; it takes plain arguments
(numbers, strings, lists, dicts), runs inside an application context and reports progress
with `progress()`. `enqueue("name", **arguments)` puts it on the RQ queue `JOBS_QUEUE` of
`JOBS_REDIS_URL` (by default `REDIS_URL`), where `minyi jobs worker` takes it, or, without
Redis (or with `here=True`), submits it to this process's small thread pool. Either way the
caller gets a `Ticket` whose `state()` reports queued / running / done / failed with the
progress the job last reported.

Callers enqueue after committing: a worker in another process sees only committed rows.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

log = logging.getLogger("minyi.jobs")

#: the registered jobs, by name
REGISTRY: dict[str, Callable[..., Any]] = {}
#: prefix of the ids of jobs run in a thread of this process
LOCAL_PREFIX = "local-"
#: how long RQ keeps a finished or failed job's state (seconds)
RESULT_TTL = 24 * 3600


def job(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function as the job `name` (at import time, so every worker knows it)."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        if REGISTRY.get(name, function) is not function:
            raise ValueError(f"two jobs are named {name!r}")
        REGISTRY[name] = function
        return function

    return register


@dataclass
class JobState:
    """What is known of a job: its state, the progress it reported, its error if it failed."""

    id: str
    name: str
    state: str = "queued"
    #: 0–100
    progress: int = 0
    step: str = ""
    #: progress counters the job chose to report, such as documents done and in all
    done: int = 0
    total: int = 0
    error: str = ""
    result: Any = None
    updated: float = field(default_factory=time.time)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")


# --- progress, from inside a job ------------------------------------------------------------

_current = threading.local()


def progress(percent: int | None = None, step: str | None = None, *, done: int | None = None,
             total: int | None = None) -> None:
    """Report the running job's progress; does nothing outside a job."""
    state: JobState | None = getattr(_current, "state", None)
    if state is None:
        return
    if done is not None:
        state.done = done
    if total is not None:
        state.total = total
    if percent is None and state.total:
        percent = int(100 * state.done / state.total)
    if percent is not None:
        state.progress = max(0, min(100, percent))
    if step is not None:
        state.step = step
    state.updated = time.time()
    save = getattr(_current, "save", None)
    if save is not None:
        save(state)


def _perform(app: Flask, name: str, arguments: dict[str, Any], state: JobState,
             save: Callable[[JobState], None] | None) -> Any:
    """Run a registered job in an application context of its own, reporting to `state`."""
    from app.extensions import db

    function = REGISTRY.get(name)
    if function is None:
        raise LookupError(f"no job named {name!r}")
    _current.state, _current.save = state, save
    state.state, state.updated = "running", time.time()
    if save is not None:
        save(state)
    try:
        with app.app_context():
            try:
                return function(**arguments)
            finally:
                db.session.remove()
    finally:
        _current.state = _current.save = None


# --- in this process --------------------------------------------------------------------------


class _LocalRunner:
    """The thread pool of this process and the state of the jobs it ran."""

    def __init__(self) -> None:
        self.guard = threading.Lock()
        self.pid = os.getpid()
        self.pool: ThreadPoolExecutor | None = None
        self.states: dict[str, JobState] = {}
        self.pending: set[Future] = set()

    def submit(self, app: Flask, name: str, arguments: dict[str, Any]) -> JobState:
        state = JobState(f"{LOCAL_PREFIX}{uuid.uuid4().hex}", name)
        with self.guard:
            if self.pool is None or self.pid != os.getpid():  # a forked child starts afresh
                self.pool = ThreadPoolExecutor(app.config["JOBS_THREADS"],
                                               thread_name_prefix="minyi-job")
                self.pid, self.pending, self.states = os.getpid(), set(), {}
            self.states[state.id] = state
            future = self.pool.submit(self._run, app, name, arguments, state)
            self.pending.add(future)
        future.add_done_callback(self._forget)
        return state

    def _forget(self, future: Future) -> None:
        with self.guard:
            self.pending.discard(future)

    @staticmethod
    def _run(app: Flask, name: str, arguments: dict[str, Any], state: JobState) -> None:
        try:
            state.result = _perform(app, name, arguments, state, None)
            state.state, state.progress = "done", 100
        except Exception as error:
            state.state, state.error = "failed", f"{type(error).__name__}: {error}"[:500]
            log.exception("job %s (%s) failed", name, state.id)
        state.updated = time.time()

    def wait(self, timeout: float) -> bool:
        """Wait until every job submitted so far has ended; return whether they all did."""
        deadline = time.monotonic() + timeout
        while True:
            with self.guard:
                pending = list(self.pending)
            if not pending:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            for future in pending:
                try:
                    future.result(max(remaining, 0.001))
                except Exception:  # noqa: BLE001  the job logged its own failure
                    if not future.done():
                        return False


_local = _LocalRunner()


def wait_here(timeout: float = 60) -> bool:
    """Wait for the jobs this process runs in threads (tests, and commands before exiting)."""
    return _local.wait(timeout)


# --- on Redis ---------------------------------------------------------------------------------

_connections: dict[str, Any] = {}
#: the application of this `minyi jobs worker` process, and that process's id
_worker_app: Flask | None = None
_worker_pid = 0


def redis_connection(url: str):
    """Return a Redis client for `url`, one per process and URL."""
    from redis import Redis

    key = f"{os.getpid()}:{url}"
    if key not in _connections:
        _connections[key] = Redis.from_url(url)
    return _connections[key]


def queue(app: Flask | None = None, name: str | None = None):
    """Return the RQ queue of the application (or None when no Redis is configured)."""
    from rq import Queue

    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    url = app.config.get("JOBS_REDIS_URL")
    if not url:
        return None
    return Queue(name or app.config["JOBS_QUEUE"], connection=redis_connection(url))


def _save_to_rq(state: JobState) -> None:
    from rq import get_current_job

    current = get_current_job()
    if current is not None:
        current.meta.update(progress=state.progress, step=state.step, done=state.done,
                            total=state.total)
        current.save_meta()


def run_on_worker(name: str, arguments: dict[str, Any]) -> Any:
    """Run a job taken from the RQ queue (what the worker calls; importable by path)."""
    from rq import get_current_job

    from app.extensions import db

    app = _worker_app
    if app is None:  # started by `rq worker` rather than `minyi jobs worker`
        from app import create_app

        app = create_app()
    elif os.getpid() != _worker_pid:
        # a forked work horse must not use the connections of the process it came from
        with app.app_context():
            db.engine.dispose(close=False)
    current = get_current_job()
    state = JobState(current.id if current else "", name)
    return _perform(app, name, arguments, state, _save_to_rq)


def set_worker_app(app: Flask) -> None:
    """Make `app` the application the jobs of this worker process run in."""
    global _worker_app, _worker_pid
    _worker_app, _worker_pid = app, os.getpid()


# --- enqueueing and following ---------------------------------------------------------------


@dataclass
class Ticket:
    """A handle on an enqueued job."""

    id: str
    name: str
    app: Flask

    def state(self) -> JobState:
        return job_state(self.id, self.app)

    def wait(self, timeout: float = 120, poll: float = 0.1,
             on_progress: Callable[[JobState], None] | None = None) -> JobState:
        """Wait until the job ends or `timeout` passes; return its last state."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.state()
            if on_progress is not None:
                on_progress(found)
            if found.finished or time.monotonic() > deadline:
                return found
            time.sleep(poll)


def enqueue(name: str, *, here: bool = False, **arguments: Any) -> Ticket:
    """Run the job `name` in the background with plain keyword arguments: on the RQ worker
    when Redis is configured (unless `here`), else, or while Redis cannot be reached, in a
    thread of this process."""
    if name not in REGISTRY:
        raise LookupError(f"no job named {name!r}")
    from redis.exceptions import ConnectionError as RedisDown
    from redis.exceptions import TimeoutError as RedisTimeout

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    rq_queue = None if here else queue(app)
    if rq_queue is not None:
        try:
            rq_job = rq_queue.enqueue_call(
                "app.jobs.run_on_worker", args=(name, arguments), description=name,
                timeout=app.config["JOBS_TIMEOUT"], result_ttl=RESULT_TTL,
                failure_ttl=RESULT_TTL, meta={"progress": 0, "step": ""})
            return Ticket(rq_job.id, name, app)
        except (RedisDown, RedisTimeout):
            # the work was asked for after its data was committed: do it here rather than
            # fail the request that asked (an e-mail, a report) while Redis is away
            log.warning("Redis unreachable: job %s runs in this process", name)
    return Ticket(_local.submit(app, name, arguments).id, name, app)


def job_state(job_id: str, app: Flask | None = None) -> JobState:
    """Return what is known of a job by its id (a finished local job is known only to the
    process that ran it)."""
    if job_id.startswith(LOCAL_PREFIX):
        found = _local.states.get(job_id)
        return found if found is not None else JobState(job_id, "", "failed", error="unknown")
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    connection = redis_connection(app.config["JOBS_REDIS_URL"])
    try:
        rq_job = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return JobState(job_id, "", "failed", error="unknown")
    status = rq_job.get_status()
    meta = rq_job.get_meta()
    state = {JobStatus.STARTED: "running", JobStatus.FINISHED: "done",
             JobStatus.FAILED: "failed", JobStatus.STOPPED: "failed",
             JobStatus.CANCELED: "failed"}.get(status, "queued")
    found = JobState(job_id, rq_job.description or "", state, meta.get("progress", 0),
                     meta.get("step", ""), meta.get("done", 0), meta.get("total", 0))
    if state == "done":
        found.progress, found.result = 100, rq_job.return_value()
    elif state == "failed":
        result = rq_job.latest_result()
        found.error = (result.exc_string if result and result.exc_string else str(status))
        found.error = found.error.strip().splitlines()[-1][:500]
    return found


def init_app(app: Flask) -> None:
    """Fill in the job settings; an explicit `JOBS_REDIS_URL` of None keeps jobs in threads."""
    app.config.setdefault("JOBS_REDIS_URL", os.environ.get("MINYI_JOBS_REDIS_URL")
                          or app.config.get("REDIS_URL"))
    app.config.setdefault("JOBS_QUEUE", os.environ.get("MINYI_JOBS_QUEUE") or "minyi")
    app.config.setdefault("JOBS_THREADS", int(os.environ.get("MINYI_JOBS_THREADS") or 2))
    app.config.setdefault("JOBS_TIMEOUT", 3600)
