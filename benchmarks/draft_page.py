"""Server time of the public draft page and of a hot clause's comment pages with many comments.

A fictional 120-article draft (benchmarks.common.draft_text) gets 1,000,000 comments (100,000
with --quick) in a SQLite database: spread over its clauses with a skew (one clause holds a
tenth of them, a few more are hot, 2% are on the draft as a whole), 90% published, with
support counts, supporters and about one account per five comments. The seeded database is
kept under ~/.cache/minyi-bench (or $MINYI_BENCH_CACHE), keyed by size and schema revision.

Through the Flask test client (server time, no network), after a warm-up, it times N requests
of each page: the draft page, and the hottest clause's comments sorted by newest and by
support, first page and a page half-way down (reached through the cursor). The same pages of
the same draft with 2,000 comments are timed in the same run, interleaved, as the baseline:
`ratio` is p50 with many comments / p50 with 2,000. The goal is p95 ≤ 50 ms for every page.
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import bindparam, event, insert, select, text, update

from benchmarks import common

#: comments in the database, timed requests per page, warm-up requests per page
SIZES = {
    "smoke": {"comments": 2_000, "requests": 20, "warmup": 2},
    "quick": {"comments": 100_000, "requests": 60, "warmup": 5},
    "full": {"comments": 1_000_000, "requests": 300, "warmup": 10},
}
BASELINE_COMMENTS = 2_000
GOAL_P95_MS = 50.0
#: bump when the seeded data changes, so cached databases are seeded again
SEED_FORMAT = 1
#: share of all comments on the hottest clause, then on the next hot ones, and on the whole draft
HOTTEST_SHARE = 0.10
HOT_SHARES = (0.06, 0.05, 0.04, 0.03)
WHOLE_DRAFT_SHARE = 0.02
#: (status, share) of the seeded comments
STATUS_SHARES = (("published", 0.90), ("pending", 0.05), ("hidden", 0.03), ("rejected", 0.02))
BATCH = 20_000


# --- seeding ------------------------------------------------------------------------------


def seeded_database(comments: int) -> tuple[Path, dict, float | None]:
    """Return the cached database with `comments` comments, its facts and the seconds seeding
    took (None when it came from the cache)."""
    folder, meta, seconds = common.cached_folder(
        f"draft-page-{comments}-rev{common.schema_revision()}-f{SEED_FORMAT}",
        lambda scratch: seed(scratch, comments))
    return folder / "minyi.sqlite3", meta, seconds


def _commentable(clauses: list) -> list:
    """Return the units that carry their own comment link on the draft page."""
    children: dict[int, int] = {}
    for clause in clauses:
        if clause.parent_id is not None:
            children[clause.parent_id] = children.get(clause.parent_id, 0) + 1
    return [clause for clause in clauses
            if clause.kind in ("article", "item")
            or (clause.kind == "paragraph" and children.get(clause.parent_id, 0) > 1)]


def _clause_counts(rng: random.Random, units: list, comments: int) -> tuple[dict, int]:
    """Split the comments over the units with a skew; return {clause id: count} and the
    id of the hottest clause (an item)."""
    items = [unit for unit in units if unit.kind == "item"]
    hottest = rng.choice(items)
    others = [unit for unit in units if unit is not hottest]
    rng.shuffle(others)
    counts = {hottest.id: int(comments * HOTTEST_SHARE)}
    for unit, share in zip(others, HOT_SHARES, strict=False):
        counts[unit.id] = int(comments * share)
    rest = others[len(HOT_SHARES):]
    left = comments - sum(counts.values()) - int(comments * WHOLE_DRAFT_SHARE)
    weights = [1 / rank for rank in range(1, len(rest) + 1)]  # Zipf over the remaining units
    total = sum(weights)
    for unit, weight in zip(rest, weights, strict=True):
        counts[unit.id] = int(left * weight / total)
    return counts, hottest.id


def seed(folder: Path, comments: int) -> dict:
    """Make a new database in `folder` and fill it; return the facts the timing needs."""
    from app.extensions import db
    from app.models import utcnow
    from drafts.models import Clause, Comment, CommentSupport

    rng = random.Random(comments)
    users = max(50, comments // 5)
    with common.new_database(folder, users, rng) as (draft, staff):
        clauses = db.session.scalars(
            select(Clause).where(Clause.version_id == draft.current_version_id)
            .order_by(Clause.position)).all()
        counts, hottest = _clause_counts(rng, _commentable(clauses), comments)
        targets: list[int | None] = [cid for cid, n in counts.items() for _ in range(n)]
        targets += [None] * (comments - len(targets))
        rng.shuffle(targets)

        statuses = [status for status, _ in STATUS_SHARES]
        status_weights = [share for _, share in STATUS_SHARES]
        published: dict[int | None, int] = {}
        draft_slug = draft.slug
        step = (utcnow() - draft.opens_at) / comments
        start = draft.opens_at
        connection = db.session.connection()
        connection.exec_driver_sql("PRAGMA synchronous=OFF")
        connection.exec_driver_sql("PRAGMA cache_size=-400000")
        batch: list[dict] = []
        supports: list[dict] = []
        for index, clause_id in enumerate(targets, start=1):
            status = rng.choices(statuses, status_weights)[0]
            stance = rng.choice(("support", "oppose", "suggest"))
            supporters = int(rng.paretovariate(2.0)) - 1 if status == "published" else 0
            supporters = min(supporters, users)
            created = start + step * index
            batch.append({
                "id": index, "draft_id": draft.id, "version_id": draft.current_version_id,
                "clause_id": clause_id,
                "author_id": 1 + int(users * rng.random() ** 1.5),  # a few write a lot
                "guest_name": "", "guest_email": "", "stance": stance,
                "body": common.comment_body(rng),
                "proposed_wording": common.proposed_wording(rng) if stance == "suggest" else "",
                "region": rng.choice(common.REGIONS), "sector": rng.choice(common.SECTORS),
                "age_band": rng.choice(("", "18_29", "30_44", "45_59", "60_plus")),
                "status": status, "source": "online",
                "moderation_reason": "与本条无关" if status == "hidden" else "",
                "moderated_by_id": None if status == "pending" else staff.id,
                "moderated_at": None if status == "pending" else created + timedelta(hours=2),
                "submission_key": f"seed{rng.getrandbits(128):032x}",
                "support_count": supporters, "created_at": created,
            })
            supports += [{"comment_id": index, "user_id": user, "created_at": created}
                         for user in rng.sample(range(1, users + 1), supporters)]
            if status == "published":
                published[clause_id] = published.get(clause_id, 0) + 1
            if len(batch) >= BATCH or index == comments:
                connection.execute(insert(Comment.__table__), batch)
                if supports:  # after their comments, for the foreign key
                    connection.execute(insert(CommentSupport.__table__), supports)
                batch.clear()
                supports.clear()
        clauses_table = Clause.__table__
        connection.execute(update(clauses_table).where(clauses_table.c.id == bindparam("cid"))
                           .values(comment_count=bindparam("n")),
                           [{"cid": cid, "n": n} for cid, n in published.items()
                            if cid is not None])
        hot_anchor = db.session.get(Clause, hottest).anchor
    return {"slug": draft_slug, "comments": comments, "users": users, "hot_anchor": hot_anchor,
            "hot_comments": counts[hottest], "hot_published": published[hottest]}


# --- timing -------------------------------------------------------------------------------


def page_urls(app: Flask, meta: dict) -> dict[str, str]:
    """Return the pages to time: the draft page and the hot clause's comment pages."""
    from app.extensions import db

    clause_url = f"/drafts/{meta['slug']}/clauses/{meta['hot_anchor']}"
    depth = meta["hot_published"] // 2
    with app.app_context():
        hot = {"anchor": meta["hot_anchor"], "depth": depth}
        where = ("FROM comments JOIN clauses ON clauses.id = comments.clause_id "
                 "WHERE clauses.anchor = :anchor AND comments.status = 'published'")
        newest = db.session.execute(text(
            f"SELECT comments.id {where} ORDER BY comments.id DESC LIMIT 1 OFFSET :depth"),
            hot).scalar_one()
        supported = db.session.execute(text(
            f"SELECT comments.support_count, comments.id {where} "
            "ORDER BY comments.support_count DESC, comments.id DESC LIMIT 1 OFFSET :depth"),
            hot).one()
        db.session.remove()
    return {
        "draft": f"/drafts/{meta['slug']}",
        "clause_new": f"{clause_url}?sort=new",
        "clause_new_deep": f"{clause_url}?sort=new&cursor={newest}",
        "clause_support": f"{clause_url}?sort=support",
        "clause_support_deep": f"{clause_url}?sort=support&cursor={supported[0]}.{supported[1]}",
    }


class Target:
    """One database behind its own application and test client."""

    def __init__(self, database: Path, meta: dict, scratch: Path) -> None:
        from app.extensions import db

        self.app = common.bench_app(scratch, database)
        self.client = self.app.test_client()
        self.urls = page_urls(self.app, meta)
        self.samples: dict[str, list[float]] = {page: [] for page in self.urls}
        #: CPU time of this process per request: less swayed by other processes than the clock
        self.cpu_samples: dict[str, list[float]] = {page: [] for page in self.urls}
        #: the SQL statements and parameters of the last request
        self.statements: list[tuple[str, Any]] = []
        with self.app.app_context():
            event.listen(db.engine, "before_cursor_execute", self._count)

    def _count(self, _conn, _cursor, statement, parameters, _context, _many) -> None:
        self.statements.append((statement, parameters))

    def get(self, page: str, record: bool = False) -> tuple[int, int]:
        """Request a page (and record its times); return the bytes and SQL statements."""
        self.statements.clear()
        cpu = time.process_time()
        started = time.perf_counter()
        response = self.client.get(self.urls[page])
        elapsed = (time.perf_counter() - started) * 1000
        cpu = (time.process_time() - cpu) * 1000
        body = response.get_data()
        if response.status_code != 200 or (page != "draft" and b'class="comment"' not in body):
            raise RuntimeError(f"{self.urls[page]} answered {response.status_code}")
        if record:
            self.samples[page].append(elapsed)
            self.cpu_samples[page].append(cpu)
        return len(body), len(self.statements)


def explain(target: Target, page: str) -> None:
    """Print the query plan of every statement one request of the page runs."""
    from app.extensions import db

    target.get(page)
    statements = list(target.statements)
    print(f"\n{page}: {target.urls[page]}")
    with target.app.app_context():
        raw = db.engine.raw_connection()
        try:
            for statement, parameters in statements:
                if not statement.lstrip().upper().startswith("SELECT"):
                    continue
                rows = raw.cursor().execute("EXPLAIN QUERY PLAN " + statement,
                                            parameters).fetchall()
                print("  " + " ".join(statement.split())[:160])
                for row in rows:
                    print("     ", row[-1])
        finally:
            raw.close()


def run(size: str, show_plans: bool = False) -> dict:
    """Seed (or reuse) the databases, time the pages and return the figures."""
    plan = SIZES[size]
    database, meta, seeded = seeded_database(plan["comments"])
    if seeded is not None:
        print(f"seeded {plan['comments']:,} comments in {seeded:.1f} s → {database}")
    else:
        print(f"reusing the seeded database {database}")
    base_db, base_meta, base_seeded = seeded_database(BASELINE_COMMENTS)
    if base_seeded is not None:
        print(f"seeded the baseline ({BASELINE_COMMENTS:,} comments) in {base_seeded:.1f} s")
    with tempfile.TemporaryDirectory(prefix="minyi-bench-") as scratch:
        big = Target(database, meta, Path(scratch) / "big")
        # the smoke size is the baseline's size: one database, measured once
        small = big if base_db == database else Target(base_db, base_meta,
                                                       Path(scratch) / "small")
        targets = list(dict.fromkeys((big, small)))
        if show_plans:
            for page in big.urls:
                explain(big, page)
        sizes: dict[str, int] = {}
        queries: dict[str, int] = {}
        for _ in range(plan["warmup"]):
            for page in big.urls:
                sizes[page], queries[page] = big.get(page)
                small.get(page)
        for _ in range(plan["requests"]):  # interleaved, so that both see the same noise
            for target in targets:
                for page in target.urls:
                    target.get(page, record=True)
    pages = {}
    for page in big.urls:
        figures = common.percentiles(big.samples[page])
        baseline = common.percentiles(small.samples[page])
        figures.update(
            cpu_p50_ms=common.percentiles(big.cpu_samples[page])["p50_ms"],
            baseline_p50_ms=baseline["p50_ms"], baseline_p95_ms=baseline["p95_ms"],
            ratio=round(figures["p50_ms"] / baseline["p50_ms"], 2),
            kb=round(sizes[page] / 1024, 1), queries=queries[page],
            meets_goal=figures["p95_ms"] <= GOAL_P95_MS,
        )
        pages[page] = figures
    return {
        "benchmark": "draft_page", "size": size, "comments": plan["comments"],
        "users": meta["users"], "hot_clause_comments": meta["hot_comments"],
        "requests_per_page": plan["requests"], "seed_s": meta.get("seed_s"),
        "seeded_this_run": seeded is not None, "goal_p95_ms": GOAL_P95_MS,
        "meets_goal": all(figures["meets_goal"] for figures in pages.values()),
        "pages": pages, "cores": common.cpu_count(), "load_average": common.load_average(),
    }


def print_figures(figures: dict) -> None:
    """Print one line per page with the percentiles and the baseline side by side."""
    print(f"\ndraft page benchmark ({figures['size']}): {figures['comments']:,} comments, "
          f"{figures['users']:,} users, hottest clause {figures['hot_clause_comments']:,} "
          f"comments; {figures['requests_per_page']} requests per page after warm-up; "
          f"{figures['cores']} cores, load average {figures['load_average']}")
    print(f"{'page':<22}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'cpu p50':>9}  {'2k p50':>8}"
          f"{'ratio':>7}{'KB':>8}{'SQL':>5}  goal p95≤{GOAL_P95_MS:g}")
    for page, row in figures["pages"].items():
        print(f"{page:<22}{row['p50_ms']:>9.2f}{row['p95_ms']:>9.2f}{row['p99_ms']:>9.2f}"
              f"{row['cpu_p50_ms']:>9.2f}  {row['baseline_p50_ms']:>8.2f}{row['ratio']:>7.2f}"
              f"{row['kb']:>8.1f}{row['queries']:>5}  {'met' if row['meets_goal'] else 'MISSED'}")


def main(argv: list[str]) -> int:
    """Run the benchmark from the command line."""
    args = common.parse_args(
        "draft_page", __doc__.splitlines()[0], argv,
        lambda parser: parser.add_argument(
            "--explain", action="store_true",
            help="print the SQLite query plan of every statement each page runs"))
    figures = run(args.size, show_plans=args.explain)
    print_figures(figures)
    common.emit(figures, args.json)
    return 0
