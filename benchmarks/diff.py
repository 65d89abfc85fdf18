"""Benchmark `diff`: comparing two versions of a law, speed on the real version pairs and
pairing accuracy on synthetic edits, against difflib as the naive baseline.

Run through the benchmarks package (``python -m benchmarks diff [--quick] [--json]``) or call
``main(argv)``.  Figures printed:

* 立法法 2015→2023 (and the other real version pairs of the corpus): the time to align the
  articles and word-diff every pair, as the comparison page needs it (median wall-clock and
  CPU time of N runs with jieba's dictionary already loaded; the load itself is timed
  separately), the pair counts by status, and the same for difflib over the whole texts;
  the goal is 200 ms for 立法法;
* the time for all corpus texts joined into one 664-article law against an edited version;
* on the real pairs, how many articles whose text is identical (and unique) in both
  versions are paired with each other — a ground truth that needs no hand labelling;
* on synthetic new versions of every corpus text, made with the true alignment recorded
  (insertions, deletions, moves, splits, merges, wording edits of up to half an article's
  text, and renumbering with cross-references rewritten; at a light and a three times
  heavier intensity), precision/recall/F1 of the article pairings (goal 0.99 each) and the
  share of rows whose status is exact, side by side with difflib over the whole texts and
  with pairing by article number, and the F1 ratios.  Seeded: the same seed gives the same
  versions and figures.

With ``--json`` the last line printed is one JSON object holding every figure.
"""

from __future__ import annotations

import argparse
import difflib
import random
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import common
from drafts.alignment import align, load_words, moved_groups, normalise_references
from drafts.comparison import build
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
    """Median wall-clock and CPU seconds of `runs` comparisons (alignment, word diff, rows)."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        build(align(old, new))
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


def _lines_of(articles: list) -> tuple[list[str], list[int]]:
    """The lines of a whole text as printed (label first) and the article each belongs to."""
    lines, owners = [], []
    for i, a in enumerate(articles):
        for k, line in enumerate(a.full_text().split("\n")):
            lines.append(f"{a.label} {line}" if k == 0 else line)
            owners.append(i)
    return lines, owners


def _difflib(old: list, new: list) -> set[tuple[int, int]]:
    """The naive baseline: a line diff of the two whole texts (difflib's SequenceMatcher).

    Lines it keeps pair their articles; inside a changed block, lines pair by position, as a
    side-by-side diff viewer shows them.
    """
    old_lines, old_owner = _lines_of(old)
    new_lines, new_owner = _lines_of(new)
    links = set()
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("equal", "replace"):
            for i, j in zip(range(i1, i2), range(j1, j2), strict=False):
                links.add((old_owner[i], new_owner[j]))
    return links


def _difflib_time(old: list, new: list, runs: int) -> float:
    """Median wall-clock seconds of the difflib baseline with its word diff of changed lines."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        old_lines, _ = _lines_of(old)
        new_lines, _ = _lines_of(new)
        matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "replace":
                difflib.SequenceMatcher(None, "\n".join(old_lines[i1:i2]),
                                        "\n".join(new_lines[j1:j2]), autojunk=False).get_opcodes()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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


#: share of a reworded article's characters that change, drawn uniformly from this range
REWORD_SHARE = (0.05, 0.5)
#: the same for a moved article that is also reworded
MOVE_REWORD_SHARE = (0.02, 0.15)
_CLAUSE = re.compile(r"[^，；。：,;]+[，；。：,;]?")
#: donor clauses must not look like the start of an article, item or sub-item
_STRUCTURAL = re.compile(r"^[第（(0-9０-９一二三四五六七八九十]")


def _reword(lines: list[str], share: float, donor: list[str], rng: random.Random
            ) -> tuple[list[str], float]:
    """Rewrite about `share` of an article's text, clause by clause.

    Random clauses are replaced by clauses of another law, dropped, or followed by a new
    clause, until the characters replaced or dropped plus those added reach `share` of the
    article's length.  Returns the new lines and the share actually changed.
    """
    total = sum(len(line) for line in lines)
    budget = share * total
    pieces = [_CLAUSE.findall(line) or [line] for line in lines]
    slots = [(li, ci) for li, clauses in enumerate(pieces) for ci in range(len(clauses))]
    rng.shuffle(slots)
    changed = 0
    for li, ci in slots:
        room = budget - changed
        if room < 2:
            break
        old = pieces[li][ci]
        stop = old[-1] if old[-1] in "，；。：,;" else ""
        kind = rng.random()
        if kind < 0.6 and len(old) <= room:  # replace the clause
            pieces[li][ci] = rng.choice(donor) + stop
            changed += len(old)
        elif kind < 0.8 and len(old) <= room and len(pieces[li]) > 1:  # drop it
            pieces[li][ci] = ""
            changed += len(old)
        else:  # add a clause after it
            addition = rng.choice(donor)[: int(room) - 1]
            pieces[li][ci] = old + addition + "，"
            changed += len(addition) + 1
    return ["".join(clauses) for clauses in pieces], changed / max(1, total)


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
    split and merged, and 10% reworded; `intensity` multiplies these shares.  A reworded
    article has between 5% and 50% of its characters changed (REWORD_SHARE); half of the
    moved articles are also reworded, lightly (MOVE_REWORD_SHARE).

    Returns (old_text, new_text, truth, shares): truth is a list of (old indexes, new
    indexes, status) built before any alignment is run; shares maps each reworded article
    (old index) to the part of its text that was changed.
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
    donor_clauses = [c for a in donor for c in a.full_text().replace("\n", "，").split("，")
                     if len(c) > 1 and not _STRUCTURAL.match(c)]
    shares: dict[int, float] = {}
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
            changed, share = _reword(lines[i], rng.uniform(*REWORD_SHARE), donor_clauses, rng)
            shares[i] = share
            units.append(_Unit([i], changed, "modified"))
        elif i in moves:
            moved = list(lines[i])
            if rng.random() < 0.5:  # half of the moved articles are also reworded
                moved, _share = _reword(moved, rng.uniform(*MOVE_REWORD_SHARE), donor_clauses,
                                        rng)
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
    return old_text, new_text, truth, shares


def _score(predicted: set, truth: set) -> tuple[int, int, int]:
    return len(predicted & truth), len(predicted), len(truth)


def _prf(hit: int, predicted: int, truth: int) -> dict[str, float]:
    p = hit / predicted if predicted else 1.0
    r = hit / truth if truth else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def _by_number_statuses(old: list, new: list) -> set[tuple[tuple[int, ...], tuple[int, ...], str]]:
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
    """Pairing accuracy of ours, difflib and pairing by number over synthetic versions."""
    names = sorted(p.name for p in CORPUS.glob("*.md"))[:limit]
    texts = {name: _articles(name) for name in names}
    scores = {"ours": [0, 0, 0], "difflib": [0, 0, 0], "by_number": [0, 0, 0]}
    exact = {"ours": [0, 0], "by_number": [0, 0]}
    per_status: dict[str, list[int]] = {}
    # recall of the true links of reworded articles, by how much of them was reworded
    by_share = {"under_25": [0, 0], "25_to_50": [0, 0]}
    shares: list[float] = []
    samples = 0
    for name in names:
        # Never borrow from another version of the same law: that is not an insertion.
        donors = [d for d in names if d.split("(")[0] != name.split("(")[0]]
        for s in range(seeds):
            rng = random.Random(f"{base_seed}:{name}:{s}")
            donor = texts[rng.choice(donors)]
            old_text, new_text, truth, edited = synthetic_version(texts[name], donor, rng,
                                                                  intensity)
            old = parse(old_text).articles()
            new = parse(new_text).articles()
            n_new = max((j for _, news, _ in truth for j in news), default=-1) + 1
            if len(old) != len(texts[name]) or len(new) != n_new:
                continue  # the parser read the synthetic text differently: skip it
            samples += 1
            shares += edited.values()
            truth_links = {(i, j) for olds, news, _ in truth for i in olds for j in news}
            result = align(old, new)
            ours = _links(result)
            for key, links in (("ours", ours), ("difflib", _difflib(old, new)),
                               ("by_number", _by_number(old, new))):
                for k, v in enumerate(_score(links, truth_links)):
                    scores[key][k] += v
            for i, share in edited.items():
                bucket = by_share["under_25" if share < 0.25 else "25_to_50"]
                wanted = {link for link in truth_links if link[0] == i}
                bucket[0] += len(wanted & ours)
                bucket[1] += len(wanted)
            truth_set = {(tuple(o), tuple(n), st) for o, n, st in truth}
            got = {
                (tuple(o.index for o in p.old), tuple(n.index for n in p.new), p.status)
                for p in result.pairs
            }
            exact["ours"][0] += len(truth_set & got)
            exact["by_number"][0] += len(truth_set & _by_number_statuses(old, new))
            exact["ours"][1] += len(truth_set)
            exact["by_number"][1] += len(truth_set)
            for item in truth_set:
                bucket = per_status.setdefault(item[2], [0, 0])
                bucket[0] += item in got
                bucket[1] += 1
    prf = {key: _prf(*value) for key, value in scores.items()}
    for key, (hit, total) in exact.items():
        prf[key]["status_exact"] = round(hit / max(1, total), 4)
    ours_f1 = prf["ours"]["f1"]
    return {
        "samples": samples,
        "ours": prf["ours"],
        "baseline_difflib": prf["difflib"],
        "baseline_by_number": prf["by_number"],
        "f1_ratio_vs_difflib": round(ours_f1 / prf["difflib"]["f1"], 3)
        if prf["difflib"]["f1"] else None,
        "f1_ratio_vs_by_number": round(ours_f1 / prf["by_number"]["f1"], 3)
        if prf["by_number"]["f1"] else None,
        "goal_met": prf["ours"]["precision"] >= GOAL and prf["ours"]["recall"] >= GOAL,
        "reworded": {"articles": len(shares),
                     "mean_share": round(statistics.fmean(shares), 3) if shares else 0.0,
                     "max_share": round(max(shares), 3) if shares else 0.0,
                     "recall_by_share": {k: round(v[0] / v[1], 4) if v[1] else None
                                         for k, v in by_share.items()}},
        "status_recall": {k: round(v[0] / v[1], 4) for k, v in sorted(per_status.items())},
    }


# --------------------------------------------------------------------------- entry point


SIZES = {"smoke": (1, 1, 3), "quick": (3, 2, None), "full": (15, 10, None)}  # runs, seeds, texts
#: pairing precision and recall the synthetic runs should reach
GOAL = 0.99
#: the comparison of 立法法 2015→2023 should take at most this long (seconds)
TIME_GOAL = 0.2


def _real_pair(label: str, old: list, new: list, runs: int) -> dict:
    build(align(old, new))  # warm-up
    median, median_cpu = _median_time(old, new, runs)
    baseline = _difflib_time(old, new, runs)
    result = align(old, new)
    found, total = _identical_recall(old, new, _links(result))
    figures = {
        "articles": [len(old), len(new)],
        "median_s": round(median, 4),
        "median_cpu_s": round(median_cpu, 4),
        "difflib_median_s": round(baseline, 4),
        "counts": {k: v for k, v in result.counts.items() if v},
        "identical_text_pairs": total,
        "identical_found": found,
        "identical_found_difflib": _identical_recall(old, new, _difflib(old, new))[0],
        "identical_found_by_number": _identical_recall(old, new, _by_number(old, new))[0],
    }
    print(
        f"{label}: {len(old)}→{len(new)} articles, alignment and word diff median "
        f"{median * 1000:.1f} ms wall, {median_cpu * 1000:.1f} ms CPU over {runs} runs "
        f"(difflib over the whole text: {baseline * 1000:.1f} ms); identical-text articles "
        f"paired {found}/{total} (difflib {figures['identical_found_difflib']}/{total}, "
        f"by number {figures['identical_found_by_number']}/{total}); {figures['counts']}"
    )
    return figures


def main(argv: list[str]) -> int:
    """Print the figures; with --json the last line is one JSON object of them."""

    def extra(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--seed", type=int, default=20240601, help="seed of the edits")

    args = common.parse_args("diff", __doc__.split("\n")[0], argv, extra)
    runs, seeds, limit = SIZES[args.size]

    start = time.perf_counter()
    load_words()
    figures: dict = {
        "benchmark": "diff",
        "jieba_load_s": round(time.perf_counter() - start, 3),
        "runs": runs,
        "seed": args.seed,
    }
    print(f"jieba dictionary load (once per process): {figures['jieba_load_s']:.3f} s")

    figures["real_pairs"] = {
        label: _real_pair(label, _articles(old_name), _articles(new_name), runs)
        for label, old_name, new_name in REAL_PAIRS
    }
    lifa = figures["real_pairs"]["立法法"]
    figures["lifa_within_goal"] = lifa["median_s"] <= TIME_GOAL
    print(f"立法法 within {TIME_GOAL * 1000:.0f} ms: {figures['lifa_within_goal']} "
          f"(wall {lifa['median_s'] * 1000:.0f} ms, CPU {lifa['median_cpu_s'] * 1000:.0f} ms; "
          f"load average {common.load_average()})")

    if args.size != "smoke":
        # Scale: every corpus text end to end as one long law, against an edited version.
        names = sorted(p.name for p in CORPUS.glob("*.md"))
        joined = [a for name in names for a in _articles(name)]
        old_text, new_text, _truth, _shares = synthetic_version(
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
        reworded = synth["reworded"]
        print(
            f"synthetic ({name} edits, intensity {intensity}): {synth['samples']} edited "
            f"versions of the corpus texts; {reworded['articles']} reworded articles, "
            f"{reworded['mean_share']:.0%} of the text on average, at most "
            f"{reworded['max_share']:.0%}"
        )
        for key, title in (("ours", "alignment"), ("baseline_difflib", "difflib  "),
                           ("baseline_by_number", "by number")):
            row = synth[key]
            exact = f"; status exact {row['status_exact']:.3f}" if "status_exact" in row else ""
            print(f"  {title} : precision {row['precision']:.3f} recall {row['recall']:.3f} "
                  f"F1 {row['f1']:.3f}{exact}")
        print(f"  F1 ratio alignment / difflib: {synth['f1_ratio_vs_difflib']}; "
              f"/ by number: {synth['f1_ratio_vs_by_number']}; precision and recall "
              f"≥ {GOAL}: {synth['goal_met']}")
        print("  recall of reworded articles by share reworded: "
              + ", ".join(f"{k} {v}" for k, v in reworded["recall_by_share"].items()))
        recall = synth["status_recall"]
        print("  status recall: " + ", ".join(f"{k} {v:.3f}" for k, v in recall.items()))
    common.emit(figures, args.json)
    return 0
