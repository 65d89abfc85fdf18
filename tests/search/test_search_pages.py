"""The search pages and GET /api/v1/search: forms, results, facets, visibility, paging."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from openapi_spec_validator import validate

from app.extensions import db
from app.models import utcnow
from drafts import services


@pytest.fixture
def draft(make_draft):
    return make_draft()


def hit_ids(html: str) -> list[str]:
    """The hrefs of the results' headings, in order."""
    return re.findall(r'<h3><a href="([^"]+)">', html)


def results_count(html: str) -> int:
    return int(re.search(r'id="results-heading">(\d+)', html).group(1))


def test_the_header_has_a_labelled_get_search_box(client):
    html = client.get("/").get_data(as_text=True)
    form = re.search(r'<form method="get" action="/search" role="search" class="header-search"'
                     r'.*?</form>', html, re.S).group(0)
    assert '<label for="header-q"' in form and 'id="header-q" name="q"' in form
    assert "csrf_token" not in form


def test_results_link_to_the_clause_with_highlights(client, draft, drain):
    drain()
    html = client.get("/search?q=过载").get_data(as_text=True)
    anchor = f"/drafts/{draft.slug}/clauses/art-8-p1-i2"
    assert hit_ids(html) == [anchor]
    assert f'<a href="{anchor}">第八条第一款第二项</a>' in html
    assert "<mark>过载</mark>和短路保护" in html
    assert 'value="过载"' in html  # the query stays in the box


def test_comment_text_is_escaped_and_only_marks_are_html(client, draft, make_comment, drain):
    comment = make_comment(draft, "art-6", body="<script>alert(1)</script> 充电桩太少 & 太贵")
    drain()
    html = client.get("/search?q=充电桩").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>充电桩</mark>太少 &amp; 太贵" in html
    assert f"/drafts/{draft.slug}/clauses/art-6#comment-{comment.id}" in html


def test_the_public_never_sees_unpublished_comments(client, make_client, make_user, draft,
                                                    make_comment, drain):
    pending = make_comment(draft, "art-6", body="待审核的充电意见", status="pending")
    hidden = make_comment(draft, "art-6", body="被隐藏的充电意见", status="hidden")
    drain()
    for url in ("/search?q=充电意见", "/search?q=充电意见&unpublished=y"):
        html = client.get(url).get_data(as_text=True)
        assert results_count(html) == 0 and 'name="unpublished"' not in html
    staff = make_client()
    staff.login(make_user("staff"))
    html = staff.get("/search?q=充电意见").get_data(as_text=True)
    assert results_count(html) == 0  # not without asking
    assert 'name="unpublished"' in html
    html = staff.get("/search?q=充电意见&unpublished=y").get_data(as_text=True)
    assert results_count(html) == 2
    assert f"/staff/drafts/{draft.slug}/moderation?status=pending" in html
    assert f"/staff/drafts/{draft.slug}/moderation?status=hidden" in html
    assert pending.id != hidden.id


def test_a_private_note_reaches_only_its_author(client, make_client, make_user, make_hearing,
                                                add_note, drain):
    deputy = make_user("deputy")
    hearing = make_hearing()
    note = add_note(hearing, deputy, "私人笔记：关注充电柜消防", kind="observation",
                    visibility="private")
    drain()
    author = make_client()
    author.login(deputy)
    html = author.get("/search?q=充电柜").get_data(as_text=True)
    assert hit_ids(html) == [f"/hearings/{hearing.slug}/live#note-{note.id}"]
    staff = make_client()
    staff.login(make_user("staff"))
    for reader, url in ((client, "/search?q=充电柜"),
                        (staff, "/search?q=充电柜&unpublished=y")):
        assert results_count(reader.get(url).get_data(as_text=True)) == 0


def test_a_comment_hidden_since_it_was_indexed_is_not_shown(client, draft, make_comment,
                                                            make_user, drain):
    comment = make_comment(draft, "art-6", body="刚刚被隐藏的意见")
    drain()
    services.moderate(comment, "hide", user=make_user("staff"), reason="广告")
    db.session.commit()  # the indexer has not run yet
    html = client.get("/search?q=刚刚被隐藏").get_data(as_text=True)
    assert hit_ids(html) == []


def test_facets_filter_and_search_within_a_draft(client, make_draft, make_comment, drain):
    first = make_draft(slug="first")
    second = make_draft(slug="second", title="另一部条例（征求意见稿）")
    make_comment(first, "art-6", body="充电设施应当免费", stance="support", region="东城区")
    make_comment(second, "art-6", body="充电设施应当收费", stance="oppose", region="西湖区")
    drain()
    html = client.get("/search?q=充电设施").get_data(as_text=True)
    assert 'id="facet-type"' in html and 'id="facet-draft"' in html
    assert 'id="facet-version"' in html and 'id="facet-region"' in html
    assert f'href="/search?q=%E5%85%85%E7%94%B5%E8%AE%BE%E6%96%BD&amp;draft={second.id}"' in html
    assert "另一部条例（征求意见稿）" in html
    within = client.get(f"/search?q=充电设施&draft={second.id}&type=comment")
    html = within.get_data(as_text=True)
    assert results_count(html) == 1 and "收费" in html and "免费" not in html
    filters = re.search(r'<section aria-labelledby="active-filters".*?</section>', html,
                        re.S).group(0)
    assert "另一部条例（征求意见稿）" in filters  # the filter in use, and a link without it:
    assert 'href="/search?q=%E5%85%85%E7%94%B5%E8%AE%BE%E6%96%BD&amp;type=comment"' in filters
    html = client.get("/search?q=充电设施&stance=support").get_data(as_text=True)
    assert results_count(html) == 1 and "免费" in html
    html = client.get("/search?q=充电设施&region=西湖区").get_data(as_text=True)
    assert results_count(html) == 1 and "收费" in html
    page = client.get(f"/drafts/{first.slug}").get_data(as_text=True)
    form = re.search(r'<form method="get" action="/search" role="search" class="draft-search"'
                     r'.*?</form>', page, re.S).group(0)
    assert f'name="draft" value="{first.id}"' in form and '<label for="draft-q">' in form


def test_pages_sort_and_dates(client, draft, make_comment, drain):
    comments = [make_comment(draft, "art-6", body=f"分页测试意见第{n}条") for n in range(25)]
    for n, comment in enumerate(comments):
        comment.created_at = utcnow() - timedelta(days=30 - n)
    db.session.commit()
    drain()
    first = client.get("/search?q=分页测试&sort=date").get_data(as_text=True)
    second = client.get("/search?q=分页测试&sort=date&page=2").get_data(as_text=True)
    assert results_count(first) == 25
    newest = [int(h.rsplit("-", 1)[1]) for h in hit_ids(first) + hit_ids(second)]
    assert newest == [c.id for c in reversed(comments)]
    assert 'rel="next"' in first and 'rel="prev"' in second
    assert '<ol class="search-hits" start="21">' in second
    since = (utcnow() - timedelta(days=10)).date().isoformat()
    recent = client.get(f"/search?q=分页测试&date_from={since}").get_data(as_text=True)
    assert results_count(recent) == 5


def test_an_empty_or_invalid_query_shows_the_form(client, draft, drain):
    drain()
    html = client.get("/search").get_data(as_text=True)
    assert 'id="results-heading"' not in html and 'name="q"' in html
    html = client.get("/search?q=过载&date_from=yesterday").get_data(as_text=True)
    assert 'class="error-summary"' in html and 'id="results-heading"' not in html


def test_api_search_returns_public_hits(client, make_client, make_user, draft, make_comment,
                                        drain):
    make_comment(draft, "art-8-p1-i2", body="过载保护的阈值要明确")
    pending = make_comment(draft, "art-6", body="过载的待审核意见", status="pending")
    drain()
    data = client.get("/api/v1/search?q=过载").get_json()
    assert data["total"] == 2 and data["page"] == 1 and data["pages"] == 1
    kinds = {hit["type"]: hit for hit in data["hits"]}
    assert set(kinds) == {"clause", "comment"}
    clause = kinds["clause"]
    assert clause["label"] == "第八条" and clause["title"] == draft.title
    assert clause["highlight"] == "<mark>过载</mark>和短路保护；"
    assert clause["url"].endswith(f"/drafts/{draft.slug}/clauses/art-8-p1-i2")
    assert isinstance(clause["score"], float) and clause["draft_id"] == draft.id
    only = client.get("/api/v1/search?q=过载&type=comment&facets=1").get_json()
    assert [hit["type"] for hit in only["hits"]] == ["comment"]
    assert only["facets"]["type"] == {"comment": 1}
    staff = make_client()
    staff.login(make_user("staff"))
    seen = staff.get("/api/v1/search?q=过载&type=comment").get_json()
    assert {hit["id"] for hit in seen["hits"]} >= {pending.id}


@pytest.mark.parametrize("query", ["type=poll", "draft=abc", "page=0", "per_page=101",
                                   "sort=votes"])
def test_api_search_rejects_bad_parameters(client, query):
    response = client.get(f"/api/v1/search?q=x&{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == 400


def test_the_openapi_document_describes_search(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/search"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"q", "type", "draft", "page"}
    validate(spec)


def test_many_results_are_counted_about(client, draft, make_comment, drain, monkeypatch):
    from search import engine

    for n in range(4):
        make_comment(draft, "art-6", body=f"第{n}位：充电桩太少")
    drain()
    html = client.get("/search?q=充电桩").get_data(as_text=True)
    assert results_count(html) == 4
    assert client.get("/api/v1/search?q=充电桩").get_json()["total_exact"] is True

    monkeypatch.setattr(engine, "EXACT_COUNT_LIMIT", 2)
    html = client.get("/search?q=充电桩").get_data(as_text=True)
    count = re.search(r'id="results-heading">约(\d+)条结果<', html)
    assert count and 2 <= int(count.group(1)) <= 4
    assert '<span class="toc-count">≈' in html
    english = client.get("/search?q=充电桩&lang=en").get_data(as_text=True)
    assert re.search(r'id="results-heading">About \d+ results<', english)
    data = client.get("/api/v1/search?q=充电桩&per_page=2").get_json()
    assert data["total_exact"] is False and len(data["hits"]) == 2
