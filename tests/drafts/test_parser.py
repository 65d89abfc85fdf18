"""Tests for drafts.parser against the shared law corpus and small hand-written fixtures."""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import docx
import pytest

from drafts import parser as parser_module
from drafts.parser import (
    KINDS,
    Node,
    ParsedText,
    chinese_numeral_to_int,
    int_to_chinese_numeral,
    parse,
    parse_docx,
)

# The corpus lives in ../shared beside the repository (tests/drafts/ → repo → its parent).
REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus" / "laws"

# Article counts published in the corpus README.
README_COUNTS = {
    "立法法(2015-03-15).md": 105,
    "立法法(2023-03-13).md": 120,
    "全国人民代表大会和地方各级人民代表大会代表法(2015-08-29).md": 52,
    "全国人民代表大会和地方各级人民代表大会代表法(2025-03-11).md": 65,
    "北京市制定地方性法规条例(2017-01-20).md": 66,
    "北京市制定地方性法规条例(2023-07-28).md": 76,
    "济南市城市公共交通条例(2013-11-29).md": 49,
    "上海市公共汽车和电车客运管理条例(2020-05-14).md": 55,
    "山东省湖泊保护条例(2018-01-23).md": 43,
    "山东省人民代表大会常务委员会制定地方性法规听证规定(2019-09-27).md": 33,
}
FILES = sorted(README_COUNTS)

ARTICLE_LINE = re.compile(r"^第[^条\s]{1,12}条", re.M)
CHAPTER_LINE = re.compile(r"^## (第[^章\s]+章)(.*)$", re.M)
# Whitespace plus the zero-width characters the corpus uses as "empty" lines.
INVISIBLE = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")

# The corpus marks the end of its header with an HTML comment (spelled in two parts so that
# no line of this file looks like corpus text).
INFO_END = "<!-- INFO " + "END -->"


def read(name: str) -> str:
    """Text of one corpus file."""
    return (CORPUS / name).read_text(encoding="utf-8")


def body_of(source: str) -> str:
    """Everything after the INFO END marker, with Markdown heading marks removed."""
    body = source.split(INFO_END, 1)[1]
    return re.sub(r"^#+[ \t]*", "", body, flags=re.M)


def squeeze(s: str) -> str:
    """Remove every whitespace (and zero-width) character."""
    return INVISIBLE.sub("", s)


def kinds(parsed: ParsedText, kind: str) -> list[Node]:
    """All nodes of one kind."""
    return [n for n in parsed.walk() if n.kind == kind]


def docx_bytes(lines: list[str]) -> bytes:
    """A .docx with one paragraph per line, built with python-docx."""
    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def rewrite_zip(data: bytes, replace: dict[str, bytes]) -> bytes:
    """Copy a zip archive, swapping the contents of the named members."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            payload = replace.get(info.filename, src.read(info))
            dst.writestr(info.filename, payload, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


# --------------------------------------------------------------------------- corpus


def test_corpus_is_present() -> None:
    """All ten corpus files are where CI puts them."""
    assert CORPUS.is_dir(), f"corpus missing at {CORPUS}"
    assert sorted(p.name for p in CORPUS.glob("*.md")) == FILES


@pytest.mark.parametrize("name", FILES)
def test_article_count_matches_lines_starting_with_article_label(name: str) -> None:
    """One article per line that starts with 第…条, as the README counts them."""
    source = read(name)
    expected = len(ARTICLE_LINE.findall(source))
    assert expected == README_COUNTS[name]
    parsed = parse(source)
    assert parsed.language == "zh"
    assert len(parsed.articles()) == expected


@pytest.mark.parametrize("name", FILES)
def test_chapters_match_source_headings(name: str) -> None:
    """Chapter labels and headings equal the source's, layout spaces removed."""
    source = read(name)
    expected = [(label, squeeze(heading)) for label, heading in CHAPTER_LINE.findall(source)]
    chapters = kinds(parse(source), "chapter")
    assert [(c.label, c.heading) for c in chapters] == expected
    assert [c.number for c in chapters] == list(range(1, len(expected) + 1))
    assert [c.anchor for c in chapters] == [f"ch-{i}" for i in range(1, len(expected) + 1)]


@pytest.mark.parametrize("name", FILES)
def test_no_text_is_lost(name: str) -> None:
    """Preamble spill-over plus every node's label, heading and text rebuild the body."""
    source = read(name)
    parsed = parse(source)
    body = squeeze(body_of(source))
    pieces = []
    for node in parsed.walk():
        # Paragraph labels (第一款…) are generated, not taken from the source.
        label = "" if node.kind == "paragraph" else node.label
        pieces.append(label + node.heading + node.text)
    rebuilt = squeeze("".join(pieces))
    # Body lines before the first heading or article (a repeated title) go to the preamble.
    head = body[: len(body) - len(rebuilt)]
    assert body.endswith(rebuilt)
    assert head == "" or squeeze("".join(parsed.preamble)).endswith(head)


@pytest.mark.parametrize("name", FILES)
def test_corpus_parses_cleanly(name: str) -> None:
    """Real laws give no warnings, unique anchors and well-formed nesting."""
    parsed = parse(read(name))
    assert parsed.warnings == []
    anchors = [n.anchor for n in parsed.walk()]
    assert len(anchors) == len(set(anchors))
    allowed = {
        "part": {"subpart", "chapter", "article"},
        "subpart": {"chapter", "article"},
        "chapter": {"section", "article"},
        "section": {"article"},
        "article": {"paragraph"},
        "paragraph": {"item"},
        "item": {"subitem"},
        "subitem": set(),
    }
    for node in parsed.walk():
        assert node.kind in KINDS
        assert {c.kind for c in node.children} <= allowed[node.kind]
        assert node.line > 0
    for article in parsed.articles():
        assert article.text == ""
        assert article.children, f"{article.label} has no paragraphs"


def test_title_and_preamble() -> None:
    """The # title line and the history lines before the marker."""
    parsed = parse(read("济南市城市公共交通条例(2013-11-29).md"))
    assert parsed.title == "济南市城市公共交通条例"
    assert parsed.preamble == [
        "2013年9月13日 济南市第十五届人民代表大会常务委员会第十次会议通过",
        "2013年11月29日 山东省第十二届人民代表大会常务委员会第五次会议批准",
    ]
    assert parsed.nodes[0].label == "第一章" and parsed.nodes[0].heading == "总则"


def test_repeated_title_in_body_goes_to_preamble_quietly() -> None:
    """The 2025 代表法 repeats its title after the marker; it is kept, not warned about."""
    parsed = parse(read("全国人民代表大会和地方各级人民代表大会代表法(2025-03-11).md"))
    assert parsed.preamble[-1] == "中华人民共和国全国人民代表大会和 地方各级人民代表大会代表法"
    assert parsed.warnings == []
    assert parsed.nodes[0].heading == "总则"


def test_heading_broken_over_two_lines_is_joined() -> None:
    """北京 2017: "第二节　市人民代表大会常务委员会制定" continues on the next line."""
    parsed = parse(read("北京市制定地方性法规条例(2017-01-20).md"))
    sections = kinds(parsed, "section")
    assert [s.label for s in sections] == ["第一节", "第二节", "第三节"]
    second = sections[1]
    assert second.heading == "市人民代表大会常务委员会制定地方性法规的程序"
    assert second.text == ""
    assert second.anchor == "ch-3-sec-2"
    assert second.children[0].label == "第三十一条"
    chapter_three = kinds(parsed, "chapter")[2]
    assert [c.kind for c in chapter_three.children] == ["section"] * 3


def test_article_numbers_and_labels() -> None:
    """第一百零五条 is article 105 with anchor art-105."""
    parsed = parse(read("立法法(2015-03-15).md"))
    last = parsed.articles()[-1]
    assert (last.label, last.number, last.sub_number, last.anchor) == (
        "第一百零五条",
        105,
        0,
        "art-105",
    )
    assert [a.number for a in parsed.articles()] == list(range(1, 106))


def test_items_of_a_known_article() -> None:
    """立法法 2015 第八条 lists eleven matters as （一）…（十一）."""
    parsed = parse(read("立法法(2015-03-15).md"))
    article = next(a for a in parsed.articles() if a.label == "第八条")
    assert len(article.children) == 1
    paragraph = article.children[0]
    assert paragraph.text == "下列事项只能制定法律:"
    items = paragraph.children
    assert len(items) == 11
    assert [i.number for i in items] == list(range(1, 12))
    assert items[-1].label == "（十一）"
    assert items[3].text == "犯罪和刑罚；"
    assert items[3].anchor == "art-8-p1-i4"
    text = article.full_text()
    assert text.startswith("下列事项只能制定法律:\n（一）国家主权的事项；\n")
    assert text.count("\n") == 11


def test_paragraphs_and_full_text() -> None:
    """Lines after the article line are further paragraphs, numbered 第一款, 第二款 …."""
    parsed = parse(read("立法法(2015-03-15).md"))
    article = next(a for a in parsed.articles() if a.label == "第十条")
    labels = [p.label for p in article.children]
    assert labels == ["第一款", "第二款", "第三款"]
    assert [p.anchor for p in article.children] == ["art-10-p1", "art-10-p2", "art-10-p3"]
    assert article.full_text().split("\n")[1].startswith("授权的期限不得超过五年")
    assert all(p.heading == "" for p in article.children)


def test_plain_text_variant_with_crlf_bom_and_fullwidth_spaces() -> None:
    """The same law as plain text (no Markdown, CRLF, BOM, 　) parses the same way."""
    source = read("北京市制定地方性法规条例(2017-01-20).md")
    plain_lines = []
    for line in source.splitlines():
        if line.startswith("<!--"):
            continue
        line = re.sub(r"^#+ ", "", line)
        plain_lines.append("　" + line.replace(" ", "　", 1) if line else line)
    plain = "\ufeff" + "\r\n".join(plain_lines)
    reference = parse(source)
    parsed = parse(plain)
    assert parsed.title == "北京市制定地方性法规条例"
    assert len(parsed.preamble) == 2
    assert parsed.warnings == []
    assert [(n.kind, n.label, n.heading, n.text) for n in parsed.walk()] == [
        (n.kind, n.label, n.heading, n.text) for n in reference.walk()
    ]


def test_plain_text_with_table_of_contents() -> None:
    """A 目录 block before the body is kept in the preamble, not parsed as chapters."""
    text = "\n".join(
        [
            "某市公园管理条例（草案）",
            "（2024年1月1日某市人民代表大会常务委员会第一次会议通过）",
            "目　　录",
            "第一章　总　　则",
            "第二章　附　　则",
            "第一章　总　　则",
            "第一条　为了加强公园管理，制定本条例。",
            "第二章　附　　则",
            "第二条　本条例自公布之日起施行。",
        ]
    )
    parsed = parse(text)
    assert parsed.title == "某市公园管理条例（草案）"
    assert parsed.preamble[0].startswith("（2024年")
    assert parsed.preamble[1:] == ["目　　录", "第一章　总　　则", "第二章　附　　则"]
    assert [(n.label, n.heading) for n in parsed.nodes] == [("第一章", "总则"), ("第二章", "附则")]
    assert len(parsed.articles()) == 2
    assert parsed.warnings == []


def test_parts_subparts_and_inserted_articles() -> None:
    """编/分编/章/节 nest, 之一 articles are fine and numbered, chapters restart per part."""
    text = "\n".join(
        [
            "第一编　总则",
            "第一章　基本规定",
            "第一条　第一条的内容。",
            "第二条　第二条的内容。",
            "第二条之一　插入的条文。",
            "第二条之二　又一个插入的条文。",
            "第二编　分则",
            "第一分编　通则",
            "第一章　一般规定",
            "第一节　适用范围",
            "第三条　第三条的内容。",
        ]
    )
    parsed = parse(text)
    assert parsed.warnings == []
    assert [n.kind for n in parsed.nodes] == ["part", "part"]
    inserted = [a for a in parsed.articles() if a.sub_number]
    assert [(a.label, a.number, a.sub_number, a.anchor) for a in inserted] == [
        ("第二条之一", 2, 1, "art-2-1"),
        ("第二条之二", 2, 2, "art-2-2"),
    ]
    section = kinds(parsed, "section")[0]
    assert section.anchor == "part-2-sub-1-ch-1-sec-1"
    assert section.children[0].label == "第三条"
    assert kinds(parsed, "chapter")[0].anchor == "part-1-ch-1"


def test_subitems_fixture() -> None:
    """目 lines (1. / 1． / 1、) become sub-items of the current item; (三) is an item."""
    text = "\n".join(
        [
            "第一条　申请人应当提交下列材料：",
            "（一）身份证明；",
            "（二）经营方案，包括：",
            "1.线路走向；",
            "2．车辆配置；",
            "3、服务承诺；",
            "(三)其他材料。",
            "材料不齐全的，应当一次告知。",
        ]
    )
    parsed = parse(text)
    assert parsed.title == ""
    (article,) = parsed.articles()
    first, second = article.children
    # Half-width brackets occur in pasted drafts and are items too.
    assert [i.label for i in first.children] == ["（一）", "（二）", "(三)"]
    subitems = first.children[1].children
    assert [(s.kind, s.label, s.number, s.text) for s in subitems] == [
        ("subitem", "1.", 1, "线路走向；"),
        ("subitem", "2．", 2, "车辆配置；"),
        ("subitem", "3、", 3, "服务承诺；"),
    ]
    assert subitems[2].anchor == "art-1-p1-i2-s3"
    assert second.text == "材料不齐全的，应当一次告知。" and second.children == []
    assert "（二）经营方案，包括：\n1.线路走向；" in article.full_text()
    assert parsed.warnings == []


def test_warnings_for_gaps_duplicates_and_stray_lines() -> None:
    """Numbering gaps and duplicates are reported; stray lines are kept and reported."""
    text = "\n".join(
        [
            "# 某县示范条例",
            "第一章　总则",
            "本章说明文字。",
            "第一条　内容一。",
            "第二条　内容二：",
            "（一）甲；",
            "（三）丙。",
            "第四条　内容四。",
            "第四条　重复的第四条。",
            "第三章　附则",
            "第五条　内容五。",
        ]
    )
    parsed = parse(text)
    found = [(w.code, w.params.get("kind"), w.params.get("found")) for w in parsed.warnings]
    assert found == [
        ("unparsed_line", None, None),
        ("numbering_gap", "item", 3),
        ("numbering_gap", "article", 4),
        ("numbering_duplicate", "article", 4),
        ("numbering_gap", "chapter", 3),
    ]
    stray, item_gap, gap, duplicate, chapter_gap = parsed.warnings
    assert stray.line == 3
    assert stray.params["attached_to"] == "ch-1"
    # The stray line is attached to its chapter, so the text survives.
    assert parsed.nodes[0].text == "本章说明文字。"
    assert item_gap.params["expected"] == 2
    assert gap.params == {"kind": "article", "label": "第四条", "found": 4, "expected": 3}
    assert gap.line == 8 and "skips" in gap.message
    assert duplicate.line == 9 and duplicate.params["label"] == "第四条"
    assert chapter_gap.params["expected"] == 2
    anchors = [a.anchor for a in parsed.articles()]
    assert anchors == ["art-1", "art-2", "art-4", "art-4-dup2", "art-5"]


def test_article_label_glued_to_text_and_references() -> None:
    """ "第三条为了…" opens an article; "第一条规定…" at line start stays a paragraph."""
    text = "\n".join(
        [
            "第一条为了测试，制定本规定。",
            "第二条 本规定适用于测试。",
            "第一条规定的测试，应当公开。",
            "第三条本规定自公布之日起施行。",
        ]
    )
    parsed = parse(text)
    assert [a.label for a in parsed.articles()] == ["第一条", "第二条", "第三条"]
    second = parsed.articles()[1]
    assert [p.text for p in second.children] == [
        "本规定适用于测试。",
        "第一条规定的测试，应当公开。",
    ]


def test_empty_and_unstructured_documents() -> None:
    """Empty input and prose without articles give a warning, never an exception."""
    empty = parse("  \n\u3000\n")
    assert empty.nodes == [] and [w.code for w in empty.warnings] == ["empty_document"]
    prose = parse("这是一段没有条文的说明。\n第二段说明。")
    assert prose.nodes == []
    assert prose.preamble == ["这是一段没有条文的说明。", "第二段说明。"]
    assert [w.code for w in prose.warnings] == ["no_articles"]


ENGLISH = """\
# Riverside Public Transport Regulation

Adopted by the Riverside City Council on 3 May 2024.

Part I General Provisions

Chapter 1 Purpose and Scope

Article 1
This Regulation governs bus and tram services in the city.

Article 2. Definitions
In this Regulation:
(a) "operator" means a company licensed to run a line;
(b) "stop" means a place where passengers board, including:
(i) kerbside stops;
(ii) stations;
(c) "line" means a fixed route.

Chapter 2
Operators

Section 1 Licences

Art. 3 An operator shall hold a licence.
The licence lists:
(a) the lines served;
(b) the timetable, with
(1) first and last departures;
(2) frequencies.
Article 3a Temporary licences may be issued in emergencies.
"""


def test_english_fixture() -> None:
    """Part/Chapter/Section/Article with (a) items and (i)/(1) sub-items."""
    parsed = parse(ENGLISH)
    assert parsed.language == "en"
    assert parsed.title == "Riverside Public Transport Regulation"
    assert parsed.preamble == ["Adopted by the Riverside City Council on 3 May 2024."]
    assert parsed.warnings == []
    (part,) = parsed.nodes
    assert (part.kind, part.label, part.number, part.heading, part.anchor) == (
        "part",
        "Part I",
        1,
        "General Provisions",
        "part-1",
    )
    chapters = kinds(parsed, "chapter")
    assert [(c.label, c.heading, c.anchor) for c in chapters] == [
        ("Chapter 1", "Purpose and Scope", "part-1-ch-1"),
        ("Chapter 2", "Operators", "part-1-ch-2"),
    ]
    articles = parsed.articles()
    assert [(a.label, a.number, a.sub_number, a.anchor) for a in articles] == [
        ("Article 1", 1, 0, "art-1"),
        ("Article 2", 2, 0, "art-2"),
        ("Art. 3", 3, 0, "art-3"),
        ("Article 3a", 3, 1, "art-3-1"),
    ]
    first, second = articles[1].children
    assert first.text == "Definitions" and first.label == "Paragraph 1"
    items = second.children
    assert [(i.label, i.number) for i in items] == [("(a)", 1), ("(b)", 2), ("(c)", 3)]
    assert [(s.label, s.number) for s in items[1].children] == [("(i)", 1), ("(ii)", 2)]
    licence = articles[2]
    assert licence.children[0].text == "An operator shall hold a licence."
    numbered = licence.children[1].children[1].children
    assert [(s.label, s.number, s.anchor) for s in numbered] == [
        ("(1)", 1, "art-3-p2-i2-s1"),
        ("(2)", 2, "art-3-p2-i2-s2"),
    ]
    assert "(b) the timetable, with\n(1) first and last departures;" in licence.full_text()
    assert kinds(parsed, "section")[0].anchor == "part-1-ch-2-sec-1"


def test_english_ninth_item_is_not_a_roman_subitem() -> None:
    """After (h), "(i)" continues the letter sequence."""
    letters = "abcdefghij"
    text = "Article 1 The list:\n" + "\n".join(f"({c}) entry {c};" for c in letters)
    (article,) = parse(text).articles()
    items = article.children[0].children
    assert [i.number for i in items] == list(range(1, 11))
    assert all(i.kind == "item" for i in items)


def test_language_can_be_forced() -> None:
    """An explicit language skips detection."""
    assert parse("第一条 测试。", language="zh").language == "zh"
    with pytest.raises(ValueError):
        parse("text", language="fr")


# --------------------------------------------------------------------------- numerals


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("一", 1),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("一百零五", 105),
        ("一百一十", 110),
        ("一千零一", 1001),
        ("一千零一十", 1010),
        ("两百", 200),
        ("一万零二十", 10020),
        ("105", 105),
        ("１２", 12),
        ("二〇二三", 2023),
    ],
)
def test_chinese_numeral_to_int(numeral: str, value: int) -> None:
    """Unit-style, positional and Arabic numerals."""
    assert chinese_numeral_to_int(numeral) == value


def test_numeral_round_trip() -> None:
    """int → Chinese → int is the identity for 1..2000, with 十 not 一十 for 10–19."""
    for n in range(1, 2001):
        assert chinese_numeral_to_int(int_to_chinese_numeral(n)) == n
    assert int_to_chinese_numeral(10) == "十"
    assert int_to_chinese_numeral(12) == "十二"
    assert int_to_chinese_numeral(105) == "一百零五"
    assert int_to_chinese_numeral(110) == "一百一十"
    assert int_to_chinese_numeral(2000) == "二千"


def test_bad_numerals_raise() -> None:
    """Empty strings and non-numerals are rejected."""
    for bad in ("", "第一", "abc"):
        with pytest.raises(ValueError):
            chinese_numeral_to_int(bad)
    with pytest.raises(ValueError):
        int_to_chinese_numeral(-1)


# --------------------------------------------------------------------------- docx


def test_docx_round_trip() -> None:
    """A corpus body written to .docx parses to the same structure."""
    name = "立法法(2023-03-13).md"
    source = read(name)
    lines = ["中华人民共和国立法法"] + [
        line for line in body_of(source).splitlines() if squeeze(line)
    ]
    parsed = parse_docx(docx_bytes(lines))
    assert parsed.title == "中华人民共和国立法法"
    assert len(parsed.articles()) == README_COUNTS[name]
    reference = parse(source)
    assert [(c.label, c.heading) for c in kinds(parsed, "chapter")] == [
        (c.label, c.heading) for c in kinds(reference, "chapter")
    ]
    assert parsed.warnings == []


def test_docx_zip_bomb_is_refused() -> None:
    """A part that inflates more than 200-fold is refused before python-docx opens it."""
    data = docx_bytes(["第一条 测试。"])
    bomb = rewrite_zip(data, {"word/document.xml": b"<a>" + b" " * 5_000_000 + b"</a>"})
    with pytest.raises(ValueError, match="compression ratio"):
        parse_docx(bomb)


def test_docx_total_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The uncompressed total is capped (limit lowered here to keep the test small)."""
    monkeypatch.setattr(parser_module, "_DOCX_MAX_UNCOMPRESSED", 1000)
    with pytest.raises(ValueError, match="uncompressed"):
        parse_docx(docx_bytes(["第一条 测试。"]))


def test_docx_with_entity_declarations_is_refused() -> None:
    """DTDs and entity declarations are refused outright."""
    data = docx_bytes(["第一条 测试。"])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("word/document.xml")
    declaration = b'<!DOCTYPE w [<!ENTITY x "xxxxxxxxxx">]>'
    evil = xml.replace(b"?>", b"?>" + declaration, 1)
    with pytest.raises(ValueError, match="DTD"):
        parse_docx(rewrite_zip(data, {"word/document.xml": evil}))
    utf16 = evil.decode("utf-8").replace("UTF-8", "UTF-16").encode("utf-16")
    with pytest.raises(ValueError, match="DTD"):
        parse_docx(rewrite_zip(data, {"word/document.xml": utf16}))


def test_docx_garbage_is_refused() -> None:
    """Non-zip bytes and zips that are not Word documents raise ValueError."""
    with pytest.raises(ValueError, match="zip"):
        parse_docx(b"not a docx at all")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("hello.txt", "hello")
    with pytest.raises(ValueError, match="docx"):
        parse_docx(out.getvalue())


# --------------------------------------------------------------------------- speed


def test_largest_corpus_file_parses_fast() -> None:
    """Well under 50 ms for the largest file (best of several runs to ignore noise)."""
    largest = max(FILES, key=lambda name: len(read(name)))
    source = read(largest)
    parse(source)  # warm-up: regex compilation and imports
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        parse(source)
        best = min(best, time.perf_counter() - start)
    assert best < 0.05
