"""Full-text search engine for clauses, comments and notes.

Deliberately independent of Flask and of the database: callers hand in
plain dicts and get plain data back, so the engine behind this module can be
replaced later.  Built on Whoosh with the analyzers of
:mod:`search.analysis`.

Matching happens on the character stream of ``body``: every query word or
phrase becomes a phrase query over characters (over the bigrams indexed beside
them when it is all CJK), i.e. an exact substring match on the normalised
text.  The jieba word stream (``words``) only adds score to
documents that also share whole words with the query.  ``title`` (the draft's
or hearing's title) is stored for display and highlighted, but not matched:
every comment of a draft carries the same title, so matching it would make a
query that names the draft return all of them.
"""

from __future__ import annotations

import bisect
import html
import math
import multiprocessing
import os
import queue
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh import sorting
from whoosh.codec import whoosh3
from whoosh.fields import DATETIME, ID, NUMERIC, STORED, TEXT, Schema
from whoosh.idsets import BitSet, DocIdSet
from whoosh.index import LockError
from whoosh.matching import NullMatcher
from whoosh.query.spans import Span, SpanNear2
from whoosh.util.numeric import byte_to_length
from whoosh.writing import CLEAR, SegmentWriter

from search.analysis import (
    CJK_RE,
    SURFACE_MARK,
    is_cluster_boundary,
    make_analyzer,
    normalize,
    query_tokens,
)

__all__ = [
    "FACET_FIELDS",
    "FILTER_FIELDS",
    "SCHEMA",
    "TYPES",
    "SearchIndex",
    "SearchResult",
    "build_schema",
    "make_snippet",
    "parse_query",
]

TYPES = ("clause", "comment", "note")
FACET_FIELDS = ("type", "draft_id", "version_id", "stance", "disposition", "region", "sector")
_NUMERIC_FIELDS = ("obj_id", "draft_id", "version_id", "clause_id")
_KEYWORD_FIELDS = (
    "type",
    "label",
    "stance",
    "disposition",
    "status",
    "visibility",
    "region",
    "sector",
)
#: Fields usable in ``search(filters=...)``.
FILTER_FIELDS = frozenset(_NUMERIC_FIELDS + _KEYWORD_FIELDS) - {"visibility"}
_TEXT_FIELDS = ("title", "body")
_DOC_FIELDS = frozenset(("doc_id", "created") + _NUMERIC_FIELDS + _KEYWORD_FIELDS + _TEXT_FIELDS)
_VISIBILITY_RE = re.compile(r"^(public|staff|private:[^\s:]+)$")
_EPOCH = datetime(1970, 1, 1)
_UNDATED = -(2**62)


def build_schema() -> Schema:
    chars = make_analyzer("char")
    words = make_analyzer("word")
    keyword = {"stored": True, "sortable": True}
    return Schema(
        doc_id=ID(stored=True, unique=True),
        type=ID(**keyword),
        # ids are only ever compared for equality: one term per value instead of Whoosh's
        # four range tiers keeps a quarter of the postings of a comment out of the index
        obj_id=NUMERIC(int, bits=64, stored=True, shift_step=64),
        draft_id=NUMERIC(int, bits=64, stored=True, shift_step=64),
        version_id=NUMERIC(int, bits=64, stored=True, shift_step=64),
        clause_id=NUMERIC(int, bits=64, stored=True, shift_step=64),
        label=ID(stored=True),
        title=STORED(),
        body=TEXT(analyzer=chars, stored=True, phrase=True),
        # ranking only: jieba words of the body, no positions needed
        words=TEXT(analyzer=words, phrase=False),
        stance=ID(**keyword),
        disposition=ID(**keyword),
        status=ID(stored=True),
        visibility=ID(stored=True),
        region=ID(**keyword),
        sector=ID(**keyword),
        created=DATETIME(stored=True),
        # keyword copy of draft_id for facet counting (a NUMERIC column
        # reports a fork-specific sentinel for documents without a value)
        draft_key=ID(sortable=True),
        version_key=ID(sortable=True),
        # sort key for "newest first": microseconds since the epoch, with
        # undated documents at the very end (column defaults vary by fork)
        created_ts=NUMERIC(int, bits=64, signed=True, sortable=True, shift_step=64),
    )


SCHEMA = build_schema()


def _cached_column_reader(self, fieldname, column):
    try:
        return self._readers[fieldname]
    except KeyError:
        reader = self.column_reader(fieldname, column) if self.has_column(fieldname) else None
        self._readers[fieldname] = reader
        return reader


# Whoosh-Reloaded 2.7.5 caches a segment's length columns but not their absence: writing a
# segment asked the file system once per posting of every unscored field (doc_id, type,
# draft_key ...) whether the column exists, and those stat calls were about half the commit
# time.  A written segment's columns never change, so remembering "none" is safe.
whoosh3.W3PerDocReader._cached_reader = _cached_column_reader


class _WrittenLengths:
    """The field lengths of the segment being written, each field's column decoded once.
    Whoosh looks up the length of the document of every posting it writes (for the block
    statistics that block-quality skipping uses), through the column file each time: about
    a seventh of the writing time."""

    def __init__(self, perdoc) -> None:
        self._perdoc = perdoc
        self._fields: dict[str, list[int]] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        lengths = self._fields.get(fieldname)
        if lengths is None:
            reader = self._perdoc._cached_reader(whoosh3._lenfield(fieldname),
                                                 whoosh3.LENGTHS_COLUMN)
            lengths = self._fields[fieldname] = (
                [] if reader is None
                else [byte_to_length(b) if b else 0 for b in reader])
        return lengths[docnum] if docnum < len(lengths) else default


def _flush_segment(self) -> None:
    # SegmentWriter._flush_segment of Whoosh-Reloaded 2.7.5, with the lengths above
    self.perdocwriter.close()
    perdoc = self.per_document_reader() if self.codec.length_stats else None
    lengths = _WrittenLengths(perdoc) if perdoc is not None else None
    self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
    self.fieldwriter.close()
    if perdoc is not None:
        perdoc.close()


SegmentWriter._flush_segment = _flush_segment
_STORED_FIELDS = tuple(SCHEMA.stored_names())
_KEYED_IDS = {"draft_id": "draft_key", "version_id": "version_key"}
_FACET_SOURCES = {name: _KEYED_IDS.get(name, name) for name in FACET_FIELDS}


# ---------------------------------------------------------------------------
# Query language
#
#   words           all must match (default AND)
#   "a phrase"      exact (normalised) phrase; also “…”, 「…」, 『…』
#   a OR b, a AND b, NOT a, -a, (grouping); operators in any case
#   legis*          prefix of a Latin/digit word as written
#
# A run of CJK characters without spaces is one phrase.


@dataclass(frozen=True)
class Leaf:
    kind: str  # "word" | "phrase" | "prefix"
    text: str


@dataclass(frozen=True)
class Node:
    op: str  # "and" | "or" | "not"
    children: tuple[Any, ...]


_OPEN_QUOTES = {'"': '"', "“": "”", "”": "”", "「": "」", "『": "』"}
_STOP_CHARS = set('()"“”「」『』') | {" ", "\t", "\n", "\r", "\u3000"}
_OPERATORS = {"and": "AND", "or": "OR", "not": "NOT", "&&": "AND", "||": "OR"}


def _lex(text: str) -> list[tuple[str, str]]:
    # NFKC so that full-width （ ） ＂ － etc. act as syntax characters
    text = unicodedata.normalize("NFKC", text)
    out: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            out.append((ch, ch))
            i += 1
        elif ch in _OPEN_QUOTES:
            close = _OPEN_QUOTES[ch]
            j = text.find(close, i + 1)
            if j < 0:
                j = n
            out.append(("PHRASE", text[i + 1 : j]))
            i = j + 1
        elif ch in "-+" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] not in "-+":
            if ch == "-":
                out.append(("NOT", ch))
            i += 1
        else:
            j = i
            while j < n and text[j] not in _STOP_CHARS and not text[j].isspace():
                j += 1
            word = text[i:j]
            i = j
            op = _OPERATORS.get(word.lower())
            if op:
                out.append((op, word))
            elif len(word) > 1 and word.endswith("*"):
                out.append(("PREFIX", word.rstrip("*")))
            else:
                out.append(("WORD", word))
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens = tokens
        self.i = 0

    def peek(self) -> str:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else "EOF"

    def take(self) -> tuple[str, str]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self):
        items = []
        while self.peek() != "EOF":
            if self.peek() == ")":  # stray closing parenthesis
                self.take()
                continue
            items.append(self.parse_or())
        return _group("and", items)

    def parse_or(self):
        items = [self.parse_and()]
        while self.peek() == "OR":
            self.take()
            items.append(self.parse_and())
        return _group("or", items)

    def parse_and(self):
        items = [self.parse_unary()]
        while self.peek() not in ("OR", ")", "EOF"):
            if self.peek() == "AND":
                self.take()
                if self.peek() in ("OR", ")", "EOF"):
                    break
            items.append(self.parse_unary())
        return _group("and", items)

    def parse_unary(self):
        if self.peek() == "NOT":
            self.take()
            if self.peek() in ("OR", "AND", ")", "EOF"):
                return None
            inner = self.parse_unary()
            return Node("not", (inner,)) if inner is not None else None
        return self.parse_atom()

    def parse_atom(self):
        kind = self.peek()
        if kind == "EOF":
            return None
        tok_kind, text = self.take()
        if tok_kind == "(":
            inner = self.parse_or() if self.peek() not in (")", "EOF") else None
            if self.peek() == ")":
                self.take()
            return inner
        if tok_kind == "PHRASE":
            return Leaf("phrase", text)
        if tok_kind == "PREFIX":
            return Leaf("prefix", text)
        # WORD, or an operator where an operand was expected: a plain word
        return Leaf("word", text)


def _group(op: str, items: list):
    items = [x for x in items if x is not None]
    if not items:
        return None
    if len(items) == 1:
        return items[0]
    return Node(op, tuple(items))


def parse_query(text: str):
    """Parse the user query language into a small AST (or None)."""
    return _Parser(_lex(text or "")).parse()


_WORD_ONLY_RE = re.compile(r"^[^\W_]+$")


def _leaf_query(leaf: Leaf):
    if leaf.kind == "prefix":
        norm = normalize(leaf.text)
        if _WORD_ONLY_RE.match(norm) and not CJK_RE.search(norm):
            return Q.Prefix("body", SURFACE_MARK + norm)
        # a CJK "prefix" is simply a substring: fall through to a phrase
    toks = query_tokens(leaf.text)
    if not toks:
        return None
    if len(toks) > 1 and all(len(t) == 1 and CJK_RE.match(t) for t in toks):
        # CJK only: the overlapping bigrams the index holds beside the characters
        toks = [a + b for a, b in zip(toks, toks[1:], strict=False)]
    if len(toks) == 1:
        return Q.Term("body", toks[0])
    if len(toks) > 2 and all(len(t) == 2 and CJK_RE.match(t) for t in toks):
        return _BigramPhrase("body", toks)
    return Q.Phrase("body", toks)


class _BigramPhrase(Q.Phrase):
    """A CJK phrase as its overlapping bigrams, of which only every other one (and the last)
    is looked up: they still cover every character, at known offsets, so the match stays an
    exact substring match with about half the posting lists and positions to read."""

    def matcher(self, searcher, context=None):
        last = len(self.words) - 1
        offsets = list(range(0, last + 1, 2))
        if offsets[-1] != last:
            offsets.append(last)
        reader = searcher.reader()
        field = searcher.schema[self.fieldname]
        if any((self.fieldname, field.to_bytes(self.words[i])) not in reader for i in offsets):
            return NullMatcher()
        # the rarest first: the intersection skips along it
        offsets.sort(key=lambda i: reader.doc_frequency(self.fieldname, self.words[i]))
        matchers = [Q.Term(self.fieldname, self.words[i]).matcher(searcher, context)
                    for i in offsets]
        return _OffsetSpanMatcher(matchers, offsets)


class _OffsetSpanMatcher(SpanNear2.SpanNear2Matcher):
    """Documents where every term occurs at its offset from one common start."""

    def __init__(self, matchers, offsets):
        self.offsets = offsets
        super().__init__(matchers)

    def copy(self):
        return self.__class__([m.copy() for m in self.ms], self.offsets)

    def _get_spans(self):
        starts = None
        for matcher, offset in zip(self.ms, self.offsets, strict=True):
            here = {pos - offset for pos in matcher.value_as("positions")}
            starts = here if starts is None else starts & here
            if not starts:
                return []
        return [Span(start) for start in sorted(starts)]


def _compile(node):
    if node is None:
        return None
    if isinstance(node, Leaf):
        return _leaf_query(node)
    if node.op == "not":
        inner = _compile(node.children[0])
        return Q.Not(inner) if inner is not None else None
    subs = [q for q in (_compile(c) for c in node.children) if q is not None]
    if not subs:
        return None
    if node.op == "or":
        return subs[0] if len(subs) == 1 else Q.Or(subs)
    if all(isinstance(s, Q.Not) for s in subs):
        subs.insert(0, Q.Every())
    return subs[0] if len(subs) == 1 else Q.And(subs)


def _positive_leaves(node, negated: bool = False):
    if node is None:
        return
    if isinstance(node, Leaf):
        if not negated:
            yield node
        return
    for child in node.children:
        yield from _positive_leaves(child, negated or node.op == "not")


def _highlight_patterns(node) -> list[tuple[str, Any]]:
    patterns: list[tuple[str, Any]] = []
    for leaf in _positive_leaves(node):
        if leaf.kind == "prefix":
            norm = normalize(leaf.text)
            if _WORD_ONLY_RE.match(norm) and not CJK_RE.search(norm):
                patterns.append(("prefix", SURFACE_MARK + norm))
                continue
        toks = query_tokens(leaf.text)
        if toks:
            patterns.append(("seq", tuple(toks)))
    return patterns


def _ranking_query(node):
    words: list[str] = []
    for leaf in _positive_leaves(node):
        if leaf.kind != "prefix":
            words.extend(query_tokens(leaf.text, unit="word"))
    terms = [Q.Term("words", w) for w in dict.fromkeys(words)]
    return Q.Or(terms) if terms else None


# ---------------------------------------------------------------------------
# Highlighting

_HL_ANALYZER = make_analyzer("char")
_WS_RE = re.compile(r"\s+")


def _match_spans(text: str, patterns: list[tuple[str, Any]]) -> list[tuple[int, int]]:
    """Character spans of ``text`` matched by the query patterns."""
    if not text or not patterns:
        return []
    by_pos: dict[int, tuple[set[str], int, int]] = {}
    for t in _HL_ANALYZER(text, positions=True, chars=True, mode="index"):
        entry = by_pos.get(t.pos)
        if entry is None:
            by_pos[t.pos] = ({t.text}, t.startchar, t.endchar)
        else:
            entry[0].add(t.text)
    spans: list[tuple[int, int]] = []
    for kind, value in patterns:
        for pos, (texts, start, end) in by_pos.items():
            if kind == "prefix":
                if any(x.startswith(value) for x in texts):
                    spans.append((start, end))
                continue
            if value[0] not in texts:
                continue
            last = pos
            for k in range(1, len(value)):
                nxt = by_pos.get(pos + k)
                if nxt is None or value[k] not in nxt[0]:
                    break
                last = pos + k
            else:
                spans.append((start, by_pos[last][2]))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def _snap_left(text: str, i: int) -> int:
    while i > 0 and not is_cluster_boundary(text, i):
        i -= 1
    return i


def _snap_right(text: str, i: int) -> int:
    while i < len(text) and not is_cluster_boundary(text, i):
        i += 1
    return i


def make_snippet(
    text: str,
    spans: list[tuple[int, int]],
    max_chars: int = 160,
    context: int = 30,
    whole: bool = False,
) -> str:
    """HTML snippet of ``text`` with ``spans`` wrapped in ``<mark>``.

    Everything else is HTML-escaped; the cut points never split a
    user-perceived character (combining sequences, emoji sequences,
    surrogate pairs); whitespace runs collapse to one space.
    """
    if not text:
        return ""
    n = len(text)
    if whole or n <= max_chars:
        start, end = 0, n
    elif not spans:
        start, end = 0, max_chars
    else:
        context = min(context, max_chars // 3)
        best_start, best_count = 0, -1
        for s, _e in spans[:200]:
            ws = max(0, s - context)
            we = ws + max_chars
            count = sum(1 for a, b in spans if a >= ws and b <= we)
            if count > best_count:
                best_start, best_count = ws, count
        start = best_start
        end = min(n, start + max_chars)
        if end == n:
            start = max(0, n - max_chars)
    start = _snap_left(text, start)
    end = _snap_right(text, end)
    # do not begin in the middle of a Latin word if it is short to back up
    back = start
    while back > 0 and start - back < 20 and text[back - 1].isalnum() and text[back - 1].isascii():
        back -= 1
    if back == 0 or not (text[back - 1].isalnum() and text[back - 1].isascii()):
        start = back

    def plain(a: int, b: int) -> str:
        return html.escape(_WS_RE.sub(" ", text[a:b]))

    parts: list[str] = ["…"] if start > 0 else []
    cursor = start
    for s, e in spans:
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        parts.append(plain(cursor, s))
        parts.append("<mark>" + plain(s, e) + "</mark>")
        cursor = e
    parts.append(plain(cursor, end))
    if end < n:
        parts.append("…")
    return "".join(parts).strip()


# ---------------------------------------------------------------------------
# Documents


def _clean_text(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        # join surrogate pairs, replace lone surrogates
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _to_datetime(value: Any, end_of_day: bool = False) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value
    if isinstance(value, date):
        return datetime.combine(value, dtime.max if end_of_day else dtime.min)
    raise TypeError(f"not a date/datetime: {value!r}")


def _prepare(doc: Mapping[str, Any], rank_words: bool = True) -> dict[str, Any]:
    unknown = set(doc) - _DOC_FIELDS
    if unknown:
        raise ValueError(f"unknown document fields: {sorted(unknown)}")
    if not doc.get("doc_id"):
        raise ValueError("doc_id is required")
    if doc.get("type") not in TYPES:
        raise ValueError(f"type must be one of {TYPES}: {doc.get('type')!r}")
    visibility = doc.get("visibility")
    if not isinstance(visibility, str) or not _VISIBILITY_RE.match(visibility):
        raise ValueError(f"bad visibility {visibility!r} (public, staff or private:<user_id>)")
    out: dict[str, Any] = {}
    for name in _KEYWORD_FIELDS + ("doc_id",):
        value = doc.get(name)
        if value is not None and value != "":
            out[name] = str(value)
    for name in _NUMERIC_FIELDS:
        value = doc.get(name)
        if value is not None:
            out[name] = int(value)
    title = _clean_text(doc.get("title"))
    body = _clean_text(doc.get("body"))
    out["title"] = title
    out["body"] = body
    if rank_words:
        out["words"] = body
    for name, key in _KEYED_IDS.items():
        if name in out:
            out[key] = str(out[name])
    out["created_ts"] = _UNDATED
    if doc.get("created") is not None:
        created = out["created"] = _to_datetime(doc["created"])
        out["created_ts"] = (created - _EPOCH) // timedelta(microseconds=1)
    return out


@dataclass
class SearchResult:
    hits: list[dict[str, Any]]
    total: int
    page: int
    per_page: int
    pages: int
    facets: dict[str, dict[Any, int]] = field(default_factory=dict)
    #: False when ``total`` and the facet counts are estimates (more than
    #: EXACT_COUNT_LIMIT matches): shown as "about N"
    exact: bool = True
    #: False when the facets were counted over the first EXACT_COUNT_LIMIT matches only
    facets_exact: bool = True


# ---------------------------------------------------------------------------
# Counting

#: up to this many matches a query is counted exactly (and its facets too); beyond it both
#: are estimated from the first matches, so that the top ten need not visit every match
EXACT_COUNT_LIMIT = 2000
#: filter document sets kept per index (one per segment and filter)
_FILTER_CACHE_SIZE = 256


class _SegmentedDocs(DocIdSet):
    """The documents a filter allows, kept per segment: a segment never gains documents, so
    its set stays valid until the segment is merged away (a document deleted later is still
    in the set, but deleted documents never reach the filter)."""

    def __init__(self, offsets: list[int], sets: list[Any]):
        self.offsets = offsets
        self.sets = sets

    def __contains__(self, docnum: int) -> bool:
        i = bisect.bisect_right(self.offsets, docnum) - 1
        return i >= 0 and (docnum - self.offsets[i]) in self.sets[i]

    def __len__(self) -> int:
        return sum(len(s) for s in self.sets)

    def __iter__(self):
        for offset, docs in zip(self.offsets, self.sets, strict=True):
            for docnum in docs:
                yield offset + docnum


def _first_matches(searcher, match, allow, limit: int) -> tuple[list[int], bool]:
    """Return the first ``limit`` allowed matches in index order, and whether that is all."""
    found: list[int] = []
    for docnum in searcher.docs_for_query(match):
        if allow is None or docnum in allow:
            if len(found) == limit:
                return found, False
            found.append(docnum)
    return found, True


def _estimate_total(searcher, match, sample: list[int]) -> int:
    """Extrapolate the matches seen in the first part of the index to all of it, capped by
    Whoosh's upper bound (the rarest term's document frequency, before filtering)."""
    seen_docs = sample[-1] + 1
    estimate = len(sample) * searcher.doc_count_all() / seen_docs
    bound = match.estimate_size(searcher.reader())
    return max(len(sample), min(round(estimate), bound))


def _facet_counts(searcher, docnums: list[int], total: int) -> dict[str, dict[Any, int]]:
    """Facet counts over ``docnums``, scaled to ``total`` when those are a sample."""
    scale = total / len(docnums) if docnums else 0
    subsearchers = searcher.subsearchers or [(searcher, 0)]
    offsets = [offset for _sub, offset in subsearchers]
    counts: dict[str, dict[Any, int]] = {name: {} for name in _FACET_SOURCES}
    columns: dict[tuple[int, str], Any] = {}
    for docnum in docnums:
        i = bisect.bisect_right(offsets, docnum) - 1
        reader = subsearchers[i][0].reader()
        for name, source in _FACET_SOURCES.items():
            if (i, source) not in columns:
                columns[i, source] = (reader.column_reader(source)
                                      if reader.has_column(source) else None)
            column = columns[i, source]
            try:
                key = column[docnum - offsets[i]] if column is not None else None
            except IndexError:  # a column stops at the last document that has a value
                key = None
            if isinstance(key, bytes):
                key = key.decode("utf-8")
            if key is None or key == "":
                continue
            counts[name][key] = counts[name].get(key, 0) + 1
    return {
        name: {(int(key) if name in _KEYED_IDS else key): max(1, round(n * scale))
               for key, n in values.items()}
        for name, values in counts.items()
    }


def _load_part(ix, part, limitmb: int, rank_types: frozenset[str], messages,
               number: int) -> None:
    """In a forked process: write the documents of ``part`` into a segment of their own and
    send it back (the parent holds the index's lock and commits)."""
    try:
        writer = SegmentWriter(ix, _lk=False, limitmb=limitmb)
        added = 0
        for doc in part(lambda n: messages.put(("progress", number, n))):
            writer.add_document(**_prepare(doc, rank_words=doc.get("type") in rank_types))
            added += 1
        if added:
            segment = writer._finalize_segment()
        else:
            segment = None
            writer._close_segment()
        # no writer._finish(): every writer of the index shares one temporary folder, which
        # the parent's writer removes when it finishes
        messages.put(("done", number, (segment, added)))
    except BaseException as exc:  # reported to the parent, which cancels the whole load
        messages.put(("error", number, repr(exc)))


# ---------------------------------------------------------------------------
# Index

_LOCKS_GUARD = threading.Lock()
_WRITE_LOCKS: dict[str, threading.RLock] = {}


def _write_lock(path: str) -> threading.RLock:
    with _LOCKS_GUARD:
        lock = _WRITE_LOCKS.get(path)
        if lock is None:
            lock = _WRITE_LOCKS[path] = threading.RLock()
        return lock


class SearchIndex:
    """A Whoosh index of clause/comment/note documents."""

    def __init__(self, ix, path: str, *, lock_timeout: float = 30.0, snippet_chars: int = 160,
                 rank_types: Iterable[str] = TYPES):
        self._ix = ix
        #: types whose documents get the jieba word stream for ranking (it costs about a
        #: third of the indexing time; without it they are ranked by characters alone)
        self.rank_types = frozenset(rank_types)
        self.path = path
        self.lock_timeout = lock_timeout
        self.snippet_chars = snippet_chars
        self._lock = _write_lock(path)
        # one searcher per thread, reopened when the index changes (not Whoosh's refresh():
        # it reuses the reader of a segment whose deletions changed, deletions included)
        self._local = threading.local()
        self._searchers: list[Any] = []
        self._guard = threading.Lock()
        self._filters: OrderedDict[tuple[str, str], Any] = OrderedDict()

    # -- lifecycle ---------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], **kwargs) -> SearchIndex:
        """Open the index in directory ``path``, creating it if missing."""
        path = os.path.realpath(os.fspath(path))
        with _write_lock(path):
            os.makedirs(path, exist_ok=True)
            if whoosh_index.exists_in(path):
                ix = whoosh_index.open_dir(path)
                if set(ix.schema.names()) != set(SCHEMA.names()) or any(
                    ix.schema[name].analyzer != SCHEMA[name].analyzer
                    for name in ("body", "words")
                ):
                    ix.close()
                    raise ValueError(
                        f"index at {path} has an outdated schema; delete it and re-index"
                    )
            else:
                ix = whoosh_index.create_in(path, SCHEMA)
        return cls(ix, path, **kwargs)

    def close(self) -> None:
        with self._guard:
            for searcher in self._searchers:
                searcher.close()
            self._searchers.clear()
            self._filters.clear()
        self._ix.close()

    def _searcher(self):
        """This thread's searcher, brought up to date with the index."""
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None and searcher.up_to_date():
            return searcher
        fresh = self._ix.searcher()
        with self._guard:
            if searcher is not None and searcher in self._searchers:
                self._searchers.remove(searcher)
                searcher.close()
            self._searchers.append(fresh)
        self._local.searcher = fresh
        return fresh

    @staticmethod
    def _skips_blocks(searcher, query, sort: str) -> bool:
        """May the top-N collector skip blocks of matches (so that it cannot count them)?
        Asked before the search: afterwards Whoosh's answer depends on the matcher it ended
        with, not on whether it skipped."""
        if sort != "relevance" or searcher.weighting.use_final:
            return False
        sub = (searcher.subsearchers or [(searcher, 0)])[0][0]
        return query.matcher(sub).supports_block_quality()

    def _allowed(self, searcher, flt) -> _SegmentedDocs:
        """The documents ``flt`` allows, from the cache per segment where possible."""
        key = repr(flt)
        subsearchers = searcher.subsearchers or [(searcher, 0)]
        offsets, sets = [], []
        for sub, offset in subsearchers:
            reader = sub.reader()
            segment = reader.segment() if hasattr(reader, "segment") else None
            cache_key = (segment.segment_id() if segment is not None else "", key)
            with self._guard:
                docs = self._filters.get(cache_key)
                if docs is not None:
                    self._filters.move_to_end(cache_key)
            if docs is None or segment is None:
                docs = BitSet(sub.docs_for_query(flt), size=reader.doc_count_all())
                with self._guard:
                    self._filters[cache_key] = docs
                    while len(self._filters) > _FILTER_CACHE_SIZE:
                        self._filters.popitem(last=False)
            offsets.append(offset)
            sets.append(docs)
        return _SegmentedDocs(offsets, sets)

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing -------------------------------------------------------------

    def _writer(self, **options):
        """Take the index's write lock (waiting up to ``lock_timeout``) with a new writer."""
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.05
        while True:
            try:
                return self._ix.writer(**options)
            except LockError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    def _write(self, fn, writer_options: Mapping[str, Any] | None = None,
               **commit_kwargs) -> None:
        with self._lock:
            writer = self._writer(**(writer_options or {}))
            try:
                fn(writer)
            except BaseException:
                writer.cancel()
                raise
            writer.commit(**commit_kwargs)

    def _prepare(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        return _prepare(doc, rank_words=doc.get("type") in self.rank_types)

    def apply(self, upserts: Iterable[Mapping[str, Any]] = (),
              deletes: Iterable[str] = ()) -> None:
        """Add or replace ``upserts`` (matched on ``doc_id``) and remove the documents named
        in ``deletes``, in one commit: all of it is searchable, or none of it."""
        prepared = [self._prepare(d) for d in upserts]
        ids = [str(d) for d in deletes]
        if not prepared and not ids:
            return

        def run(writer):
            for doc_id in ids:
                writer.delete_by_term("doc_id", doc_id)
            for doc in prepared:
                writer.update_document(**doc)

        self._write(run)

    def upsert(self, docs: Iterable[Mapping[str, Any]]) -> int:
        """Add or replace documents (matched on ``doc_id``)."""
        docs = list(docs)
        self.apply(upserts=docs)
        return len(docs)

    def delete(self, doc_ids: Iterable[str]) -> None:
        self.apply(deletes=doc_ids)

    def load(self, docs: Iterable[Mapping[str, Any]], *, procs: int = 1,
             limitmb: int = 128) -> int:
        """Add documents that the index does not hold yet (a rebuild into an empty index),
        in one commit: no lookup of an older copy per document, and with ``procs`` > 1 the
        analysis runs in that many processes, each writing a segment of its own."""
        added = 0

        def run(writer):
            nonlocal added
            for doc in docs:
                writer.add_document(**self._prepare(doc))
                added += 1

        options = {"limitmb": limitmb}
        if procs > 1:
            options.update(procs=procs, multisegment=True)
        self._write(run, options)
        return added

    def load_parts(self, parts: Sequence[Callable[[Callable[[int], None]], Iterable[Mapping]]],
                   *, limitmb: int = 128,
                   progress: Callable[[int], None] | None = None) -> int:
        """Add documents that the index does not hold yet, each part in a process of its own
        (forked) that writes a segment of its own; one commit then adds every segment.

        ``part(report)`` runs in its process and returns its documents; it may call
        ``report(n)``, which calls ``progress(n)`` here. Unlike ``load(procs=...)``, no
        document travels between processes: each part reads its own."""
        context = multiprocessing.get_context("fork")
        messages = context.Queue()
        results: dict[int, tuple[Any, int]] = {}
        children = []
        with self._lock:
            writer = self._writer()
            try:
                for number, part in enumerate(parts):
                    child = context.Process(
                        target=_load_part, daemon=True,
                        args=(self._ix, part, limitmb, self.rank_types, messages, number))
                    child.start()
                    children.append(child)
                while len(results) < len(children):
                    try:
                        kind, number, value = messages.get(timeout=1)
                    except queue.Empty:
                        if any(c.exitcode not in (None, 0) for c in children):
                            raise RuntimeError("a reindex process died") from None
                        continue
                    if kind == "progress":
                        if progress is not None:
                            progress(value)
                    elif kind == "done":
                        results[number] = value
                    else:
                        raise RuntimeError(f"reindex process {number} failed: {value}")
                for child in children:
                    child.join()
                segments = [segment for segment, _n in results.values() if segment is not None]
                writer._close_segment()
                writer._commit_toc(writer.segments + segments)
                writer._finish()
            except BaseException:
                for child in children:
                    if child.is_alive():
                        child.terminate()
                    child.join()
                writer.cancel()
                raise
            finally:
                messages.close()
        return sum(n for _segment, n in results.values())

    def clear(self) -> None:
        """Remove every document."""
        self._write(lambda writer: None, mergetype=CLEAR)

    def doc_count(self) -> int:
        return self._ix.doc_count()

    def type_counts(self) -> dict[str, int]:
        """Return the number of documents of each type."""
        with self._ix.searcher() as searcher:
            return {t: sum(1 for _ in searcher.docs_for_query(Q.Term("type", t)))
                    for t in TYPES}

    # -- searching -----------------------------------------------------------

    @staticmethod
    def _filter_query(types, filters, include_staff, user_id, date_from, date_to):
        parts: list[Q.Query] = []
        visible = [Q.Term("visibility", "public")]
        if include_staff:
            visible.append(Q.Term("visibility", "staff"))
        if user_id is not None and str(user_id) != "":
            visible.append(Q.Term("visibility", f"private:{user_id}"))
        parts.append(Q.Or(visible))
        if types:
            types = [types] if isinstance(types, str) else list(types)
            bad = set(types) - set(TYPES)
            if bad:
                raise ValueError(f"unknown types: {sorted(bad)}")
            parts.append(Q.Or([Q.Term("type", t) for t in types]))
        for name, value in (filters or {}).items():
            if name not in FILTER_FIELDS:
                raise ValueError(f"cannot filter on {name!r}")
            values = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
            if name in _NUMERIC_FIELDS:
                terms = [Q.NumericRange(name, int(v), int(v)) for v in values]
            else:
                terms = [Q.Term(name, str(v)) for v in values]
            parts.append(Q.Or(terms) if terms else Q.NullQuery)
        if date_from is not None or date_to is not None:
            start = _to_datetime(date_from) if date_from is not None else None
            end = _to_datetime(date_to, end_of_day=True) if date_to is not None else None
            parts.append(Q.DateRange("created", start, end))
        return Q.And(parts)

    def search(
        self,
        q: str,
        *,
        types: Iterable[str] | str | None = None,
        filters: Mapping[str, Any] | None = None,
        include_staff: bool = False,
        user_id: Any = None,
        sort: str = "relevance",
        page: int = 1,
        per_page: int = 20,
        date_from: date | datetime | str | None = None,
        date_to: date | datetime | str | None = None,
        facets: bool = True,
    ) -> SearchResult:
        """Run a query; ``facets=False`` skips counting every match per facet value."""
        if sort not in ("relevance", "date"):
            raise ValueError("sort must be 'relevance' or 'date'")
        page = max(1, int(page))
        per_page = min(max(1, int(per_page)), 200)
        ast = parse_query(q)
        if ast is None and (q or "").strip():
            # only stop words / punctuation: nothing can match
            return SearchResult([], 0, page, per_page, 0, {f: {} for f in FACET_FIELDS})
        match = _compile(ast) if ast is not None else Q.Every()
        if match is None:
            return SearchResult([], 0, page, per_page, 0, {f: {} for f in FACET_FIELDS})
        ranking = _ranking_query(ast)
        final = Q.AndMaybe(match, ranking) if ranking is not None else match
        flt = self._filter_query(types, filters, include_staff, user_id, date_from, date_to)
        patterns = _highlight_patterns(ast)
        searcher = self._searcher()
        allow = self._allowed(searcher, flt)
        kwargs: dict[str, Any] = {"filter": allow, "limit": page * per_page, "terms": False}
        if sort == "date":
            kwargs["sortedby"] = sorting.FieldFacet("created_ts", reverse=True)
        # A top-N collector may skip whole blocks of postings whose best possible score
        # cannot reach the N-th hit (block-quality skipping, for words); it then has no
        # count. Phrases cannot skip, so their collector counts every match anyway.
        results = searcher.search(final, **kwargs)
        sample: list[int] = []
        if not self._skips_blocks(searcher, final, sort):
            total, exact = len(results), True
            if facets:
                sample, _all = _first_matches(searcher, match, allow, EXACT_COUNT_LIMIT)
        else:
            # count by walking at most EXACT_COUNT_LIMIT matches; past that, estimate
            sample, exact = _first_matches(searcher, match, allow, EXACT_COUNT_LIMIT)
            total = len(sample) if exact else _estimate_total(searcher, match, sample)
        # facets are counted over the same matches, scaled up when those are a sample
        counted = _facet_counts(searcher, sample, total) if facets else {}
        hits = []
        for hit in results[(page - 1) * per_page : page * per_page]:
            data = dict.fromkeys(_STORED_FIELDS)
            data.update(hit.fields())
            data["score"] = hit.score if sort == "relevance" else None
            body = data.get("body", "")
            title = data.get("title", "")
            data["highlight"] = make_snippet(
                body, _match_spans(body, patterns), max_chars=self.snippet_chars
            )
            data["title_highlight"] = make_snippet(
                title, _match_spans(title, patterns), whole=True
            )
            hits.append(data)
        if not exact and results.scored_length() < page * per_page:
            # fewer hits than asked for: every match was collected, so the count is known
            total, exact = results.scored_length(), True
        pages = math.ceil(total / per_page) if total else 0
        return SearchResult(hits, total, page, per_page, pages, counted, exact=exact,
                            facets_exact=exact and len(sample) == total)
