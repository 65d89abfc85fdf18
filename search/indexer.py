"""The indexer: follow the change log into this node's copy of the search index.

Layout of an index copy (``SEARCH_INDEX_DIR``)::

    CURRENT            name of the generation in use, replaced atomically
    gen-<ns>/          one generation: the Whoosh files and position.json
    indexer.lock       held (flock) by whoever writes to the copy

A reindex builds a new generation beside the one in use and swaps ``CURRENT``; readers and
the indexer follow it. ``position.json`` travels with its generation, so a fresh index and
its place in the log are always swapped together. See docs/search.md for the reasoning on
crashes and on ids that commit out of order.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from app import jobs
from app.extensions import db
from app.models import ChangeLog, utcnow
from search.documents import MODELS, DocumentBuilder, all_ids, count, doc_id
from search.engine import TYPES, SearchIndex

log = logging.getLogger(__name__)

CURRENT_FILE = "CURRENT"
POSITION_FILE = "position.json"
LOCK_FILE = "indexer.lock"
GENERATION_PREFIX = "gen-"
#: gaps tracked at most; beyond that the oldest are given up (and logged)
MAX_GAPS = 200
#: how far below the log's end a rebuild looks for ids still in flight
REBUILD_GAP_WINDOW = 10_000


# --- where the indexer is in the log ---------------------------------------------------------


@dataclass
class LogPosition:
    """How far a generation has applied the change log.

    Every id up to ``high`` has been applied except those in ``gaps``: ranges of ids that
    were not visible when later ids were (a transaction still open, or one that rolled
    back), each with the time it was first missed. A gap is looked for again on every batch
    and given up after ``SEARCH_GAP_SECONDS``.
    """

    high: int = 0
    gaps: list[tuple[int, int, float]] = field(default_factory=list)

    @property
    def position(self) -> int:
        """The highest id below which everything has been applied."""
        return self.gaps[0][0] - 1 if self.gaps else self.high

    def to_json(self) -> dict[str, Any]:
        return {"high": self.high, "gaps": [list(g) for g in self.gaps],
                "position": self.position}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LogPosition:
        return cls(int(data.get("high", 0)),
                   [(int(lo), int(hi), float(seen)) for lo, hi, seen in data.get("gaps", [])])


def read_position(path: Path) -> LogPosition:
    """Return the position stored with a generation (the start of the log if none)."""
    try:
        return LogPosition.from_json(json.loads((path / POSITION_FILE).read_text()))
    except FileNotFoundError:
        return LogPosition()


def _write_atomically(path: Path, text: str) -> None:
    """Replace a file so that a crash leaves the old or the new content, never a mix."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def write_position(path: Path, position: LogPosition) -> None:
    _write_atomically(path / POSITION_FILE, json.dumps(position.to_json()))


@dataclass
class Change:
    id: int
    entity: str
    entity_id: int


def _remove_id(gaps: list[tuple[int, int, float]], found: int) -> list[tuple[int, int, float]]:
    out = []
    for lo, hi, seen in gaps:
        if lo <= found <= hi:
            out += [(a, b, seen) for a, b in ((lo, found - 1), (found + 1, hi)) if a <= b]
        else:
            out.append((lo, hi, seen))
    return out


def read_batch(session: Session, position: LogPosition, limit: int, gap_seconds: float,
               now: float) -> tuple[list[Change], LogPosition]:
    """Read the next changes after `position` (and any that filled a gap), in id order;
    return them with the position that applying them reaches."""
    where = [ChangeLog.id > position.high]
    where += [ChangeLog.id.between(lo, hi) for lo, hi, _seen in position.gaps]
    rows = session.execute(
        select(ChangeLog.id, ChangeLog.entity, ChangeLog.entity_id)
        .where(or_(*where)).order_by(ChangeLog.id).limit(limit)).all()
    changes = [Change(*row) for row in rows]
    high, gaps = position.high, list(position.gaps)
    for change in changes:
        if change.id <= position.high:
            gaps = _remove_id(gaps, change.id)
            continue
        if change.id > high + 1:
            # not visible although a later id is: in flight, or rolled back
            gaps.append((high + 1, change.id - 1, now))
        high = change.id
    gaps = [g for g in gaps if now - g[2] < gap_seconds]
    if len(gaps) > MAX_GAPS:
        log.warning("search indexer: giving up %d gaps in the change log", len(gaps) - MAX_GAPS)
        gaps = gaps[-MAX_GAPS:]
    return changes, LogPosition(high, gaps)


def log_end(session: Session, now: float) -> LogPosition:
    """Return the position at the end of the log as it is now: the last id, with the ids
    missing just below it counted as gaps (their transactions may still commit)."""
    high = session.scalar(select(func.max(ChangeLog.id))) or 0
    present = set(session.scalars(select(ChangeLog.id).where(
        ChangeLog.id > high - REBUILD_GAP_WINDOW)))
    gaps: list[tuple[int, int, float]] = []
    for missing in range(max(1, high - REBUILD_GAP_WINDOW + 1), high):
        if missing in present:
            continue
        if gaps and gaps[-1][1] == missing - 1:
            gaps[-1] = (gaps[-1][0], missing, now)
        else:
            gaps.append((missing, missing, now))
    return LogPosition(high, gaps[-MAX_GAPS:])


# --- the index copy on disk -----------------------------------------------------------------


def _age_key(path: Path) -> int:
    return int(path.name.removeprefix(GENERATION_PREFIX))


class IndexCopy:
    """One node's copy of the index: its generations, the one in use, and the write lock."""

    def __init__(self, root: str | os.PathLike[str], *,
                 rank_types: Iterable[str] = TYPES) -> None:
        self.root = Path(root)
        self.rank_types = tuple(rank_types)
        self._open: dict[Path, SearchIndex] = {}
        self._guard = threading.Lock()

    @contextmanager
    def locked(self, blocking: bool = True) -> Iterator[bool]:
        """Hold the copy's write lock (across processes and threads); yield whether it was
        taken (always when blocking)."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _current_name(self) -> str | None:
        try:
            return (self.root / CURRENT_FILE).read_text().strip() or None
        except FileNotFoundError:
            return None

    def current(self) -> Path:
        """Return the generation in use, creating the first one if there is none."""
        name = self._current_name()
        if name is None:
            with self.locked():
                return self.current_locked()
        return self.root / name

    def current_locked(self) -> Path:
        """`current()` for a caller that holds the lock."""
        name = self._current_name()
        if name is None:
            path = self.new_generation()
            self.swap_locked(path)
            return path
        return self.root / name

    def new_generation(self) -> Path:
        path = self.root / f"{GENERATION_PREFIX}{time.time_ns()}"
        path.mkdir(parents=True)
        return path

    def swap_locked(self, path: Path) -> None:
        """Put a generation in use and delete older ones (the caller holds the lock); newer
        ones are rebuilds still running."""
        _write_atomically(self.root / CURRENT_FILE, path.name + "\n")
        for other in self.root.glob(GENERATION_PREFIX + "*"):
            if other.is_dir() and _age_key(other) < _age_key(path):
                self.discard(other)

    def index(self, path: Path | None = None) -> SearchIndex:
        """Return the open index of a generation (the one in use by default)."""
        path = path or self.current()
        with self._guard:
            index = self._open.get(path)
            if index is None:
                for gone in [p for p in self._open if not p.exists()]:  # swapped out
                    self._open.pop(gone).close()
                index = self._open[path] = SearchIndex.open(path, rank_types=self.rank_types)
            return index

    def discard(self, path: Path) -> None:
        """Close and delete a generation that is not in use (a failed rebuild)."""
        with self._guard:
            index = self._open.pop(path, None)
        if index is not None:
            index.close()
        shutil.rmtree(path, ignore_errors=True)

    def close(self) -> None:
        with self._guard:
            for index in self._open.values():
                index.close()
            self._open.clear()


# --- following the log ------------------------------------------------------------------------


class Indexer:
    """Apply the change log to an index copy, one batch at a time."""

    def __init__(self, copy: IndexCopy, sessions: Callable[[], Session], *,
                 batch_size: int = 500, gap_seconds: float = 120.0) -> None:
        self.copy = copy
        self.sessions = sessions
        self.batch_size = batch_size
        self.gap_seconds = gap_seconds

    def run_batch(self, blocking: bool = False) -> int | None:
        """Apply the next batch of changes; return how many were read, or None when someone
        else holds the copy's lock."""
        with self.copy.locked(blocking) as held:
            if not held:
                return None
            path = self.copy.current_locked()
            index = self.copy.index(path)
            position = read_position(path)
            with self.sessions() as session:
                changes, reached = read_batch(session, position, self.batch_size,
                                              self.gap_seconds, time.time())
                upserts, deletes = self._documents(session, changes)
            # The index commit and the position file cannot be written atomically together.
            # Writing the position second means a crash in between replays the batch, which
            # is harmless: an upsert replaces the document with the same doc_id, and deleting
            # a missing document does nothing.
            index.apply(upserts, deletes)
            if reached != position:
                write_position(path, reached)
            return len(changes)

    @staticmethod
    def _documents(session: Session, changes: list[Change]) -> tuple[list[dict], list[str]]:
        wanted: dict[str, list[int]] = {}
        for change in changes:
            if change.entity in MODELS:
                wanted.setdefault(change.entity, []).append(change.entity_id)
            else:
                log.warning("search indexer: unknown entity %r in change %d",
                            change.entity, change.id)
        builder = DocumentBuilder(session)
        upserts, deletes = [], []
        for entity, ids in wanted.items():
            for obj_id, doc in builder.build(entity, ids).items():
                if doc is None:
                    deletes.append(doc_id(entity, obj_id))
                else:
                    upserts.append(doc)
        return upserts, deletes

    def drain(self) -> int:
        """Apply every change logged so far; return how many were read."""
        total = 0
        while True:
            read = self.run_batch(blocking=True) or 0
            total += read
            if read < self.batch_size:
                return total

    def follow(self, stop: threading.Event, poll_seconds: float) -> None:
        """Apply changes as they come until `stop` is set; errors are logged and retried."""
        failures = 0
        while not stop.is_set():
            try:
                read = self.run_batch()
                failures = 0
            except Exception:
                failures += 1
                log.exception("search indexer: batch failed (%d in a row)", failures)
                stop.wait(min(poll_seconds * 2 ** failures, 30.0))
                continue
            if read != self.batch_size:  # a full batch: more is waiting
                stop.wait(poll_seconds)


# --- wiring to the application --------------------------------------------------------------


def index_copy(app: Flask) -> IndexCopy:
    """Return the application's index copy."""
    return app.extensions["search"]["copy"]


def indexer(app: Flask) -> Indexer:
    """Return an indexer of the application's index copy with sessions of its own."""
    state = app.extensions["search"]
    if "indexer" not in state:
        with app.app_context():
            engine = db.engine
        state["indexer"] = Indexer(
            state["copy"], sessionmaker(engine), batch_size=app.config["SEARCH_BATCH_SIZE"],
            gap_seconds=app.config["SEARCH_GAP_SECONDS"])
    return state["indexer"]


def drain(app: Flask) -> int:
    """Index everything logged so far, synchronously (tests and scripts)."""
    return indexer(app).drain()


class IndexerThread(threading.Thread):
    """The indexer following the log inside this process; set `stop` to end it between
    batches."""

    def __init__(self, follower: Indexer, poll_seconds: float) -> None:
        super().__init__(name="search-indexer", daemon=True)
        self.follower = follower
        self.poll_seconds = poll_seconds
        self.stop = threading.Event()

    def run(self) -> None:
        self.follower.follow(self.stop, self.poll_seconds)


_threads: dict[tuple[int, Path], IndexerThread] = {}
_threads_guard = threading.Lock()


def start_thread(app: Flask) -> IndexerThread:
    """Start the daemon thread that follows the log in this process, once per process and
    index copy (a forked worker starts its own; a second call returns the running one)."""
    key = (os.getpid(), index_copy(app).root)
    with _threads_guard:
        thread = _threads.get(key)
        if thread is None or not thread.is_alive():
            thread = IndexerThread(indexer(app), app.config["SEARCH_POLL_SECONDS"])
            thread.start()
            _threads[key] = thread
        return thread


# --- rebuild and status ---------------------------------------------------------------------


def rebuild(app: Flask, progress: Callable[[int], None] | None = None, *, procs: int = 1,
            limitmb: int = 128, chunk: int = 2000) -> dict[str, Any]:
    """Index every clause, comment and note from the database into a new generation, then
    put it in use. Changes logged while it runs are applied afterwards by the indexer."""
    copy = index_copy(app)
    sessions = sessionmaker(db.engine)
    with sessions() as session:
        start = log_end(session, time.time())
    path = copy.new_generation()
    started = time.perf_counter()

    def documents(report: Callable[[int], None] | None, part: int = 0) -> Iterator[dict]:
        # part k of `procs` takes every procs-th chunk of ids
        with sessions() as session:
            builder = DocumentBuilder(session)
            for entity in MODELS:
                for number, ids in enumerate(all_ids(session, entity, chunk)):
                    if number % procs != part:
                        continue
                    for doc in builder.build(entity, ids).values():
                        if doc is not None:
                            yield doc
                    session.rollback()  # no long-lived snapshot; cached rows reload
                    if report is not None:
                        report(len(ids))

    def part(number: int) -> Callable[[Callable[[int], None]], Iterator[dict]]:
        def read(report: Callable[[int], None]) -> Iterator[dict]:
            db.engine.dispose(close=False)  # a forked process opens connections of its own
            return documents(report, number)

        return read

    try:
        index = copy.index(path)
        if procs > 1:
            # each process reads its share of the rows and writes a segment of its own
            added = index.load_parts([part(n) for n in range(procs)], limitmb=limitmb,
                                     progress=progress)
        else:
            added = index.load(documents(progress), limitmb=limitmb)
        write_position(path, start)
        with copy.locked():
            copy.swap_locked(path)
    except BaseException:
        copy.discard(path)
        raise
    return {"documents": added, "seconds": time.perf_counter() - started,
            "position": start.position, "generation": path.name}


@jobs.job("search.reindex")
def rebuild_job(procs: int = 1, limitmb: int = 128) -> dict[str, Any]:
    """Rebuild this machine's index copy as a background job, reporting rows done of all."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    done = 0

    def advance(rows: int) -> None:
        nonlocal done
        done += rows
        jobs.progress(done=done)

    jobs.progress(0, done=0, total=sum(row_counts(app).values()))
    return rebuild(app, advance, procs=procs, limitmb=limitmb)


def row_counts(app: Flask) -> dict[str, int]:
    """Return the number of rows of each indexed entity (the rebuild's progress total)."""
    with sessionmaker(db.engine)() as session:
        return {entity: count(session, entity) for entity in MODELS}


def status(app: Flask) -> dict[str, Any]:
    """Return the indexer's position, its lag behind the log and the documents per type."""
    copy = index_copy(app)
    path = copy.current()
    position = read_position(path)
    with sessionmaker(db.engine)() as session:
        log_max = session.scalar(select(func.max(ChangeLog.id))) or 0
        pending = or_(ChangeLog.id > position.high,
                      *[ChangeLog.id.between(lo, hi) for lo, hi, _seen in position.gaps])
        unindexed, oldest = session.execute(
            select(func.count(), func.min(ChangeLog.created_at)).where(pending)).one()
    documents = copy.index(path).type_counts()
    return {
        "index": str(path),
        "position": position.position,
        "log_max_id": log_max,
        "lag": log_max - position.position,
        "unindexed": unindexed,
        "oldest_unindexed_age_s": (round((utcnow() - oldest).total_seconds(), 1)
                                   if oldest is not None else 0.0),
        "gaps": len(position.gaps),
        "documents": documents,
        "total": sum(documents.values()),
    }
