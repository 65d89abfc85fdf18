"""The indexer: documents from clauses, comments and notes, visibility, dependent changes,
crash recovery, ids that commit out of order, several index copies, rebuild and the thread."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import sessionmaker

from app.extensions import db
from app.models import ChangeLog, utcnow
from drafts import services, versions
from drafts.models import Clause, Comment
from hearings.models import HearingNote
from search import indexer as indexer_module
from search.documents import DocumentBuilder
from search.engine import SearchIndex
from search.indexer import (
    IndexCopy,
    Indexer,
    LogPosition,
    index_copy,
    read_position,
    rebuild,
    start_thread,
    status,
)
from tests.conftest import CORPUS, DEMO_TEXT

HEARING_RULES = "山东省人民代表大会常务委员会制定地方性法规听证规定(2019-09-27).md"


def public(app, q, **kwargs):
    return index_copy(app).index().search(q, **kwargs)


def doc_ids(result):
    return sorted(h["doc_id"] for h in result.hits)


def stored_doc_ids(index: SearchIndex) -> list[str]:
    """Every live document's id, duplicates included."""
    with index._ix.searcher() as searcher:
        return [fields["doc_id"] for fields in searcher.all_stored_fields()]


def clause_id(draft, anchor: str) -> int:
    return services.clause_by_anchor(draft.current_version, anchor).id


# --- documents ------------------------------------------------------------------------------


def test_clauses_are_indexed_with_their_article_label(app, make_draft, drain):
    draft = make_draft()
    drain()
    hits = public(app, '"过载和短路保护"').hits
    assert [(h["type"], h["obj_id"], h["label"]) for h in hits] == [
        ("clause", clause_id(draft, "art-8-p1-i2"), "第八条")]
    second_paragraph = public(app, '"不得占用消防车通道"').hits[0]
    assert second_paragraph["obj_id"] == clause_id(draft, "art-7-p2")
    assert second_paragraph["label"] == "第七条"
    assert second_paragraph["title"] == "测试条例（征求意见稿）"
    assert second_paragraph["draft_id"] == draft.id
    assert second_paragraph["version_id"] == draft.current_version_id
    # a chapter heading is found with its own label; an article without text of its own
    # has no document (its paragraphs carry the words)
    assert public(app, '"停放场所和充电设施"', types="clause").hits[0]["label"] == "第二章"
    article = clause_id(draft, "art-8")
    assert f"clause:{article}" not in stored_doc_ids(index_copy(app).index())


def test_comment_documents_carry_the_article_stance_region_and_masked_text(
        app, make_draft, make_comment, drain):
    draft = make_draft()
    comment = make_comment(draft, "art-8-p1-i3", body="漏电保护要写清楚，联系我 13912345678。",
                           stance="oppose", region="东城区", sector="居民")
    whole = make_comment(draft, None, body="整体赞成这部条例。", stance="support")
    drain()
    hit = public(app, "漏电保护", types="comment").hits[0]
    assert (hit["obj_id"], hit["label"], hit["stance"], hit["region"], hit["sector"]) == (
        comment.id, "第八条", "oppose", "东城区", "居民")
    assert hit["clause_id"] == clause_id(draft, "art-8-p1-i3")
    assert "13912345678" not in hit["body"] and "139****5678" in hit["body"]
    assert public(app, "13912345678").total == 0
    assert public(app, "整体赞成").hits[0]["obj_id"] == whole.id
    assert public(app, "整体赞成").hits[0]["label"] is None


def test_chinese_phrases_two_character_words_and_mixed_text(app, make_draft, make_comment,
                                                            drain):
    text = (CORPUS / HEARING_RULES).read_text(encoding="utf-8")
    draft = make_draft(text=text, title="听证规定")
    english = make_comment(draft, "art-1", body="建议增加 online hearing 的规定，"
                                                "参考 Administrative Procedure Act。")
    drain()
    clauses = list(db.session.scalars(select(Clause).where(
        Clause.version_id == draft.current_version_id)))

    def expected(phrase):
        return sorted(f"clause:{c.id}" for c in clauses if phrase in f"{c.heading}\n{c.text}")

    # jieba cuts these differently inside longer runs (常务委员会 / 会常务; 听证会 / 证会)
    for phrase in ("会常务委员会", "代表大会常务", "证会", "法规草案", "陈述人", "听证"):
        found = public(app, f'"{phrase}"', types="clause", per_page=200)
        assert expected(phrase), phrase
        assert doc_ids(found) == expected(phrase), phrase
    # two-character words unquoted, and two of them together (AND)
    assert doc_ids(public(app, "旁听", types="clause", per_page=200)) == expected("旁听")
    both = public(app, "旁听 公民", types="clause", per_page=200)
    assert doc_ids(both) == sorted(set(expected("旁听")) & set(expected("公民")))
    # mixed Chinese and English, with English stemmed and case folded
    for query in ("online", "Hearings", "建议增加 ONLINE", '"procedure act"', "administr*"):
        assert doc_ids(public(app, query)) == [f"comment:{english.id}"], query


# --- visibility -----------------------------------------------------------------------------


def test_comment_visibility_follows_moderation(app, make_draft, make_comment, make_user,
                                               drain):
    draft = make_draft()
    pending = make_comment(draft, "art-6", body="待审核的停车意见", status="pending")
    hidden = make_comment(draft, "art-6", body="被隐藏的停车意见", status="hidden")
    rejected = make_comment(draft, "art-6", body="被拒绝的停车意见", status="rejected")
    published = make_comment(draft, "art-6", body="已公开的停车意见")
    drain()
    assert doc_ids(public(app, "停车意见")) == [f"comment:{published.id}"]
    staff = public(app, "停车意见", include_staff=True)
    assert doc_ids(staff) == sorted(f"comment:{c.id}" for c in (pending, hidden, rejected,
                                                                  published))
    services.moderate(pending, "publish", user=make_user("staff"))
    db.session.commit()
    drain()
    assert doc_ids(public(app, "停车意见")) == sorted([f"comment:{published.id}",
                                                      f"comment:{pending.id}"])


def test_clauses_of_an_unpublished_draft_or_version_are_staff_only(app, make_draft, make_user,
                                                                   drain):
    draft = make_draft(status="draft")
    drain()
    assert public(app, '"过载和短路保护"').total == 0
    assert public(app, '"过载和短路保护"', include_staff=True).total == 1
    staff = make_user("staff")
    services.change_status(draft, "open", user=staff)  # the listener logs every clause
    db.session.commit()
    drain()
    assert public(app, '"过载和短路保护"').total == 1
    second = versions.add_version(draft, DEMO_TEXT.read_text(encoding="utf-8").replace(
        "故障报警", "故障自动报警"), label="二审稿", user=staff, make_current=False)
    db.session.commit()
    drain()
    assert public(app, '"故障自动报警"').total == 0
    assert public(app, '"故障自动报警"', include_staff=True).total == 1
    versions.set_current(draft, second, user=staff)
    db.session.commit()
    drain()
    hits = public(app, '"故障自动报警"').hits
    assert [h["version_id"] for h in hits] == [second.id]
    # the earlier version stays public, the comparison shows it
    assert public(app, '"故障报警"', filters={"version_id": second.id}).total == 0
    assert public(app, '"故障报警"').total == 1


def test_renaming_a_draft_reindexes_its_clauses_and_comments(app, make_draft, make_comment,
                                                             drain):
    draft = make_draft()
    make_comment(draft, "art-6", body="关于停放场所比例的意见")
    drain()
    draft.title = "青禾市电动自行车管理条例（二审稿）"
    db.session.commit()
    drain()
    titles = {h["type"]: h["title"] for h in public(app, "停放场所", per_page=100).hits}
    assert titles == {"clause": draft.title, "comment": draft.title}


def test_note_visibility(app, make_hearing, add_note, make_user, drain):
    recorder, deputy, other = make_user("staff"), make_user("deputy"), make_user("deputy")
    hearing = make_hearing(status="planned", public_live=True)
    record = add_note(hearing, recorder, "陈述人认为充电柜应当进小区。")
    shared = add_note(hearing, deputy, "建议追问充电柜的消防审批。", kind="observation",
                      visibility="staff")
    private = add_note(hearing, deputy, "自己记下：充电柜价格偏高。", kind="observation",
                       visibility="private")
    drain()
    # not announced yet: the record is for staff until the public may follow the hearing
    assert public(app, "充电柜").total == 0
    assert doc_ids(public(app, "充电柜", include_staff=True)) == [f"note:{record.id}",
                                                                f"note:{shared.id}"]
    assert doc_ids(public(app, "充电柜", user_id=deputy.id)) == [f"note:{private.id}"]
    assert public(app, "充电柜", user_id=other.id).total == 0
    assert f"note:{private.id}" not in doc_ids(public(app, "充电柜", include_staff=True,
                                                      user_id=recorder.id))
    hearing.status = "announced"  # the listener logs the hearing's notes
    db.session.commit()
    drain()
    assert doc_ids(public(app, "充电柜")) == [f"note:{record.id}"]
    hit = public(app, "充电柜").hits[0]
    assert hit["title"] == hearing.title and hit["draft_id"] == hearing.draft_id
    hearing.public_live = False
    db.session.commit()
    drain()
    assert public(app, "充电柜").total == 0
    record.deleted = True
    db.session.commit()
    drain()
    assert public(app, "充电柜", include_staff=True).total == 1  # the shared observation


def test_a_note_on_clauses_carries_the_first_clause_and_its_article_label(
        app, make_draft, make_hearing, add_note, make_user, drain):
    draft = make_draft()
    hearing = make_hearing(draft)
    lineage = {anchor: services.clause_by_anchor(draft.current_version, anchor).lineage_id
               for anchor in ("art-8-p1-i4", "art-7-p2")}
    add_note(hearing, make_user("staff"), "故障报警的规定引起争论。",
             clause_lineage_ids=lineage.values())
    drain()
    hit = public(app, "故障报警", types="note").hits[0]
    assert (hit["clause_id"], hit["label"]) == (clause_id(draft, "art-7-p2"), "第七条")


# --- the log: replays, crashes, gaps --------------------------------------------------------


def test_replaying_the_log_changes_nothing(app, make_draft, make_comment, drain):
    draft = make_draft()
    for n in range(5):
        make_comment(draft, "art-6", body=f"第{n}条停车意见")
    drain()
    index = index_copy(app).index()
    before = sorted(stored_doc_ids(index))
    path = index_copy(app).current()
    indexer_module.write_position(path, LogPosition())  # as if the position were lost
    assert drain() > 0
    after = stored_doc_ids(index)
    assert sorted(after) == before and len(set(after)) == len(after)


def test_a_crash_after_the_index_commit_before_the_position_is_written(
        app, make_draft, make_comment, drain, monkeypatch):
    draft = make_draft()
    drain()
    comments = [make_comment(draft, "art-6", body=f"崩溃测试意见{n}") for n in range(6)]
    position = read_position(index_copy(app).current())

    def crash(*_args):
        raise KeyboardInterrupt("killed between the index commit and the position file")

    monkeypatch.setattr(indexer_module, "write_position", crash)
    with pytest.raises(KeyboardInterrupt):
        drain()
    index = index_copy(app).index()
    assert public(app, "崩溃测试意见").total == 6  # committed to the index ...
    assert read_position(index_copy(app).current()) == position  # ... position not moved
    monkeypatch.undo()
    assert drain() >= 6  # the restart replays the batch
    ids = stored_doc_ids(index)
    assert len(ids) == len(set(ids))
    assert doc_ids(public(app, "崩溃测试意见")) == sorted(f"comment:{c.id}" for c in comments)
    assert status(app)["lag"] == 0


def test_a_crash_half_way_through_a_batch_loses_nothing(app, make_draft, make_comment, drain,
                                                        monkeypatch):
    draft = make_draft()
    drain()
    comments = [make_comment(draft, "art-6", body=f"中途失败意见{n}") for n in range(8)]
    from whoosh.writing import SegmentWriter

    real = SegmentWriter.update_document
    calls = {"n": 0}

    def fail_half_way(self, **fields):
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("the process died in the middle of the batch")
        return real(self, **fields)

    monkeypatch.setattr(SegmentWriter, "update_document", fail_half_way)
    with pytest.raises(RuntimeError):
        drain()
    assert public(app, "中途失败意见").total == 0  # nothing half-written
    monkeypatch.undo()
    drain()
    assert doc_ids(public(app, "中途失败意见")) == sorted(f"comment:{c.id}" for c in comments)
    ids = stored_doc_ids(index_copy(app).index())
    assert len(ids) == len(set(ids))


def _log(app, *rows):
    """Write change-log rows with chosen ids, as concurrent transactions would commit them."""
    with app.app_context():
        db.session.execute(insert(ChangeLog), [
            {"id": log_id, "entity": entity, "entity_id": entity_id, "op": "upsert",
             "created_at": utcnow()} for log_id, entity, entity_id in rows])
        db.session.commit()


def test_ids_that_commit_out_of_order_are_not_skipped(app, make_draft, make_comment, drain):
    draft = make_draft()
    first = make_comment(draft, "art-6", body="先提交的意见")
    late = make_comment(draft, "art-6", body="后提交的意见")
    drain()
    top = db.session.scalar(select(func.max(ChangeLog.id)))
    for comment in (first, late):  # the rows change; their log rows follow below
        db.session.execute(update(Comment).where(Comment.id == comment.id)
                           .values(body=comment.body + "，改过了"))
    db.session.commit()
    # two transactions took ids top+1 and top+2; the later one commits first
    _log(app, (top + 2, "comment", first.id))
    drain()
    reached = read_position(index_copy(app).current())
    assert reached.high == top + 2 and reached.position == top
    assert [g[:2] for g in reached.gaps] == [(top + 1, top + 1)]
    assert public(app, '"先提交的意见，改过了"').total == 1
    assert public(app, '"后提交的意见，改过了"').total == 0
    _log(app, (top + 1, "comment", late.id))  # the earlier transaction commits now
    drain()
    assert public(app, '"后提交的意见，改过了"').total == 1
    reached = read_position(index_copy(app).current())
    assert reached.position == reached.high == top + 2 and reached.gaps == []


def test_a_gap_is_given_up_after_the_gap_time(app, make_draft, drain):
    make_draft()
    drain()
    top = db.session.scalar(select(func.max(ChangeLog.id)))
    _log(app, (top + 3, "clause", 1))  # top+1 and top+2 rolled back
    copy = index_copy(app)
    follower = Indexer(copy, sessionmaker(db.engine), gap_seconds=0.2)
    follower.drain()
    assert read_position(copy.current()).position == top
    time.sleep(0.3)
    follower.drain()
    reached = read_position(copy.current())
    assert reached.position == reached.high == top + 3
    assert json.loads((copy.current() / "position.json").read_text())["position"] == top + 3


def test_two_index_copies_follow_the_same_log(app, make_draft, make_comment, tmp_path, drain):
    draft = make_draft()
    make_comment(draft, "art-6", body="两个节点都能搜到")
    drain()
    other = IndexCopy(tmp_path / "node-2")
    Indexer(other, sessionmaker(db.engine)).drain()
    mine = index_copy(app).index()
    assert sorted(stored_doc_ids(other.index())) == sorted(stored_doc_ids(mine))
    assert other.index().search("两个节点").total == 1
    other.close()


def test_a_batch_is_skipped_while_another_process_holds_the_copy(app, make_draft, drain):
    make_draft()
    copy = index_copy(app)
    follower = Indexer(copy, sessionmaker(db.engine))
    with copy.locked():
        assert follower.run_batch() is None
    assert follower.run_batch() > 0


# --- rebuild, status, the thread ------------------------------------------------------------


def test_rebuild_matches_the_database_and_replays_changes_made_meanwhile(
        app, make_draft, make_comment, make_hearing, add_note, make_user, drain):
    draft = make_draft()
    for n in range(3):
        make_comment(draft, "art-6", body=f"重建意见{n}")
    make_comment(draft, "art-7", body="待审核", status="pending")
    hearing = make_hearing(draft)
    add_note(hearing, make_user("staff"), "重建时的记录")
    gone = add_note(hearing, make_user("staff"), "删除的记录")
    gone.deleted = True
    db.session.commit()
    chapter = db.session.scalar(  # in the rebuild's first chunk
        select(func.min(Clause.id)).where(Clause.heading != ""))
    old = index_copy(app).current()
    seen = []

    def progress(n):
        seen.append(n)
        if len(seen) == 1:  # a clause already read is changed while the rebuild runs
            with app.app_context():
                db.session.get(Clause, chapter).heading = "重建期间修改的章名"
                db.session.commit()

    done = rebuild(app, progress, chunk=10)
    copy = index_copy(app)
    assert copy.current() != old and not old.exists()
    builder = DocumentBuilder(db.session)
    expected = {entity: sum(doc is not None for doc in builder.build(
        entity, db.session.scalars(select(model.id))).values())
        for entity, model in (("clause", Clause), ("comment", Comment), ("note", HearingNote))}
    assert expected["comment"] == 4 and expected["note"] == 1
    assert copy.index().type_counts() == expected
    assert done["documents"] == sum(expected.values())
    assert sum(seen) == sum(indexer_module.row_counts(app).values())
    assert public(app, "重建期间修改的章名").total == 0  # read before the change ...
    drain()
    assert public(app, "重建期间修改的章名").total == 1  # ... and replayed from the log
    assert copy.index().type_counts() == expected


def test_status_reports_lag_and_documents(app, make_draft, make_comment, drain):
    draft = make_draft()
    drain()
    clauses = status(app)["documents"]["clause"]
    make_comment(draft, "art-6", body="等待索引")
    state = status(app)
    assert state["lag"] >= 1 and state["unindexed"] >= 1
    assert state["oldest_unindexed_age_s"] >= 0
    drain()
    state = status(app)
    assert (state["lag"], state["unindexed"], state["gaps"]) == (0, 0, 0)
    assert state["documents"] == {"clause": clauses, "comment": 1, "note": 0}


def test_the_thread_makes_a_new_comment_searchable_within_seconds(app, make_draft,
                                                                  make_comment):
    draft = make_draft()
    thread = start_thread(app)
    assert start_thread(app) is thread  # started once per process and index copy
    try:
        make_comment(draft, "art-6", body="线程索引的意见")
        deadline = time.monotonic() + 10
        while public(app, "线程索引的意见").total == 0:
            assert time.monotonic() < deadline, "not searchable after 10 s"
            time.sleep(0.05)
    finally:
        thread.stop.set()
        thread.join(5)
    assert not thread.is_alive()


def test_the_oldest_unindexed_row_has_an_age(app, make_draft, drain):
    make_draft()
    with app.app_context():
        db.session.execute(ChangeLog.__table__.update().values(
            created_at=utcnow() - timedelta(seconds=90)))
        db.session.commit()
    assert status(app)["oldest_unindexed_age_s"] >= 90
