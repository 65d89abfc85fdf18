"""`minyi search …`: query, status, reindex and worker."""

from __future__ import annotations

import json

from app.extensions import db
from drafts import services
from search.indexer import index_copy


def test_query_prints_hits_as_json(runner, make_draft, make_comment, drain):
    draft = make_draft()
    comment = make_comment(draft, "art-7-p2", body="消防车通道必须保持畅通")
    make_comment(draft, "art-7-p2", body="消防车通道的待审核意见", status="pending")
    drain()
    result = runner.invoke(args=["search", "query", "消防车通道", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data) == ["hits"]
    for hit in data["hits"]:
        assert set(hit) == {"type", "id", "label", "title", "score", "highlight"}
        assert isinstance(hit["score"], float) and "<mark>消防车通道</mark>" in hit["highlight"]
    by_type = {(hit["type"], hit["id"]): hit for hit in data["hits"]}
    paragraph = services.clause_by_anchor(draft.current_version, "art-7-p2")
    assert {("clause", paragraph.id), ("comment", comment.id)} <= set(by_type)
    assert [key for key in by_type if key[0] == "comment"] == [("comment", comment.id)]
    assert by_type[("clause", paragraph.id)]["label"] == "第七条"  # the article, not 第二款
    assert by_type[("comment", comment.id)]["label"] == "第七条"
    assert by_type[("clause", paragraph.id)]["title"] == draft.title

    only = json.loads(runner.invoke(args=["search", "query", "消防车通道", "--type", "comment",
                                          "--json"]).output)
    assert [(hit["type"], hit["id"]) for hit in only["hits"]] == [("comment", comment.id)]
    staff = json.loads(runner.invoke(args=["search", "query", "消防车通道", "--type", "comment",
                                           "--unpublished", "--json"]).output)
    assert len(staff["hits"]) == 2
    plain = runner.invoke(args=["search", "query", "消防车通道", "--limit", "1"])
    assert plain.exit_code == 0 and plain.output.startswith(f"{len(data['hits'])} found\n")


def test_status_shows_lag_and_counts(runner, make_draft, make_comment, drain):
    draft = make_draft()
    drain()
    make_comment(draft, "art-6", body="尚未索引")
    result = runner.invoke(args=["search", "status"])
    assert result.exit_code == 0, result.output
    assert "position:" in result.output and "rows not applied" in result.output
    state = json.loads(runner.invoke(args=["search", "status", "--json"]).output)
    assert state["lag"] >= 1 and state["documents"]["comment"] == 0
    drain()
    state = json.loads(runner.invoke(args=["search", "status", "--json"]).output)
    assert (state["lag"], state["unindexed"]) == (0, 0)
    assert state["documents"]["comment"] == 1
    assert "1 comments" in runner.invoke(args=["search", "status"]).output


def test_reindex_rebuilds_from_the_database_with_a_progress_bar(runner, make_draft,
                                                                make_comment):
    draft = make_draft()
    for n in range(3):
        make_comment(draft, "art-6", body=f"重建第{n}条")
    old = index_copy(runner.app).current()
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexing" in result.output and "3 comments" in result.output
    assert "indexed" in result.output
    assert index_copy(runner.app).current() != old
    state = json.loads(runner.invoke(args=["search", "status", "--json"]).output)
    assert state["documents"]["comment"] == 3 and state["lag"] == 0


def test_worker_once_applies_the_log(runner, make_draft, make_comment):
    draft = make_draft()
    make_comment(draft, "art-6", body="工作进程")
    result = runner.invoke(args=["search", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("applied ")
    db.session.rollback()
    assert index_copy(runner.app).index().search("工作进程").total == 1
