"""Present an alignment of two versions: rows of marked-up lines for the before/after table
(修改前后对照表) and the inline redline, and the JSON the API and `minyi diff` print.

No Flask and no database: the CLI uses this on two files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from drafts.alignment import Alignment, ArticlePair, ArticleRef, DiffOp

#: statuses whose rows the "only changed articles" filter keeps (a move changes the order)
CHANGED_STATUSES = ("modified", "moved", "split", "merged", "inserted", "deleted")


@dataclass
class Segment:
    """A run of text on one line: equal, insert, delete, or a renumbered cross-reference."""

    kind: str
    text: str
    #: for a renumbered reference, its wording on the other side
    other: str = ""


@dataclass
class Block:
    """One article on one side of a row, line by line (a line is a paragraph or an item)."""

    label: str
    anchor: str
    lines: list[list[Segment]]


@dataclass
class Row:
    """One row of the comparison: the alignment's pair with both sides ready to print."""

    #: 1-based position in the comparison, kept when rows are filtered
    number: int
    pair: ArticlePair
    old: list[Block]
    new: list[Block]
    #: both sides interleaved, line by line
    redline: list[list[Segment]]

    @property
    def status(self) -> str:
        return self.pair.status

    @property
    def changed(self) -> bool:
        """True for rows the "only changed articles" filter keeps."""
        return self.pair.status in CHANGED_STATUSES or self.pair.text_changed

    @property
    def old_labels(self) -> list[str]:
        return [ref.label for ref in self.pair.old]

    @property
    def new_labels(self) -> list[str]:
        return [ref.label for ref in self.pair.new]


@dataclass
class Comparison:
    """Every row of an alignment plus the counts, for pages, exports and the CLI."""

    alignment: Alignment
    rows: list[Row] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return self.alignment.counts

    @property
    def changed_rows(self) -> list[Row]:
        return [row for row in self.rows if row.changed]

    @property
    def reference_changes(self) -> int:
        """How many cross-references were renumbered, retargeted or left stale."""
        return sum(len(row.pair.ref_changes) for row in self.rows)


def _segments(ops: list[DiffOp], side: str) -> list[Segment]:
    """The runs of one side ("old", "new" or "both") of a diff."""
    out = []
    for op in ops:
        if op.op == "equal" and op.renumbered:
            assert op.old_text is not None
            text, other = (op.old_text, op.text) if side == "old" else (op.text, op.old_text)
            out.append(Segment("renumbered", text, other))
        elif op.op == "equal":
            out.append(Segment("equal", op.text))
        elif side == "both" or (op.op == "delete") == (side == "old"):
            out.append(Segment(op.op, op.text))
    return out


def _lines(segments: list[Segment]) -> list[list[Segment]]:
    """Cut the runs at line breaks; blank lines are dropped."""
    lines: list[list[Segment]] = [[]]
    for segment in segments:
        for k, piece in enumerate(segment.text.split("\n")):
            if k:
                lines.append([])
            if piece:
                lines[-1].append(Segment(segment.kind, piece, segment.other))
    return [line for line in lines if line]


def _blocks(refs: list[ArticleRef], lines: list[list[Segment]]) -> list[Block]:
    """Give each article of a side its own lines, in order (the last takes any remainder)."""
    blocks = []
    start = 0
    for k, ref in enumerate(refs):
        count = len([line for line in ref.text.split("\n") if line.strip()])
        end = len(lines) if k == len(refs) - 1 else start + count
        blocks.append(Block(ref.label, ref.anchor, lines[start:end]))
        start = end
    return blocks


def build(alignment: Alignment) -> Comparison:
    """Turn an alignment into rows for the table, the redline and the exports."""
    rows = []
    for number, pair in enumerate(alignment.pairs, start=1):
        rows.append(Row(
            number,
            pair,
            _blocks(pair.old, _lines(_segments(pair.diff, "old"))),
            _blocks(pair.new, _lines(_segments(pair.diff, "new"))),
            _lines(_segments(pair.diff, "both")),
        ))
    return Comparison(alignment, rows)


# --------------------------------------------------------------------------- JSON and text


def _op(op: DiffOp) -> dict:
    data = {"op": op.op, "text": op.text}
    if op.renumbered:
        data["old_text"] = op.old_text
    return data


def stats(comparison: Comparison) -> dict[str, int]:
    """Counts of rows by status plus the article totals of each side."""
    pairs = comparison.alignment.pairs
    return {
        **comparison.counts,
        "old_articles": sum(len(p.old) for p in pairs),
        "new_articles": sum(len(p.new) for p in pairs),
        "changed": len(comparison.changed_rows),
        "reference_changes": comparison.reference_changes,
    }


def summary(comparison: Comparison, *, detail: bool = False) -> dict:
    """The comparison as JSON-ready data.

    `pairs` lists every old→new link, so a split or a merge appears as several pairs sharing
    one side; `inserted` and `deleted` list the unpaired articles.  With `detail` (the API)
    each pair also carries its row number (`group`), anchors, the row's word diff and its
    reference changes, and inserted/deleted articles are objects with their anchors.
    """
    pairs: list[dict] = []
    inserted: list = []
    deleted: list = []
    for group, row in enumerate(comparison.rows):
        p = row.pair
        if not p.new or not p.old:
            target = deleted if not p.new else inserted
            for ref in p.old or p.new:
                target.append({"label": ref.label, "anchor": ref.anchor} if detail else ref.label)
            continue
        for old in p.old:
            for new in p.new:
                entry: dict = {"old": old.label, "new": new.label, "status": p.status,
                               "similarity": p.similarity}
                if detail:
                    entry |= {
                        "group": group,
                        "old_anchor": old.anchor,
                        "new_anchor": new.anchor,
                        "moved": p.moved,
                        "text_changed": p.text_changed,
                        "diff": [_op(op) for op in p.diff],
                        "reference_changes": [
                            {"old": c.old, "new": c.new, "kind": c.kind, "expected": c.expected}
                            for c in p.ref_changes
                        ],
                    }
                pairs.append(entry)
    return {"pairs": pairs, "inserted": inserted, "deleted": deleted,
            "stats": stats(comparison)}


_TEXT_MARKS = {"insert": ("{+", "+}"), "delete": ("[-", "-]")}


def as_text(comparison: Comparison, *, only_changed: bool = True) -> str:
    """A plain-text redline: one heading per row, [-deleted-] and {+inserted+} words."""
    out = []
    for row in comparison.rows:
        if only_changed and not row.changed:
            continue
        old = "、".join(row.old_labels) or "—"
        new = "、".join(row.new_labels) or "—"
        similarity = f" {row.pair.similarity:.2f}" if row.pair.old and row.pair.new else ""
        out.append(f"{old} → {new}  {row.status}{similarity}")
        for line in row.redline:
            marked = []
            for segment in line:
                start, end = _TEXT_MARKS.get(segment.kind, ("", ""))
                marked.append(start + segment.text + end)
            out.append("    " + "".join(marked))
        for change in row.pair.ref_changes:
            if change.kind != "renumbered":
                out.append(f"    ! {change.kind} reference {change.old} → {change.new} "
                           f"(expected {change.expected})")
        out.append("")
    counts = ", ".join(f"{k} {v}" for k, v in comparison.counts.items() if v)
    out.append(f"{len(comparison.rows)} rows: {counts}")
    return "\n".join(out) + "\n"
