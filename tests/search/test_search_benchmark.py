"""The search benchmark runs end to end in its smallest size and reports sane figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO

KINDS = ("one_word", "two_words", "phrase", "draft_filter")


def test_the_benchmark_measures_every_figure(tmp_path):
    env = {**os.environ, "MINYI_BENCH_CACHE": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    process = subprocess.run([sys.executable, "-m", "benchmarks", "search", "--smoke", "--json"],
                             cwd=REPO, env=env, capture_output=True, text=True, timeout=900,
                             check=False)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    figures = json.loads(process.stdout.strip().splitlines()[-1])

    assert (figures["benchmark"], figures["comments"], figures["laws"]) == ("search", 2000, 10)
    reindex = figures["reindex"]
    assert reindex["documents"] > 2000 and reindex["docs_per_s"] > 0
    assert reindex["extrapolated_1m_comments_min"] > 0
    assert figures["fts5_build"]["documents"] == reindex["documents"]
    for kind in KINDS:
        for row in (figures["queries"][kind], figures["fts5_queries"][kind]):
            assert row["n"] == 10 and 0 < row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]
        assert figures["ratios"][f"{kind}_p95_ours_over_fts5"] > 0
    lag = figures["lag"]
    assert lag["lost"] == 0 and lag["searchable"] == lag["comments"] > 0
    assert 0 < lag["p50_s"] <= lag["p99_s"]
    for engine in ("relevance_ours", "relevance_postgres"):
        row = figures[engine]
        assert row["queries"] == 66
        assert 0 < row["p_at_10"] <= 1 and 0 < row["recall"] <= 1
