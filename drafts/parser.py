"""Structure parser for Chinese and English legislative texts (编/章/节/条/款/项/目)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = [
    "KINDS",
    "Node",
    "ParseWarning",
    "ParsedText",
    "chinese_numeral_to_int",
    "docx_text",
    "int_to_chinese_numeral",
    "parse",
    "parse_docx",
]

KINDS = ("part", "subpart", "chapter", "section", "article", "paragraph", "item", "subitem")

# Containers that may hold articles, outermost first; a new one closes every deeper one.
_CONTAINERS = ("part", "subpart", "chapter", "section")


# --------------------------------------------------------------------------- data model


@dataclass
class Node:
    """One structural unit of a legal text (chapter, article, paragraph, item, ...)."""

    kind: str
    label: str
    heading: str = ""
    text: str = ""
    number: int | None = None
    sub_number: int = 0
    anchor: str = ""
    line: int = 0
    children: list[Node] = field(default_factory=list)

    def walk(self) -> Iterator[Node]:
        """Yield this node and all descendants in document (pre-)order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def full_text(self) -> str:
        """Own text plus the rendered descendants, one source line per line, without own label."""
        lines = [self.text] if self.text else []
        for child in self.children:
            lines.extend(child._render())
        return "\n".join(lines)

    def _render(self) -> list[str]:
        """Lines this node contributes to its parent's full_text()."""
        body = self.full_text()
        if self.kind == "paragraph":
            # Paragraph labels (第二款) are synthetic, so they never appear in running text.
            return [body] if body else []
        if self.kind == "article":
            return [_join_label(self.label, body, spaced=True)]
        if self.kind in _CONTAINERS:
            first = _join_label(self.label, self.heading, spaced=True)
            return [first, body] if body else [first]
        return [_join_label(self.label, body, spaced=False)]


@dataclass
class ParseWarning:
    """A problem found while parsing; `code` + `params` let the UI translate it."""

    line: int
    code: str
    message: str
    params: dict = field(default_factory=dict)


@dataclass
class ParsedText:
    """The result of parsing one legal text."""

    title: str
    preamble: list[str]
    language: str
    nodes: list[Node]
    warnings: list[ParseWarning]

    def walk(self) -> Iterator[Node]:
        """Yield every node of the document in pre-order."""
        for node in self.nodes:
            yield from node.walk()

    def articles(self) -> list[Node]:
        """All articles in document order, wherever they are nested."""
        return [node for node in self.walk() if node.kind == "article"]


# --------------------------------------------------------------------------- numerals

_ZH_DIGITS = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
_DIGIT_NAMES = "零一二三四五六七八九"
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def chinese_numeral_to_int(s: str) -> int:
    """Convert a Chinese (一百零五) or Arabic (105, １０５) numeral to an int."""
    s = s.strip().translate(_FULLWIDTH_DIGITS)
    if not s:
        raise ValueError("empty numeral")
    if s.isascii() and s.isdigit():
        return int(s)
    if all(ch in _ZH_DIGITS for ch in s):
        # Positional style without units, as in years: 二〇二三.
        return int("".join(str(_ZH_DIGITS[ch]) for ch in s))
    total = 0  # completed 万 groups
    group = 0  # value below 万 accumulated so far
    digit: int | None = None
    for ch in s:
        if ch in _ZH_DIGITS:
            digit = _ZH_DIGITS[ch]
        elif ch in _ZH_UNITS:
            # A bare unit means one of it: 十二 is 12, not 2.
            group += (1 if digit is None else digit) * _ZH_UNITS[ch]
            digit = None
        elif ch in "万萬":
            total += (group + (digit or 0)) * 10000
            group, digit = 0, None
        else:
            raise ValueError(f"not a numeral: {s!r}")
    return total + group + (digit or 0)


def _below_ten_thousand(n: int) -> str:
    """Chinese numeral for 0 < n < 10000 with 零 for inner zero runs."""
    out: list[str] = []
    zero_pending = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d == 0:
            zero_pending = bool(out)
            continue
        if zero_pending:
            out.append("零")
            zero_pending = False
        out.append(_DIGIT_NAMES[d] + unit)
    return "".join(out)


def int_to_chinese_numeral(n: int) -> str:
    """Convert a non-negative int to the numeral used in legal labels (110 → 一百一十)."""
    if n < 0:
        raise ValueError("negative numbers have no label numeral")
    if n == 0:
        return "零"
    high, low = divmod(n, 10000)
    if high >= 10000:
        raise ValueError("number too large")
    if high:
        text = _below_ten_thousand(high) + "万"
        if low:
            text += ("零" if low < 1000 else "") + _below_ten_thousand(low)
    else:
        text = _below_ten_thousand(low)
    # 10–19 are written 十, 十一 … not 一十一, but only as the leading group (110 keeps 一十).
    if text.startswith("一十"):
        text = text[1:]
    return text


def _roman_to_int(s: str) -> int | None:
    """Value of a Roman numeral, or None if `s` is not a well-formed one."""
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}
    s = s.lower()
    if not s or any(ch not in values for ch in s):
        return None
    total = 0
    for i, ch in enumerate(s):
        v = values[ch]
        total += -v if i + 1 < len(s) and values[s[i + 1]] > v else v
    # Reject oddities like "iiii" or "vx" by requiring the canonical spelling.
    return total if _int_to_roman(total) == s else None


def _int_to_roman(n: int) -> str:
    """Canonical lower-case Roman numeral for n > 0."""
    table = (
        (1000, "m"),
        (900, "cm"),
        (500, "d"),
        (400, "cd"),
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    )
    out = []
    for value, sym in table:
        while n >= value:
            out.append(sym)
            n -= value
    return "".join(out)


def _letters_to_int(s: str) -> int:
    """Spreadsheet-style value of a letter item label: a → 1, z → 26, aa → 27."""
    n = 0
    for ch in s.lower():
        n = n * 26 + ord(ch) - ord("a") + 1
    return n


def _number_or_none(s: str) -> int | None:
    """Numeral value, or None for odd spellings so a label never crashes the parse."""
    try:
        return chinese_numeral_to_int(s)
    except ValueError:
        return None


# --------------------------------------------------------------------------- line patterns

_NUM = r"[零〇○一二两三四五六七八九十百千万\d０-９]+"
_ZH_ARTICLE = re.compile(rf"^(第({_NUM})条(?:之([一二三四五六七八九十]+))?)(.*)$", re.S)
_ZH_HEADING = re.compile(rf"^(第({_NUM})(分编|编|章|节))(.*)$", re.S)
_ZH_HEADING_KIND = {"编": "part", "分编": "subpart", "章": "chapter", "节": "section"}
_ZH_ITEM = re.compile(r"^([（(]([一二三四五六七八九十百]+)[）)])\s*(.*)$", re.S)
# The negative look-ahead keeps decimals such as "1.5倍" at line start out of sub-items.
_ZH_SUBITEM = re.compile(r"^(([0-9０-９]+)[.．、])(?![0-9０-９])\s*(.*)$", re.S)

_EN_SEP = r"(?:\s*[.:\-–—]\s*|\s+|$)"
_EN_HEADING = re.compile(
    rf"^((PART|Part|CHAPTER|Chapter|SECTION|Section)\s+([IVXLCDM]+|\d+))\b{_EN_SEP}(.*)$", re.S
)
_EN_HEADING_KIND = {"part": "part", "chapter": "chapter", "section": "section"}
_EN_ARTICLE = re.compile(rf"^((?:ARTICLE|Article|Art\.)\s*(\d+)([a-z]?))\b{_EN_SEP}(.*)$", re.S)
_EN_ITEM = re.compile(r"^(\(([a-z]{1,4}|\d{1,3})\))\s*(.*)$", re.S)

_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_HAN = re.compile("[\u4e00-\u9fff]")
_LATIN = re.compile("[A-Za-z]")
_MD_HEADING = re.compile(r"^(#{1,6})(?:\s+|$)")
_MD_CLOSING = re.compile(r"\s+#+$")
_HTML_COMMENT = re.compile(r"^<!--.*-->$", re.S)
_INFO_END = re.compile(r"^<!--\s*INFO\s+END\s*-->$", re.I)
_TERMINAL = tuple("。；：，;:,.!?！？")
_ZH_TITLE_ENDINGS = (
    "条例",
    "法",
    "规定",
    "办法",
    "决定",
    "规则",
    "细则",
    "章程",
    "决议",
    "准则",
    "规范",
)
_TRAILING_BRACKET = re.compile(r"[（(][^（）()]*[）)]$")
_ZH_HISTORY = re.compile(
    r"\d{4}\s*年|[〇零一二三四五六七八九]{4}年|通过|修正|修订|批准|公布|施行|发布"
)
_EN_HISTORY = re.compile(
    r"\b(adopted|amended|revised|approved|promulgated|enacted|passed|effective)\b"
    r"|\b(19|20)\d{2}\b",
    re.I,
)
_TOC_WORDS = {"目录", "目次", "contents", "tableofcontents"}

# A heading continuation is short; longer lines are real prose.
_CONTINUATION_MAX = {"zh": 30, "en": 100}
_HEADING_MAX = {"zh": 40, "en": 150}


def _squash(s: str, language: str) -> str:
    """Collapse layout whitespace, dropping it between CJK characters (总　　则 → 总则)."""
    s = s.strip()
    if language == "zh":
        s = _CJK_GAP.sub("", s)
    return _SPACES.sub(" ", s)


def _no_space(s: str) -> str:
    """The string with every whitespace character removed, for loose comparisons."""
    return _SPACES.sub("", s)


def _join_label(label: str, text: str, spaced: bool) -> str:
    """Label followed by its text, as printed."""
    if not text:
        return label
    # Articles and headings are printed with a space after the label; "（一）" and "1." are
    # glued to Chinese text but need a space before English words.
    if spaced or (label[-1].isascii() and text[0].isascii()):
        return f"{label} {text}"
    return label + text


def _detect_language(text: str) -> str:
    """'zh' when CJK characters carry a fair share of the text, else 'en'."""
    cjk = len(_HAN.findall(text))
    latin = len(_LATIN.findall(text))
    # An English word is about five letters; one Chinese character carries similar weight.
    return "zh" if cjk * 3 >= latin and cjk > 0 else "en"


# --------------------------------------------------------------------------- parser


@dataclass
class _Line:
    """One input line: 1-based number, cleaned text and Markdown heading level (0: none)."""

    number: int
    text: str
    md_level: int = 0


@dataclass
class _Match:
    """A recognised structural line."""

    kind: str
    label: str
    number: int | None
    rest: str
    sub_number: int = 0
    bare: bool = False  # article label glued to its text with no separator


class _Parser:
    """Single-pass state machine over the lines of one document."""

    def __init__(self, language: str) -> None:
        self.lang = language
        self.nodes: list[Node] = []
        self.warnings: list[ParseWarning] = []
        self.preamble: list[str] = []
        self.title = ""
        self.open: dict[str, Node | None] = dict.fromkeys(_CONTAINERS)
        self.article: Node | None = None
        self.paragraph: Node | None = None
        self.item: Node | None = None
        self.joinable: Node | None = None  # heading that may continue on the next line
        self.anchors: set[str] = set()
        self.last_number: dict[tuple[str, str], int] = {}
        self.seen_numbers: dict[tuple[str, str], set[tuple[int, int]]] = {}
        self.last_article = 0

    # ---- classification

    def classify(self, text: str) -> _Match | None:
        """Recognise a structural line, or None for prose."""
        return self._classify_zh(text) if self.lang == "zh" else self._classify_en(text)

    def _classify_zh(self, text: str) -> _Match | None:
        """Chinese patterns: 第X编/分编/章/节, 第X条(之N), （一）, 1."""
        m = _ZH_ARTICLE.match(text)
        if m:
            label, numeral, sub, rest = m.groups()
            bare = bool(rest) and not rest[0].isspace()
            sub_n = (_number_or_none(sub) or 0) if sub else 0
            return _Match("article", label, _number_or_none(numeral), rest.strip(), sub_n, bare)
        m = _ZH_HEADING.match(text)
        if m:
            label, numeral, kind, rest = m.groups()
            rest = rest.strip()
            # A long or sentence-like remainder means a reference such as "第三章规定的……".
            if (
                len(rest) <= _HEADING_MAX["zh"]
                and "。" not in rest
                and not rest.endswith(_TERMINAL)
            ):
                return _Match(_ZH_HEADING_KIND[kind], label, _number_or_none(numeral), rest)
            return None
        m = _ZH_ITEM.match(text)
        if m:
            return _Match("item", m.group(1), _number_or_none(m.group(2)), m.group(3).strip())
        m = _ZH_SUBITEM.match(text)
        if m:
            return _Match("subitem", m.group(1), _number_or_none(m.group(2)), m.group(3).strip())
        return None

    def _classify_en(self, text: str) -> _Match | None:
        """English patterns: Part/Chapter/Section N, Article N, (a), (1)/(i)."""
        m = _EN_ARTICLE.match(text)
        if m:
            label, num, letter, rest = m.groups()
            return _Match("article", label, int(num), rest.strip(), _letters_to_int(letter))
        m = _EN_HEADING.match(text)
        if m:
            label, word, num, rest = m.groups()
            rest = rest.strip()
            if len(rest) <= _HEADING_MAX["en"] and not rest.endswith(_TERMINAL):
                number = int(num) if num.isdigit() else _roman_to_int(num)
                return _Match(_EN_HEADING_KIND[word.lower()], label, number, rest)
            return None
        m = _EN_ITEM.match(text)
        if m:
            label, token, rest = m.groups()
            if token.isdigit():
                return _Match("subitem", label, int(token), rest.strip())
            roman = _roman_to_int(token)
            letter = _letters_to_int(token)
            # "(i)" is ambiguous: it is the ninth item only right after "(h)".
            if roman is not None and self.item is not None:
                if len(token) > 1 or letter != (self.item.number or 0) + 1:
                    return _Match("subitem", label, roman, rest.strip())
            return _Match("item", label, letter, rest.strip())
        return None

    # ---- helpers

    def warn(self, line: int, code: str, message: str, **params: object) -> None:
        """Record a warning."""
        self.warnings.append(ParseWarning(line, code, message, dict(params)))

    def unique_anchor(self, anchor: str) -> str:
        """Make an anchor unique in the document; duplicates get a -dupN suffix."""
        candidate, n = anchor, 1
        while candidate in self.anchors:
            n += 1
            candidate = f"{anchor}-dup{n}"
        self.anchors.add(candidate)
        return candidate

    def check_number(self, node: Node, scope: str) -> None:
        """Warn about gaps, duplicates and disorder in one numbering sequence."""
        if node.number is None:
            return
        key = (node.kind, scope)
        seen = self.seen_numbers.setdefault(key, set())
        ident = (node.number, node.sub_number)
        params = {"kind": node.kind, "label": node.label, "found": node.number}
        if ident in seen:
            self.warn(
                node.line,
                "numbering_duplicate",
                f"{node.label} repeats an earlier {node.kind} number ({node.number})",
                **params,
                expected=self.last_number.get(key, 0) + 1,
            )
            return
        seen.add(ident)
        if node.sub_number:
            # Inserted articles (第二十条之一) legitimately sit outside the main sequence.
            return
        last = self.last_number.get(key, 0)
        expected = last + 1
        if node.number > expected:
            self.warn(
                node.line,
                "numbering_gap",
                f"{node.kind.capitalize()} numbering skips from {last} to {node.number} "
                f"at {node.label}",
                **params,
                expected=expected,
            )
        elif node.number < expected:
            self.warn(
                node.line,
                "numbering_order",
                f"{node.label} is out of order: {node.kind} {expected} was expected",
                **params,
                expected=expected,
            )
        self.last_number[key] = max(last, node.number)

    def attach(self, node: Node, parent: Node | None) -> None:
        """Append to the parent, or to the top level when there is none."""
        (parent.children if parent else self.nodes).append(node)

    def innermost_container(self, below: str | None = None) -> Node | None:
        """Deepest open part/subpart/chapter/section, optionally only those above `below`."""
        limit = _CONTAINERS.index(below) if below else len(_CONTAINERS)
        for kind in reversed(_CONTAINERS[:limit]):
            if self.open[kind] is not None:
                return self.open[kind]
        return None

    # ---- structure building

    def add_container(self, m: _Match, line: int) -> Node:
        """Open a part/subpart/chapter/section and close everything deeper."""
        parent = self.innermost_container(m.kind)
        idx = _CONTAINERS.index(m.kind)
        for kind in _CONTAINERS[idx:]:
            self.open[kind] = None
        self.article = self.paragraph = self.item = None
        short = {"part": "part", "subpart": "sub", "chapter": "ch", "section": "sec"}[m.kind]
        own = f"{short}-{m.number if m.number is not None else len(self.nodes) + 1}"
        anchor = f"{parent.anchor}-{own}" if parent else own
        node = Node(
            m.kind,
            m.label,
            heading=_squash(m.rest, self.lang),
            number=m.number,
            anchor=self.unique_anchor(anchor),
            line=line,
        )
        self.attach(node, parent)
        self.open[m.kind] = node
        self.check_number(node, parent.anchor if parent else "")
        return node

    def add_article(self, m: _Match, line: int) -> None:
        """Open an article; the rest of its line is the first paragraph."""
        parent = self.innermost_container()
        number = m.number
        # An unreadable numeral still needs a stable anchor: fall back to the position.
        base = number if number is not None else f"x{len(self.anchors) + 1}"
        anchor = f"art-{base}" + (f"-{m.sub_number}" if m.sub_number else "")
        node = Node(
            "article",
            m.label,
            number=number,
            sub_number=m.sub_number,
            anchor=self.unique_anchor(anchor),
            line=line,
        )
        self.attach(node, parent)
        self.article, self.paragraph, self.item = node, None, None
        self.check_number(node, "")
        if number is not None and not m.sub_number:
            self.last_article = max(self.last_article, number)
        if m.rest:
            self.add_paragraph(m.rest, line)

    def add_paragraph(self, text: str, line: int) -> Node:
        """Append a paragraph (款) to the current article."""
        assert self.article is not None
        n = len(self.article.children) + 1
        label = f"第{int_to_chinese_numeral(n)}款" if self.lang == "zh" else f"Paragraph {n}"
        node = Node(
            "paragraph",
            label,
            text=text,
            number=n,
            anchor=self.unique_anchor(f"{self.article.anchor}-p{n}"),
            line=line,
        )
        self.article.children.append(node)
        self.paragraph, self.item = node, None
        return node

    def add_item(self, m: _Match, line: int) -> None:
        """Append an item (项) to the current paragraph, creating an empty one if needed."""
        if self.paragraph is None:
            # "第八条" alone on its line, then "（一）…": the items form its first paragraph.
            self.add_paragraph("", line)
        assert self.paragraph is not None
        n = m.number if m.number is not None else len(self.paragraph.children) + 1
        node = Node(
            "item",
            m.label,
            text=m.rest,
            number=m.number,
            anchor=self.unique_anchor(f"{self.paragraph.anchor}-i{n}"),
            line=line,
        )
        self.paragraph.children.append(node)
        self.item = node
        self.check_number(node, self.paragraph.anchor)

    def add_subitem(self, m: _Match, line: int) -> None:
        """Append a sub-item (目) to the current item."""
        assert self.item is not None
        n = m.number if m.number is not None else len(self.item.children) + 1
        node = Node(
            "subitem",
            m.label,
            text=m.rest,
            number=m.number,
            anchor=self.unique_anchor(f"{self.item.anchor}-s{n}"),
            line=line,
        )
        self.item.children.append(node)
        self.check_number(node, self.item.anchor)

    def add_stray(self, text: str, line: int) -> None:
        """Keep a body line that fits nowhere as text of the enclosing container."""
        container = self.innermost_container()
        if container is None:
            # Only reachable when a rejected "第X条…" reference opens the body.
            self.preamble.append(text)
            self.warn(
                line,
                "unparsed_line",
                f"Line {line} comes before the first article; kept in the preamble",
                text=text[:80],
                attached_to="preamble",
                label="",
            )
            return
        container.text = f"{container.text}\n{text}" if container.text else text
        self.warn(
            line,
            "unparsed_line",
            f"Line {line} is not part of any article; kept as text of {container.label}",
            text=text[:80],
            attached_to=container.anchor,
            label=container.label,
        )

    def is_continuation(self, text: str) -> bool:
        """True for a short, unpunctuated line that can finish a broken heading."""
        return (
            len(text) <= _CONTINUATION_MAX[self.lang]
            and "。" not in text
            and not text.endswith(_TERMINAL)
        )

    def feed(self, line: _Line) -> None:
        """Process one non-empty body line."""
        m = self.classify(line.text)
        if m is not None and m.kind == "article" and m.bare:
            # "第十二条规定……" at line start is a reference unless numbering moves forward.
            stale = m.number is None or m.number < self.last_article
            if stale or (m.number == self.last_article and not m.sub_number):
                m = None
        joinable, self.joinable = self.joinable, None
        if m is not None and m.kind in _CONTAINERS:
            self.joinable = self.add_container(m, line.number)
            return
        if m is None and joinable is not None and self.is_continuation(line.text):
            # A heading broken over two source lines (…常务委员会制定 / 地方性法规的程序).
            tail = _squash(line.text, self.lang)
            joined = _join_heading(joinable.heading, tail, self.lang)
            joinable.heading = joined
            return
        if m is not None and m.kind == "article":
            self.add_article(m, line.number)
        elif m is not None and m.kind == "item" and self.article is not None:
            self.add_item(m, line.number)
        elif m is not None and m.kind == "subitem" and self.item is not None:
            self.add_subitem(m, line.number)
        elif self.article is not None:
            self.add_paragraph(line.text, line.number)
        else:
            self.add_stray(line.text, line.number)


def _join_heading(head: str, tail: str, language: str) -> str:
    """Join the two halves of a broken heading."""
    if not head:
        return tail
    return head + tail if language == "zh" else f"{head} {tail}"


def _clean_lines(text: str) -> list[_Line]:
    """Normalise newlines, drop the BOM, trim each line and strip Markdown heading marks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    out = []
    for number, raw in enumerate(text.split("\n"), start=1):
        # Zero-width characters (seen as otherwise empty lines in the corpus) carry no text.
        s = raw.translate(_INVISIBLE).strip()
        level = 0
        m = _MD_HEADING.match(s)
        if m:
            level = len(m.group(1))
            s = _MD_CLOSING.sub("", s[m.end() :]).strip()
        out.append(_Line(number, s, level))
    return out


def _looks_like_title(line: _Line, language: str, parser: _Parser) -> bool:
    """Heuristic for an unmarked first line that names the law."""
    s = line.text
    if parser.classify(s) is not None:
        return False
    if language == "zh":
        core = s
        while _TRAILING_BRACKET.search(core):
            # Drafts carry suffixes such as （草案） or （征求意见稿）.
            core = _TRAILING_BRACKET.sub("", core).strip()
        return len(s) <= 80 and "。" not in s and core.endswith(_ZH_TITLE_ENDINGS)
    words = s.split()
    return (
        0 < len(words) <= 20
        and s[0].isupper()
        and not s.endswith(_TERMINAL)
        and any(ch.isalpha() for ch in s)
    )


def _toc_lines(lines: list[_Line], start: int, stop: int, parser: _Parser) -> set[int]:
    """Indexes of a table of contents (目录 … up to the repeat of its first entry)."""
    for i in range(start, stop):
        if _no_space(lines[i].text).lower() not in _TOC_WORDS:
            continue
        first = next(
            (
                j
                for j in range(i + 1, len(lines))
                if lines[j].text and (m := parser.classify(lines[j].text)) and m.kind in _CONTAINERS
            ),
            None,
        )
        if first is None:
            return set()
        key = _no_space(lines[first].text)
        for k in range(first + 1, len(lines)):
            if _no_space(lines[k].text) == key:
                return set(range(i, k))
        return set()
    return set()


def parse(text: str, language: str | None = None) -> ParsedText:
    """Parse a legal text (corpus Markdown, plain text or Markdown) into its structure."""
    lang = language or _detect_language(text)
    if lang not in ("zh", "en"):
        raise ValueError(f"unsupported language: {lang!r}")
    parser = _Parser(lang)
    lines = [
        ln
        for ln in _clean_lines(text)
        if not (_HTML_COMMENT.match(ln.text) and not _INFO_END.match(ln.text))
    ]
    marker = next((i for i, ln in enumerate(lines) if _INFO_END.match(ln.text)), None)

    def first_structural(start: int) -> int:
        """Index of the first part/chapter/section/article line at or after `start`."""
        for i in range(start, len(lines)):
            m = parser.classify(lines[i].text) if lines[i].text else None
            if m is not None and m.kind in (*_CONTAINERS, "article"):
                return i
        return len(lines)

    # Title: a "# " heading or a title-like first line.
    idx = next((i for i, ln in enumerate(lines) if ln.text), len(lines))
    if idx == len(lines):
        return ParsedText(
            "",
            [],
            lang,
            [],
            [ParseWarning(0, "empty_document", "The document contains no text", {})],
        )
    head = lines[idx]
    if (head.md_level == 1 and parser.classify(head.text) is None) or _looks_like_title(
        head, lang, parser
    ):
        parser.title = _squash(head.text, lang)
        idx += 1

    # Everything before the body goes to the preamble; the marker line itself is dropped.
    body_from = marker + 1 if marker is not None and marker >= idx else idx
    start = first_structural(body_from)
    toc = _toc_lines(lines, idx, start, parser)
    if toc:
        start = first_structural(max(toc) + 1)
    structured = start < len(lines)
    depth = 0  # open-bracket depth: a parenthesised history block spans several lines
    for i in range(idx, start):
        ln = lines[i]
        if not ln.text or i == marker:
            continue
        parser.preamble.append(ln.text)
        quiet = (
            i in toc
            or (marker is not None and i < marker)
            or depth > 0
            or _no_space(ln.text) == _no_space(parser.title)
            or (_ZH_HISTORY if lang == "zh" else _EN_HISTORY).search(ln.text) is not None
        )
        depth = max(
            0, depth + sum(ln.text.count(c) for c in "（(") - sum(ln.text.count(c) for c in "）)")
        )
        if structured and not quiet:
            parser.warn(
                ln.number,
                "unparsed_line",
                f"Line {ln.number} comes before the first article; kept in the preamble",
                text=ln.text[:80],
                attached_to="preamble",
                label="",
            )

    for ln in lines[start:]:
        if ln.text:
            parser.feed(ln)

    result = ParsedText(parser.title, parser.preamble, lang, parser.nodes, parser.warnings)
    if not result.articles():
        parser.warn(0, "no_articles", "No articles were found in the text")
    return result


# --------------------------------------------------------------------------- .docx input

_DOCX_MAX_UNCOMPRESSED = 50 * 1024 * 1024
_DOCX_MAX_RATIO = 200
_DOCX_MAX_MEMBERS = 5000
_DTD_MARKERS = ("<!DOCTYPE", "<!ENTITY")


def _xml_declares_dtd(raw: bytes) -> bool:
    """True if an XML part contains a DTD or entity declaration in any likely encoding."""
    candidates = [raw.decode("latin-1")]
    if b"\x00" in raw[:4]:
        # UTF-16/32 hide the markers from a byte search, so decode them too.
        for enc in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
            candidates.append(raw.decode(enc, errors="ignore"))
    return any(marker in c.upper() for c in candidates for marker in _DTD_MARKERS)


def _check_docx_archive(data: bytes) -> None:
    """Refuse zip bombs and XML with DTDs before python-docx touches the package."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ValueError("Not a .docx file: the upload is not a zip archive") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > _DOCX_MAX_MEMBERS:
            raise ValueError(f"Refused .docx: more than {_DOCX_MAX_MEMBERS} parts")
        # zipfile never inflates past the declared size, so checking it is enough.
        total = sum(info.file_size for info in infos)
        if total > _DOCX_MAX_UNCOMPRESSED:
            raise ValueError(
                f"Refused .docx: {total} bytes uncompressed exceeds the "
                f"{_DOCX_MAX_UNCOMPRESSED // (1024 * 1024)} MB limit"
            )
        for info in infos:
            if info.file_size and (
                info.compress_size == 0 or info.file_size / info.compress_size > _DOCX_MAX_RATIO
            ):
                raise ValueError(
                    f"Refused .docx: part {info.filename!r} has a compression ratio above "
                    f"{_DOCX_MAX_RATIO} (possible zip bomb)"
                )
        for info in infos:
            if info.filename.lower().endswith((".xml", ".rels")):
                if _xml_declares_dtd(archive.read(info)):
                    raise ValueError(
                        f"Refused .docx: part {info.filename!r} declares a DTD or entities"
                    )


def docx_text(data: bytes) -> str:
    """Return the paragraphs of an uploaded .docx as lines, after checking it is safe to open."""
    _check_docx_archive(data)
    # Imported here so that plain-text parsing stays standard-library only.
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many types for a malformed package
        raise ValueError(f"Not a readable .docx document: {exc}") from exc
    return "\n".join(p.text for p in document.paragraphs)


def parse_docx(data: bytes) -> ParsedText:
    """Parse an uploaded .docx after checking it is safe to open."""
    return parse(docx_text(data))
