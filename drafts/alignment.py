"""Align two versions of a legal text article by article, and diff the aligned pairs.

The pairing never trusts article numbers: it is decided by content (TF-IDF weighted
character bigrams, cosine similarity), solved as an optimal assignment, then nudged by
the order of the surrounding articles.  Splits and merges are grown from the one-to-one
pairing, the reading order is checked with a longest increasing subsequence, paragraphs
and items are paired inside each row, and cross-references (第十二条, 第十二条第二款,
本条例第X条, 第X条至第Y条) are rewritten through the resulting old→new mapping so that
renumbering alone never counts as a change.  See docs/decisions/0003-version-alignment.md
for the thresholds and the measured figures.

Pure Python plus numpy/scipy/rapidfuzz/jieba; no Flask, no database.
"""

from __future__ import annotations

import difflib
import logging
import math
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
from rapidfuzz.distance import Indel
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix

__all__ = [
    "STATUSES",
    "Alignment",
    "ArticlePair",
    "ArticleRef",
    "DiffOp",
    "ParagraphPair",
    "PartRef",
    "RefChange",
    "align",
    "load_words",
    "moved_groups",
    "normalise_references",
    "token_diff",
]

STATUSES = (
    "unchanged",
    "renumbered",
    "modified",
    "moved",
    "split",
    "merged",
    "inserted",
    "deleted",
)

# --------------------------------------------------------------------------- thresholds
# Cosine similarity (TF-IDF over character bigrams, references masked, punctuation dropped).
# Calibrated on the three real version pairs of the corpus and on synthetic edits; the
# ADR gives the reasoning and the measured effect of each.

#: One-to-one pairs at least this similar are "anchors": they fix the reading order.
ANCHOR_SIMILARITY = 0.5
#: A pair anywhere in the text must reach this to count as the same article.
PAIR_SIMILARITY = 0.5
#: A pair that sits where the anchors around it say it should may be this weak.
CONTEXT_SIMILARITY = 0.15
#: Score bonus for a pair that fits between its neighbouring anchors.
CONTEXT_BONUS = 0.1
#: Candidates below this are never considered at all.
FLOOR_SIMILARITY = 0.08
#: Share of a fragment's weighted bigrams that must occur in the whole it came from
#: for it to join a split or a merge.
CONTAINMENT = 0.5
#: How much of the whole a joining fragment must add to what the group already covers.
GROUP_GAIN = 0.05
#: A fragment this contained in a neighbour may leave a one-to-one pair to join it, when
#: that pair's similarity is lower than the containment by at least STEAL_MARGIN.
STEAL_CONTAINMENT = 0.9
STEAL_MARGIN = 0.2
#: A fragment must sit within this many articles of the rest of its group.
GROUP_WINDOW = 3
#: Paragraphs (and items) pair when their character similarity reaches this.
PARAGRAPH_SIMILARITY = 0.5

# --------------------------------------------------------------------------- data model


@dataclass
class ArticleRef:
    """One article of one version: `index` is its position in that version's article list."""

    index: int
    label: str
    anchor: str
    text: str


@dataclass
class PartRef:
    """A paragraph or item of an article in one version."""

    article: int  # index into the version's article list
    position: int  # 0-based among the article's paragraphs (or the paragraph's items)
    label: str
    anchor: str
    text: str


@dataclass
class ParagraphPair:
    """Two paragraphs (or items) found to correspond, or one that was inserted/deleted."""

    status: str  # unchanged | modified | inserted | deleted
    old: PartRef | None
    new: PartRef | None
    similarity: float
    items: list[ParagraphPair] = field(default_factory=list)


@dataclass
class DiffOp:
    """One run of a token diff.

    A cross-reference renumbered consistently with the alignment is shown as ``equal``
    with the new wording in `text` and the old wording in `old_text`.
    """

    op: str  # equal | insert | delete
    text: str
    old_text: str | None = None

    @property
    def renumbered(self) -> bool:
        """True for a cross-reference whose number changed only through renumbering."""
        return self.old_text is not None


@dataclass
class RefChange:
    """A cross-reference whose wording differs between the paired articles."""

    old: str  # as written in the old article, e.g. "第九十七条"
    new: str  # as written in the new article, e.g. "第一百零八条"
    # "renumbered": follows the pairing; "retargeted": points somewhere else now;
    # "stale": left unchanged in an identical article although its target was renumbered
    kind: str
    expected: str | None = None  # what the pairing turns the old reference into


@dataclass
class ArticlePair:
    """One row of the comparison: a group of old articles and the new ones they became."""

    status: str
    old: list[ArticleRef]
    new: list[ArticleRef]
    similarity: float
    paragraphs: list[ParagraphPair] = field(default_factory=list)
    diff: list[DiffOp] = field(default_factory=list)
    ref_changes: list[RefChange] = field(default_factory=list)
    moved: bool = False

    @property
    def text_changed(self) -> bool:
        """True when the diff holds a real change (renumbered references do not count)."""
        return any(op.op != "equal" for op in self.diff)


@dataclass
class Alignment:
    """The full comparison of two versions."""

    pairs: list[ArticlePair]
    counts: dict[str, int]
    #: Reference rewriting used: old "第十二条" → new "第十三条", and paragraph-level
    #: entries such as "第七十二条第二款" → "第八十一条第一款" where a paragraph moved.
    mapping: dict[str, str] = field(default_factory=dict)
    #: Where each old anchor now lives (article and paragraph level), for carrying
    #: comments over to the new version; absent for deleted text.
    anchor_map: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- numerals

_ZH_DIGIT = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_ZH_DIGIT |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_UNIT = {"十": 10, "百": 100, "千": 1000}
_WIDE_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def _numeral_value(s: str) -> int | None:
    """Integer value of a Chinese (一百零五) or Arabic (105) numeral; None if unreadable."""
    s = s.translate(_WIDE_DIGITS)
    if s.isascii() and s.isdigit():
        return int(s)
    total, digit = 0, None
    for ch in s:
        if ch in _ZH_DIGIT:
            digit = _ZH_DIGIT[ch]
        elif ch in _ZH_UNIT:
            total += (1 if digit is None else digit) * _ZH_UNIT[ch]
            digit = None
        else:
            return None
    return total + (digit or 0)


def _zh_numeral(n: int) -> str:
    """Chinese numeral as used in labels: 10 → 十, 105 → 一百零五, 110 → 一百一十."""
    if n <= 0:
        return "零"
    names = "零一二三四五六七八九"
    out: list[str] = []
    gap = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if not d:
            gap = bool(out)
            continue
        if gap:
            out.append("零")
            gap = False
        out.append(names[d] + unit)
    text = "".join(out)
    return text[1:] if text.startswith("一十") else text


# --------------------------------------------------------------------------- references

_NUM = r"[0-9０-９零〇○一二两三四五六七八九十百千]+"
_ZH_REF = re.compile(
    rf"第(?P<art>{_NUM})条(?:之(?P<sub>{_NUM}))?(?:第(?P<para>{_NUM})款)?(?:第(?P<item>{_NUM})项)?"
)
_EN_REF = re.compile(r"\bArticle\s+(?P<art>\d+)(?P<sub>[a-z])?(?:\((?P<para>\d+)\))?")
# Immediately before a reference, these mean it points into another instrument.
_EXTERNAL_BEFORE = re.compile(r"(》|(?<!本)宪法)\s*$")
_LIST_GAP = re.compile(r"[、，,和及与或者至以\s]{0,4}")

_Key = tuple[int, int, int | None]  # (article number, 之N, paragraph or None)


@dataclass
class _Ref:
    """A cross-reference found in running text."""

    start: int
    end: int
    text: str
    key: _Key
    art_end: int  # end of the 第X条(之Y) part
    para_end: int  # end of the 第Z款 part (== art_end when absent)


def _ref_pattern(language: str) -> re.Pattern[str]:
    return _EN_REF if language == "en" else _ZH_REF


def _find_refs(text: str, language: str) -> list[_Ref]:
    """Internal cross-references in `text` (references into other laws are skipped)."""
    found = []
    external_end = -1  # end of the last reference into another law
    for m in _ref_pattern(language).finditer(text):
        before = text[max(0, m.start() - 40) : m.start()]
        # "《…》第八条、第九条": a list continuing an outside reference stays outside.
        continues = external_end >= 0 and _LIST_GAP.fullmatch(text[external_end : m.start()])
        if _EXTERNAL_BEFORE.search(before) or continues:
            external_end = m.end()
            continue
        external_end = -1
        art = _numeral_value(m.group("art"))
        if art is None:
            continue
        sub_raw = m.group("sub")
        if sub_raw is None:
            sub = 0
        elif language == "en":
            sub = ord(sub_raw) - ord("a") + 1
        else:
            sub = _numeral_value(sub_raw) or 0
        para_raw = m.group("para")
        para = _numeral_value(para_raw) if para_raw else None
        art_end = m.end("sub") if sub_raw else m.end("art") + (0 if language == "en" else 1)
        para_end = m.end("para") + 1 if para_raw else art_end
        found.append(_Ref(m.start(), m.end(), m.group(0), (art, sub, para), art_end, para_end))
    return found


def _parse_key(label: str) -> _Key | None:
    """Canonical key of a mapping label such as "第十二条", "第十二条之一第二款", "Article 5"."""
    label = label.strip()
    for language in ("zh", "en"):
        m = _ref_pattern(language).fullmatch(label)
        if m:
            refs = _find_refs(label, language)
            return refs[0].key if refs else None
    return None


def _language_of(text: str) -> str:
    han = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    return "zh" if han and han * 3 >= latin else "en"


def normalise_references(text: str, mapping: dict[str, str], language: str | None = None) -> str:
    """Rewrite internal 第N条 references through an old→new mapping of labels.

    `mapping` maps article labels ("第十二条" → "第十三条") and, where a paragraph moved,
    paragraph labels ("第七十二条第二款" → "第八十一条第一款").  A paragraph-level entry wins;
    otherwise the article part is replaced and any 第N款/第N项 suffix kept.  Every reference
    is rewritten once (no chains), references into other laws (《…》第五十条, 宪法第…) are
    left alone, and numerals may be Chinese or Arabic on either side.
    """
    if not mapping:
        return text
    return _rewrite(text, _mapping_table(mapping), language or _language_of(text))


def _mapping_table(mapping: dict[str, str] | None) -> dict[_Key, str]:
    """Mapping keyed by canonical reference keys instead of label spellings."""
    table: dict[_Key, str] = {}
    for old, new in (mapping or {}).items():
        key = _parse_key(old)
        if key is not None:
            table[key] = new
    return table


def _target(ref: _Ref, text: str, table: dict[_Key, str]) -> str:
    """What `ref` becomes through the mapping (itself when the mapping does not cover it)."""
    art, sub, para = ref.key
    if para is not None and (art, sub, para) in table:
        return table[(art, sub, para)] + text[ref.para_end : ref.end]
    if (art, sub, None) in table:
        return table[(art, sub, None)] + text[ref.art_end : ref.end]
    return ref.text


def _rewrite(text: str, table: dict[_Key, str], language: str) -> str:
    if not table:
        return text
    out: list[str] = []
    pos = 0
    for ref in _find_refs(text, language):
        out.append(text[pos : ref.start])
        out.append(_target(ref, text, table))
        pos = ref.end
    out.append(text[pos:])
    return "".join(out)


# --------------------------------------------------------------------------- text helpers

# A regular expression, not str.translate: translating long Chinese texts through a dict
# took a tenth of the time of a whole comparison.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_WS = re.compile(r"\s+")
_NON_WORD = re.compile(r"[\W_]+")


def _tidy(text: str) -> str:
    """Drop invisible characters and blank lines; trim each line."""
    lines = (line.strip() for line in _INVISIBLE.sub("", text).split("\n"))
    return "\n".join(line for line in lines if line)


def _compact(text: str, language: str) -> str:
    """Form used to decide whether two texts are the same: layout whitespace ignored."""
    text = _INVISIBLE.sub("", text)
    if language == "zh":
        return _WS.sub("", text)
    return _WS.sub(" ", text).strip()


def _masked(text: str, language: str) -> str:
    """Text for similarity: references and punctuation removed."""
    text = _ref_pattern(language).sub(" ", _INVISIBLE.sub("", text))
    if language == "zh":
        return _NON_WORD.sub("", text)
    return _NON_WORD.sub(" ", text.lower()).strip()


def _grams(text: str, language: str) -> Counter[str]:
    """Character bigrams (Chinese) or words and word bigrams (English)."""
    if language == "zh":
        if len(text) < 2:
            return Counter([text]) if text else Counter()
        return Counter(text[i : i + 2] for i in range(len(text) - 1))
    words = text.split()
    return Counter(words) + Counter(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))


def _ratio(a: str, b: str) -> float:
    """Normalised character similarity in 0..1 (1 − Indel distance / total length)."""
    if not a and not b:
        return 1.0
    return float(Indel.normalized_similarity(a, b))


# --------------------------------------------------------------------------- article model


@dataclass
class _Part:
    position: int
    label: str
    anchor: str
    text: str  # full text of the paragraph (lead line and items)
    items: list[_Part]


@dataclass
class _Article:
    index: int
    label: str
    anchor: str
    text: str  # tidy full text, paragraphs joined by "\n"
    key: tuple[int, int] | None
    parts: list[_Part]

    def ref(self) -> ArticleRef:
        return ArticleRef(self.index, self.label, self.anchor, self.text)


def _node_text(node: Any) -> str:
    full = getattr(node, "full_text", None)
    if callable(full):
        return str(full())
    return str(getattr(node, "text", ""))


def _parts_of(node: Any) -> list[_Part]:
    """Paragraphs of an article with their items; falls back to its text lines."""
    paragraphs = [c for c in getattr(node, "children", []) if getattr(c, "kind", "") == "paragraph"]
    parts: list[_Part] = []
    if paragraphs:
        for pos, para in enumerate(paragraphs):
            items = [
                _Part(
                    i,
                    getattr(item, "label", ""),
                    getattr(item, "anchor", ""),
                    _tidy(getattr(item, "label", "") + _node_text(item)),
                    [],
                )
                for i, item in enumerate(getattr(para, "children", []))
                if getattr(item, "kind", "") == "item"
            ]
            label = getattr(para, "label", "") or f"第{_zh_numeral(pos + 1)}款"
            parts.append(
                _Part(pos, label, getattr(para, "anchor", ""), _tidy(_node_text(para)), items)
            )
        return parts
    for pos, line in enumerate(_tidy(_node_text(node)).split("\n")):
        if line:
            parts.append(_Part(pos, f"第{_zh_numeral(pos + 1)}款", "", line, []))
    return parts


def _article_key(node: Any, label: str) -> tuple[int, int] | None:
    number = getattr(node, "number", None)
    if isinstance(number, int):
        return number, int(getattr(node, "sub_number", 0) or 0)
    parsed = _parse_key(label)
    return (parsed[0], parsed[1]) if parsed else None


def _articles(nodes: Sequence[Any]) -> list[_Article]:
    out = []
    for i, node in enumerate(nodes):
        label = _WS.sub("", str(getattr(node, "label", ""))) or f"#{i + 1}"
        if label.startswith(("Article", "Art.")):
            label = str(getattr(node, "label", "")).strip()
        out.append(
            _Article(
                i,
                label,
                str(getattr(node, "anchor", "")),
                _tidy(_node_text(node)),
                _article_key(node, label),
                _parts_of(node),
            )
        )
    return out


# --------------------------------------------------------------------------- similarity


class _Vectors:
    """TF-IDF vectors of every article of both versions, for cosine and containment."""

    def __init__(self, old: list[_Article], new: list[_Article], language: str) -> None:
        self.old_tf = [_grams(_masked(a.text, language), language) for a in old]
        self.new_tf = [_grams(_masked(a.text, language), language) for a in new]
        docs = self.old_tf + self.new_tf
        df: Counter[str] = Counter()
        for tf in docs:
            df.update(tf.keys())
        n = len(docs)
        self.idf = {g: math.log((1 + n) / (1 + c)) + 1.0 for g, c in df.items()}
        self.old_w = [self._weights(tf) for tf in self.old_tf]
        self.new_w = [self._weights(tf) for tf in self.new_tf]

    def _weights(self, tf: Counter[str]) -> dict[str, float]:
        return {g: (1.0 + math.log(c)) * self.idf[g] for g, c in tf.items()}

    def matrix(self) -> np.ndarray:
        """Cosine similarity of every old article (rows) with every new one (columns)."""
        if not self.old_w or not self.new_w:
            return np.zeros((len(self.old_w), len(self.new_w)))
        vocab: dict[str, int] = {}
        for w in self.old_w + self.new_w:
            for g in w:
                vocab.setdefault(g, len(vocab))

        def rows(weights: list[dict[str, float]]) -> csr_matrix:
            indptr, indices, data = [0], [], []
            for w in weights:
                norm = math.sqrt(sum(v * v for v in w.values())) or 1.0
                indices.extend(vocab[g] for g in w)
                data.extend(v / norm for v in w.values())
                indptr.append(len(indices))
            return csr_matrix((data, indices, indptr), shape=(len(weights), len(vocab)))

        return (rows(self.old_w) @ rows(self.new_w).T).toarray()

    def group_cosine(self, old: Iterable[int], new: Iterable[int]) -> float:
        """Cosine of the summed vectors of a group of old and a group of new articles."""
        a: Counter[str] = Counter()
        for i in old:
            a.update(self.old_tf[i])
        b: Counter[str] = Counter()
        for j in new:
            b.update(self.new_tf[j])
        wa, wb = self._weights(a), self._weights(b)
        dot = sum(v * wb[g] for g, v in wa.items() if g in wb)
        na = math.sqrt(sum(v * v for v in wa.values()))
        nb = math.sqrt(sum(v * v for v in wb.values()))
        return dot / (na * nb) if na and nb else 0.0

    def coverage(self, whole: Counter[str], parts: Iterable[Counter[str]]) -> float:
        """Share of `whole` found in the union of `parts`."""
        union: Counter[str] = Counter()
        for p in parts:
            union.update(p)
        return self.containment(whole, union)

    def containment(self, part: Counter[str], whole: Counter[str]) -> float:
        """Share of `part`'s IDF-weighted bigrams that also occur in `whole`."""
        total = sum(c * self.idf[g] for g, c in part.items())
        if not total:
            return 0.0
        shared = sum(min(c, whole.get(g, 0)) * self.idf[g] for g, c in part.items())
        return shared / total


def _lis(seq: Sequence[int]) -> set[int]:
    """Positions of one longest strictly increasing subsequence of `seq`."""
    tails: list[int] = []  # tails[k]: position ending the best run of length k+1
    prev = [-1] * len(seq)
    for pos, value in enumerate(seq):
        lo, hi = 0, len(tails)
        while lo < hi:
            mid = (lo + hi) // 2
            if seq[tails[mid]] < value:
                lo = mid + 1
            else:
                hi = mid
        if lo:
            prev[pos] = tails[lo - 1]
        if lo == len(tails):
            tails.append(pos)
        else:
            tails[lo] = pos
    keep: set[int] = set()
    pos = tails[-1] if tails else -1
    while pos >= 0:
        keep.add(pos)
        pos = prev[pos]
    return keep


def moved_groups(groups: Sequence[tuple[Sequence[int], Sequence[int]]]) -> set[int]:
    """Indexes of the groups (old indexes, new indexes) whose relative order changed.

    Every old→new link of every group is listed in old order; one longest subsequence
    with increasing new indexes is the order both versions agree on, and a group none of
    whose links is on it has moved.  Groups with an empty side never move.
    """
    links = sorted((i, j, gi) for gi, (old, new) in enumerate(groups) for i in old for j in new)
    keep = _lis([j for _, j, _ in links])
    in_order = {links[k][2] for k in keep}
    return {gi for gi, (old, new) in enumerate(groups) if old and new and gi not in in_order}


def _solve(value: np.ndarray) -> list[tuple[int, int]]:
    """Optimal one-to-one pairing maximising the total of positive `value` entries.

    Every row may also stay unpaired at value 0, so a pair is only made when it adds to
    the total; non-positive entries are never returned.
    """
    n, m = value.shape
    if not n or not m:
        return []
    padded = np.full((n, m + n), -1e9)
    padded[:, :m] = value
    padded[np.arange(n), m + np.arange(n)] = 0.0
    rows, cols = linear_sum_assignment(padded, maximize=True)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if c < m and value[r, c] > 0]


def _context_mask(
    n: int, m: int, anchors: list[tuple[int, int]], rows: list[int], cols: list[int]
) -> np.ndarray:
    """mask[r, c]: new article cols[c] lies between the partners of old rows[r]'s anchors."""
    anchors = sorted(anchors)
    keep = _lis([j for _, j in anchors])
    backbone = [anchors[k] for k in sorted(keep)]
    old_pos = [i for i, _ in backbone]
    mask = np.zeros((len(rows), len(cols)), dtype=bool)
    col_arr = np.array(cols)
    for r, i in enumerate(rows):
        k = int(np.searchsorted(old_pos, i, side="left"))
        if k < len(backbone) and backbone[k][0] == i:
            mask[r] = col_arr == backbone[k][1]
            continue
        lo = backbone[k - 1][1] if k > 0 else -1
        hi = backbone[k][1] if k < len(backbone) else m
        mask[r] = (col_arr > lo) & (col_arr < hi)
    return mask


# --------------------------------------------------------------------------- pairing


@dataclass
class _Group:
    old: list[int]
    new: list[int]
    fixed: bool = False


def _check_overrides(
    overrides: list[tuple[list[int], list[int]]] | None, n_old: int, n_new: int
) -> list[_Group]:
    groups = []
    seen_old: set[int] = set()
    seen_new: set[int] = set()
    for old, new in overrides or []:
        old, new = sorted(old), sorted(new)
        if not old and not new:
            raise ValueError("an override must name at least one article")
        for i in old:
            if not 0 <= i < n_old or i in seen_old:
                raise ValueError(f"override uses old article index {i} out of range or twice")
            seen_old.add(i)
        for j in new:
            if not 0 <= j < n_new or j in seen_new:
                raise ValueError(f"override uses new article index {j} out of range or twice")
            seen_new.add(j)
        if old and new:
            groups.append(_Group(old, new, fixed=True))
        else:  # forced insertions or deletions: one row per article
            groups += [_Group([i], [], fixed=True) for i in old]
            groups += [_Group([], [j], fixed=True) for j in new]
    return groups


def _pair_one_to_one(sim: np.ndarray, groups: list[_Group]) -> list[_Group]:
    """Pair the articles no override covers: optimal assignment, then order-aware refit."""
    n, m = sim.shape
    taken_old = {i for g in groups for i in g.old}
    taken_new = {j for g in groups for j in g.new}
    rows = [i for i in range(n) if i not in taken_old]
    cols = [j for j in range(m) if j not in taken_new]
    if not rows or not cols:
        return []
    sub = sim[np.ix_(rows, cols)]
    usable = sub >= FLOOR_SIMILARITY

    # Pass 1: content alone.  Strong pairs become anchors of the reading order.
    first = _solve(np.where(usable, sub - ANCHOR_SIMILARITY, -1.0))
    anchors = [(rows[r], cols[c]) for r, c in first]
    anchors += [(g.old[0], g.new[0]) for g in groups if g.old and g.new]

    # Pass 2: content plus a bonus for fitting between the anchors around the article;
    # such a pair may also be weaker than one found out of place.
    fits = _context_mask(n, m, anchors, rows, cols)
    threshold = np.where(fits, CONTEXT_SIMILARITY, PAIR_SIMILARITY)
    value = sub + CONTEXT_BONUS * fits - threshold
    value = np.where(usable & (sub >= threshold), value + 1e-6, -1.0)
    return [_Group([rows[r]], [cols[c]]) for r, c in _solve(value)]


def _grow_groups(groups: list[_Group], vec: _Vectors, sim: np.ndarray) -> None:
    """Turn unpaired neighbours that are fragments of a paired article into splits/merges.

    A fragment joins when most of it comes from the whole (containment) and it brings in
    a part of the whole the group did not cover yet (coverage gain).  A nearly verbatim
    fragment may even leave a weak one-to-one pair to join (see STEAL_CONTAINMENT).  The
    best growth of all groups is applied first; only the groups it affects are then
    looked at again.  Pairs whose cosine is below FLOOR_SIMILARITY are not measured.
    """

    def close(side: str, k: int, w: int) -> bool:
        return bool((sim[w, k] if side == "new" else sim[k, w]) >= FLOOR_SIMILARITY)

    used = {
        "old": {i for g in groups for i in g.old},
        "new": {j for g in groups for j in g.new},
    }
    growable = [g for g in groups if not g.fixed and g.old and g.new]
    # One-to-one pairs an almost verbatim fragment may be taken from.
    owner: dict[tuple[str, int], _Group] = {}
    for g in growable:
        if len(g.old) == len(g.new) == 1:
            owner[("old", g.old[0])] = owner[("new", g.new[0])] = g

    def weak(side: str, k: int, g: _Group) -> bool:
        """k sits in another one-to-one pair weak enough to be left for a fragment."""
        h = owner.get((side, k))
        return h is not None and h is not g and sim[h.old[0], h.new[0]] < 1 - STEAL_MARGIN

    def available(side: str, k: int, g: _Group, cont: float) -> bool:
        if k not in used[side]:
            return True
        h = owner[(side, k)]
        return cont >= STEAL_CONTAINMENT and bool(sim[h.old[0], h.new[0]] < cont - STEAL_MARGIN)

    contained: dict[tuple[str, int, int], float] = {}

    def containment(side: str, k: int, w: int) -> float:
        key = (side, k, w)
        if key not in contained:
            part, whole = (
                (vec.new_tf[k], vec.old_tf[w])
                if side == "new"
                else (
                    vec.old_tf[k],
                    vec.new_tf[w],
                )
            )
            contained[key] = vec.containment(part, whole)
        return contained[key]

    def best_growth(g: _Group) -> tuple[float, int, str] | None:
        best = None
        options = []
        if len(g.old) == 1:  # one old article: may grow into a split
            options.append(("new", g.old[0], vec.old_tf, g.new, vec.new_tf))
        if len(g.new) == 1:  # one new article: may grow into a merge
            options.append(("old", g.new[0], vec.new_tf, g.old, vec.old_tf))
        for side, w, wholes, members, tfs in options:
            whole = wholes[w]
            lo = max(0, min(members) - GROUP_WINDOW)
            hi = min(len(tfs), max(members) + GROUP_WINDOW + 1)
            candidates = [
                k
                for k in range(lo, hi)
                if k not in members
                and (k not in used[side] or weak(side, k, g))
                and close(side, k, w)
            ]
            if not candidates:
                continue
            have = [tfs[x] for x in members]
            base = vec.coverage(whole, have)
            for k in candidates:
                cont = containment(side, k, w)
                if cont < CONTAINMENT or not available(side, k, g, cont):
                    continue
                gain = vec.coverage(whole, [*have, tfs[k]]) - base
                if gain >= GROUP_GAIN and (best is None or cont + gain > best[0]):
                    best = (cont + gain, k, side)
        return best

    found = {id(g): best_growth(g) for g in growable}
    while True:
        ready = [(found[id(g)], n) for n, g in enumerate(growable) if found[id(g)] is not None]
        if not ready:
            break
        (_, k, side), n = max(ready, key=lambda item: (item[0][0], -item[1]))
        g = growable[n]
        freed: tuple[str, int] | None = None
        h = owner.get((side, k))
        if h is not None and k in used[side]:
            # Taken from a weak pair: that pair dissolves and its partner is free again.
            other_side = "new" if side == "old" else "old"
            partner = (h.new if side == "old" else h.old)[0]
            used[other_side].discard(partner)
            groups.remove(h)
            growable.remove(h)
            del found[id(h)]
            freed = (other_side, partner)
        for key in [key for key, grp in owner.items() if grp is g or grp is h]:
            del owner[key]
        if side == "new":
            g.new = sorted([*g.new, k])
        else:
            g.old = sorted([*g.old, k])
        used[side].add(k)
        for other in growable:
            # Look again at the grown group, at any that wanted the same article, and at
            # those next to an article a dissolved pair set free.
            best = found[id(other)]
            near_freed = freed is not None and any(
                abs(x - freed[1]) <= GROUP_WINDOW
                for x in (other.new if freed[0] == "new" else other.old)
            )
            if other is g or near_freed or (best is not None and best[1:] == (k, side)):
                found[id(other)] = best_growth(other)

    # An unpaired article may also have become a run of several unpaired ones, none
    # similar enough alone: accept the run when it reads like the article as a whole.
    for side in ("new", "old"):
        used_old = {i for g in groups for i in g.old}
        used_new = {j for g in groups for j in g.new}
        free_old = [i for i in range(len(vec.old_tf)) if i not in used_old]
        free_new = [j for j in range(len(vec.new_tf)) if j not in used_new]
        wholes, free = (free_old, free_new) if side == "new" else (free_new, free_old)
        for w in wholes:
            fragments = [
                k for k in free if close(side, k, w) and containment(side, k, w) >= CONTAINMENT
            ]
            run = _longest_run(fragments)
            if len(run) < 2:
                continue
            olds, news = ([w], run) if side == "new" else (run, [w])
            if vec.group_cosine(olds, news) >= PAIR_SIMILARITY:
                groups.append(_Group(olds, news))
                free = [k for k in free if k not in run]


def _longest_run(indexes: list[int]) -> list[int]:
    """Longest run of consecutive integers in a sorted list."""
    best: list[int] = []
    run: list[int] = []
    for k in indexes:
        run = [*run, k] if run and k == run[-1] + 1 else [k]
        if len(run) > len(best):
            best = run
    return best


# --------------------------------------------------------------------------- paragraphs


def _monotone_pairs(sim: list[list[float]], threshold: float) -> list[tuple[int, int]]:
    """Order-preserving pairing maximising total similarity over pairs ≥ threshold."""
    n = len(sim)
    m = len(sim[0]) if n else 0
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            best = max(score[i - 1][j], score[i][j - 1])
            s = sim[i - 1][j - 1]
            if s >= threshold:
                best = max(best, score[i - 1][j - 1] + s)
            score[i][j] = best
    pairs = []
    i, j = n, m
    while i and j:
        s = sim[i - 1][j - 1]
        if s >= threshold and score[i][j] == score[i - 1][j - 1] + s:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif score[i][j] == score[i - 1][j]:
            i -= 1
        else:
            j -= 1
    return pairs[::-1]


def _pair_parts(
    old: list[tuple[int, _Part]],
    new: list[tuple[int, _Part]],
    language: str,
    with_items: bool,
) -> list[ParagraphPair]:
    """Pair paragraphs (or items) in order; unpaired ones are inserted/deleted.

    Statuses here compare the texts as written; `_restatus` revises them once the
    reference mapping is known.
    """
    old_norm = [_compact(p.text, language) for _, p in old]
    new_norm = [_compact(p.text, language) for _, p in new]
    old_mask = [_masked(p.text, language) for _, p in old]
    new_mask = [_masked(p.text, language) for _, p in new]
    sim = [[_ratio(a, b) for b in new_mask] for a in old_mask]
    pairs = _monotone_pairs(sim, PARAGRAPH_SIMILARITY)

    def ref(art: int, part: _Part) -> PartRef:
        return PartRef(art, part.position, part.label, part.anchor, part.text)

    out: list[ParagraphPair] = []
    oi = nj = 0
    for a, b in [*pairs, (len(old), len(new))]:
        while oi < a:
            art, part = old[oi]
            out.append(ParagraphPair("deleted", ref(art, part), None, 0.0))
            oi += 1
        while nj < b:
            art, part = new[nj]
            out.append(ParagraphPair("inserted", None, ref(art, part), 0.0))
            nj += 1
        if a == len(old) and b == len(new):
            break
        (oa, op), (na, np_) = old[a], new[b]
        same = new_norm[b] == old_norm[a]
        items: list[ParagraphPair] = []
        if with_items and (op.items or np_.items):
            old_items = [(oa, it) for it in op.items]
            new_items = [(na, it) for it in np_.items]
            items = _pair_parts(old_items, new_items, language, False)
        out.append(
            ParagraphPair(
                "unchanged" if same else "modified",
                ref(oa, op),
                ref(na, np_),
                1.0 if same else round(_ratio(old_norm[a], new_norm[b]), 4),
                items,
            )
        )
        oi, nj = a + 1, b + 1
    return out


def _restatus(pairs: list[ParagraphPair], table: dict[_Key, str], language: str) -> None:
    """A modified paragraph whose only change is renumbered references is unchanged."""
    for p in pairs:
        _restatus(p.items, table, language)
        if p.status != "modified" or p.old is None or p.new is None:
            continue
        normalised = _compact(_rewrite(p.old.text, table, language), language)
        if normalised == _compact(p.new.text, language):
            p.status, p.similarity = "unchanged", 1.0


def _whole_parts(status: str, index: int, parts: list[_Part]) -> list[ParagraphPair]:
    """Paragraph (and item) rows of an inserted or deleted article."""
    out = []
    for part in parts:
        ref = PartRef(index, part.position, part.label, part.anchor, part.text)
        old, new = (None, ref) if status == "inserted" else (ref, None)
        out.append(ParagraphPair(status, old, new, 0.0, _whole_parts(status, index, part.items)))
    return out


# --------------------------------------------------------------------------- token diff

_EN_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


@dataclass
class _Tok:
    text: str
    key: str  # what is compared: references are compared by their target
    ref: bool = False


@cache
def _jieba() -> Any:
    """jieba, imported on first use: loading its dictionary takes about a second."""
    with warnings.catch_warnings():
        # jieba 0.42 has invalid escape sequences, a SyntaxWarning when not yet compiled
        warnings.simplefilter("ignore")
        import jieba
    jieba.setLogLevel(logging.WARNING)
    return jieba


def load_words() -> None:
    """Load jieba's dictionary now rather than in the first Chinese diff."""
    _jieba().initialize()


def _jieba_cut(text: str) -> list[str]:
    return [t for t in _jieba().lcut(text) if t]


def _tokenise(
    text: str, language: str, table: dict[_Key, str] | None, old: bool, coarse: bool = False
) -> list[_Tok]:
    """Words of `text`, with each cross-reference as one token keyed by its target.

    `coarse` keeps the text between references whole (for lines known to match).
    """
    toks: list[_Tok] = []
    pos = 0
    refs = _find_refs(text, language) if table is not None else []
    for r in refs:
        toks.extend(_plain_tokens(text[pos : r.start], language, coarse))
        target = _target(r, text, table) if old and table else r.text
        toks.append(_Tok(r.text, "\x00" + _canonical_ref(target, language), True))
        pos = r.end
    toks.extend(_plain_tokens(text[pos:], language, coarse))
    return toks


def _plain_tokens(text: str, language: str, coarse: bool = False) -> list[_Tok]:
    if not text:
        return []
    if coarse:
        return [_Tok(text, text)]
    if language == "en":
        pieces = _EN_TOKEN.findall(text)
    else:
        pieces = []
        for chunk in re.split(r"(\n)", text):
            if chunk:
                pieces.extend(["\n"] if chunk == "\n" else _jieba_cut(chunk))
    return [_Tok(p, p) for p in pieces]


def _canonical_ref(text: str, language: str) -> str:
    """Spelling-independent form of a reference: 第12条 and 第十二条 compare equal."""
    refs = _find_refs(text, language)
    if not refs:
        return text
    r = refs[0]
    tail = text[r.para_end :]
    return f"{r.key[0]}.{r.key[1]}.{r.key[2]}|{tail}"


def _char_level(old: str, new: str) -> list[DiffOp] | None:
    """Character diff of a changed run, or None when word-level reads better."""
    sm = difflib.SequenceMatcher(None, old, new, autojunk=False)
    ops: list[DiffOp] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal" and i2 - i1 < 2 and ops:
            # A lone shared character between changes only makes the diff choppy.
            tag = "replace"
        if tag == "equal":
            ops.append(DiffOp("equal", old[i1:i2]))
            continue
        if i2 > i1:
            ops.append(DiffOp("delete", old[i1:i2]))
        if j2 > j1:
            ops.append(DiffOp("insert", new[j1:j2]))
    kept = sum(len(o.text) for o in ops if o.op == "equal")
    if kept < 2 or kept < 0.5 * min(len(old), len(new)):
        return None
    return ops


def _merge_ops(ops: Iterable[DiffOp]) -> list[DiffOp]:
    """Join neighbouring runs of one kind; inside a change, deletions come first."""
    out: list[DiffOp] = []
    deleted: list[str] = []
    inserted: list[str] = []

    def flush() -> None:
        if deleted:
            out.append(DiffOp("delete", "".join(deleted)))
        if inserted:
            out.append(DiffOp("insert", "".join(inserted)))
        deleted.clear()
        inserted.clear()

    for op in ops:
        if not op.text:
            continue
        if op.op == "delete":
            deleted.append(op.text)
        elif op.op == "insert":
            inserted.append(op.text)
        else:
            flush()
            if out and out[-1].op == "equal" and not out[-1].renumbered and not op.renumbered:
                out[-1] = DiffOp("equal", out[-1].text + op.text)
            else:
                out.append(op)
    flush()
    return out


def _diff(
    old: str, new: str, language: str, table: dict[_Key, str] | None
) -> tuple[list[DiffOp], list[RefChange]]:
    """Diff line by line first; only lines that really changed are cut into words."""
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    old_keys = [_compact(_rewrite(x, table or {}, language), language) for x in old_lines]
    new_keys = [_compact(x, language) for x in new_lines]
    sm = difflib.SequenceMatcher(None, old_keys, new_keys, autojunk=False)
    ops: list[DiffOp] = []
    changes: list[RefChange] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            for a, b in zip(old_lines[i1:i2], new_lines[j1:j2], strict=True):
                if a == b:
                    ops.append(DiffOp("equal", b))
                elif a.rstrip("\n") == b.rstrip("\n"):
                    # The last line of one side only: keep its line break on its own side,
                    # so that each side reads back exactly, line for line.
                    ops.append(DiffOp("equal", b.rstrip("\n")))
                    ops.append(DiffOp("delete" if a.endswith("\n") else "insert", "\n"))
                else:  # the same once references are renumbered
                    more, found = _token_diff(a, b, language, table, coarse=True)
                    ops += more
                    changes += found
        else:
            more, found = _token_diff(
                "".join(old_lines[i1:i2]), "".join(new_lines[j1:j2]), language, table
            )
            ops += more
            changes += found
    return _merge_ops(ops), changes


#: a shared head ends, and a shared tail starts, right after one of these
_CLAUSE_END = frozenset("，。；：、,;:！？!?\n")


def _shared_ends(old: str, new: str, table: dict[_Key, str] | None) -> tuple[int, int]:
    """Lengths of a head and a tail both texts share that need no cutting into words.

    Each ends (or starts) at a clause boundary, where jieba's segmentation restarts anyway,
    and holds no cross-reference the mapping would rewrite (that one is compared by its
    target).  Cutting only the middle into words made the word diff of a long law three
    times faster.
    """
    limit = min(len(old), len(new))
    head = 0
    while head < limit and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < limit - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    for ref in _find_refs(old, "zh") if table else []:
        if _target(ref, old, table) != ref.text:
            head = min(head, ref.start)
            tail = min(tail, len(old) - ref.end)
    while head and old[head - 1] not in _CLAUSE_END:
        head -= 1
    start = len(old) - tail
    while tail and old[start - 1] not in _CLAUSE_END:
        start += 1
        tail -= 1
    return head, tail


def _token_diff(
    old: str, new: str, language: str, table: dict[_Key, str] | None, coarse: bool = False
) -> tuple[list[DiffOp], list[RefChange]]:
    if language == "zh" and not coarse:
        head, tail = _shared_ends(old, new, table)
        if head or tail:
            ops, changes = _word_diff(old[head : len(old) - tail], new[head : len(new) - tail],
                                      language, table)
            return [DiffOp("equal", new[:head]), *ops, DiffOp("equal", new[len(new) - tail :])], (
                changes)
    return _word_diff(old, new, language, table, coarse)


def _word_diff(
    old: str, new: str, language: str, table: dict[_Key, str] | None, coarse: bool = False
) -> tuple[list[DiffOp], list[RefChange]]:
    a = _tokenise(old, language, table, True, coarse)
    b = _tokenise(new, language, table, False, coarse)
    sm = difflib.SequenceMatcher(None, [t.key for t in a], [t.key for t in b], autojunk=False)
    ops: list[DiffOp] = []
    changes: list[RefChange] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            for ta, tb in zip(a[i1:i2], b[j1:j2], strict=True):
                if ta.ref and ta.text != tb.text:
                    ops.append(DiffOp("equal", tb.text, old_text=ta.text))
                    changes.append(RefChange(ta.text, tb.text, "renumbered", tb.text))
                else:
                    ops.append(DiffOp("equal", tb.text))
            continue
        olds, news = a[i1:i2], b[j1:j2]
        old_refs = [t for t in olds if t.ref]
        new_refs = [t for t in news if t.ref]
        for ta, tb in zip(old_refs, new_refs, strict=False):
            expected = _target(_find_refs(ta.text, language)[0], ta.text, table or {})
            changes.append(RefChange(ta.text, tb.text, "retargeted", expected))
        old_text = "".join(t.text for t in olds)
        new_text = "".join(t.text for t in news)
        fine = None
        if language == "zh" and olds and news and not old_refs and not new_refs:
            fine = _char_level(old_text, new_text)
        if fine is not None:
            ops.extend(fine)
        else:
            ops.append(DiffOp("delete", old_text))
            ops.append(DiffOp("insert", new_text))
    return ops, changes


def token_diff(
    old: str, new: str, language: str = "zh", mapping: dict[str, str] | None = None
) -> list[DiffOp]:
    """Token diff of two texts as a list of equal/insert/delete runs.

    Chinese is cut into jieba words; inside a changed run the diff drops to characters
    when that leaves most of the run shared (宪法和|法律委员会 rather than a whole-word
    swap).  English is cut into words, whitespace and punctuation.  With `mapping`,
    cross-references are single tokens compared by target, so a reference renumbered
    through the mapping comes out as ``equal`` with its old wording in `old_text`.
    """
    return _diff(old, new, language, None if mapping is None else _mapping_table(mapping))[0]


# --------------------------------------------------------------------------- mapping


def _paragraph_label(article: str, position: int, language: str) -> str:
    """How a reference names a paragraph: 第十二条第二款, Article 12(2)."""
    if language == "en":
        return f"{article}({position + 1})"
    return f"{article}第{_zh_numeral(position + 1)}款"


def _build_mapping(
    groups: list[_Group],
    old: list[_Article],
    new: list[_Article],
    para_pairs: dict[int, list[ParagraphPair]],
    language: str,
) -> tuple[dict[str, str], dict[str, str]]:
    """Old→new reference labels and old→new anchors implied by the groups and paragraphs."""
    mapping: dict[str, str] = {}
    anchors: dict[str, str] = {}
    for gi, g in enumerate(groups):
        if not g.old or not g.new:
            continue
        pairs = para_pairs.get(gi, [])
        for i in g.old:
            votes: Counter[int] = Counter(
                p.new.article for p in pairs if p.old and p.new and p.old.article == i
            )
            j = votes.most_common(1)[0][0] if votes else g.new[0]
            mapping[old[i].label] = new[j].label
            if old[i].anchor and new[j].anchor:
                anchors[old[i].anchor] = new[j].anchor
        for p in pairs:
            if not (p.old and p.new):
                continue
            src = old[p.old.article]
            dst = new[p.new.article]
            if src.anchor and p.old.anchor and p.new.anchor:
                anchors[p.old.anchor] = p.new.anchor
            for item in p.items:
                if item.old and item.new and item.old.anchor and item.new.anchor:
                    anchors[item.old.anchor] = item.new.anchor
            same_article = mapping.get(src.label) == dst.label
            if not (same_article and p.old.position == p.new.position):
                old_para = _paragraph_label(src.label, p.old.position, language)
                mapping[old_para] = _paragraph_label(dst.label, p.new.position, language)
    return mapping, anchors


# --------------------------------------------------------------------------- align


def _group_text(arts: list[_Article], idx: list[int]) -> str:
    return "\n".join(arts[i].text for i in idx)


def _same_number(a: _Article, b: _Article) -> bool:
    if a.key is not None and b.key is not None:
        return a.key == b.key
    return a.label == b.label


def _stale_refs(text: str, table: dict[_Key, str], language: str) -> list[RefChange]:
    """References left as they were although the article they named was renumbered."""
    out = []
    for r in _find_refs(text, language):
        expected = _target(r, text, table)
        if _canonical_ref(expected, language) != _canonical_ref(r.text, language):
            out.append(RefChange(r.text, r.text, "stale", expected))
    return out


def _order(groups: list[_Group]) -> list[int]:
    """Reading order of the new version; deleted articles follow their old predecessor."""
    where: dict[int, int] = {}
    for g in groups:
        if g.new:
            for i in g.old:
                where[i] = min(g.new)
    keys = []
    for gi, g in enumerate(groups):
        if g.new:
            keys.append(((min(g.new), 0, 0), gi))
            continue
        i = g.old[0]
        anchor = next((where[p] for p in range(i - 1, -1, -1) if p in where), -1)
        keys.append(((anchor, 1, i), gi))
    return [gi for _, gi in sorted(keys)]


def align(
    old_articles: list[Any],
    new_articles: list[Any],
    *,
    overrides: list[tuple[list[int], list[int]]] | None = None,
) -> Alignment:
    """Align the articles of two versions and diff every pair.

    `old_articles`/`new_articles` are parser `Node`s (kind "article") in reading order.
    `overrides` are staff corrections, (old indexes, new indexes), used exactly as given
    (one side may be empty to force an insertion or deletion); the rest is aligned
    around them.
    """
    old = _articles(old_articles)
    new = _articles(new_articles)
    language = _language_of("".join(a.text for a in old[:20] + new[:20]))
    groups = _check_overrides(overrides, len(old), len(new))
    vec = _Vectors(old, new, language)
    sim = vec.matrix()
    groups += _pair_one_to_one(sim, groups)
    _grow_groups(groups, vec, sim)
    # Growing may have dissolved weak pairs; what they freed gets a second chance.
    groups += _pair_one_to_one(sim, groups)
    used_old = {i for g in groups for i in g.old}
    used_new = {j for g in groups for j in g.new}
    groups += [_Group([i], []) for i in range(len(old)) if i not in used_old]
    groups += [_Group([], [j]) for j in range(len(new)) if j not in used_new]

    moved = moved_groups([(g.old, g.new) for g in groups])

    # Paragraphs first (with references only masked), then the mapping they imply.
    para_pairs: dict[int, list[ParagraphPair]] = {}
    for gi, g in enumerate(groups):
        if g.old and g.new:
            para_pairs[gi] = _pair_parts(
                [(i, p) for i in g.old for p in old[i].parts],
                [(j, p) for j in g.new for p in new[j].parts],
                language,
                True,
            )
    mapping, anchor_map = _build_mapping(groups, old, new, para_pairs, language)
    table = _mapping_table(mapping)
    for found in para_pairs.values():  # now references can be normalised too
        _restatus(found, table, language)

    pairs: list[ArticlePair] = []
    for gi in _order(groups):
        g = groups[gi]
        old_refs = [old[i].ref() for i in g.old]
        new_refs = [new[j].ref() for j in g.new]
        if not g.new:
            (i,) = g.old
            rows = _whole_parts("deleted", i, old[i].parts)
            diff = [DiffOp("delete", old[i].text)]
            pairs.append(ArticlePair("deleted", old_refs, [], 0.0, rows, diff))
            continue
        if not g.old:
            (j,) = g.new
            rows = _whole_parts("inserted", j, new[j].parts)
            diff = [DiffOp("insert", new[j].text)]
            pairs.append(ArticlePair("inserted", [], new_refs, 0.0, rows, diff))
            continue
        old_text = _group_text(old, g.old)
        new_text = _group_text(new, g.new)
        normalised = _rewrite(old_text, table, language)
        identical = _compact(old_text, language) == _compact(new_text, language)
        same = identical or _compact(normalised, language) == _compact(new_text, language)
        if identical:
            diff, changes = [DiffOp("equal", new_text)], _stale_refs(old_text, table, language)
        else:
            diff, changes = _diff(old_text, new_text, language, table)
        if len(g.old) > 1:
            status = "merged"
        elif len(g.new) > 1:
            status = "split"
        elif gi in moved:
            status = "moved"
        elif not same:
            status = "modified"
        elif _same_number(old[g.old[0]], new[g.new[0]]):
            status = "unchanged"
        else:
            status = "renumbered"
        similarity = (
            1.0
            if same
            else round(_ratio(_compact(normalised, language), _compact(new_text, language)), 4)
        )
        pairs.append(
            ArticlePair(
                status,
                old_refs,
                new_refs,
                similarity,
                paragraphs=para_pairs.get(gi, []),
                diff=diff,
                ref_changes=changes,
                moved=gi in moved,
            )
        )
    counts = dict.fromkeys(STATUSES, 0)
    for p in pairs:
        counts[p.status] += 1
    return Alignment(pairs, counts, mapping, anchor_map)
