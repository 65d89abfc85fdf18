"""Text analysis for mixed Chinese/English legal text.

Two token streams are produced from the same normalised text:

``unit="char"`` (the *matching* stream)
    Every CJK character is one token; runs of letters/digits are one token
    each (stemmed, English stop words removed).  Positions are consecutive
    (0, 1, 2, ...), so a phrase query over this stream is an exact
    substring match on the normalised text, whatever jieba would have done
    with the surrounding characters.  In ``mode="index"`` every Latin/digit
    token is accompanied, at the same position, by its unstemmed surface
    form prefixed with :data:`SURFACE_MARK`; prefix queries use those.

``unit="word"`` (the *ranking* stream)
    CJK runs are segmented with a private :class:`jieba.Tokenizer`
    (plus the legal vocabulary below); Latin text is handled exactly as in
    the char stream.  Used to score documents that share whole words with
    the query, never to decide whether a document matches.

Normalisation is NFKC followed by case folding, applied per grapheme-like
cluster so that ``startchar``/``endchar`` always point at the original text
and never fall inside a base+combining-mark sequence.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import unicodedata
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

from whoosh.analysis import Filter, StemFilter, StopFilter, Token, Tokenizer

__all__ = [
    "BOUNDARY",
    "BUILTIN_TERMS",
    "ENGLISH_STOP_WORDS",
    "SURFACE_MARK",
    "CjkBigramFilter",
    "CjkLatinTokenizer",
    "LatinStemFilter",
    "SurfaceFormFilter",
    "add_terms",
    "get_segmenter",
    "is_cluster_boundary",
    "load_user_dictionary",
    "make_analyzer",
    "normalize",
    "query_tokens",
    "segment",
]

# ---------------------------------------------------------------------------
# Vocabulary

#: Legal and institutional vocabulary that should survive segmentation as
#: whole words (affects ranking only; matching is character based).
BUILTIN_TERMS: tuple[str, ...] = (
    "全国人民代表大会",
    "人民代表大会",
    "常务委员会",
    "人大常委会",
    "主任会议",
    "专门委员会",
    "法制工作委员会",
    "法制委员会",
    "代表小组",
    "代表团",
    "人大代表",
    "听证会",
    "听证人",
    "陈述人",
    "旁听人员",
    "征求意见稿",
    "草案修改稿",
    "法规草案",
    "法律草案",
    "审议意见",
    "立法听证",
    "立法规划",
    "立法计划",
    "地方性法规",
    "行政法规",
    "部门规章",
    "政府规章",
    "自治条例",
    "单行条例",
    "备案审查",
    "合法性审查",
    "提案人",
    "议案",
    "设区的市",
    "自治州",
    "直辖市",
    "北京市",
    "上海市",
    "山东省",
    "济南市",
)

#: A deliberately small English stop list; CJK text has no stop words.
ENGLISH_STOP_WORDS: frozenset[str] = frozenset(
    """a an and are as at be but by for from has have if in into is it its of
    on or s such t that the their then there these they this to was were will
    with""".split()
)

#: Prefix of surface-form tokens (never produced by normalisation of a word).
SURFACE_MARK = "="

#: Token standing for punctuation (or a line break, or a space next to CJK)
#: between two tokens of the char stream.  It occupies a position, so a
#: phrase never matches across a sentence/enumeration boundary, while the
#: punctuation itself is not searchable.
BOUNDARY = "\u241e"

_WORD_JOINERS = frozenset("-'’./&")

# ---------------------------------------------------------------------------
# Character classes

_CJK_RANGES = (
    "\u3005\u3007\u3021-\u3029\u3038-\u303b"  # 々 〇 Suzhou numerals
    "\u3041-\u3096\u309d-\u309f"  # hiragana
    "\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff"  # katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # ext A, URO, compatibility
    "\U00020000-\U000323af"  # ext B..H
)
_CJK_CLASS = "[" + _CJK_RANGES + "]"
_WORD_CHAR = "(?:(?!" + _CJK_CLASS + r")[^\W_])"
_TOKEN_RE = re.compile("(?P<cjk>" + _CJK_CLASS + ")|(?P<word>" + _WORD_CHAR + "+(?:\\.[0-9]+)*)")
_CJK_RUN_RE = re.compile(_CJK_CLASS + "+")
CJK_RE = re.compile(_CJK_CLASS)

_ZWJ = "\u200d"


def _is_regional_indicator(ch: str) -> bool:
    return "\U0001f1e6" <= ch <= "\U0001f1ff"


def is_cluster_boundary(text: str, i: int) -> bool:
    """True if ``text`` may be cut at index ``i`` without splitting a
    user-perceived character.

    An approximation of extended grapheme clusters sufficient for snippets:
    combining marks, ZWJ sequences, variation selectors, emoji modifiers,
    tag characters, Hangul jamo, CR LF, regional-indicator pairs and
    (should they ever occur) UTF-16 surrogate pairs stay together.
    """
    if i <= 0 or i >= len(text):
        return True
    prev, ch = text[i - 1], text[i]
    o = ord(ch)
    if o < 0x300 or 0x3400 <= o <= 0x9FFF:  # no marks/joiners in here
        return prev != _ZWJ and not (prev == "\r" and ch == "\n")
    if prev == "\r" and ch == "\n":
        return False
    if "\ud800" <= prev <= "\udbff" and "\udc00" <= ch <= "\udfff":
        return False
    if ch == _ZWJ or prev == _ZWJ:
        return False
    if unicodedata.category(ch)[0] == "M":  # Mn, Mc, Me (incl. VS1-256)
        return False
    if "\U0001f3fb" <= ch <= "\U0001f3ff":  # skin-tone modifiers
        return False
    if "\U000e0020" <= ch <= "\U000e007f":  # emoji tag sequence
        return False
    if "\u1160" <= ch <= "\u11ff" or "\ud7b0" <= ch <= "\ud7ff":  # jamo V/T
        return False
    if _is_regional_indicator(ch) and _is_regional_indicator(prev):
        run = 0
        j = i - 1
        while j >= 0 and _is_regional_indicator(text[j]):
            run += 1
            j -= 1
        return run % 2 == 0
    return True


_NORM_CACHE: dict[str, str] = {}


def _norm_cluster(cluster: str) -> str:
    cached = _NORM_CACHE.get(cluster)
    if cached is None:
        cached = unicodedata.normalize("NFKC", cluster).casefold()
        if len(_NORM_CACHE) < 100_000:
            _NORM_CACHE[cluster] = cached
    return cached


_SINGLE_FORMS: dict[str, str | None] = {}


def _joins_neighbours(ch: str) -> bool:
    """May this character form one cluster with the one before or after it?"""
    return (
        ch in "\r\u200d"
        or unicodedata.category(ch)[0] == "M"  # combining marks, variation selectors
        or "\u1160" <= ch <= "\u11ff"  # Hangul jamo V/T
        or "\ud7b0" <= ch <= "\udfff"  # jamo extended-B, surrogates
        or "\U0001f3fb" <= ch <= "\U0001f3ff"  # skin-tone modifiers
        or "\U000e0020" <= ch <= "\U000e007f"  # tags
        or _is_regional_indicator(ch)
    )


def _single_form(ch: str) -> str | None:
    """The normal form of a character that is always a cluster of its own and normalises
    to one character; None otherwise."""
    try:
        return _SINGLE_FORMS[ch]
    except KeyError:
        pass
    form: str | None = _norm_cluster(ch)
    if len(form) != 1 or _joins_neighbours(ch):
        form = None
    if len(_SINGLE_FORMS) < 100_000:
        _SINGLE_FORMS[ch] = form
    return form


def normalize_with_offsets(text: str) -> tuple[str, list[int] | None, list[int] | None]:
    """NFKC + casefold ``text``.

    Returns ``(normalised, starts, ends)`` where ``starts[k]``/``ends[k]``
    give the span in ``text`` of the cluster that produced normalised
    character ``k``.  For pure-ASCII input the lists are ``None`` (identity
    mapping).
    """
    if text.isascii():
        return text.lower(), None, None
    # The common case (Chinese text with full-width punctuation and letters): every character
    # is a cluster of its own and normalises to exactly one character, so the offsets are
    # the identity and one C-level translate does the work of the loop below.
    table = {}
    for ch in set(text):
        form = _single_form(ch)
        if form is None:
            break
        if form != ch:
            table[ord(ch)] = form
    else:
        return text.translate(table), None, None
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    n = len(text)
    i = 0
    while i < n:
        j = i + 1
        while j < n and not is_cluster_boundary(text, j):
            j += 1
        norm = _norm_cluster(text[i:j])
        if norm:
            out.append(norm)
            k = len(norm)
            starts.extend([i] * k)
            ends.extend([j] * k)
        i = j
    return "".join(out), starts, ends


def normalize(text: str) -> str:
    """The normalised form used for matching (NFKC, case folded)."""
    return normalize_with_offsets(text)[0]


# ---------------------------------------------------------------------------
# jieba segmenter: private instance, created lazily once per process

_seg_lock = threading.RLock()
_segmenter = None
_segmenter_pid: int | None = None
_extra_terms: list[tuple[str, int | None]] = []


def _import_jieba():
    # jieba 0.42.1 contains invalid escape sequences (a SyntaxWarning on
    # 3.12+, DeprecationWarning before) and imports pkg_resources when it is
    # available (DeprecationWarning on recent setuptools).  Under
    # ``-W error`` either would abort the import when the bytecode is not
    # cached yet, so silence warnings for the import only.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jieba
    logging.getLogger("jieba").setLevel(logging.WARNING)
    jieba.setLogLevel(logging.WARNING)
    return jieba


def get_segmenter():
    """Return this process's :class:`jieba.Tokenizer` (built on first use)."""
    global _segmenter, _segmenter_pid
    seg = _segmenter
    if seg is not None and _segmenter_pid == os.getpid():
        return seg
    with _seg_lock:
        if _segmenter is None or _segmenter_pid != os.getpid():
            jieba = _import_jieba()
            seg = jieba.Tokenizer()
            seg.initialize()
            for term in BUILTIN_TERMS:
                seg.add_word(term)
            for term, freq in _extra_terms:
                seg.add_word(term, freq)
            _segmenter = seg
            _segmenter_pid = os.getpid()
        return _segmenter


def add_terms(terms: Iterable[str | tuple[str, int | None]]) -> int:
    """Add words to the segmentation vocabulary; returns how many."""
    parsed: list[tuple[str, int | None]] = []
    for item in terms:
        term, freq = (item, None) if isinstance(item, str) else item
        term = unicodedata.normalize("NFKC", term).strip().casefold()
        if term:
            parsed.append((term, freq))
    with _seg_lock:
        _extra_terms.extend(parsed)
        if _segmenter is not None and _segmenter_pid == os.getpid():
            for term, freq in parsed:
                _segmenter.add_word(term, freq)
    return len(parsed)


def load_user_dictionary(path: str | os.PathLike[str]) -> int:
    """Load a user dictionary of legal terms / place names.

    UTF-8 text, one entry per line: ``term [frequency] [pos-tag]``;
    blank lines and lines starting with ``#`` are ignored.  Entries apply to
    this process (and to processes forked later).  Returns the number of
    terms loaded.  Only the ranking stream depends on the dictionary, so an
    index built with another dictionary still matches correctly; re-index
    to get the new segmentation into the ranking field.
    """
    entries: list[tuple[str, int | None]] = []
    text = Path(path).read_text(encoding="utf-8-sig")
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        freq: int | None = None
        if len(parts) >= 2 and parts[1].isdigit():
            freq = int(parts[1])
        elif len(parts) >= 2 and not parts[1].isalpha():
            raise ValueError(f"{path}:{lineno}: bad frequency {parts[1]!r}")
        entries.append((parts[0], freq))
    return add_terms(entries)


def segment(text: str) -> list[str]:
    """jieba segmentation of a CJK run (no HMM, deterministic)."""
    return list(get_segmenter().cut(text, HMM=False))


def _cut_run(run: str, offset: int) -> list[tuple[str, int, int, str]]:
    pieces = list(get_segmenter().cut(run, HMM=False))
    if "".join(pieces) != run:  # defensive: never misalign offsets
        pieces = list(run)
    out = []
    for piece in pieces:
        out.append((piece, offset, offset + len(piece), "cjk"))
        offset += len(piece)
    return out


def _is_boundary_gap(gap: str, left: str, right: str) -> bool:
    """Does the text between two tokens separate them for phrase purposes?"""
    if gap.isspace():
        # spaces separate Latin words without breaking a phrase; in CJK text
        # (and at line breaks) they are a real separation
        return "cjk" in (left, right) or "\n" in gap or "\r" in gap
    if left == right == "word" and len(gap) == 1 and gap in _WORD_JOINERS:
        return False  # e-mail, don't, U.S, and/or
    return True


# ---------------------------------------------------------------------------
# Whoosh components


class _Token(Token):
    """Token that accepts the extra attributes used here (``kind``,
    ``surface``) even on Whoosh forks whose ``Token`` declares slots."""


class CjkLatinTokenizer(Tokenizer):
    """Tokenizer for mixed CJK/Latin text with consecutive positions.

    ``unit="char"`` emits one token per CJK character, ``unit="word"`` one
    per jieba word.  Letter/digit runs are one token in both.  Punctuation
    and whitespace produce nothing and do not consume positions.  Token
    texts are normalised (NFKC + casefold); ``startchar``/``endchar`` refer
    to the original string.  Each token carries ``kind`` = "cjk" or "word".
    """

    def __init__(self, unit: str = "char"):
        if unit not in ("char", "word"):
            raise ValueError("unit must be 'char' or 'word'")
        self.unit = unit

    def __eq__(self, other):
        return type(other) is type(self) and other.unit == self.unit

    def __hash__(self):
        return hash((type(self).__name__, self.unit))

    def _spans(self, norm: str) -> Iterator[tuple[str, int, int, str]]:
        prev_end = -1
        prev_kind = ""
        for m in _TOKEN_RE.finditer(norm):
            kind = "word" if m.lastgroup == "word" else "cjk"
            start = m.start()
            if prev_end >= 0 and start > prev_end:
                gap = norm[prev_end:start]
                if _is_boundary_gap(gap, prev_kind, kind):
                    yield BOUNDARY, prev_end, start, "boundary"
            yield m.group(), start, m.end(), kind
            prev_end, prev_kind = m.end(), kind

    def _word_spans(self, norm: str) -> Iterator[tuple[str, int, int, str]]:
        # Letter/digit tokens come from the regex, CJK runs from jieba.
        pos = 0
        for run in _CJK_RUN_RE.finditer(norm):
            yield from self._latin_spans(norm, pos, run.start())
            yield from _cut_run(run.group(), run.start())
            pos = run.end()
        yield from self._latin_spans(norm, pos, len(norm))

    @staticmethod
    def _latin_spans(norm: str, start: int, end: int):
        for m in _TOKEN_RE.finditer(norm, start, end):
            if m.lastgroup == "word":
                yield m.group(), m.start(), m.end(), "word"

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ):
        if not isinstance(value, str):
            raise TypeError(f"{value!r} is not a string")
        t = _Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        norm, starts, ends = normalize_with_offsets(value)
        if not tokenize:
            t.original = t.text = norm
            t.kind = "cjk" if CJK_RE.search(norm) else "word"
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar = start_char
                t.endchar = start_char + len(value)
            yield t
            return
        spans = self._spans(norm) if self.unit == "char" else self._word_spans(norm)
        pos = start_pos
        for text, s, e, kind in spans:
            t.text = text
            t.kind = kind
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = text
            if positions:
                t.pos = pos
                pos += 1
            if chars:
                if starts is None:
                    t.startchar = start_char + s
                    t.endchar = start_char + e
                else:
                    t.startchar = start_char + starts[s]
                    t.endchar = start_char + ends[e - 1]
            yield t


class LatinStemFilter(StemFilter):
    """Whoosh's Porter :class:`StemFilter`, applied to ASCII words only."""

    def __call__(self, tokens):
        stem = self._stem
        ignore = self.ignore
        for t in tokens:
            if t.stopped or getattr(t, "kind", "word") != "word":
                yield t
                continue
            text = t.text
            t.surface = text
            if text.isascii() and text.isalpha() and text not in ignore:
                t.text = stem(text)
            yield t


class SurfaceFormFilter(Filter):
    """At index time, add ``SURFACE_MARK + unstemmed`` beside every
    Latin/digit token (same position), so that prefix queries see the word
    as written ("legislat*" finds "legislation", whose stem is "legisl")."""

    def __call__(self, tokens):
        for t in tokens:
            yield t
            if t.mode == "index" and getattr(t, "kind", "") == "word" and not t.stopped:
                surface = getattr(t, "surface", t.text)
                t.text = SURFACE_MARK + surface
                yield t


class CjkBigramFilter(Filter):
    """At index time, add the bigram of every two adjacent CJK characters at the position
    of the first, beside the characters themselves.

    A CJK query of two characters is then one term, and a longer one a phrase of its
    overlapping bigrams: both still an exact substring match (a bigram only exists where
    the two characters are adjacent), but without checking the positions of every document
    that merely contains each character somewhere.
    """

    def __call__(self, tokens):
        prev_text = None
        prev_pos = prev_start = 0
        for t in tokens:
            if t.mode != "index" or getattr(t, "kind", "") != "cjk" or t.stopped:
                prev_text = None
                yield t
                continue
            text, pos = t.text, t.pos
            start = t.startchar if t.chars else 0
            if prev_text is not None and pos == prev_pos + 1:
                # the bigram first, so that positions never go backwards
                t.text, t.pos = prev_text + text, prev_pos
                if t.chars:
                    t.startchar = prev_start
                yield t
                t.text, t.pos = text, pos
                if t.chars:
                    t.startchar = start
            prev_text, prev_pos, prev_start = text, pos, start
            yield t


def make_analyzer(unit: str = "char"):
    """Analyzer for the matching stream (``"char"``, default) or the
    ranking stream (``"word"``)."""
    chain = (
        CjkLatinTokenizer(unit)
        | StopFilter(stoplist=ENGLISH_STOP_WORDS, minsize=1, renumber=True)
        | LatinStemFilter()
    )
    if unit == "char":
        chain = chain | SurfaceFormFilter() | CjkBigramFilter()
    return chain


_query_analyzers: dict[str, object] = {}


def query_tokens(text: str, unit: str = "char") -> list[str]:
    """Token texts a query string analyses to (stop words removed)."""
    analyzer = _query_analyzers.get(unit)
    if analyzer is None:
        analyzer = _query_analyzers[unit] = make_analyzer(unit)
    toks = [t.text for t in analyzer(text, mode="query")]
    while toks and toks[0] == BOUNDARY:
        toks.pop(0)
    while toks and toks[-1] == BOUNDARY:
        toks.pop()
    return toks
