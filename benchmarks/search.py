"""Search at scale: full reindex, query latency, index lag and relevance, with baselines.

Run through the benchmarks package (``python -m benchmarks search [--quick] [--json]``) or
call ``main(argv)``. Figures printed:

* the corpus: every law of ``shared/corpus/laws`` stored as a draft open for comment (every
  clause indexed), plus N comments (1,000,000; 20,000 with ``--quick``) generated from the
  words and sentences of those laws, seeded once into a cached SQLite database;
* full reindex (``search.indexer.rebuild``, what ``minyi search reindex`` runs): documents,
  wall and CPU seconds (children included), documents per second, and the extrapolation to
  1,000,000 comments when the run is smaller;
* query latency, top 10 with highlights, for one word, two words, a quoted phrase, and one
  word within one draft (plus one word with the facet counts the results page shows); the
  mean number of matches is the engine's count, an estimate past 2,000 matches;
* the baseline in the same run over the same documents: SQLite FTS5 over the same text cut
  into words by jieba — its build time and the same queries (top 10 by bm25 with
  ``snippet()``), and the ratios ours / FTS5;
* index lag while comments arrive at 500/s (one transaction each, as the comment form
  commits): the indexer follows the change log in a process of its own, polling every
  0.5 s, and each comment's time from its commit to the index commit that makes it
  searchable is taken; p50/p95/p99, and whether every comment became searchable;
* relevance: the Chinese queries of ``benchmarks/search_relevance.json`` (written by us, with
  the articles we judged relevant after reading the laws) — precision@10 and recall of our
  engine (clause hits grouped by article) and of PostgreSQL's full-text search
  (``to_tsvector('simple', …)`` over the same jieba-cut text, ``plainto_tsquery``,
  ``ts_rank``) in a scratch database on 127.0.0.1:5432.

Options: ``--procs N`` (reindex processes, default 2), ``--comment-words`` (comments get the
jieba word stream too, which the application leaves out by default), ``--comments N``.
With ``--json`` the last line printed is one JSON object holding every figure.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import resource
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks import common

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "laws"
RELEVANCE = Path(__file__).with_name("search_relevance.json")
PG_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
#: a scratch database of this run (several runs may overlap)
PG_DATABASE = f"minyi_bench_search_{os.getpid()}"

SIZES = {"smoke": 2_000, "quick": 20_000, "full": 1_000_000}
QUERIES = {"smoke": 10, "quick": 40, "full": 100}
LAG_SECONDS = {"smoke": 3, "quick": 10, "full": 20}
ARRIVALS_PER_S = 500
STANCES = ("support", "oppose", "suggest")
STATUSES = ("published",) * 90 + ("pending",) * 5 + ("hidden",) * 3 + ("rejected",) * 2
OPENINGS = ("建议", "我认为", "希望", "赞成", "反对", "应当明确", "请考虑", "补充一点：")
CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")
SENTENCE_SPLIT = re.compile(r"[。；！？\n]")


# --- the corpus -------------------------------------------------------------------------------


def laws() -> list[tuple[str, str]]:
    """Return (file stem, text) of every corpus law, read at run time."""
    files = sorted(CORPUS.glob("*.md"))
    if not files:
        raise SystemExit(f"no laws in {CORPUS}")
    return [(path.stem, path.read_text(encoding="utf-8")) for path in files]


class Vocabulary:
    """Words (as often as they occur) and sentence fragments of the corpus laws."""

    def __init__(self, texts: list[str]) -> None:
        from search.analysis import segment

        self.words: list[str] = []
        self.fragments: list[str] = []
        for text in texts:
            for sentence in SENTENCE_SPLIT.split(text):
                sentence = sentence.strip()
                if CJK_WORD.search(sentence) and not sentence.startswith(("#", "<")):
                    self.fragments.extend(p for p in re.split("[，、：]", sentence) if len(p) >= 4)
                    self.words.extend(w for w in segment(sentence) if CJK_WORD.fullmatch(w))

    def comment(self, rng: random.Random) -> str:
        """A comment of 30–150 characters: an opening, law words and law fragments."""
        parts = [rng.choice(OPENINGS)]
        target = rng.randint(30, 150)
        size = len(parts[0])
        while size < target:
            if rng.random() < 0.4:
                piece = rng.choice(self.fragments)
            else:
                piece = "".join(rng.choice(self.words) for _ in range(rng.randint(2, 5)))
            parts.append(piece + rng.choice("，，，。；"))
            size += len(parts[-1])
        return "".join(parts)


# --- the seeded database ----------------------------------------------------------------------


def _seed(folder: Path, size: int) -> dict[str, Any]:
    """Store every law as an open draft and `size` generated comments on their clauses."""
    from sqlalchemy import insert, select, text

    from app.accounts.services import create_user
    from app.extensions import db
    from app.models import utcnow
    from drafts import services
    from drafts.models import COMMENTABLE_KINDS, Clause, Comment, DraftVersion

    rng = random.Random(20260520)
    corpus = laws()
    vocabulary = Vocabulary([text for _stem, text in corpus])
    app = common.bench_app(folder)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        staff = create_user("staff@example.org", common.PASSWORD, "法工委", role="staff")
        drafts = []
        for n, (stem, body) in enumerate(corpus, start=1):
            draft = services.create_draft(stem, body, user=staff, slug=f"law-{n}",
                                          moderation="pre")
            services.change_status(draft, "open", user=staff)
            drafts.append(draft)
        db.session.commit()
        units = {d.id: list(db.session.scalars(
            select(Clause.id).join(DraftVersion).where(DraftVersion.draft_id == d.id,
                                                       Clause.kind.in_(COMMENTABLE_KINDS))))
            for d in drafts}
        versions = {d.id: d.current_version_id for d in drafts}
        # a skew: the first drafts draw most comments, as a few drafts do in practice
        weights = [1 / k for k in range(1, len(drafts) + 1)]
        now = utcnow()
        batch: list[dict[str, Any]] = []
        for i in range(size):
            draft_id = rng.choices(drafts, weights)[0].id
            batch.append({
                "draft_id": draft_id, "version_id": versions[draft_id],
                "clause_id": rng.choice(units[draft_id]) if rng.random() > 0.05 else None,
                "guest_name": "", "guest_email": "", "stance": rng.choice(STANCES),
                "body": vocabulary.comment(rng), "proposed_wording": "",
                "region": rng.choice(common.REGIONS), "sector": rng.choice(common.SECTORS),
                "age_band": "", "status": rng.choice(STATUSES), "source": "online",
                "moderation_reason": "", "submission_key": f"bench-search-{i}",
                "support_count": 0,
                "created_at": now - timedelta(seconds=rng.randint(0, 86400 * 30))})
            if len(batch) == 10_000:
                db.session.execute(insert(Comment), batch)
                batch.clear()
        if batch:
            db.session.execute(insert(Comment), batch)
        db.session.commit()
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()
        db.engine.dispose()
    return {"comments": size, "laws": len(corpus)}


def database(size: int) -> tuple[Path, dict[str, Any], float | None]:
    """Return the cached seeded database for `size` comments (seeding it if needed)."""
    key = f"search-{size}-{common.schema_revision()}"
    folder, meta, seconds = common.cached_folder(key, lambda f: _seed(f, size))
    return folder / "minyi.sqlite3", meta, seconds


# --- reindex ----------------------------------------------------------------------------------


def search_app(data_dir: Path, database_path: Path, comment_words: bool):
    """The application over a copy of the seeded database, its index in `data_dir`."""
    from app import create_app

    config: dict[str, Any] = {
        "DATA_DIR": str(data_dir), "SECRET_KEY": "minyi-benchmark",
        "SEARCH_INDEXER_THREAD": False, "RATELIMIT_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database_path}"}
    if comment_words:
        config["SEARCH_RANK_TYPES"] = ("clause", "comment", "note")
    return create_app(config)


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def reindex(app, procs: int, comments: int) -> dict[str, Any]:
    """Rebuild the whole index as `minyi search reindex` does; time it."""
    from search.indexer import rebuild, row_counts

    with app.app_context():
        total = sum(row_counts(app).values())
        done = {"rows": 0, "next": 0.1}

        def progress(n: int) -> None:
            done["rows"] += n
            if done["rows"] >= done["next"] * total:
                print(f"  reindex {done['rows']:,}/{total:,} rows", flush=True)
                done["next"] += 0.1

        cpu = _cpu_seconds()
        result = rebuild(app, progress, procs=procs, limitmb=256)
        cpu = _cpu_seconds() - cpu
    seconds = result["seconds"]
    figures = {
        "documents": result["documents"], "procs": procs, "wall_s": round(seconds, 1),
        "cpu_s": round(cpu, 1), "docs_per_s": round(result["documents"] / seconds, 1),
        "docs_per_cpu_s": round(result["documents"] / cpu, 1),
    }
    if comments < 1_000_000:
        # extrapolated, not measured: linear in the number of comments
        figures["extrapolated_1m_comments_min"] = round(
            1_000_000 / figures["docs_per_s"] / 60, 1)
    return figures


# --- queries ----------------------------------------------------------------------------------


def query_sets(rng: random.Random, vocabulary: Vocabulary, bodies: list[str],
               big_draft: int, count: int) -> dict[str, list[tuple[str, dict]]]:
    """Queries of each kind, drawn from the words as often as comments use them."""
    two_char = [w for w in vocabulary.words if len(w) == 2]
    words = [w for w in vocabulary.words if len(w) >= 2]

    def phrase() -> str:
        runs = [r for r in CJK_WORD.findall(rng.choice(bodies)) if len(r) >= 4]
        while not runs:
            runs = [r for r in CJK_WORD.findall(rng.choice(bodies)) if len(r) >= 4]
        run = rng.choice(runs)
        length = rng.randint(4, min(6, len(run)))
        start = rng.randint(0, len(run) - length)
        return run[start:start + length]

    return {
        "one_word": [(rng.choice(two_char), {}) for _ in range(count)],
        "two_words": [(f"{rng.choice(words)} {rng.choice(words)}", {}) for _ in range(count)],
        "phrase": [(f'"{phrase()}"', {}) for _ in range(count)],
        "draft_filter": [(rng.choice(two_char), {"draft_id": big_draft}) for _ in range(count)],
    }


def time_ours(index, sets: dict[str, list[tuple[str, dict]]]) -> dict[str, dict[str, Any]]:
    """Time top-10 searches with highlights (no facet counts, except in one_word_facets)."""
    rows = {}
    for name, queries in sets.items():
        for q, filters in queries[:5]:  # warm the caches of this kind
            index.search(q, filters=filters, per_page=10, facets=False)
        samples, cpu, matches = [], [], 0
        for q, filters in queries:
            start, start_cpu = time.perf_counter(), time.thread_time()
            result = index.search(q, filters=filters, per_page=10, facets=False)
            samples.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
            matches += result.total
        rows[name] = {**common.percentiles(samples), **_cpu(cpu),
                      "mean_matches": round(matches / len(queries))}
    samples, cpu = [], []
    for q, filters in sets["one_word"]:
        start, start_cpu = time.perf_counter(), time.thread_time()
        index.search(q, filters=filters, per_page=20, facets=True)
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - start_cpu) * 1000)
    rows["one_word_facets"] = {**common.percentiles(samples), **_cpu(cpu)}
    return rows


def _cpu(samples_ms: list[float]) -> dict[str, float]:
    """CPU-time percentiles: less swayed than the clock by other work on a shared machine."""
    figures = common.percentiles(samples_ms)
    return {"cpu_p50_ms": figures["p50_ms"], "cpu_p95_ms": figures["p95_ms"]}


# --- the SQLite FTS5 baseline ----------------------------------------------------------------


def _segmented(text: str) -> str:
    from search.analysis import segment

    return " ".join(w for w in segment(text) if w.strip())


def _fts_documents(db_path: Path) -> Iterator[tuple[str, int, str]]:
    """The same documents as the index: clauses with text, then comments (masked)."""
    from app.masking import mask_personal_data

    source = sqlite3.connect(db_path)
    try:
        rows = source.execute(
            "SELECT c.id, v.draft_id, trim(c.heading || char(10) || c.text) FROM clauses c "
            "JOIN draft_versions v ON v.id = c.version_id WHERE c.heading != '' OR c.text != ''")
        for clause_id, draft_id, body in rows:
            yield f"clause:{clause_id}", draft_id, body
        rows = source.execute("SELECT id, draft_id, body FROM comments ORDER BY id")
        for comment_id, draft_id, body in rows:
            yield f"comment:{comment_id}", draft_id, mask_personal_data(body)
    finally:
        source.close()


def fts5_build(db_path: Path, out: Path) -> tuple[sqlite3.Connection, dict[str, Any]]:
    """Build the FTS5 baseline; return the connection and its figures."""
    connection = sqlite3.connect(out)
    connection.execute("CREATE VIRTUAL TABLE docs USING fts5(doc_id UNINDEXED, "
                       "draft_id UNINDEXED, body, tokenize='unicode61')")
    start, cpu = time.perf_counter(), time.process_time()
    count = 0
    batch = []
    for doc_id, draft_id, body in _fts_documents(db_path):
        batch.append((doc_id, draft_id, _segmented(body)))
        count += 1
        if len(batch) == 5000:
            connection.executemany("INSERT INTO docs VALUES (?, ?, ?)", batch)
            batch.clear()
    connection.executemany("INSERT INTO docs VALUES (?, ?, ?)", batch)
    connection.commit()
    seconds = time.perf_counter() - start
    return connection, {"documents": count, "wall_s": round(seconds, 1),
                        "cpu_s": round(time.process_time() - cpu, 1),
                        "docs_per_s": round(count / seconds, 1)}


def fts5_query(q: str) -> str:
    """Our query language → FTS5: each word or phrase becomes a phrase of jieba words."""
    from search.engine import parse_query

    def leaves(node) -> Iterator[str]:
        if hasattr(node, "text"):
            yield node.text
        else:
            for child in node.children:
                yield from leaves(child)

    phrases = [_segmented(text) for text in leaves(parse_query(q))]
    return " AND ".join('"' + p.replace('"', '""') + '"' for p in phrases if p)


def time_fts5(connection: sqlite3.Connection,
              sets: dict[str, list[tuple[str, dict]]]) -> dict[str, dict[str, Any]]:
    rows = {}
    for name, queries in sets.items():
        samples, cpu, matches = [], [], 0
        for q, filters in queries:
            match = fts5_query(q)
            sql = ("SELECT doc_id, snippet(docs, 2, '<mark>', '</mark>', '…', 24) FROM docs "
                   "WHERE docs MATCH ?")
            params: list[Any] = [match]
            if filters:
                sql += " AND draft_id = ?"
                params.append(filters["draft_id"])
            start, start_cpu = time.perf_counter(), time.thread_time()
            connection.execute(sql + " ORDER BY bm25(docs) LIMIT 10", params).fetchall()
            samples.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
            matches += connection.execute(sql.replace(
                "doc_id, snippet(docs, 2, '<mark>', '</mark>', '…', 24)", "count(*)"),
                params).fetchone()[0]
        rows[name] = {**common.percentiles(samples), **_cpu(cpu),
                      "mean_matches": round(matches / len(queries))}
    return rows


# --- index lag --------------------------------------------------------------------------------


def _follow(data_dir: str, database_path: str, comment_words: bool, reports, stop) -> None:
    """The indexer in a process of its own; reports (time, position) after each batch."""
    from search.indexer import index_copy, indexer, read_position

    app = search_app(Path(data_dir), Path(database_path), comment_words)
    follower = indexer(app)
    copy = index_copy(app)
    poll = app.config["SEARCH_POLL_SECONDS"]
    while not stop.is_set():
        read = follower.run_batch(blocking=True)
        reports.put((time.time(), read_position(copy.current()).to_json()))
        if read != follower.batch_size:
            stop.wait(poll)


def lag(app, data_dir: Path, database_path: Path, seconds: int,
        comment_words: bool) -> dict[str, Any]:
    """Commit comments at ARRIVALS_PER_S for `seconds` while the indexer follows; time each
    comment from its commit to the index commit that holds it."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import ChangeLog
    from drafts.models import Comment, Draft
    from search.indexer import drain, index_copy

    context = multiprocessing.get_context("fork")
    reports, stop = context.Queue(), context.Event()
    with app.app_context():
        drain(app)  # start from an index that has caught up
        draft = db.session.scalar(select(Draft).order_by(Draft.id))
        draft_id, version_id = draft.id, draft.current_version_id
        db.session.remove()
        db.engine.dispose()
    follower = context.Process(target=_follow, args=(str(data_dir), str(database_path),
                                                     comment_words, reports, stop), daemon=True)
    follower.start()
    committed: list[tuple[int, float]] = []  # (change-log id, commit time)
    rng = random.Random(7)
    with app.app_context():
        start = time.perf_counter()
        for n in range(seconds * ARRIVALS_PER_S):
            wait = start + n / ARRIVALS_PER_S - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            db.session.add(Comment(
                draft_id=draft_id, version_id=version_id, stance=rng.choice(STANCES),
                body=f"滞后测试意见{n}：请明确充电设施的标准。", status="published",
                submission_key=f"bench-lag-{time.time_ns()}-{n}"))
            db.session.commit()
            committed.append((db.session.scalar(select(func.max(ChangeLog.id))), time.time()))
        elapsed = time.perf_counter() - start
    last = committed[-1][0]
    applied: list[tuple[float, int, list]] = []
    deadline = time.time() + 120
    while time.time() < deadline:
        at, position = reports.get(timeout=120)
        applied.append((at, position["high"], position["gaps"]))
        if position["high"] >= last and not position["gaps"]:
            break
    stop.set()
    follower.join(10)
    lags = []
    for log_id, commit_time in committed:
        for at, high, gaps in applied:
            if log_id <= high and not any(lo <= log_id <= hi for lo, hi, _seen in gaps):
                lags.append((at - commit_time) * 1000)
                break
    with app.app_context():
        # sorted by date every match is collected, so the count is exact (past 2,000
        # matches a search by relevance estimates it)
        found = index_copy(app).index().search("滞后测试意见", facets=False, sort="date").total
    figures = common.percentiles(lags)
    caught_up = applied[-1][0] - committed[0][1] if applied else 0
    return {"comments": len(committed), "achieved_per_s": round(len(committed) / elapsed, 1),
            # how fast the indexer took them in: from the first commit until it caught up
            "indexer_per_s": round(len(committed) / caught_up, 1) if caught_up > 0 else None,
            "searchable": found, "lost": len(committed) - len(lags),
            **{key.replace("_ms", "_s"): round(value / 1000, 3) for key, value in figures.items()
               if key != "n"},
            "max_s": round(max(lags) / 1000, 3) if lags else None}


# --- relevance --------------------------------------------------------------------------------


def article_documents() -> list[tuple[str, str, str]]:
    """(law stem, article label, whole article text) of every corpus article."""
    from drafts.parser import parse

    out = []
    for stem, text in laws():
        for article in parse(text).articles():
            out.append((stem, article.label, article.full_text()))
    return out


def judged() -> list[dict[str, Any]]:
    """The queries and the articles we judged relevant: {law stem: [labels]}."""
    return json.loads(RELEVANCE.read_text(encoding="utf-8"))["queries"]


def scores(ranked: list[tuple[str, str]], relevant: set[tuple[str, str]]) -> tuple[float, float]:
    """Precision at 10 and recall of a ranked list of articles."""
    top = ranked[:10]
    precision = sum(key in relevant for key in top) / 10
    recall = len(relevant & set(ranked)) / len(relevant) if relevant else 0.0
    return precision, recall


def relevance_ours(app, queries: list[dict[str, Any]]) -> dict[str, Any]:
    """Our engine over the clauses of the corpus drafts, hits grouped by article."""
    from sqlalchemy import select

    from app.extensions import db
    from drafts.models import Draft
    from search.indexer import index_copy

    with app.app_context():
        laws_by_draft = dict(db.session.execute(select(Draft.id, Draft.title)).all())
        index = index_copy(app).index()
        precision, recall, returned = [], [], []
        for item in queries:
            ranked: list[tuple[str, str]] = []
            page = 1
            while True:
                result = index.search(item["query"], types="clause", page=page, per_page=200,
                                      facets=False)
                for hit in result.hits:
                    key = (laws_by_draft[hit["draft_id"]], hit["label"])
                    if key not in ranked:
                        ranked.append(key)
                if page >= result.pages:
                    break
                page += 1
            p, r = scores(ranked, _relevant(item))
            precision.append(p)
            recall.append(r)
            returned.append(len(ranked))
    return _summary(precision, recall, returned)


def _relevant(item: dict[str, Any]) -> set[tuple[str, str]]:
    return {(law, label) for law, labels in item["relevant"].items() for label in labels}


def _summary(precision: list[float], recall: list[float], returned: list[int]) -> dict:
    n = len(precision)
    return {"queries": n, "p_at_10": round(sum(precision) / n, 3),
            "recall": round(sum(recall) / n, 3),
            "mean_articles_returned": round(sum(returned) / n, 1),
            "zero_results": sum(1 for r in returned if r == 0)}


def relevance_postgres(queries: list[dict[str, Any]]) -> dict[str, Any]:
    """PostgreSQL full-text search over the same articles, cut into words by jieba."""
    import psycopg

    with psycopg.connect(PG_SERVER, autocommit=True) as server:
        server.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE}")
        server.execute(f"CREATE DATABASE {PG_DATABASE}")
    try:
        url = PG_SERVER.rsplit("/", 1)[0] + "/" + PG_DATABASE
        with psycopg.connect(url) as connection:
            connection.execute("CREATE TABLE articles (law text, label text, body text, "
                               "tsv tsvector)")
            with connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO articles VALUES (%s, %s, %s, to_tsvector('simple', %s))",
                    [(law, label, body, _segmented(body))
                     for law, label, body in article_documents()])
            connection.execute("CREATE INDEX ON articles USING gin (tsv)")
            precision, recall, returned = [], [], []
            for item in queries:
                words = _segmented(" ".join(re.findall(r'[^\s"“”]+', item["query"])))
                ranked = [tuple(row) for row in connection.execute(
                    "SELECT law, label FROM articles, plainto_tsquery('simple', %s) q "
                    "WHERE tsv @@ q ORDER BY ts_rank(tsv, q) DESC, law, label", (words,))]
                p, r = scores(ranked, _relevant(item))
                precision.append(p)
                recall.append(r)
                returned.append(len(ranked))
    finally:
        with psycopg.connect(PG_SERVER, autocommit=True) as server:
            server.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE}")
    return _summary(precision, recall, returned)


# --- the run ----------------------------------------------------------------------------------


def run(size: str, comments: int, procs: int, comment_words: bool) -> dict[str, Any]:
    from sqlalchemy import select

    from app.extensions import db
    from drafts.models import Comment, Draft
    from search.indexer import index_copy

    db_path, meta, seed_s = database(comments)
    work = Path(tempfile.mkdtemp(prefix="minyi-search-bench-"))
    try:
        database_path = work / "minyi.sqlite3"
        shutil.copy(db_path, database_path)
        app = search_app(work, database_path, comment_words)
        figures: dict[str, Any] = {"benchmark": "search", "size": size, "comments": comments,
                                   "laws": meta["laws"], "comment_words": comment_words,
                                   "seeded_this_run": seed_s is not None}
        if seed_s is not None:
            print(f"seeded {comments:,} comments in {seed_s:.0f} s")
        print(f"reindexing {comments:,} comments and every clause of {meta['laws']} laws "
              f"with {procs} process(es)", flush=True)
        figures["reindex"] = reindex(app, procs, comments)
        print(f"  {figures['reindex']}", flush=True)

        rng = random.Random(99)
        vocabulary = Vocabulary([text for _stem, text in laws()])
        with app.app_context():
            ids = list(db.session.scalars(select(Comment.id)))
            bodies = list(db.session.scalars(select(Comment.body).where(
                Comment.id.in_(rng.sample(ids, min(2000, len(ids)))))))
            big_draft = db.session.scalar(select(Comment.draft_id).limit(1))
            sets = query_sets(rng, vocabulary, bodies, big_draft, QUERIES[size])
            figures["draft_filter_draft"] = db.session.get(Draft, big_draft).title
            figures["queries"] = time_ours(index_copy(app).index(), sets)
            db.session.remove()
        print("building the FTS5 baseline", flush=True)
        connection, figures["fts5_build"] = fts5_build(database_path, work / "fts5.sqlite3")
        figures["fts5_queries"] = time_fts5(connection, sets)
        connection.close()
        figures["ratios"] = {
            "reindex_docs_per_s_ours_over_fts5": round(
                figures["reindex"]["docs_per_s"] / figures["fts5_build"]["docs_per_s"], 2),
            **{f"{name}_p95_ours_over_fts5": round(
                row["p95_ms"] / max(figures["fts5_queries"][name]["p95_ms"], 0.001), 2)
               for name, row in figures["queries"].items() if name in figures["fts5_queries"]},
        }
        print("index lag at 500 comments/s", flush=True)
        figures["lag"] = lag(app, work, database_path, LAG_SECONDS[size], comment_words)
        queries = judged()
        figures["relevance_ours"] = relevance_ours(app, queries)
        figures["relevance_postgres"] = relevance_postgres(queries)
        figures["load_average"] = common.load_average()
        return figures
    finally:
        shutil.rmtree(work, ignore_errors=True)


def print_figures(figures: dict[str, Any]) -> None:
    print(f"\nsearch: {figures['comments']:,} comments + every clause of {figures['laws']} laws")
    for section in ("reindex", "fts5_build", "lag", "relevance_ours", "relevance_postgres",
                    "ratios"):
        print(f"{section}: " + ", ".join(f"{k}={v}" for k, v in figures[section].items()))
    for section in ("queries", "fts5_queries"):
        for name, row in figures[section].items():
            print(f"{section} {name}: " + ", ".join(f"{k}={v}" for k, v in row.items()))
    print(f"load average {figures['load_average']}")


def main(argv: list[str]) -> int:
    """Run the benchmark from the command line."""

    def extra(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--procs", type=int, default=2, help="reindex processes (2)")
        parser.add_argument("--comment-words", action="store_true",
                            help="index the jieba word stream of comments too")
        parser.add_argument("--comments", type=int, default=None,
                            help="number of comments (instead of the size's)")

    args = common.parse_args("search", __doc__.splitlines()[0], argv, extra)
    figures = run(args.size, args.comments or SIZES[args.size], args.procs, args.comment_words)
    print_figures(figures)
    common.emit(figures, args.json)
    return 0
