"""Tests for search.engine: phrase recall over the law corpus, query
language, visibility, facets, sorting, paging, highlighting, writing."""

import html
import random
import re
import threading
import time
from datetime import date, datetime
from pathlib import Path

import pytest
from whoosh.fields import TEXT

from search.analysis import make_analyzer, normalize, segment
from search.engine import SearchIndex, make_snippet, parse_query

LAWS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "laws"
ARTICLE_RE = re.compile(r"^第[一二三四五六七八九十百千零〇两]+条(?:之[一二三四五六七八九十]+)?")
DATE_RE = re.compile(r"\((\d{4})-(\d{2})-(\d{2})\)$")
HAN_RUN_RE = re.compile(r"[\u4e00-\u9fff]{2,}")
REGIONS = ("北京市", "上海市", "山东省", "济南市")


def load_articles():
    """Split every law file into articles at lines starting with 第…条."""
    assert LAWS_DIR.is_dir(), f"law corpus missing: {LAWS_DIR}"
    articles = []
    for draft_id, path in enumerate(sorted(LAWS_DIR.glob("*.md")), 1):
        law = DATE_RE.sub("", path.stem)
        y, m, d = map(int, DATE_RE.search(path.stem).groups())
        region = next((r for r in REGIONS if law.startswith(r)), "全国")
        current = None
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            match = ARTICLE_RE.match(line)
            if match:
                current = {
                    "draft_id": draft_id,
                    "label": match.group(),
                    "title": law,
                    "lines": [line],
                    "region": region,
                    "created": datetime(y, m, d, 9, 0, len(articles) % 60),
                }
                articles.append(current)
            elif line.startswith("#"):
                current = None  # chapter/section heading ends an article
            elif current is not None and line:
                current["lines"].append(line)
    docs = []
    for n, art in enumerate(articles, 1):
        docs.append(
            {
                "doc_id": f"clause:{n}",
                "type": "clause",
                "obj_id": n,
                "draft_id": art["draft_id"],
                "version_id": art["draft_id"],
                "clause_id": n,
                "label": art["label"],
                "title": art["title"],
                "body": "\n".join(art["lines"]),
                "visibility": "public",
                "region": art["region"],
                "created": art["created"],
            }
        )
    return docs


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    docs = load_articles()
    assert len(docs) > 500
    ix = SearchIndex.open(tmp_path_factory.mktemp("corpus-index"))
    ix.upsert(docs)
    yield ix, {d["doc_id"]: d for d in docs}
    ix.close()


def all_hits(ix, q, **kwargs):
    hits, page = [], 1
    while True:
        res = ix.search(q, page=page, per_page=200, **kwargs)
        hits.extend(res.hits)
        if page >= res.pages:
            assert len(hits) == res.total
            return hits
        page += 1


def contains(doc, phrase):
    return phrase in normalize(doc["body"])


def sample_phrases(docs, n, seed):
    rng = random.Random(seed)
    ids = sorted(docs, key=lambda k: int(k.split(":")[1]))
    out = []
    while len(out) < n:
        doc_id = rng.choice(ids)
        runs = HAN_RUN_RE.findall(docs[doc_id]["body"])
        if not runs:
            continue
        run = rng.choice(runs)
        length = rng.randint(2, min(8, len(run)))
        start = rng.randint(0, len(run) - length)
        out.append((run[start : start + length], doc_id))
    return out


def test_phrase_recall_and_precision_on_100_corpus_phrases(corpus):
    ix, docs = corpus
    phrases = sample_phrases(docs, 100, seed=20240521)
    found = 0
    hits_total = 0
    wrong = []
    for phrase, source in phrases:
        hits = all_hits(ix, f'"{phrase}"')
        ids = {h["doc_id"] for h in hits}
        found += source in ids
        hits_total += len(hits)
        wrong += [(phrase, h["doc_id"]) for h in hits if not contains(docs[h["doc_id"]], phrase)]
    assert found == 100
    assert hits_total >= 100
    assert wrong == []


def test_phrases_split_differently_by_jieba_are_found(corpus):
    ix, docs = corpus
    # jieba segments these differently in the query than inside longer runs
    for phrase in ("会常务委员会", "国立法", "代表大会常务", "法规定", "民代表"):
        hits = all_hits(ix, f'"{phrase}"')
        expected = {k for k, d in docs.items() if contains(d, phrase)}
        assert expected
        assert {h["doc_id"] for h in hits} == expected, phrase


def test_two_character_words_work_unquoted(corpus):
    ix, docs = corpus
    rng = random.Random(7)
    words = set()
    keys = sorted(docs)
    while len(words) < 30:
        body = docs[rng.choice(keys)]["body"]
        words.update(w for w in segment(body) if len(w) == 2 and HAN_RUN_RE.fullmatch(w))
    for word in sorted(words)[:30]:
        hits = all_hits(ix, word)
        expected = {k for k, d in docs.items() if contains(d, word)}
        assert {h["doc_id"] for h in hits} == expected, word


def test_punctuation_is_a_phrase_boundary(corpus):
    ix, docs = corpus
    # "法律、行政法规" is common; "律行" never appears as a substring
    assert all_hits(ix, '"律行"') == []
    hits = all_hits(ix, "法律、行政法规")
    assert hits
    assert all("法律、行政法规" in d["body"] for d in (docs[h["doc_id"]] for h in hits))


def test_corpus_facets_and_filters(corpus):
    ix, docs = corpus
    res = ix.search("听证", per_page=5)
    assert res.total == sum(1 for d in docs.values() if contains(d, "听证"))
    assert sum(res.facets["draft_id"].values()) == res.total
    assert sum(res.facets["region"].values()) == res.total
    assert res.facets["type"] == {"clause": res.total}
    draft = max(res.facets["draft_id"], key=res.facets["draft_id"].get)
    only = ix.search("听证", filters={"draft_id": draft})
    assert only.total == res.facets["draft_id"][draft]


# ---------------------------------------------------------------------------
# Small synthetic index

SAMPLE = [
    {
        "doc_id": "clause:1",
        "type": "clause",
        "obj_id": 1,
        "draft_id": 1,
        "version_id": 10,
        "clause_id": 1,
        "label": "第一条",
        "title": "立法听证",
        "body": "为了规范立法活动，举行立法听证会。Public hearings on the draft legislation.",
        "visibility": "public",
        "region": "北京市",
        "sector": "立法",
        "status": "published",
        "created": datetime(2024, 1, 1, 8, 0),
    },
    {
        "doc_id": "comment:2",
        "type": "comment",
        "obj_id": 2,
        "draft_id": 1,
        "clause_id": 1,
        "body": "我支持召开听证会，建议公开征求意见稿。Code ＡＢＣ１２３.",
        "stance": "support",
        "disposition": "adopted",
        "visibility": "public",
        "region": "上海市",
        "sector": "交通",
        "created": datetime(2024, 2, 1, 8, 0),
    },
    {
        "doc_id": "comment:3",
        "type": "comment",
        "obj_id": 3,
        "draft_id": 2,
        "body": "反对。The hearing was unfair <script>alert('x')</script> & rushed",
        "stance": "oppose",
        "disposition": "rejected",
        "visibility": "public",
        "region": "上海市",
        "created": date(2024, 3, 1),
    },
    {
        "doc_id": "note:4",
        "type": "note",
        "obj_id": 4,
        "body": "听证会内部笔记",
        "visibility": "private:7",
        "created": datetime(2024, 4, 1),
    },
    {
        "doc_id": "note:5",
        "type": "note",
        "obj_id": 5,
        "body": "另一位用户的听证会笔记",
        "visibility": "private:8",
        "created": datetime(2024, 4, 2),
    },
    {
        "doc_id": "comment:6",
        "type": "comment",
        "obj_id": 6,
        "draft_id": 2,
        "body": "工作人员意见：听证会材料",
        "visibility": "staff",
        "created": datetime(2024, 5, 1),
    },
]


@pytest.fixture
def ix(tmp_path):
    index = SearchIndex.open(tmp_path / "ix")
    index.upsert(SAMPLE)
    yield index
    index.close()


def ids(result):
    return [h["doc_id"] for h in result.hits]


def test_visibility(ix):
    assert sorted(ids(ix.search("听证会"))) == ["clause:1", "comment:2"]
    assert sorted(ids(ix.search("听证会", user_id=7))) == ["clause:1", "comment:2", "note:4"]
    assert sorted(ids(ix.search("听证会", user_id="8"))) == ["clause:1", "comment:2", "note:5"]
    staff = ix.search("听证会", include_staff=True)
    assert sorted(ids(staff)) == ["clause:1", "comment:2", "comment:6"]
    assert "note:4" in ids(ix.search("听证会", include_staff=True, user_id=7))
    assert "note:5" not in ids(ix.search("听证会", include_staff=True, user_id=7))


def test_facets_count_all_matches_not_just_the_page(ix):
    res = ix.search("", include_staff=True, user_id=7, per_page=1)
    assert res.total == 5
    assert len(res.hits) == 1
    assert res.facets["type"] == {"clause": 1, "comment": 3, "note": 1}
    assert res.facets["draft_id"] == {1: 2, 2: 2}
    assert res.facets["stance"] == {"support": 1, "oppose": 1}
    assert res.facets["disposition"] == {"adopted": 1, "rejected": 1}
    assert res.facets["region"] == {"北京市": 1, "上海市": 2}
    assert res.facets["sector"] == {"立法": 1, "交通": 1}
    assert res.facets["version_id"] == {10: 1}
    assert ix.search("", facets=False).facets == {}


def test_the_title_is_shown_but_not_matched(ix):
    # every comment of a draft carries its title: naming the draft must not find them all
    assert ids(ix.search("立法听证")) == ["clause:1"]  # in its body, not through its title
    assert ids(ix.search("立法听证", types="comment")) == []
    ix.upsert([dict(SAMPLE[1], title="立法听证条例")])
    assert ids(ix.search("条例")) == []
    hit = ix.search("听证", types="comment").hits[0]
    assert hit["title"] == "立法听证条例"
    assert hit["title_highlight"] == "立法<mark>听证</mark>条例"


def test_sort_by_date_newest_first(ix):
    res = ix.search("", include_staff=True, user_id=7, sort="date")
    assert ids(res) == ["comment:6", "note:4", "comment:3", "comment:2", "clause:1"]
    created = [h["created"] for h in res.hits]
    assert created == sorted(created, reverse=True)
    undated = {"doc_id": "note:11", "type": "note", "body": "无日期", "visibility": "public"}
    old = {"doc_id": "note:12", "type": "note", "body": "旧", "visibility": "public"}
    ix.upsert([undated, dict(old, created=datetime(1960, 1, 1))])
    res = ix.search("", sort="date")
    assert ids(res)[-2:] == ["note:12", "note:11"]  # undated documents come last
    assert res.hits[-1]["created"] is None
    with pytest.raises(ValueError):
        ix.search("", sort="votes")


def test_pagination(ix):
    first = ix.search("", include_staff=True, user_id=7, sort="date", per_page=2)
    second = ix.search("", include_staff=True, user_id=7, sort="date", per_page=2, page=2)
    third = ix.search("", include_staff=True, user_id=7, sort="date", per_page=2, page=3)
    beyond = ix.search("", include_staff=True, user_id=7, sort="date", per_page=2, page=9)
    assert (first.total, first.pages, first.page) == (5, 3, 1)
    assert ids(first) + ids(second) + ids(third) == [
        "comment:6",
        "note:4",
        "comment:3",
        "comment:2",
        "clause:1",
    ]
    assert beyond.hits == [] and beyond.total == 5


def test_relevance_scores_and_stored_fields(ix):
    res = ix.search("听证")
    assert all(isinstance(h["score"], float) for h in res.hits)
    hit = next(h for h in res.hits if h["doc_id"] == "clause:1")
    assert hit["type"] == "clause" and hit["obj_id"] == 1 and hit["draft_id"] == 1
    assert hit["label"] == "第一条" and hit["title"] == "立法听证"
    assert hit["created"] == datetime(2024, 1, 1, 8, 0)
    assert hit["title_highlight"] == "立法<mark>听证</mark>"


def test_query_language(ix):
    assert sorted(ids(ix.search("hearings"))) == ["clause:1", "comment:3"]
    assert ids(ix.search("legislat*")) == ["clause:1"]
    assert sorted(ids(ix.search("hear*"))) == ["clause:1", "comment:3"]
    assert ids(ix.search("ＨＥＡＲＩＮＧ unfair")) == ["comment:3"]
    assert ids(ix.search("abc123")) == ["comment:2"]
    assert ids(ix.search("ＡＢＣ１２３")) == ["comment:2"]
    assert sorted(ids(ix.search("支持 OR 反对"))) == ["comment:2", "comment:3"]
    assert sorted(ids(ix.search("支持 or 反对"))) == ["comment:2", "comment:3"]
    assert ids(ix.search("听证会 -支持")) == ["clause:1"]
    assert ids(ix.search("听证会 NOT 支持")) == ["clause:1"]
    assert ids(ix.search("听证会 and not 支持")) == ["clause:1"]
    assert ids(ix.search("(支持 OR 反对) AND unfair")) == ["comment:3"]
    assert ids(ix.search("-听证会 -支持")) == ["comment:3"]
    assert ids(ix.search("-(听证会 OR 支持)")) == ["comment:3"]
    assert ids(ix.search('-"听证会" unfair')) == ["comment:3"]
    assert ids(ix.search('"立法活动"')) == ["clause:1"]
    assert ids(ix.search("“立法活动”")) == ["clause:1"]
    assert ids(ix.search('"立法 活动"')) == []  # a space between CJK is literal
    assert ids(ix.search("立法听证*")) == ["clause:1"]  # CJK "prefix" = substring
    assert ids(ix.search("the of and")) == []  # only stop words
    assert ids(ix.search('"public hearing"')) == ["clause:1"]
    assert ids(ix.search('"hearing public"')) == []


@pytest.mark.parametrize(
    "q", ['"', "(", ")", "AND", "NOT", "-", "*", '"unclosed', "a OR", "((a)", "OR OR", "-(", "**"]
)
def test_odd_queries_do_not_raise(ix, q):
    ix.search(q)
    parse_query(q)


def test_filters_and_dates(ix):
    assert ids(ix.search("", types=["clause"])) == ["clause:1"]
    assert sorted(ids(ix.search("", types="comment"))) == ["comment:2", "comment:3"]
    assert ids(ix.search("", filters={"stance": "oppose"})) == ["comment:3"]
    assert sorted(ids(ix.search("", filters={"draft_id": [1, 2], "region": "上海市"}))) == [
        "comment:2",
        "comment:3",
    ]
    assert ids(ix.search("", filters={"clause_id": 1, "type": "comment"})) == ["comment:2"]
    dated = ix.search("", date_from=date(2024, 2, 1), date_to=date(2024, 3, 1), sort="date")
    assert ids(dated) == ["comment:3", "comment:2"]
    assert ids(ix.search("", date_from="2024-02-02")) == ["comment:3"]
    with pytest.raises(ValueError):
        ix.search("", filters={"visibility": "staff"})
    with pytest.raises(ValueError):
        ix.search("", types=["poll"])


def test_highlight_marks_and_escapes(ix):
    hit = ix.search("unfair").hits[0]
    snippet = hit["highlight"]
    assert "<mark>unfair</mark>" in snippet
    assert "<script>" not in snippet
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; rushed" in snippet
    phrase = ix.search('"立法听证"').hits[0]["highlight"]
    assert "<mark>立法听证</mark>" in phrase
    assert "<mark>立法</mark>活动" not in phrase  # a phrase marks only whole matches
    stemmed = ix.search("hearing").hits
    assert any("<mark>hearings</mark>" in h["highlight"] for h in stemmed)


CLUSTERS = [
    "e\u0301",
    "👍🏽",
    "👨\u200d👩\u200d👧",
    "🇨🇳",
    "𠮷",
    "中",
    "a",
    "<",
    "&",
    "한",
    "\u0915\u093f",
]


def test_snippets_never_split_a_character():
    rng = random.Random(3)
    for _ in range(500):
        clusters = [rng.choice(CLUSTERS) for _ in range(rng.randint(1, 120))]
        at = rng.randint(0, len(clusters))
        clusters[at:at] = ["听", "证"]
        text = "".join(clusters)
        bounds = {0}
        for c in clusters:
            bounds.add(max(bounds) + len(c))
        start = len("".join(clusters[:at]))
        snippet = make_snippet(text, [(start, start + 2)], max_chars=rng.randint(5, 40))
        assert "<mark>听证</mark>" in snippet
        plain = html.unescape(snippet.replace("<mark>", "").replace("</mark>", ""))
        plain = plain.removeprefix("…").removesuffix("…")
        # the visible text is a run of whole clusters of the original
        cuts = [b for b in bounds if text.startswith(plain, b) and b + len(plain) in bounds]
        assert cuts, (text, snippet)


def test_surrogates_are_repaired_before_indexing(tmp_path):
    with SearchIndex.open(tmp_path / "s") as index:
        index.upsert(
            [
                {
                    "doc_id": "comment:9",
                    "type": "comment",
                    "body": "吉野家\ud842\udfb7与孤立\ud800代理",
                    "visibility": "public",
                }
            ]
        )
        hit = index.search("𠮷").hits[0]
        assert hit["body"] == "吉野家𠮷与孤立\ufffd代理"
        assert "<mark>𠮷</mark>" in hit["highlight"]
        hit["highlight"].encode("utf-8")  # no lone surrogates left


def test_upsert_replaces_delete_and_clear(ix, tmp_path):
    assert ix.doc_count() == 6
    changed = dict(SAMPLE[1], body="改为反对意见")
    ix.upsert([changed])
    assert ix.doc_count() == 6
    assert ids(ix.search("征求意见稿")) == []
    assert ids(ix.search("反对意见")) == ["comment:2"]
    ix.delete(["comment:2", "clause:404"])
    assert ix.doc_count() == 5
    reopened = SearchIndex.open(ix.path)
    assert reopened.doc_count() == 5
    reopened.close()
    ix.clear()
    assert ix.doc_count() == 0
    assert ix.search("").total == 0


def test_apply_writes_upserts_and_deletes_in_one_commit(ix):
    generation = ix._ix.latest_generation()
    ix.apply(upserts=[dict(SAMPLE[1], body="新的意见")], deletes=["comment:3", "note:99"])
    assert ix._ix.latest_generation() == generation + 1
    assert ix.type_counts() == {"clause": 1, "comment": 2, "note": 2}
    assert ids(ix.search("新的意见")) == ["comment:2"]


def test_load_fills_an_empty_index_in_one_or_more_processes(tmp_path):
    for procs in (1, 2):
        with SearchIndex.open(tmp_path / f"load{procs}") as index:
            assert index.load(iter(SAMPLE), procs=procs) == len(SAMPLE)
            assert index.doc_count() == len(SAMPLE)
            assert sorted(ids(index.search("听证会"))) == ["clause:1", "comment:2"]


def test_types_without_the_word_stream_still_match_and_rank(tmp_path):
    with SearchIndex.open(tmp_path / "ix", rank_types=("clause",)) as index:
        index.upsert(SAMPLE)
        hits = index.search("听证会", include_staff=True).hits
        assert {h["doc_id"] for h in hits} == {"clause:1", "comment:2", "comment:6"}
        assert all(h["score"] > 0 for h in hits)


def test_an_index_built_with_other_analysis_is_refused(tmp_path):
    from whoosh import index as whoosh_index
    from whoosh.fields import Schema

    from search.engine import SCHEMA

    older = Schema(**{name: SCHEMA[name] for name in SCHEMA.names()})
    older.remove("body")
    older.add("body", TEXT(analyzer=make_analyzer("word"), stored=True))
    whoosh_index.create_in(tmp_path, older).close()
    with pytest.raises(ValueError, match="outdated schema"):
        SearchIndex.open(tmp_path)


@pytest.mark.parametrize(
    "bad",
    [
        {"doc_id": "x:1", "type": "poll", "visibility": "public"},
        {"doc_id": "x:1", "type": "note", "visibility": "everyone"},
        {"doc_id": "x:1", "type": "note"},
        {"type": "note", "visibility": "public"},
        {"doc_id": "x:1", "type": "note", "visibility": "public", "colour": "red"},
    ],
)
def test_invalid_documents_are_rejected(ix, bad):
    with pytest.raises(ValueError):
        ix.upsert([bad])


def test_writer_retries_while_another_writer_holds_the_lock(ix):
    raw = ix._ix.writer()  # bypasses the process lock, like another process

    def release():
        time.sleep(0.3)
        raw.cancel()

    thread = threading.Thread(target=release)
    thread.start()
    started = time.monotonic()
    ix.upsert([{"doc_id": "note:10", "type": "note", "body": "锁", "visibility": "public"}])
    thread.join()
    assert time.monotonic() - started >= 0.25
    assert ids(ix.search("锁")) == ["note:10"]


def test_concurrent_upserts_from_threads(ix):
    def work(n):
        ix.upsert(
            [
                {"doc_id": f"note:{n}", "type": "note", "body": f"并发 {n}", "visibility": "public"}
                for n in range(n * 10, n * 10 + 10)
            ]
        )

    threads = [threading.Thread(target=work, args=(n,)) for n in range(100, 104)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ix.search("并发").total == 40


def _opinion(n: int, body: str, **extra) -> dict:
    return {"doc_id": f"comment:{n}", "type": "comment", "obj_id": n, "draft_id": 1 + n % 2,
            "body": body, "visibility": "public", "stance": ("support", "oppose")[n % 2],
            **extra}


def test_many_matches_are_estimated_and_the_top_hits_stay_the_best(tmp_path, monkeypatch):
    from search import engine

    docs = [_opinion(n, "建议增加充电设施。" + "其他内容。" * (n % 7)) for n in range(1, 41)]
    # one short document that mentions the word three times scores best
    docs.append(_opinion(41, "充电，充电，充电"))
    with SearchIndex.open(tmp_path / "ix") as index:
        index.upsert(docs)
        exact = index.search("充电", per_page=5)
        assert (exact.total, exact.exact, exact.facets_exact) == (41, True, True)
        assert exact.facets["draft_id"] == {1: 20, 2: 21}

        monkeypatch.setattr(engine, "EXACT_COUNT_LIMIT", 10)
        estimated = index.search("充电", per_page=5)
        assert not estimated.exact and not estimated.facets_exact
        # an extrapolation from the first ten matches, never above the word's frequency
        assert 10 <= estimated.total <= 41
        assert sum(estimated.facets["stance"].values()) == pytest.approx(estimated.total, abs=2)
        assert [h["doc_id"] for h in estimated.hits] == [h["doc_id"] for h in exact.hits]
        assert estimated.hits[0]["doc_id"] == "comment:41"
        # a page past the last hit knows the count after all
        last = index.search("充电", per_page=20, page=3)
        assert (last.total, last.exact, len(last.hits)) == (41, True, 1)
        # sorted by date, every match is collected, so counted
        by_date = index.search("充电", per_page=5, sort="date")
        assert (by_date.total, by_date.exact, by_date.facets_exact) == (41, True, False)


def test_a_long_phrase_is_exact_with_every_other_bigram(tmp_path):
    with SearchIndex.open(tmp_path / "ix") as index:
        index.upsert([
            _opinion(1, "全国人民代表大会常务委员会"),
            _opinion(2, "人民代，表大会"),  # every bigram but 代表, across a boundary
            _opinion(3, "民代表大"),  # the middle of the phrase only
            _opinion(4, "人民代表、大会"),
        ])
        for query, expected in (("民代表大会", ["comment:1"]), ("人民代表大", ["comment:1"]),
                                ("民代表大", ["comment:1", "comment:3"]),
                                ("会常务委员会", ["comment:1"]), ("代表大会常务", ["comment:1"])):
            assert sorted(ids(index.search(query))) == expected, query


def _parts(docs, procs):
    return [lambda report, k=k: _report_each(docs[k::procs], report) for k in range(procs)]


def _report_each(docs, report):
    for doc in docs:
        report(1)
        yield doc


def test_load_parts_writes_one_segment_per_process_in_one_commit(tmp_path):
    docs = [_opinion(n, f"第{n}条意见：建议增加充电设施") for n in range(1, 31)]
    seen = []
    with SearchIndex.open(tmp_path / "ix") as index:
        generation = index._ix.latest_generation()
        assert index.load_parts(_parts(docs, 3), limitmb=16, progress=seen.append) == 30
        assert index._ix.latest_generation() == generation + 1
        assert len(index._ix.reader().leaf_readers()) == 3
        assert sum(seen) == 30
        assert index.search("充电设施").total == 30
        assert sorted(ids(index.search("第7条"))) == ["comment:7"]


def test_load_parts_commits_nothing_when_a_process_fails(tmp_path):
    def broken(report):
        yield _opinion(1, "建议")
        raise ValueError("the database went away")

    with SearchIndex.open(tmp_path / "ix") as index:
        index.upsert([_opinion(99, "原有的意见")])
        with pytest.raises(RuntimeError, match="the database went away"):
            index.load_parts([broken, lambda report: iter([_opinion(2, "建议")])])
        assert index.doc_count() == 1
        assert ids(index.search("原有")) == ["comment:99"]
        index.upsert([_opinion(3, "之后还能写入")])  # the lock was released
        assert ids(index.search("写入")) == ["comment:3"]
