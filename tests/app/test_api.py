"""The JSON API: drafts, the clause tree, published comments, errors, the OpenAPI document."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate
from support import DEMO_TEXT

from app.extensions import db
from app.masking import mask_personal_data
from drafts import services
from drafts.models import Comment
from drafts.parser import parse

KINDS = {"part", "subpart", "chapter", "section", "article", "paragraph", "item", "subitem"}


def walk(nodes: list[dict]):
    for node in nodes:
        yield node
        yield from walk(node["children"])


def test_the_draft_list_holds_public_drafts_only(client, make_draft):
    for status in ("draft", "open", "closed", "adopted"):
        make_draft(status=status, slug=f"{status}-one", title=f"{status} 条例")

    response = client.get("/api/v1/drafts")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    listed = {d["slug"]: d for d in response.get_json()["drafts"]}
    assert set(listed) == {"open-one", "closed-one", "adopted-one"}
    assert {(d["title"], d["status"]) for d in listed.values()} == {
        ("open 条例", "open"), ("closed 条例", "closed"), ("adopted 条例", "adopted")}
    assert listed["open-one"]["url"].endswith("/drafts/open-one")


def test_a_draft_carries_its_versions_and_the_clause_tree_of_the_parser(client, make_draft):
    make_draft(slug="tree")
    parsed = parse(DEMO_TEXT.read_text(encoding="utf-8"))

    data = client.get("/api/v1/drafts/tree").get_json()

    assert (data["slug"], data["status"]) == ("tree", "open")
    assert [(v["sequence"], v["label"], v["current"]) for v in data["versions"]] == [
        (1, "征求意见稿", True)]
    nodes = list(walk(data["clauses"]))
    assert {n["kind"] for n in nodes} <= KINDS
    assert all({"kind", "label", "heading", "text", "children"} <= set(n) for n in nodes)
    articles = [n for n in nodes if n["kind"] == "article"]
    assert len(articles) == len(parsed.articles()) == 21
    assert [a["label"] for a in articles] == [a.label for a in parsed.articles()]
    assert articles[11]["label"] == "第十二条"
    assert [c["kind"] for c in data["clauses"]] == ["chapter"] * 6
    assert data["clauses"][0]["heading"] == "总则"
    item = next(n for n in nodes if n["anchor"] == "art-11-p1-i2")
    expected = next(n for n in parsed.walk() if n.anchor == "art-11-p1-i2")
    assert (item["kind"], item["label"], item["text"]) == ("item", "（二）", expected.text)
    assert item["text"] == "高层住宅建筑的户内和电梯轿厢；"


def test_the_tree_counts_only_published_comments(client, make_draft, make_comment):
    draft = make_draft(slug="counted")
    make_comment(draft, "art-8-p1-i1")
    make_comment(draft, "art-8-p2")
    make_comment(draft, "art-8-p1-i1", status="pending")

    nodes = {n["anchor"]: n for n in walk(client.get("/api/v1/drafts/counted").get_json()[
        "clauses"])}

    assert nodes["art-8-p1-i1"]["comment_count"] == 1
    assert nodes["art-8"]["comment_count"] == 2
    assert nodes["ch-2"]["comment_count"] == 2


def test_clause_comments_are_published_only_and_masked(client, make_draft, make_comment):
    draft = make_draft(slug="masked")
    shown = make_comment(draft, "art-6", "请致电13812345678", proposed_wording="邮件a@b.cn",
                         region="东城区")
    make_comment(draft, "art-6", "待审的意见", status="pending")
    make_comment(draft, "art-6", "隐藏的意见", status="hidden")
    make_comment(draft, "art-7", "别的条文")
    make_comment(draft, None, "整体意见")

    data = client.get("/api/v1/drafts/masked/comments?clause=art-6").get_json()

    assert data["next_cursor"] is None
    assert [c["id"] for c in data["comments"]] == [shown.id]
    comment = data["comments"][0]
    assert comment["body"] == mask_personal_data("请致电13812345678") == "请致电138****5678"
    assert comment["proposed_wording"] == "邮件a***@***"
    assert (comment["stance"], comment["region"]) == ("suggest", "东城区")
    assert comment["clause_id"] == services.clause_by_anchor(draft.current_version, "art-6").id
    assert db.session.get(Comment, shown.id).body == "请致电13812345678"


def test_draft_comments_cover_all_or_only_the_whole_draft(client, make_draft, make_comment):
    draft = make_draft(slug="scoped")
    whole = make_comment(draft, None, "整体意见")
    on_clause = make_comment(draft, "art-6", "条文意见")

    everything = client.get("/api/v1/drafts/scoped/comments").get_json()["comments"]
    whole_only = client.get("/api/v1/drafts/scoped/comments?scope=draft").get_json()["comments"]

    assert [c["id"] for c in everything] == [on_clause.id, whole.id]
    assert [c["id"] for c in whole_only] == [whole.id]


@pytest.mark.parametrize("sort", ["new", "support"])
def test_comment_pages_follow_the_cursor_to_the_end(client, make_draft, make_comment,
                                                    make_user, sort):
    draft = make_draft(slug="paged")
    comments = [make_comment(draft, "art-6", f"意见{n}") for n in range(7)]
    fan = make_user("public")
    for comment in comments[::3]:
        services.toggle_support(db.session.get(Comment, comment.id), fan)
    db.session.commit()

    seen, cursor, pages = [], "", 0
    while True:
        data = client.get(f"/api/v1/drafts/paged/comments?clause=art-6&per_page=3&sort={sort}"
                          f"&cursor={cursor}").get_json()
        seen += [(c["support_count"], c["id"]) for c in data["comments"]]
        pages += 1
        if not data["next_cursor"]:
            break
        cursor = data["next_cursor"]

    assert pages == 3
    key = (lambda pair: (-pair[0], -pair[1])) if sort == "support" else (lambda pair: -pair[1])
    assert seen == sorted(seen, key=key)
    assert sorted(i for _s, i in seen) == sorted(c.id for c in comments)


def test_per_page_is_kept_within_bounds(client, make_draft, make_comment):
    draft = make_draft(slug="bounds")
    for n in range(3):
        make_comment(draft, "art-6", f"意见{n}")

    tiny = client.get("/api/v1/drafts/bounds/comments?per_page=0").get_json()
    huge = client.get("/api/v1/drafts/bounds/comments?per_page=100000").get_json()

    assert len(tiny["comments"]) == 1 and tiny["next_cursor"]
    assert len(huge["comments"]) == 3 and huge["next_cursor"] is None


@pytest.mark.parametrize(("url", "code"), [
    ("/api/v1/drafts/no-such-draft", 404),
    ("/api/v1/drafts/no-such-draft/comments", 404),
    ("/api/v1/drafts/errors/comments?clause=art-99", 404),
    ("/api/v1/drafts/errors/comments?sort=sideways", 400),
    ("/api/v1/no-such-endpoint", 404),
])
def test_errors_are_json(client, make_draft, url, code):
    make_draft(slug="errors")

    response = client.get(url)

    assert response.status_code == code
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]


def test_the_openapi_document_is_valid_and_describes_every_api_route(app, client):
    document = client.get("/api/v1/openapi.json").get_json()

    validate(document)
    assert document["openapi"].startswith("3.1")
    routes = {re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")}
    assert routes
    assert routes <= set(document["paths"]), routes - set(document["paths"])
    for path, operations in document["paths"].items():
        names = {p["name"] for p in operations["get"].get("parameters", []) if p["in"] == "path"}
        assert names == set(re.findall(r"{(\w+)}", path)), path
