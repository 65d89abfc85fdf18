"""Versions: adding one, clause lineage across versions, comments on the earlier wording,
staff corrections that persist, and alignment properties on random synthetic edits."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from support import CORPUS, REPO

from app.extensions import db
from app.models import AuditLog
from drafts import services, versions
from drafts.alignment import align
from drafts.comparison import build
from drafts.models import AlignmentOverride, Clause, ClauseOrigin, DraftVersion
from drafts.parser import int_to_chinese_numeral, parse

SECOND = (REPO / "app" / "demo" / "draft_v2.txt").read_text(encoding="utf-8")
FIRST = (REPO / "app" / "demo" / "draft.txt").read_text(encoding="utf-8")


def clause(version: DraftVersion, anchor: str) -> Clause:
    found = services.clause_by_anchor(version, anchor)
    assert found is not None, anchor
    return found


def origins(unit: Clause) -> set[int]:
    return set(db.session.scalars(select(ClauseOrigin.lineage_id)
                                  .where(ClauseOrigin.clause_id == unit.id)))


@pytest.fixture
def staff(make_user):
    return make_user("staff")


@pytest.fixture
def draft(make_draft):
    return make_draft()


def add(draft, text: str, staff, label: str = "二审稿", current: bool = True) -> DraftVersion:
    version = versions.add_version(draft, text, label=label, user=staff, make_current=current)
    db.session.commit()
    return version


# --------------------------------------------------------------------------- adding versions


def test_a_version_added_without_making_it_current_stays_with_staff(draft, staff):
    first = draft.current_version
    second = add(draft, SECOND, staff, current=False)

    assert (second.sequence, second.label) == (2, "二审稿")
    assert draft.current_version_id == first.id
    assert versions.versions_of(draft, public=True) == [first]
    assert versions.versions_of(draft, public=False) == [first, second]
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "version.add"))
    assert entry.object_id == second.id and entry.actor_id == staff.id
    assert entry.details == {"draft": draft.slug, "sequence": 2, "label": "二审稿",
                             "current": False}

    versions.set_current(draft, second, user=staff)
    db.session.commit()
    assert draft.current_version_id == second.id
    assert versions.versions_of(draft, public=True) == [first, second]
    assert db.session.scalar(select(AuditLog.details).where(
        AuditLog.action == "version.current")) == {"draft": draft.slug, "before": 1, "after": 2}


def test_an_unpublished_draft_has_one_text(make_draft, staff):
    unpublished = make_draft(status="draft")
    with pytest.raises(services.DraftError):
        versions.add_version(unpublished, SECOND, label="二审稿", user=staff)


def test_a_version_needs_a_label_and_articles(draft, staff):
    with pytest.raises(services.DraftError):
        versions.add_version(draft, SECOND, label="  ", user=staff)
    with pytest.raises(services.DraftError):
        versions.add_version(draft, "没有条文的文字。", label="二审稿", user=staff)


# --------------------------------------------------------------------------- lineage


def test_lineage_follows_renumbering_moves_splits_and_items(draft, staff):
    # Read in the two demo texts: 二审稿 inserts 第四条 (宣传教育), keeps 第六条 and 第十一条
    # at their numbers, splits 第十二条 into 第十二条 and 第十三条 (物业服务人…劝阻), deletes
    # 第十四条 (电梯阻车装置), and moves 第五条 (部门职责) to 第十七条 in chapter four.
    first = draft.current_version
    second = add(draft, SECOND, staff)

    def same(old: str, new: str) -> bool:
        return clause(second, new).lineage_id == clause(first, old).lineage_id

    assert same("art-6", "art-6") and same("art-5", "art-17") and same("art-13", "art-14")
    assert same("art-11-p1-i2", "art-11-p1-i2") and same("art-8-p1-i1", "art-8-p1-i1")
    assert same("ch-4", "ch-4")  # 第四章 监督管理 keeps its heading
    # The split: the first part continues the article; the second part starts a lineage of
    # its own but carries the article's earlier wording, and its paragraph continues 第二款.
    assert same("art-12", "art-12") and same("art-12-p1", "art-12-p1")
    part = clause(second, "art-13")
    assert part.lineage_id == part.id
    assert origins(part) == {clause(first, "art-12").lineage_id}
    assert same("art-12-p2", "art-13-p1")
    # New text starts its own lineage.
    for anchor in ("art-4", "art-8-p1-i5"):
        assert clause(second, anchor).lineage_id == clause(second, anchor).id
    lineages = {c.lineage_id for c in second.clauses}
    assert clause(first, "art-14").lineage_id not in lineages


def test_a_merge_keeps_the_first_lineage_and_remembers_the_others(draft, staff):
    units = [a.full_text() for a in parse(FIRST).articles()]
    merged = units[:16] + [units[16] + "\n" + units[17]] + units[18:]  # 第十七条 + 第十八条
    second = add(draft, render(merged), staff)
    first = draft.versions[0]

    target = clause(second, "art-17")
    assert target.lineage_id == clause(first, "art-17").lineage_id
    assert origins(target) == {clause(first, "art-18").lineage_id}
    assert clause(second, "art-17-p2").lineage_id == clause(first, "art-18-p1").lineage_id


def render(units: list[str]) -> str:
    """A text whose articles are numbered in order; each unit is an article's lines."""
    out = ["测试条例", ""]
    for k, unit in enumerate(units, start=1):
        out.append(f"第{int_to_chinese_numeral(k)}条　{unit}")
    return "\n\n".join(out) + "\n"


# --------------------------------------------------------------------------- earlier wording


def test_comments_on_the_first_version_appear_on_the_second(draft, staff, make_comment, client):
    make_comment(draft, "art-11-p1-i2", "户内禁止充电过于严格。")
    make_comment(draft, "art-11-p1-i2", "建议区分可拆卸电池。")
    make_comment(draft, "art-11-p1-i2", "尚未审核的意见。", status="pending")
    make_comment(draft, "art-12", "私拉电线应当重罚。")
    make_comment(draft, "art-14", "阻车装置很有必要。")
    add(draft, SECOND, staff)

    page = client.get(f"/drafts/{draft.slug}?lang=en").get_data(as_text=True)
    links = dict(re.findall(r'href="[^"]*/clauses/([^"#]+)#earlier-comments"[^>]*>(\d+) comm',
                            page))
    # The item's two published comments; the split article's comment on both of its parts;
    # the article 第十一条 counts the comments of its item.  Nothing for the deleted 第十四条.
    assert links == {"art-11": "2", "art-11-p1-i2": "2", "art-12": "1", "art-13": "1"}

    clause_page = client.get(f"/drafts/{draft.slug}/clauses/art-11-p1-i2?lang=en")
    html = clause_page.get_data(as_text=True)
    section = html[html.index('id="earlier-comments"'):]
    assert "2 comments on the earlier wording" in section
    assert "户内禁止充电过于严格" in section and "建议区分可拆卸电池" in section
    assert "尚未审核的意见" not in html
    assert "高层住宅建筑的户内和电梯轿厢；" in section  # the wording they were made on
    assert "征求意见稿" in section


def test_earlier_comments_are_paged_and_read_only(draft, staff, make_comment, client, make_user):
    for n in range(7):
        make_comment(draft, "art-6", f"第{n}条意见")
    add(draft, SECOND, staff)
    client.login(make_user("public"))

    html = client.get(f"/drafts/{draft.slug}/clauses/art-6?lang=en").get_data(as_text=True)
    section = html[html.index('id="earlier-comments"'):]
    assert section.count('class="comment"') == 5
    assert "/support" not in section  # support goes to comments on the current wording
    assert "All 7 comments on the earlier wording" in section

    first = client.get(f"/drafts/{draft.slug}/clauses/art-6/earlier?lang=en")
    assert first.status_code == 200
    body = first.get_data(as_text=True)
    assert body.count('class="comment"') == 7
    assert client.get(f"/drafts/{draft.slug}/clauses/art-4/earlier").status_code == 404


def test_comments_follow_the_clause_across_three_versions(draft, staff, make_comment):
    make_comment(draft, "art-6", "比例应当明确。")
    make_comment(draft, "art-7-p2", "应当经业主大会决定。")
    second = add(draft, SECOND, staff)
    third_text = SECOND.replace("第六条　新建住宅小区", "第六条　新建和改建住宅小区")
    third_text = third_text.replace("增设停放场所和充电设施，应当经业主大会决定，并在小区显著位置"
                                    "公示不少于七日，不得占用消防车通道、安全出口和疏散通道。\n\n",
                                    "")
    third = add(draft, third_text, staff, label="三审稿")
    tree = services.clause_tree(third)
    versions.add_earlier_counts(tree, third)
    counts = {node.clause.anchor: node.earlier_comments for node in walk(tree)
              if node.earlier_comments}
    # 第六条 was reworded twice; 第七条 lost its second paragraph in the third version, so the
    # comment on that paragraph is now counted with the article.
    assert counts["art-6"] == 1 and "art-6-p1" not in counts
    assert counts["art-7"] == 1 and "art-7-p2" not in counts
    assert clause(third, "art-7").lineage_id == clause(second, "art-7").lineage_id
    found = versions.earlier_comments(clause(third, "art-7"), third)
    assert [c.body for c in found.comments] == ["应当经业主大会决定。"]


def walk(tree):
    for node in tree:
        yield node
        yield from walk(node.children)


def test_a_first_version_has_no_earlier_comments(draft, make_comment):
    make_comment(draft, "art-6")
    version = draft.current_version
    assert versions.earlier_comments(clause(version, "art-6"), version) is None


# --------------------------------------------------------------------------- corrections


def test_a_corrected_pairing_is_kept_used_and_relineages(app, draft, staff, make_comment):
    make_comment(draft, "art-14", "阻车装置应当保留。")
    first = draft.current_version
    second = add(draft, SECOND, staff)
    result = versions.align_versions(first, second)
    assert pair_of(result, "第十四条").status == "deleted"

    # Staff say the deleted 电梯阻车装置 article became the new 第四条.
    versions.correct_pairing(first, second, ["art-14"], ["art-4"], user=staff)
    db.session.commit()
    stored = db.session.scalar(select(AlignmentOverride))
    assert (stored.old_anchors, stored.new_anchors) == (["art-14"], ["art-4"])
    assert db.session.scalar(select(AuditLog.action).where(
        AuditLog.object_type == "alignment_overrides")) == "alignment.override"

    # Used from then on, also by a fresh process (a new cache).
    app.extensions["minyi_alignment_cache"] = versions.AlignmentCache(4)
    p = pair_of(versions.align_versions(first, second), "第十四条")
    assert ([r.label for r in p.new], p.status) == (["第四条"], "moved")
    assert clause(second, "art-4").lineage_id == clause(first, "art-14").lineage_id
    found = versions.earlier_comments(clause(second, "art-4"), second)
    assert [c.body for c in found.comments] == ["阻车装置应当保留。"]

    # A later correction naming the same article replaces it; removing it restores the
    # pairing by content.
    versions.correct_pairing(first, second, ["art-14"], [], user=staff)
    db.session.commit()
    assert db.session.scalars(select(AlignmentOverride.new_anchors)).all() == [[]]
    assert clause(second, "art-4").lineage_id == clause(second, "art-4").id
    versions.remove_correction(db.session.scalar(select(AlignmentOverride)), user=staff)
    db.session.commit()
    assert db.session.scalar(select(AlignmentOverride)) is None
    assert pair_of(versions.align_versions(first, second), "第十四条").status == "deleted"


def test_correcting_an_earlier_pair_relineages_the_later_versions(draft, staff, make_comment):
    make_comment(draft, "art-14", "阻车装置应当保留。")
    first = draft.current_version
    second = add(draft, SECOND, staff)
    third = add(draft, SECOND.replace("2026年7月1日", "2027年1月1日"), staff, label="三审稿")

    versions.correct_pairing(first, second, ["art-14"], ["art-4"], user=staff)
    db.session.commit()

    assert clause(third, "art-4").lineage_id == clause(first, "art-14").lineage_id
    tree = services.clause_tree(third)
    versions.add_earlier_counts(tree, third)
    assert {n.clause.anchor for n in walk(tree) if n.earlier_comments} == {"ch-1", "art-4"}


def test_bad_corrections_are_refused(draft, staff):
    first = draft.current_version
    second = add(draft, SECOND, staff)
    with pytest.raises(services.DraftError):
        versions.correct_pairing(first, second, [], [], user=staff)
    with pytest.raises(services.DraftError):  # anchors of the other version are not articles
        versions.correct_pairing(first, second, ["art-99"], ["no-such"], user=staff)
    with pytest.raises(services.DraftError):
        versions.correct_pairing(first, second, ["art-1", "art-2"], ["art-1", "art-2"],
                                 user=staff)
    with pytest.raises(services.DraftError):
        versions.correct_pairing(first, first, ["art-1"], ["art-1"], user=staff)


def pair_of(result, old_label: str):
    (found,) = [p for p in result.pairs if any(r.label == old_label for r in p.old)]
    return found


# --------------------------------------------------------------------------- real corpus


def test_lifa_2015_to_2023_as_stored_versions(make_draft, staff, make_comment):
    # Read in both texts: 2015 第七十二条's first paragraph (provinces) is 2023 第八十条 and its
    # second (设区的市) opens 2023 第八十一条; 2015 第九条 ("本法第八条规定的事项…") is 2023
    # 第十二条 word for word but for the renumbered reference.
    old_text = (CORPUS / "立法法(2015-03-15).md").read_text(encoding="utf-8")
    new_text = (CORPUS / "立法法(2023-03-13).md").read_text(encoding="utf-8")
    draft = make_draft(text=old_text)
    make_comment(draft, "art-72-p2", "设区的市的立法权限应当扩大。")
    make_comment(draft, "art-72", "本条应当拆分。")
    make_comment(draft, "art-9", "授权立法应当有期限。")
    first = draft.current_version
    second = add(draft, new_text, staff, label="2023年修正")

    assert clause(second, "art-81").lineage_id == clause(first, "art-72").lineage_id
    assert clause(second, "art-81-p1").lineage_id == clause(first, "art-72-p2").lineage_id
    assert clause(second, "art-80-p1").lineage_id == clause(first, "art-72-p1").lineage_id
    assert origins(clause(second, "art-80")) == {clause(first, "art-72").lineage_id}
    assert clause(second, "art-12").lineage_id == clause(first, "art-9").lineage_id

    def bodies(anchor: str) -> set[str]:
        return {c.body for c in versions.earlier_comments(clause(second, anchor), second,
                                                          per_page=50).comments}

    assert bodies("art-81") == {"设区的市的立法权限应当扩大。", "本条应当拆分。"}
    assert bodies("art-80") == {"本条应当拆分。"}
    assert bodies("art-12") == {"授权立法应当有期限。"}

    rows = {tuple(r.old_labels): r for r in versions.compare(first, second).rows}
    assert rows[("第九条",)].status == "renumbered"
    assert rows[("第七十二条",)].new_labels == ["第八十条", "第八十一条"]


# --------------------------------------------------------------------------- properties


def _corpus_articles() -> dict[str, list[str]]:
    names = ("济南市城市公共交通条例(2013-11-29).md", "山东省湖泊保护条例(2018-01-23).md",
             "上海市公共汽车和电车客运管理条例(2020-05-14).md")
    return {name: [a.full_text() for a in parse((CORPUS / name).read_text(encoding="utf-8"))
                   .articles()] for name in names}


CORPUS_ARTICLES = _corpus_articles()
DONOR = [a.full_text() for a in parse(
    (CORPUS / "全国人民代表大会和地方各级人民代表大会代表法(2025-03-11).md")
    .read_text(encoding="utf-8")).articles()]


def reword(text: str, share: float, rng: random.Random) -> str:
    """Replace a run of about `share` of the article's characters with other wording."""
    n = max(1, int(len(text) * share))
    start = rng.randrange(0, max(1, len(text) - n))
    filler = "".join(rng.choice(DONOR)[:n].split())[:n]
    return text[:start] + filler + text[start + n:]


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(CORPUS_ARTICLES)), seed=st.integers(0, 10**6),
       deletes=st.integers(0, 4), inserts=st.integers(0, 4), rewords=st.integers(0, 6),
       share=st.floats(0.05, 0.3))
def test_random_edits_keep_every_untouched_article_paired(name, seed, deletes, inserts, rewords,
                                                         share):
    rng = random.Random(seed)
    units = CORPUS_ARTICLES[name]
    gone = set(rng.sample(range(len(units)), deletes))
    touched = set(rng.sample(sorted(set(range(len(units))) - gone), rewords))
    new_units: list[tuple[int | None, str]] = []
    for i, text in enumerate(units):
        if i in gone:
            continue
        new_units.append((i, reword(text, share, rng) if i in touched else text))
    for _ in range(inserts):
        new_units.insert(rng.randrange(len(new_units) + 1), (None, rng.choice(DONOR)))
    old = parse(render(units)).articles()
    new = parse(render([text for _i, text in new_units])).articles()
    assert len(old) == len(units) and len(new) == len(new_units)

    result = align(old, new)

    links = {(o.index, n.index) for p in result.pairs for o in p.old for n in p.new}
    truth = {(i, j) for j, (i, _text) in enumerate(new_units) if i is not None}
    # An article neither deleted nor reworded is always found where it went, under its new
    # number, and never reported as changed.
    for i, j in truth:
        if i not in touched:
            assert (i, j) in links
    for p in result.pairs:
        if [r.index for r in p.old] in ([i] for i, _j in truth if i not in touched):
            assert p.status in ("unchanged", "renumbered") and not p.text_changed
    # Every article is in exactly one row, and each side of every row reads back exactly.
    assert sorted(r.index for p in result.pairs for r in p.old) == list(range(len(old)))
    assert sorted(r.index for p in result.pairs for r in p.new) == list(range(len(new)))
    for row in build(result).rows:
        for refs, blocks in ((row.pair.old, row.old), (row.pair.new, row.new)):
            assert [b.label for b in blocks] == [r.label for r in refs]
            for ref, block in zip(refs, blocks, strict=True):
                assert "\n".join("".join(s.text for s in line) for line in block.lines) == (
                    "\n".join(line for line in ref.text.split("\n") if line.strip()))


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(CORPUS_ARTICLES)), seed=st.integers(0, 10**6),
       moves=st.integers(1, 3))
def test_random_moves_are_found_as_moves(name, seed, moves):
    rng = random.Random(seed)
    units = list(enumerate(CORPUS_ARTICLES[name]))
    moved = []
    for _ in range(moves):
        k = rng.randrange(len(units))
        unit = units.pop(k)
        target = rng.choice([p for p in range(len(units) + 1) if abs(p - k) >= 4])
        units.insert(target, unit)
        moved.append(unit[0])
    old = parse(render(CORPUS_ARTICLES[name])).articles()
    new = parse(render([text for _i, text in units])).articles()

    result = align(old, new)

    links = {(o.index, n.index) for p in result.pairs for o in p.old for n in p.new}
    assert links == {(i, j) for j, (i, _text) in enumerate(units)}
    assert all(p.status in ("unchanged", "renumbered", "moved") for p in result.pairs)
    assert 1 <= result.counts["moved"] <= moves
