"""The comparison as pages (public and staff), as JSON from the API, and from `minyi diff`."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from support import CORPUS, REPO

from app import create_app
from app.cli import cli
from app.extensions import db
from app.models import AuditLog
from drafts import alignment, versions
from drafts.models import AlignmentOverride, DraftVersion

SECOND = (REPO / "app" / "demo" / "draft_v2.txt").read_text(encoding="utf-8")
LIFA = (CORPUS / "立法法(2015-03-15).md", CORPUS / "立法法(2023-03-13).md")


@pytest.fixture
def staff(make_user):
    return make_user("staff")


@pytest.fixture
def draft(make_draft, staff):
    """The demo text with its 二审稿 as the current version."""
    draft = make_draft()
    versions.add_version(draft, SECOND, label="二审稿", user=staff)
    db.session.commit()
    return draft


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --------------------------------------------------------------------------- public pages


def test_the_comparison_table_marks_insertions_deletions_and_renumbering(client, draft):
    response = client.get(f"/drafts/{draft.slug}/compare?lang=en")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<th scope="col">Before amendment</th>' in html
    assert '<th scope="col">After amendment</th>' in html
    # 第六条 gains "百分之三十" and loses its last sentence; screen readers hear both.
    row = html[html.index('id="row-6"'):html.index('id="row-7"')]
    assert ('<ins><span class="visually-hidden">[inserted: </span>百分之三十'
            '<span class="visually-hidden">]</span></ins>') in row
    assert "<del><span class=\"visually-hidden\">[deleted: </span>具体比例由市人民政府规定。" in row
    # The counts by status.
    counts = text_of(html[html.index('class="compare-counts"'):])
    for status, n in (("Unchanged", 6), ("Renumbered", 5), ("Modified", 7), ("Moved", 1),
                      ("Split", 1), ("Inserted", 1), ("Deleted", 1)):
        assert f"{status}: {n}" in counts
    # 二审稿 第二十条 cites 第十二条 where 征求意见稿 第十九条 cited 第十二条第一款.
    assert "The reference 第十二条第一款 now reads 第十二条" in text_of(html)


def test_only_changed_articles_and_the_redline(client, draft):
    full = client.get(f"/drafts/{draft.slug}/compare").get_data(as_text=True)
    changed = client.get(f"/drafts/{draft.slug}/compare?changed=1&lang=en").get_data(as_text=True)
    redline = client.get(f"/drafts/{draft.slug}/compare?changed=1&view=redline&lang=en")

    assert full.count("<tr class=\"row-") == 22
    assert changed.count("<tr class=\"row-") == 11
    assert 'class="row-unchanged"' not in changed and "11 changed articles" in changed
    body = redline.get_data(as_text=True)
    assert "<table" not in body and body.count('class="redline-row"') == 11
    assert re.search(r"第十四条 → —\s*<span class=\"status status-deleted\">Deleted", body)
    assert "<del><span class=\"visually-hidden\">[deleted: </span>听取业主意见" in body


def test_the_versions_page_and_the_draft_page_link_to_the_comparison(client, draft):
    versions_page = client.get(f"/drafts/{draft.slug}/versions?lang=en").get_data(as_text=True)
    assert "征求意见稿" in versions_page and "二审稿" in versions_page
    assert f"/drafts/{draft.slug}/compare?from=1&amp;to=2" in versions_page
    show = client.get(f"/drafts/{draft.slug}?lang=en").get_data(as_text=True)
    assert f'href="/drafts/{draft.slug}/compare"' in show


def test_the_public_never_sees_a_version_staff_have_not_made_current(client, make_draft, staff,
                                                                      make_client):
    draft = make_draft()
    versions.add_version(draft, SECOND, label="二审稿", user=staff, make_current=False)
    db.session.commit()

    assert client.get(f"/drafts/{draft.slug}/compare?from=1&to=2").status_code == 404
    page = client.get(f"/drafts/{draft.slug}/compare?lang=en").get_data(as_text=True)
    assert "only one version" in page
    assert client.get(f"/api/v1/drafts/{draft.slug}/diff?from=1&to=2").status_code == 404

    staff_client = make_client()
    staff_client.login(staff)
    assert staff_client.get(f"/drafts/{draft.slug}/compare?from=1&to=2").status_code == 200
    assert staff_client.get(f"/api/v1/drafts/{draft.slug}/diff?from=1&to=2").status_code == 200


def test_unpublished_drafts_and_bad_versions(client, make_draft, draft):
    hidden = make_draft(status="draft")
    assert client.get(f"/drafts/{hidden.slug}/compare").status_code == 404
    assert client.get(f"/drafts/{hidden.slug}/versions").status_code == 404
    assert client.get(f"/drafts/{draft.slug}/compare?from=x&to=2").status_code == 400
    assert client.get(f"/drafts/{draft.slug}/compare?from=2&to=2").status_code == 400
    assert client.get(f"/drafts/{draft.slug}/compare?from=1&to=7").status_code == 404
    assert client.get(f"/drafts/{draft.slug}/compare.pdf?from=1&to=7").status_code == 404


# --------------------------------------------------------------------------- staff pages


def test_staff_add_a_version_by_pasting_and_by_upload(client, make_draft, staff):
    draft = make_draft()
    client.login(staff)
    assert client.get(f"/staff/drafts/{draft.slug}/versions/new").status_code == 200

    pasted = client.post_form(f"/staff/drafts/{draft.slug}/versions/new",
                              {"label": "二审稿", "note": "第二次审议稿", "text": SECOND,
                               "make_current": "y"})
    assert pasted.status_code == 302
    assert pasted.headers["Location"].endswith(f"/staff/drafts/{draft.slug}/compare?to=2")
    db.session.refresh(draft)
    assert draft.current_version.label == "二审稿" and draft.current_version.note == "第二次审议稿"

    uploaded = client.post_form(
        f"/staff/drafts/{draft.slug}/versions/new",
        {"label": "三审稿", "text": "", "upload": (io.BytesIO(SECOND.encode("gb18030")), "v3.txt")},
        content_type="multipart/form-data")
    assert uploaded.status_code == 302
    third = db.session.scalar(select(DraftVersion).where(DraftVersion.sequence == 3))
    assert (third.label, third.source_filename) == ("三审稿", "v3.txt")
    db.session.refresh(draft)
    assert draft.current_version.sequence == 2  # not made current: the box was left empty

    empty = client.post_form(f"/staff/drafts/{draft.slug}/versions/new?lang=en",
                             {"label": "四审稿", "text": "没有条文。"})
    assert empty.status_code == 200 and "No articles were found" in empty.get_data(as_text=True)

    listing = client.get(f"/staff/drafts/{draft.slug}/versions?lang=en")
    assert "三审稿" in listing.get_data(as_text=True)
    made = client.post_form(f"/staff/drafts/{draft.slug}/versions/3/current")
    assert made.status_code == 302
    db.session.refresh(draft)
    assert draft.current_version.sequence == 3


def test_staff_correct_a_pairing_on_the_comparison_page(client, draft, staff):
    client.login(staff)
    url = f"/staff/drafts/{draft.slug}/compare?from=1&to=2"
    page = client.get(url + "&fix=4&lang=en").get_data(as_text=True)
    assert "Correct this pairing" in page
    # Row 4 is the inserted 第四条: the form comes with it chosen on the new side.
    assert re.search(r'<option selected value="art-4">第四条', page)

    saved = client.post_form(url.replace("/compare?", "/compare/pairing?"),
                             {"old": ["art-14"], "new": ["art-4"]})
    assert saved.status_code == 302
    override = db.session.scalar(select(AlignmentOverride))
    assert (override.old_anchors, override.new_anchors) == (["art-14"], ["art-4"])

    page = client.get(url + "&lang=en").get_data(as_text=True)
    assert "第十四条 → 第四条" in text_of(page[page.index("Corrections in force"):])
    public = client.get(f"/drafts/{draft.slug}/compare?lang=en").get_data(as_text=True)
    assert "Deleted: 1" not in text_of(public)  # the correction is used everywhere

    removed = client.post_form(f"/staff/drafts/{draft.slug}/pairings/{override.id}/remove")
    assert removed.status_code == 302
    assert db.session.scalar(select(AlignmentOverride)) is None
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"alignment.override", "alignment.override_removed"} <= actions

    refused = client.post_form(url.replace("/compare?", "/compare/pairing?"), {})
    assert refused.status_code == 302
    assert db.session.scalar(select(AlignmentOverride)) is None


def test_staff_pages_are_for_staff(client, draft, make_user):
    client.login(make_user("public"))
    for url in (f"/staff/drafts/{draft.slug}/versions", f"/staff/drafts/{draft.slug}/compare",
                f"/staff/drafts/{draft.slug}/versions/new"):
        assert client.get(url).status_code == 403
    assert client.post_form(f"/staff/drafts/{draft.slug}/compare/pairing?from=1&to=2",
                            {"old": ["art-14"]}).status_code == 403


# --------------------------------------------------------------------------- API


def test_the_api_gives_pairs_with_anchors_statuses_and_word_diffs(client, draft):
    response = client.get(f"/api/v1/drafts/{draft.slug}/diff?from=1&to=2")

    assert response.status_code == 200
    data = response.get_json()
    assert (data["from"]["label"], data["to"]["label"], data["to"]["current"]) == (
        "征求意见稿", "二审稿", True)
    pairs = {(p["old"], p["new"]): p for p in data["pairs"]}
    six = pairs[("第六条", "第六条")]
    assert (six["status"], six["old_anchor"], six["new_anchor"]) == ("modified", "art-6", "art-6")
    assert {"op": "insert", "text": "百分之三十"} in six["diff"]
    assert pairs[("第五条", "第十七条")]["status"] == "moved"
    split = [p for p in data["pairs"] if p["old"] == "第十二条"]
    assert [p["new"] for p in split] == ["第十二条", "第十三条"]
    assert {p["status"] for p in split} == {"split"} and len({p["group"] for p in split}) == 1
    assert data["inserted"] == [{"label": "第四条", "anchor": "art-4"}]
    assert data["deleted"] == [{"label": "第十四条", "anchor": "art-14"}]
    assert data["stats"]["old_articles"] == 21 and data["stats"]["new_articles"] == 22
    assert data["stats"]["moved"] == 1


@pytest.mark.parametrize(("query", "code"), [
    ("", 400), ("from=1", 400), ("from=a&to=2", 400), ("from=2&to=2", 400),
    ("from=1&to=3", 404), ("from=0&to=2", 404),
])
def test_the_api_refuses_missing_or_unknown_versions(client, draft, query, code):
    response = client.get(f"/api/v1/drafts/{draft.slug}/diff?{query}")
    assert response.status_code == code
    assert response.get_json()["error"]["code"] == code


def test_the_api_document_describes_the_diff(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/drafts/{slug}/diff"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"slug", "from", "to"}
    assert set(operation["responses"]) == {"200", "400", "404"}


# --------------------------------------------------------------------------- CLI


def run_diff(*args: str):
    return CliRunner().invoke(cli, ["diff", *map(str, args)], catch_exceptions=False)


def test_minyi_diff_json_on_the_lifa_versions():
    result = run_diff(*LIFA, "--format", "json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    pairs = {(p["old"], p["new"]): p for p in data["pairs"]}
    # Read in both texts: 2015 第七十二条 became 2023 第八十条 (its first paragraph) and
    # 第八十一条 (the rest); 2015 第九条 is 2023 第十二条 but for the renumbered reference;
    # 2023 第七十条 (基层立法联系点) is new.
    assert pairs[("第七十二条", "第八十条")]["status"] == "split"
    assert pairs[("第七十二条", "第八十一条")]["status"] == "split"
    assert pairs[("第九条", "第十二条")] == {"old": "第九条", "new": "第十二条",
                                            "status": "renumbered", "similarity": 1.0}
    assert "第七十条" in data["inserted"] and "第七十条" not in {p["new"] for p in data["pairs"]}
    assert data["stats"]["old_articles"] == 105 and data["stats"]["new_articles"] == 120
    assert data["stats"]["inserted"] == len(data["inserted"])
    assert data["stats"]["deleted"] == len(data["deleted"])


def test_minyi_diff_text_and_html(tmp_path):
    old = REPO / "app" / "demo" / "draft.txt"
    new = tmp_path / "v2.md"
    new.write_text(SECOND, encoding="utf-8")

    text = run_diff(old, new)
    assert text.exit_code == 0
    assert "第六条 → 第六条  modified 0.87" in text.output
    assert "规划户数{+百分之三十+}的比例" in text.output
    assert "[-具体比例由市人民政府规定。-]" in text.output
    assert "第一条 → 第一条" not in text.output  # unchanged rows only with --all
    assert "第一条 → 第一条  unchanged" in run_diff(old, new, "--all").output

    html = run_diff(old, new, "--format", "html").output
    assert html.startswith("<!doctype html>") and '<table class="comparison">' in html
    assert "<ins><span class=\"visually-hidden\">[inserted: </span>百分之三十" in html


def test_minyi_diff_needs_no_database_and_refuses_texts_without_articles(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("没有条文。", encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing",
           "MINYI_DATA_DIR": str(tmp_path / "data")}
    minyi = Path(sys.executable).parent / "minyi"
    done = subprocess.run([minyi, "diff", *LIFA, "--format", "json"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["pairs"]) > 100
    assert not (tmp_path / "data").exists()  # no application was created

    refused = run_diff(empty, LIFA[0])
    assert refused.exit_code != 0 and "no articles found" in refused.output


# --------------------------------------------------------------------------- start-up


def test_a_server_loads_the_word_list_in_the_background(tmp_path, monkeypatch):
    loaded = threading.Event()
    monkeypatch.setattr(alignment, "load_words", loaded.set)
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    create_app({"DATA_DIR": str(tmp_path), "SECRET_KEY": "x", "SEARCH_INDEXER_THREAD": False})
    assert loaded.wait(timeout=30)


def test_tests_and_commands_do_not_load_it(tmp_path, monkeypatch):
    loaded = threading.Event()
    monkeypatch.setattr(alignment, "load_words", loaded.set)
    create_app({"DATA_DIR": str(tmp_path), "SECRET_KEY": "x", "TESTING": True})
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    create_app({"DATA_DIR": str(tmp_path), "SECRET_KEY": "x", "SEARCH_INDEXER_THREAD": False})
    assert not loaded.wait(timeout=1)
