"""Tests for search.analysis: tokens, positions, offsets, normalisation."""

import logging
import pickle
import warnings

import pytest
from whoosh import query as Q
from whoosh.fields import ID, TEXT, Schema
from whoosh.filedb.filestore import RamStorage
from whoosh.lang.porter import stem as porter_stem

import search.analysis as sa
from search.analysis import (
    BOUNDARY,
    CJK_RE,
    SURFACE_MARK,
    get_segmenter,
    is_cluster_boundary,
    load_user_dictionary,
    make_analyzer,
    normalize,
    query_tokens,
    segment,
)

MIXED = (
    "第十条　全国人民代表大会常务委员会举行听证会，陈述人（Ｈｅａｒｉｎｇｓ）may speak; "
    "2023年GDP增长3.5%。 ①ＡＢＣ１２３ 𠮷野家 café e\u0301te\n第二款"
)


def tokens(text, unit="char", mode="index"):
    analyzer = make_analyzer(unit)
    return [
        (t.text, t.pos, t.startchar, t.endchar)
        for t in analyzer(text, positions=True, chars=True, mode=mode)
    ]


@pytest.mark.parametrize("unit", ["char", "word"])
@pytest.mark.parametrize("mode", ["index", "query"])
def test_positions_are_consecutive(unit, mode):
    toks = tokens(MIXED, unit, mode)
    positions = [p for _, p, _, _ in toks]
    assert positions == sorted(positions)
    assert sorted(set(positions)) == list(range(len(set(positions))))
    if mode == "query":  # exactly one token per position
        assert positions == list(range(len(toks)))


def test_char_stream_is_one_token_per_cjk_character():
    toks = [t for t, *_ in tokens("规范立法活动", mode="query")]
    assert toks == ["规", "范", "立", "法", "活", "动"]


def test_the_index_holds_bigrams_of_adjacent_cjk_characters_beside_them():
    text = "立法，听证会ABC审议"
    toks = tokens(text)
    bigrams = [(t, p, text[s:e]) for t, p, s, e in toks if len(t) == 2 and CJK_RE.match(t)]
    # never across punctuation (立法|听) or Latin (会|审): only where the two touch
    assert bigrams == [("立法", 0, "立法"), ("听证", 3, "听证"), ("证会", 4, "证会"),
                       ("审议", 7, "审议")]
    assert [t for t, p, *_ in toks if p == 3] == ["听", "听证"]
    assert all(len(t) == 1 for t, *_ in tokens(text, mode="query") if CJK_RE.match(t))


def test_offsets_point_into_the_original_text():
    for unit in ("char", "word"):
        for text, _pos, start, end in tokens(MIXED, unit, "query"):
            original = MIXED[start:end]
            if text == BOUNDARY:
                assert not any(ch.isalnum() for ch in original)
            elif text.isascii() and text.isalpha():
                assert text == porter_stem(normalize(original))
            else:
                assert normalize(original) == text, (text, original)


def test_offsets_survive_length_changing_normalisation():
    text = "① ㈠ ﬁ ㎡ e\u0301 中"
    found = {t: text[s:e] for t, _, s, e in tokens(text, mode="query") if t != BOUNDARY}
    assert found["1"] == "①"
    assert found["一"] == "㈠"
    assert found["fi"] == "ﬁ"
    assert found["m2"] == "㎡"
    assert found["é"] == "e\u0301"  # composed for matching, both code points
    assert found["中"] == "中"


def test_fullwidth_and_halfwidth_forms_normalise_alike():
    assert query_tokens("ＡＢＣ１２３") == query_tokens("abc123") == ["abc123"]
    assert query_tokens("ｶﾀｶﾅ") == query_tokens("カタカナ")
    assert normalize("（Ｈｅｌｌｏ）") == "(hello)"


def test_latin_is_lowercased_and_stemmed_with_english_stop_words():
    assert query_tokens("Hearings") == query_tokens("hearing") == ["hear"]
    assert query_tokens("the hearings of the committee") == ["hear", "committe"]
    assert query_tokens("legislation") == ["legisl"]


def test_chinese_punctuation_is_not_searchable_and_digits_are_kept():
    assert query_tokens("，。、；：？！“”《》（）") == []
    assert query_tokens("2023年第3.5项") == ["2023", "年", "第", "3.5", "项"]
    # inside a text punctuation leaves a boundary marker, never its own text
    assert query_tokens("法律、法规") == ["法", "律", BOUNDARY, "法", "规"]
    assert query_tokens("e-mail") == ["e", "mail"]


def test_surface_forms_are_indexed_beside_stems():
    toks = tokens("Legislation hearings")
    texts = [t for t, *_ in toks]
    assert texts == ["legisl", SURFACE_MARK + "legislation", "hear", SURFACE_MARK + "hearings"]
    assert [p for _, p, _, _ in toks] == [0, 0, 1, 1]
    assert [t for t, *_ in tokens("Legislation hearings", mode="query")] == ["legisl", "hear"]


def test_untokenized_value_is_one_token():
    analyzer = make_analyzer()
    toks = [t.text for t in analyzer("ＡＢＣ 听证", tokenize=False, mode="query")]
    assert toks == ["abc 听证"]


def test_word_stream_uses_jieba_and_builtin_terms():
    words = query_tokens("全国人民代表大会常务委员会举行听证会，陈述人发言", unit="word")
    assert "听证会" in words
    assert "陈述人" in words
    assert "举行" in words
    assert BOUNDARY not in words
    assert "征求意见稿" in segment("公布征求意见稿")
    assert "代表小组" in segment("组成代表小组")


def test_segmenter_is_private_lazy_and_quiet():
    seg = get_segmenter()
    assert seg is get_segmenter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jieba
    assert seg is not jieba.dt
    assert logging.getLogger("jieba").getEffectiveLevel() >= logging.WARNING


def test_user_dictionary(tmp_path):
    term = "曲水亭街议事会"
    path = tmp_path / "legal.dict"
    path.write_text(f"# place names\n\n{term} 50 ns\n趵突泉片区\n", encoding="utf-8")
    assert load_user_dictionary(path) == 2
    assert term in segment(f"召开{term}会议")
    assert "趵突泉片区" in segment("趵突泉片区居民")
    bad = tmp_path / "bad.dict"
    bad.write_text("术语 abc1\n", encoding="utf-8")
    with pytest.raises(ValueError):
        load_user_dictionary(bad)


def test_user_terms_survive_a_fresh_segmenter(monkeypatch):
    sa.add_terms(["泉城议政厅"])
    monkeypatch.setattr(sa, "_segmenter", None)  # as in a new process
    assert "泉城议政厅" in segment("泉城议政厅开放")
    assert get_segmenter() is get_segmenter()


def test_analyzer_pickles_for_the_index_schema():
    analyzer = make_analyzer()
    clone = pickle.loads(pickle.dumps(analyzer))
    assert [t.text for t in clone(MIXED)] == [t.text for t in analyzer(MIXED)]
    word_clone = pickle.loads(pickle.dumps(make_analyzer("word")))
    assert "听证会" in [t.text for t in word_clone("举行听证会")]


@pytest.mark.parametrize(
    ("text", "cut", "expected"),
    [
        ("e\u0301", 1, False),  # combining acute
        ("👍🏽", 1, False),  # skin tone modifier
        ("👨\u200d👩", 1, False),  # before ZWJ
        ("👨\u200d👩", 2, False),  # after ZWJ
        ("🇨🇳🇺🇸", 1, False),  # inside a flag
        ("🇨🇳🇺🇸", 2, True),  # between flags
        ("🇨🇳🇺🇸", 3, False),
        ("\r\n", 1, False),
        ("\ud842\udfb7", 1, False),  # surrogate pair as two code points
        ("中文", 1, True),
        ("ab", 1, True),
    ],
)
def test_cluster_boundaries(text, cut, expected):
    assert is_cluster_boundary(text, cut) is expected


def _ram_index(analyzer, docs):
    schema = Schema(id=ID(stored=True), body=TEXT(analyzer=analyzer, phrase=True))
    ix = RamStorage().create_index(schema)
    with ix.writer() as w:
        for key, body in docs.items():
            w.add_document(id=key, body=body)
    return ix


def _phrase_hits(ix, analyzer, text):
    toks = [t.text for t in analyzer(text, mode="query")]
    q = Q.Phrase("body", toks) if len(toks) > 1 else Q.Term("body", toks[0])
    with ix.searcher() as s:
        return sorted(h["id"] for h in s.search(q))


DOCS = {
    "1": "为了规范立法活动，健全国家立法制度",
    "2": "中华人民共和国立法法",
    "3": "法律、法规和规章",
}


def test_jieba_chinese_analyzer_breaks_phrase_queries():
    """Why the ADR rejects jieba's own ChineseAnalyzer: its tokens carry
    character offsets as positions and overlapping search-mode words, so a
    phrase that is in the text is not found."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from jieba.analyse.analyzer import ChineseAnalyzer
    get_segmenter()  # keeps jieba's logger quiet
    analyzer = ChineseAnalyzer()
    positions = [t.pos for t in analyzer("规范立法活动", positions=True)]
    assert positions != list(range(len(positions)))  # 0, 2, 4: offsets
    ix = _ram_index(analyzer, DOCS)
    assert _phrase_hits(ix, analyzer, "立法活动") == []  # present in doc 1
    assert _phrase_hits(ix, analyzer, "国立法") == []  # present in doc 2


def test_char_stream_phrases_are_substrings():
    analyzer = make_analyzer()
    ix = _ram_index(analyzer, DOCS)
    assert _phrase_hits(ix, analyzer, "立法活动") == ["1"]
    assert _phrase_hits(ix, analyzer, "国立法") == ["2"]
    assert _phrase_hits(ix, analyzer, "立法") == ["1", "2"]
    # punctuation separates: "律法" is not in doc 3, "法律、法规" is
    assert _phrase_hits(ix, analyzer, "律法") == []
    assert _phrase_hits(ix, analyzer, "法律、法规") == ["3"]
    assert _phrase_hits(ix, analyzer, "法律，法规") == ["3"]
