"""The benchmarks run end to end in their smallest size and report sane figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.__main__ import BEGIN, END, median_figures, names, write_summary

REPO = Path(__file__).resolve().parent.parent
PAGES = ("draft", "clause_new", "clause_new_deep", "clause_support", "clause_support_deep")


def run_benchmark(name: str, cache: Path) -> tuple[dict, str]:
    """Run `python -m benchmarks NAME --smoke --json`; return the last line's figures and the
    whole output."""
    env = {**os.environ, "MINYI_BENCH_CACHE": str(cache)}
    env.pop("DATABASE_URL", None)
    process = subprocess.run([sys.executable, "-m", "benchmarks", name, "--smoke", "--json"],
                             cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
                             check=False)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    return json.loads(process.stdout.strip().splitlines()[-1]), process.stdout


def assert_percentiles(row: dict) -> None:
    assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]


def test_draft_page_times_every_page_against_the_small_baseline(tmp_path):
    figures, output = run_benchmark("draft_page", tmp_path)

    assert figures["benchmark"] == "draft_page"
    assert figures["comments"] == 2_000
    assert figures["hot_clause_comments"] == 200
    assert figures["seeded_this_run"] is True
    assert "seeded 2,000 comments in" in output
    assert set(figures["pages"]) == set(PAGES)
    for row in figures["pages"].values():
        assert_percentiles(row)
        assert row["n"] == figures["requests_per_page"] == 20
        assert row["cpu_p50_ms"] > 0 and row["baseline_p50_ms"] > 0 and row["ratio"] > 0
        assert row["queries"] >= 3
    assert figures["pages"]["draft"]["kb"] > 100  # the whole 120-article text


def test_intake_accepts_comments_over_http_and_loses_none(tmp_path):
    figures, output = run_benchmark("intake", tmp_path)

    assert figures["benchmark"] == "intake"
    assert figures["lost"] == 0
    assert figures["errors"] == 0
    assert figures["comments_per_s"] > 0
    assert figures["ratio"] > 0
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]
    assert figures["worker"] == "sqlite gthread"
    assert set(figures["workers"]) == {"sqlite gthread", "postgres gthread"}
    assert {name: row["goal_comments_per_s"] for name, row in figures["best"].items()} == {
        "sqlite": 500, "postgres": 300}
    for name, row in figures["workers"].items():
        assert row["accepted"] > 0 and row["lost"] == row["errors"] == 0
        assert row["server_cpu_ms_per_comment"] > 0 and row["client_cpu_ms_per_comment"] > 0
        # PostgreSQL's backends are measured apart (a smoke run may take less than a clock
        # tick of theirs); SQLite works inside the server
        assert row["database_cpu_ms_per_comment"] >= 0
        if name.startswith("sqlite"):
            assert row["database_cpu_ms_per_comment"] == 0
        assert row["baseline_comments_per_s"] > 0
        assert row["baseline_lost"] == row["baseline_errors"] == 0
    assert "load generator" in output
    assert "seeded a PostgreSQL database" in output


def test_diff_aligns_the_real_pairs_and_scores_the_synthetic_edits(tmp_path):
    figures, output = run_benchmark("diff", tmp_path)

    assert figures["benchmark"] == "diff"
    lifa = figures["real_pairs"]["立法法"]
    assert lifa["articles"] == [105, 120]
    assert lifa["identical_found"] == lifa["identical_text_pairs"] == 60
    assert lifa["counts"]["split"] >= 1
    assert lifa["median_s"] > 0 and lifa["median_cpu_s"] > 0 and lifa["difflib_median_s"] > 0
    for name in ("synthetic_light", "synthetic_heavy"):
        synth = figures[name]
        assert synth["samples"] >= 1
        assert synth["ours"]["precision"] >= 0.99 and synth["ours"]["recall"] >= 0.99
        assert synth["f1_ratio_vs_difflib"] > 1
        assert 0.25 < synth["reworded"]["max_share"] <= 0.5  # wording edits up to half
    assert "F1 ratio alignment / difflib" in output


def test_the_runner_finds_the_benchmarks_by_module_name():
    assert {"draft_page", "intake", "diff"} <= set(names())
    assert "common" not in names()


def test_the_summary_takes_medians_and_replaces_only_its_own_section(tmp_path):
    runs = [{"rate": 10.0, "pages": {"a": {"p95_ms": 3}}, "ok": True},
            {"rate": 30.0, "pages": {"a": {"p95_ms": 1}}, "ok": False},
            {"rate": 20.0, "pages": {"a": {"p95_ms": 2}}, "ok": True}]
    assert median_figures(runs) == {"rate": 20.0, "pages.a.p95_ms": 2, "ok": True}

    doc = tmp_path / "benchmarks.md"
    full = BEGIN.format(section="full"), END.format(section="full")
    doc.write_text(f"# Guide\n\nhow to run\n\n{full[0]}\nold figures\n{full[1]}\n\n## After\n")
    write_summary(doc, "new figures", "full")
    write_summary(doc, "quick figures", "quick")
    text = doc.read_text()
    quick = BEGIN.format(section="quick"), END.format(section="quick")
    assert "old figures" not in text
    assert text == (f"# Guide\n\nhow to run\n\n{full[0]}\nnew figures\n{full[1]}\n## After\n\n"
                    f"{quick[0]}\nquick figures\n{quick[1]}\n")


@pytest.mark.parametrize("argv", [["no_such_benchmark"], []])
def test_the_runner_refuses_an_unknown_benchmark_or_none(argv):
    process = subprocess.run([sys.executable, "-m", "benchmarks", *argv], cwd=REPO,
                             capture_output=True, text=True, check=False)
    assert process.returncode == 2
    assert "draft_page" in process.stdout + process.stderr
