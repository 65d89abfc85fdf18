"""Benchmark for drafts.alignment: speed on the real version pairs, accuracy on synthetic edits.

Run through the benchmarks package (``python -m benchmarks alignment [--quick] [--json]``) or
call ``main(argv)``.  Figures printed:

* time to align each real version pair of the corpus (median wall-clock and CPU time of N
  runs, after the one-off jieba dictionary load, which is timed separately), and the time
  for all corpus texts joined into one 664-article law against an edited version of it;
* on the real pairs, how many articles whose text is identical (and unique) in both
  versions are paired with each other — a ground truth that needs no hand labelling;
* on synthetic new versions of every corpus text (renumbering through insertions and
  deletions, moves, splits, merges and rewording, with cross-references rewritten; at a
  light and a three times heavier intensity), precision/recall/F1 of the article pairings
  and the share of changes whose status is reported exactly, side by side with a naive
  baseline that pairs articles by their number.

With ``--json`` the last line printed is one JSON object holding every figure.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import common
from drafts.alignment import align, moved_groups, normalise_references
from drafts.parser import int_to_chinese_numeral, parse

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "laws"

REAL_PAIRS = (
    ("立法法", "立法法(2015-03-15).md", "立法法(2023-03-13).md"),
    (
        "代表法",
        "全国人民代表大会和地方各级人民代表大会代表法(2015-08-29).md",
        "全国人民代表大会和地方各级人民代表大会代表法(2025-03-11).md",
    ),
    (
        "北京市制定地方性法规条例",
        "北京市制定地方性法规条例(2017-01-20).md",
        "北京市制定地方性法规条例(2023-07-28).md",
    ),
)


def _articles(name: str) -> list:
    return parse((CORPUS / name).read_text(encoding="utf-8")).articles()


# --------------------------------------------------------------------------- timing


def _median_time(old: list, new: list, runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of `runs` alignments."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        align(old, new)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def _identical_recall(old: list, new: list, pairs: set[tuple[int, int]]) -> tuple[int, int]:
    """(found, total) over articles whose text occurs exactly once in each version."""
    old_t = ["".join(a.full_text().split()) for a in old]
    new_t = ["".join(a.full_text().split()) for a in new]
    truth = [
        (i, new_t.index(t))
        for i, t in enumerate(old_t)
        if old_t.count(t) == 1 and new_t.count(t) == 1
    ]
    return sum(1 for link in truth if link in pairs), len(truth)


def _by_number(old: list, new: list) -> set[tuple[int, int]]:
    """The naive baseline: old and new articles with the same number are the same article."""
    where = {(a.number, a.sub_number): j for j, a in enumerate(new)}
    return {
        (i, where[(a.number, a.sub_number)])
        for i, a in enumerate(old)
        if (a.number, a.sub_number) in where
    }


def _links(alignment) -> set[tuple[int, int]]:
    return {(o.index, n.index) for p in alignment.pairs for o in p.old for n in p.new}


# --------------------------------------------------------------------------- synthetic edits


@dataclass
class _Unit:
    origin: list[int]  # old article indexes this new article comes from ([] = inserted)
    lines: list[str]
    op: str = "keep"


def _render(units: list[list[str]]) -> str:
    parts = ["# 合成文本", ""]
    for k, lines in enumerate(units, start=1):
        parts.append(f"第{int_to_chinese_numeral(k)}条 {lines[0]}")
        parts.extend(lines[1:])
    return "\n\n".join(parts) + "\n"


def _rewrite(lines: list[str], donor: list[str], rng: random.Random) -> list[str]:
    """A heavy amendment: a third of the clauses of each long line replaced by foreign ones."""
    out = []
    for line in lines:
        clauses = line.split("，")
        if len(clauses) >= 3:
            for k in rng.sample(range(len(clauses)), len(clauses) // 3):
                clauses[k] = rng.choice(donor).strip("。；")
        out.append("，".join(clauses))
    return out


def _reword(line: str, rng: random.Random) -> str:
    """A light amendment: drop a clause, or add one."""
    clauses = line.split("，")
    if len(clauses) > 2 and rng.random() < 0.5:
        del clauses[rng.randrange(1, len(clauses) - 1)]
        return "，".join(clauses)
    addition = rng.choice(["并及时向社会公布", "具体办法由市人民政府制定", "并报常务委员会备案"])
    body = line.rstrip("。；")
    return f"{body}，{addition}{line[len(body) :]}"


_ITEM_LINE = re.compile(r"^([（(][一二三四五六七八九十百]+[）)]|[0-9０-９]+[.．、])")


def _paragraph_lines(lines: list[str]) -> int:
    """How many paragraphs (款) these lines hold: item and sub-item lines belong to one."""
    return sum(1 for line in lines if not _ITEM_LINE.match(line))


def _split_point(lines: list[str]) -> int | None:
    """A paragraph boundary at which an article can be cut in two (never before an item)."""
    cuts = [k for k in range(1, len(lines)) if not _ITEM_LINE.match(lines[k])]
    return cuts[len(cuts) // 2] if cuts else None


def synthetic_version(old: list, donor: list, rng: random.Random, intensity: int = 1):
    """A new version of `old` with random edits, and the true alignment.

    At intensity 1 about 5% of the articles are deleted, 5% inserted, 2.5% each moved,
    split and merged, and 10% reworded; `intensity` multiplies these shares.

    Returns (old_text, new_text, truth) where truth is a list of
    (old indexes, new indexes, status) built before any alignment is run.
    """
    n = len(old)
    lines = [a.full_text().split("\n") for a in old]
    free = list(range(n))
    rng.shuffle(free)

    def take(k: int, cond=lambda i: True) -> list[int]:
        out = []
        for i in list(free):
            if len(out) == k:
                break
            if cond(i):
                out.append(i)
                free.remove(i)
        return out

    scale = max(1, intensity * n // 20)
    few = max(1, intensity * n // 40)
    donor_clauses = [c for a in donor for c in a.full_text().replace("\n", "，").split("，") if c]
    splits = take(few, lambda i: _split_point(lines[i]) is not None)
    merges: list[int] = []
    for _ in range(few):  # one at a time, so that merged pairs never overlap
        merges += take(1, lambda i: i + 1 < n and i + 1 in free)
        if merges and merges[-1] + 1 in free:
            free.remove(merges[-1] + 1)
    moves = take(few)
    deletes = take(scale)
    modifies = take(max(1, intensity * n // 10))

    units: list[_Unit] = []
    i = 0
    while i < n:
        if i in deletes:
            i += 1
            continue
        if i in merges:
            units.append(_Unit([i, i + 1], lines[i] + lines[i + 1], "merged"))
            i += 2
            continue
        if i in splits:
            cut = _split_point(lines[i])
            units.append(_Unit([i], lines[i][:cut], "split"))
            units.append(_Unit([i], lines[i][cut:], "split"))
        elif i in modifies:
            changed = list(lines[i])
            if rng.random() < 0.5:
                changed = _rewrite(changed, donor_clauses, rng)
            if changed == lines[i]:  # light edit, or too short for a heavy one
                changed[0] = _reword(changed[0], rng)
            units.append(_Unit([i], changed, "modified"))
        elif i in moves:
            moved = list(lines[i])
            if rng.random() < 0.5:  # half of the moved articles are also reworded
                moved[0] = _reword(moved[0], rng)
            units.append(_Unit([i], moved, "moved"))
        else:
            units.append(_Unit([i], list(lines[i])))
        i += 1
    for unit in [u for u in units if u.op == "moved"]:
        pos = units.index(unit)
        targets = [p for p in range(len(units)) if abs(p - pos) >= 4]
        if targets:
            units.remove(unit)
            units.insert(rng.choice(targets), unit)
    for _ in range(scale):
        art = rng.choice(donor)
        units.insert(rng.randrange(len(units) + 1), _Unit([], art.full_text().split("\n"), "new"))

    # Renumber and rewrite cross-references through the true mapping, down to paragraphs
    # where a split or a merge moved them.
    mapping: dict[str, str] = {}
    seen: dict[int, int] = {}  # paragraphs of an old article already placed
    for j, unit in enumerate(units):
        offset = 0
        for o in unit.origin:
            old_label, new_label = (
                f"第{int_to_chinese_numeral(o + 1)}条",
                f"第{int_to_chinese_numeral(j + 1)}条",
            )
            mapping.setdefault(old_label, new_label)
            count = (
                _paragraph_lines(unit.lines) if unit.op == "split" else _paragraph_lines(lines[o])
            )
            start = seen.get(o, 0)
            if unit.op in ("split", "merged"):
                for k in range(1, count + 1):
                    mapping[f"{old_label}第{int_to_chinese_numeral(start + k)}款"] = (
                        f"{new_label}第{int_to_chinese_numeral(offset + k)}款"
                    )
            seen[o] = start + count
            offset += count
    new_lines = [
        [normalise_references(line, mapping, "zh") if u.origin else line for line in u.lines]
        for u in units
    ]
    old_text = _render(lines)
    new_text = _render(new_lines)

    groups: dict[tuple[int, ...], list[int]] = {}
    for j, unit in enumerate(units):
        groups.setdefault(tuple(unit.origin) or (-1 - j,), []).append(j)
    truth = []
    paired = sorted((k, v) for k, v in groups.items() if k[0] >= 0)
    moved = moved_groups(paired)
    for pos, (origin, news) in enumerate(paired):
        unit = units[news[0]]
        if unit.op in ("split", "merged"):
            status = unit.op
        elif pos in moved:
            status = "moved"
        elif unit.op == "modified":
            status = "modified"
        else:
            status = "unchanged" if origin[0] == news[0] else "renumbered"
        truth.append((list(origin), news, status))
    truth += [([], v, "inserted") for k, v in groups.items() if k[0] < 0]
    truth += [([i], [], "deleted") for i in deletes]
    return old_text, new_text, truth


def _score(predicted: set, truth: set) -> tuple[int, int, int]:
    return len(predicted & truth), len(predicted), len(truth)


def _prf(hit: int, predicted: int, truth: int) -> dict[str, float]:
    p = hit / predicted if predicted else 1.0
    r = hit / truth if truth else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def _baseline_statuses(old: list, new: list) -> set[tuple[tuple[int, ...], tuple[int, ...], str]]:
    links = _by_number(old, new)
    out = set()
    for i, j in links:
        same = old[i].full_text() == new[j].full_text()
        out.add(((i,), (j,), "unchanged" if same else "modified"))
    paired_old = {i for i, _ in links}
    paired_new = {j for _, j in links}
    out |= {((i,), (), "deleted") for i in range(len(old)) if i not in paired_old}
    out |= {((), (j,), "inserted") for j in range(len(new)) if j not in paired_new}
    return out


def run_synthetic(seeds: int, base_seed: int, limit: int | None = None, intensity: int = 1) -> dict:
    """Accuracy of alignment and of the by-number baseline over synthetic versions."""
    names = sorted(p.name for p in CORPUS.glob("*.md"))[:limit]
    texts = {name: _articles(name) for name in names}
    ours = [0, 0, 0]
    base = [0, 0, 0]
    exact = {"ours": [0, 0], "baseline": [0, 0]}
    per_status: dict[str, list[int]] = {}
    samples = 0
    for name in names:
        # Never borrow from another version of the same law: that is not an insertion.
        donors = [d for d in names if d.split("(")[0] != name.split("(")[0]]
        for s in range(seeds):
            rng = random.Random(f"{base_seed}:{name}:{s}")
            donor = texts[rng.choice(donors)]
            old_text, new_text, truth = synthetic_version(texts[name], donor, rng, intensity)
            old = parse(old_text).articles()
            new = parse(new_text).articles()
            n_new = max((j for _, news, _ in truth for j in news), default=-1) + 1
            if len(old) != len(texts[name]) or len(new) != n_new:
                continue  # the parser read the synthetic text differently: skip it
            samples += 1
            truth_links = {(i, j) for olds, news, _ in truth for i in olds for j in news}
            result = align(old, new)
            for k, v in enumerate(_score(_links(result), truth_links)):
                ours[k] += v
            for k, v in enumerate(_score(_by_number(old, new), truth_links)):
                base[k] += v
            truth_set = {(tuple(o), tuple(n), st) for o, n, st in truth}
            got = {
                (tuple(o.index for o in p.old), tuple(n.index for n in p.new), p.status)
                for p in result.pairs
            }
            exact["ours"][0] += len(truth_set & got)
            exact["baseline"][0] += len(truth_set & _baseline_statuses(old, new))
            exact["ours"][1] += len(truth_set)
            exact["baseline"][1] += len(truth_set)
            for item in truth_set:
                bucket = per_status.setdefault(item[2], [0, 0])
                bucket[0] += item in got
                bucket[1] += 1
    ours_prf = _prf(*ours)
    base_prf = _prf(*base)
    return {
        "samples": samples,
        "ours": ours_prf | {"status_exact": round(exact["ours"][0] / max(1, exact["ours"][1]), 4)},
        "baseline_by_number": base_prf
        | {"status_exact": round(exact["baseline"][0] / max(1, exact["baseline"][1]), 4)},
        "f1_ratio_vs_baseline": round(ours_prf["f1"] / base_prf["f1"], 3)
        if base_prf["f1"]
        else None,
        "status_recall": {k: round(v[0] / v[1], 4) for k, v in sorted(per_status.items())},
    }


# --------------------------------------------------------------------------- entry point


SIZES = {"smoke": (1, 1, 3), "quick": (3, 2, None), "full": (15, 10, None)}  # runs, seeds, texts


def main(argv: list[str]) -> int:
    """Print the figures; with --json the last line is one JSON object of them."""

    def extra(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--seed", type=int, default=20240601, help="seed of the edits")

    args = common.parse_args("alignment", __doc__.split("\n")[0], argv, extra)
    runs, seeds, limit = SIZES[args.size]

    import jieba

    start = time.perf_counter()
    jieba.initialize()
    figures: dict = {
        "benchmark": "alignment",
        "jieba_load_s": round(time.perf_counter() - start, 3),
        "runs": runs,
    }
    print(f"jieba dictionary load (once per process): {figures['jieba_load_s']:.3f} s")

    real = {}
    for label, old_name, new_name in REAL_PAIRS:
        old, new = _articles(old_name), _articles(new_name)
        align(old, new)  # warm-up
        median, median_cpu = _median_time(old, new, runs)
        result = align(old, new)
        found, total = _identical_recall(old, new, _links(result))
        b_found, _ = _identical_recall(old, new, _by_number(old, new))
        real[label] = {
            "articles": [len(old), len(new)],
            "median_s": round(median, 4),
            "median_cpu_s": round(median_cpu, 4),
            "counts": {k: v for k, v in result.counts.items() if v},
            "identical_text_pairs": total,
            "identical_found": found,
            "identical_found_baseline": b_found,
        }
        print(
            f"{label}: {len(old)}→{len(new)} articles, median {median * 1000:.1f} ms wall, "
            f"{median_cpu * 1000:.1f} ms CPU over {runs} runs; "
            f"identical-text articles paired {found}/{total} "
            f"(by number: {b_found}/{total}); {real[label]['counts']}"
        )
    figures["real_pairs"] = real

    if args.size != "smoke":
        # Scale: every corpus text end to end as one long law, against an edited version.
        names = sorted(p.name for p in CORPUS.glob("*.md"))
        joined = [a for name in names for a in _articles(name)]
        old_text, new_text, _ = synthetic_version(
            joined, _articles(names[0]), random.Random(args.seed)
        )
        old, new = parse(old_text).articles(), parse(new_text).articles()
        wall, cpu = _median_time(old, new, max(1, runs // 5))
        figures["scale"] = {
            "articles": [len(old), len(new)],
            "median_s": round(wall, 3),
            "median_cpu_s": round(cpu, 3),
        }
        print(
            f"scale: all corpus texts as one law, {len(old)}→{len(new)} articles: "
            f"median {wall:.2f} s wall, {cpu:.2f} s CPU"
        )

    for name, intensity in (("light", 1), ("heavy", 3)):
        start = time.perf_counter()
        synth = run_synthetic(seeds, args.seed, limit, intensity)
        synth["seconds"] = round(time.perf_counter() - start, 2)
        figures[f"synthetic_{name}"] = synth
        o, b = synth["ours"], synth["baseline_by_number"]
        print(
            f"synthetic ({name} edits, intensity {intensity}): {synth['samples']} edited "
            "versions of the corpus texts"
        )
        print(
            f"  alignment : precision {o['precision']:.3f} recall {o['recall']:.3f} "
            f"F1 {o['f1']:.3f}; status exact {o['status_exact']:.3f}"
        )
        print(
            f"  by number : precision {b['precision']:.3f} recall {b['recall']:.3f} "
            f"F1 {b['f1']:.3f}; status exact {b['status_exact']:.3f}"
        )
        print(f"  F1 ratio alignment / by number: {synth['f1_ratio_vs_baseline']}")
        recall = synth["status_recall"]
        print("  status recall: " + ", ".join(f"{k} {v:.3f}" for k, v in recall.items()))
    common.emit(figures, args.json)
    return 0
