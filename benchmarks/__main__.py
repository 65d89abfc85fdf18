"""Run one benchmark (`python -m benchmarks NAME [--quick] [--json]`) or all of them.

`python -m benchmarks all [--quick] [--runs N] [--only NAME …] [--out PATH]` runs every
benchmark module of this package (or the ones named) N times, each in its own process with
--json, and writes a Markdown summary of the medians over the runs into docs/benchmarks.md
(or PATH): between the markers of its "full" or "quick" section, which it adds at the end of
the file when they are missing.
"""

from __future__ import annotations

import argparse
import json
import pkgutil
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path
from typing import Any

import benchmarks
from benchmarks import common

NOT_BENCHMARKS = {"common"}
BEGIN = "<!-- benchmarks {section}: begin (written by `python -m benchmarks all`) -->"
END = "<!-- benchmarks {section}: end -->"
DEFAULT_OUT = common.REPO / "docs" / "benchmarks.md"


def names() -> list[str]:
    """Return the benchmark modules of the package, found by name."""
    return sorted(module.name for module in pkgutil.iter_modules(benchmarks.__path__)
                  if not module.name.startswith("_") and module.name not in NOT_BENCHMARKS)


def flatten(figures: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested figures into dotted keys; lists get their index as a key."""
    flat: dict[str, Any] = {}
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        elif isinstance(value, list):
            flat.update(flatten(dict(enumerate(value)), name + "."))
        else:
            flat[name] = value
    return flat


def median_figures(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the median of each numeric figure over the runs, else its last value."""
    flats = [flatten(run) for run in runs]
    merged: dict[str, Any] = {}
    for key in dict.fromkeys(key for flat in flats for key in flat):
        values = [flat[key] for flat in flats if key in flat]
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        merged[key] = statistics.median(numbers) if len(numbers) == len(values) else values[-1]
    return merged


def run_one(name: str, quick: bool) -> tuple[dict[str, Any] | None, float, int]:
    """Run a benchmark in its own process; return its figures, seconds and exit code."""
    command = [sys.executable, "-m", "benchmarks", name, "--json"] + (["--quick"] if quick else [])
    started = time.perf_counter()
    process = subprocess.run(command, cwd=common.REPO, capture_output=True, text=True,
                             check=False)
    seconds = time.perf_counter() - started
    sys.stdout.write(process.stdout)
    sys.stderr.write(process.stderr[-4000:] if process.returncode else "")
    lines = process.stdout.strip().splitlines()
    try:
        figures = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        figures = None
    return (figures if isinstance(figures, dict) else None), seconds, process.returncode


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def figure_tables(runs: list[dict[str, Any]]) -> list[str]:
    """Return Markdown tables of the medians: one of the single figures (with every run's
    value), and one per group of like rows such as pages or worker classes."""
    medians = median_figures(runs)
    flats = [flatten(run) for run in runs]
    groups = {key: value for key, value in runs[-1].items()
              if isinstance(value, dict) and value
              and all(isinstance(row, dict) for row in value.values())}
    lines = ["| figure | median | runs |", "| --- | --- | --- |"]
    for key, value in medians.items():
        if key.split(".", 1)[0] not in groups:
            each = " / ".join(_format(flat.get(key, "–")) for flat in flats)
            lines.append(f"| {key} | {_format(value)} | {each} |")
    for group, rows in groups.items():
        columns = list(dict.fromkeys(key for row in rows.values() for key in flatten(row)))
        lines += ["", f"{group} (medians):", "", f"| {group} | " + " | ".join(columns) + " |",
                  "| --- " * (len(columns) + 1) + "|"]
        for row in rows:
            cells = [_format(medians.get(f"{group}.{row}.{column}", "–")) for column in columns]
            lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return lines


def summary(results: dict[str, dict[str, Any]], quick: bool, runs: int) -> str:
    """Return the Markdown summary of the runs."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Measured {when} on {platform.node() or 'this machine'} ({common.cpu_count()} cores, "
        f"Python {platform.python_version()}), {'--quick' if quick else 'full size'}, "
        f"median of {runs} run{'s' if runs != 1 else ''} of each benchmark.",
        "",
    ]
    for name, result in results.items():
        flags = " --quick" if quick else ""
        lines += [f"### {name}", "",
                  f"`python -m benchmarks {name}{flags} --json` × {runs}: exit codes "
                  f"{', '.join(map(str, result['codes']))}, median wall time "
                  f"{statistics.median(result['seconds']):.0f} s.", ""]
        if not result["runs"]:
            lines += ["No figures: every run failed.", ""]
            continue
        lines += [*figure_tables(result["runs"]), ""]
    return "\n".join(lines)


def write_summary(path: Path, text: str, section: str) -> None:
    """Put the summary between the markers of its section, adding them at the end if needed."""
    begin, end = BEGIN.format(section=section), END.format(section=section)
    block = f"{begin}\n{text}\n{end}\n"
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark figures\n"
    if begin in current and end in current:
        head, rest = current.split(begin, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        path.write_text(head + block + tail, encoding="utf-8")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(current.rstrip("\n") + "\n\n" + block, encoding="utf-8")


def run_all(argv: list[str]) -> int:
    """Run every benchmark and write the summary."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks all")
    parser.add_argument("--quick", action="store_true", help="run each benchmark with --quick")
    parser.add_argument("--runs", type=int, default=1, help="runs of each benchmark (median)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown file to write")
    parser.add_argument("--only", nargs="+", choices=names(), help="run only these benchmarks")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, Any]] = {}
    for name in args.only or names():
        result: dict[str, Any] = {"runs": [], "seconds": [], "codes": []}
        for _ in range(args.runs):
            figures, seconds, code = run_one(name, args.quick)
            result["seconds"].append(seconds)
            result["codes"].append(code)
            if figures is not None and code == 0:
                result["runs"].append(figures)
        results[name] = result
    write_summary(args.out, summary(results, args.quick, args.runs),
                  "quick" if args.quick else "full")
    print(f"summary written to {args.out}")
    return 0 if all(set(r["codes"]) == {0} for r in results.values()) else 1


def main(argv: list[str]) -> int:
    """Dispatch to a benchmark module's main(argv), or to `all`."""
    available = names()
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        print("benchmarks:", ", ".join(available + ["all"]))
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name == "all":
        return run_all(rest)
    if name not in available:
        print(f"unknown benchmark {name!r}; choose from {', '.join(available + ['all'])}",
              file=sys.stderr)
        return 2
    return import_module(f"benchmarks.{name}").main(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
