"""The adopted-opinions report: the PDF's content read back (every adopted opinion's clause and
every reason, Chinese text, embedded fonts, tags), the CLI, background generation that
follows changes, and the exports with and without personal data."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

import pytest
from opinion_helpers import clause, make_scene
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog
from drafts import opinions, report, services


@pytest.fixture
def scene(make_draft, make_user, make_comment):
    scene = make_scene(make_draft, make_user, make_comment)
    scene.decide(["charging"], "adopted", "", "art-6")
    scene.decide(["owners"], "adopted", "", "art-7-p2")
    scene.decide(["battery"], "partly_adopted", "允许符合标准的可拆卸电池带回户内充电。",
                 "art-11-p1-i2")
    scene.decide(["whole"], "already_provided", "草案总则已经体现这一方向。")
    scene.decide(["letter"], "not_adopted", "收费标准属于价格管理事项，本条例不作规定。",
                 "art-10")
    suggestion, _new = opinions.submit_deputy_suggestion(
        scene.draft, clause(scene.second, "art-12"), user=scene.deputy, stance="suggest",
        body="建议物业服务人先行劝阻并留存记录。", submission_key="deputy-key-000000000001")
    opinions.decide(scene.draft, [suggestion], "adopted", "", clause(scene.second, "art-13"),
                    user=scene.staff)
    db.session.commit()
    scene.comments["suggestion"] = suggestion
    return scene


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "".join(page.extract_text() for page in reader.pages)


def download(client, url: str) -> bytes:
    """GET a file the app sends from disk, and close it."""
    with client.get(url) as response:
        assert response.status_code == 200, url
        return response.get_data()


def compact(text: str) -> str:
    """Drop the line breaks and spaces the layout puts into extracted text."""
    return "".join(text.split())


@pytest.fixture
def rendered(app, scene):
    with app.test_request_context("/"):
        return report.render_pdf(scene.draft)


def test_the_pdf_names_every_adopted_opinions_clause_and_gives_every_reason(scene, rendered):
    text = compact(pdf_text(rendered))

    adopted = [c for c in scene.comments.values()
               if c.disposition and c.disposition.outcome == "adopted"]
    assert len(adopted) == 3
    for comment in adopted:
        assert compact(services.unit_label(comment.clause)) in text, comment.body
    for comment in scene.comments.values():
        if comment.disposition.reason:
            assert compact(comment.disposition.reason) in text
    # the cover, the statistics, the articles of the 二审稿 and the annex, in Chinese
    assert compact(scene.draft.title) in text
    assert "征求意见稿→二审稿" in text
    assert "建议物业服务人先行劝阻并留存记录" in text and "李代表" in text
    assert "第十三条" in text


def test_the_pdf_masks_personal_data_and_names_no_commenter(scene, rendered):
    text = compact(pdf_text(rendered))
    assert "138****5678" in text and "13812345678" not in text
    assert "王小明" not in text and "wang.xiaoming" not in text
    assert "青禾市物业管理协会" not in text and "association@example.org" not in text


def test_the_pdf_embeds_its_fonts_is_tagged_and_carries_charts(rendered):
    reader = PdfReader(io.BytesIO(rendered))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    assert root["/Lang"].startswith("zh")
    fonts = {}
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0].get_object() if descendants else font).get(
                "/FontDescriptor")
            fonts[str(font["/BaseFont"])] = descriptor is not None and any(
                key in descriptor.get_object() for key in ("/FontFile", "/FontFile2",
                                                           "/FontFile3"))
    assert any("CJK" in name for name in fonts), fonts
    assert all(fonts.values()), fonts  # every font is embedded
    tags = structure_tags(root["/StructTreeRoot"]["/K"])
    assert tags["/H1"] == 1 and tags["/Figure"] == 4 and tags["/Table"] >= 5
    assert reader.metadata.title.startswith("测试条例")


def structure_tags(node, found: Counter | None = None) -> Counter:
    """Count the structure elements of a tagged PDF by type (H1, Figure, Table …)."""
    found = Counter() if found is None else found
    node = node.get_object()
    if isinstance(node, list):
        for child in node:
            structure_tags(child, found)
    elif hasattr(node, "get"):
        if node.get("/S"):
            found[node["/S"]] += 1
        if node.get("/K") is not None and not isinstance(node["/K"], int):
            structure_tags(node["/K"], found)
    return found


def test_the_charts_are_svg_with_a_text_table(app, scene):
    with app.test_request_context("/"):
        html = report.render_html(report.build(scene.draft))
    assert html.count("<svg") == 4 and 'role="img"' in html
    assert html.count('<table class="numbers">') == 4


def test_the_report_data_counts_received_and_unique(app, scene, make_comment):
    for n in range(3):  # a small campaign: the same text three times
        make_comment(scene.draft, "art-6", "强烈要求政府补贴充电设施建设费用，减轻居民负担！"
                     + "！" * n)
    with app.test_request_context("/"):
        from drafts import campaigns

        campaigns.cluster_draft(scene.draft)
        db.session.commit()
        data = report.as_json(report.build(scene.draft))
    assert data["totals"]["received"] == 9 and data["totals"]["unique"] == 7
    article = next(c for c in data["clauses"] if c["title"].startswith("第六条"))
    assert (article["received"], article["unique"], article["undecided"]) == (4, 2, 3)
    assert data["deputy_suggestions"][0]["outcome"] == "adopted"


def test_minyi_report_adopted_writes_the_pdf_and_prints_json(scene, runner, tmp_path):
    out = tmp_path / "report.pdf"
    result = runner.invoke(args=["report", "adopted", scene.draft.slug, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF") and "wrote" in result.output
    assert "收费标准属于价格管理事项" in compact(pdf_text(out.read_bytes()))

    printed = runner.invoke(args=["report", "adopted", scene.draft.slug, "--format", "json"])
    assert printed.exit_code == 0, printed.output
    data = json.loads(printed.stdout)
    assert data["totals"]["by_outcome"] == {"adopted": 3, "partly_adopted": 1,
                                            "not_adopted": 1, "already_provided": 1}
    assert runner.invoke(args=["report", "adopted", "no-such-draft", "--format",
                               "json"]).exit_code != 0


def test_the_report_runs_in_the_background_and_again_when_a_disposition_changes(
        app, scene, client):
    client.login(scene.staff)
    base = f"/staff/drafts/{scene.draft.slug}/report"
    assert client.get(base + "/status.json").get_json()["state"] == "none"
    assert not report.refresh(scene.draft)  # never made: nothing to refresh
    client.post_form(base + "/generate")
    report.wait(scene.draft)
    status = client.get(base + "/status.json").get_json()
    assert (status["state"], status["progress"], status["current"]) == ("done", 100, True)
    assert download(client, base + ".pdf").startswith(b"%PDF")

    url = f"/staff/opinions/{scene.comments['whole'].id}"
    client.post_form(url, {"d-outcome": "not_adopted", "d-reason": "与上位法不一致的表述已删除。",
                           "d-clause": ""})
    report.wait(scene.draft)
    status = client.get(base + "/status.json").get_json()
    assert status["state"] == "done" and status["current"]
    assert "与上位法不一致的表述已删除" in compact(pdf_text(download(client, base + ".pdf")))
    page = client.get(base).get_data(as_text=True)
    assert 'id="report-progress"' in page and "js/opinions.js" in page


def test_the_public_gets_the_pdf_only_once_the_report_is_final(app, scene, client, make_client):
    public = make_client()
    url = f"/drafts/{scene.draft.slug}/feedback/report.pdf"
    client.login(scene.staff)
    client.post_form(f"/staff/drafts/{scene.draft.slug}/report/generate")
    report.wait(scene.draft)
    assert public.get(url).status_code == 404
    client.post_form(f"/staff/drafts/{scene.draft.slug}/report/finalise")
    report.wait(scene.draft)
    assert download(public, url).startswith(b"%PDF")
    assert "report.pdf" in public.get(f"/drafts/{scene.draft.slug}/feedback").get_data(
        as_text=True)


def test_the_staff_export_has_personal_data_and_is_logged(scene, client):
    client.login(scene.staff)
    response = client.get(f"/staff/drafts/{scene.draft.slug}/opinions.csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 6
    by_id = {int(r["id"]): r for r in rows}
    owners = by_id[scene.comments["owners"].id]
    assert owners["email"] == "wang.xiaoming@example.com" and owners["name"] == "王小明"
    assert "13812345678" in owners["body"] and owners["decided_by"] == "法工委 王立"
    assert by_id[scene.comments["letter"].id]["source_detail"] == "物业管理协会来函"

    data = json.loads(client.get(f"/staff/drafts/{scene.draft.slug}/opinions.json").data)
    assert data["personal_data"] is True and len(data["opinions"]) == 6
    logged = db.session.scalars(select(AuditLog).where(
        AuditLog.action == "opinions.export")).all()
    assert [(e.actor_id, e.details) for e in logged] == [
        (scene.staff.id, {"format": "csv", "personal_data": True}),
        (scene.staff.id, {"format": "json", "personal_data": True})]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_the_public_export_has_no_personal_data(scene, make_client, fmt):
    response = make_client().get(f"/drafts/{scene.draft.slug}/feedback/opinions.{fmt}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    for private in ("王小明", "wang.xiaoming", "13812345678", "青禾市物业管理协会",
                    "association@example.org", "法工委", "李代表"):
        assert private not in body, private
    assert "138****5678" in body  # published comments are quoted, masked
    assert "收费标准应当由价格主管部门指导" not in body  # a letter's text stays with staff
    assert "收费标准属于价格管理事项" in body  # but its disposition is public


def test_the_demo_draft_has_a_disposition_for_every_opinion(app):
    from app.demo import load_demo

    draft = load_demo()
    db.session.commit()
    totals = opinions.totals(draft)
    assert totals.received > 15 and totals.undecided == 0 and totals.deputy_undecided == 0
    assert totals.unique < totals.received  # the e-mail campaign counts once
    assert set(totals.by_outcome) == {"adopted", "partly_adopted", "not_adopted",
                                      "already_provided", "out_of_scope"}


def test_the_hearings_points_on_an_article_are_in_its_section(app, scene):
    from datetime import timedelta

    from app.models import utcnow
    from hearings.models import Hearing, HearingNote, HearingQuestion

    lineage = clause(scene.first, "art-11-p1-i2").lineage_id
    hearing = Hearing(slug="held", draft_id=scene.draft.id, title="立法听证会", status="held",
                      starts_at=utcnow() - timedelta(days=3))
    hearing.questions = [HearingQuestion(position=1, text="高层住宅是否一律禁止户内充电？",
                                         is_main=True, clause_lineage_ids=[lineage])]
    db.session.add(hearing)
    db.session.flush()
    db.session.add_all([
        HearingNote(hearing_id=hearing.id, kind="record", visibility="public",
                    clause_lineage_ids=[lineage],
                    body="陈述人认为应当区分电池和整车，电话13900001111。"),
        HearingNote(hearing_id=hearing.id, kind="record", visibility="staff",
                    clause_lineage_ids=[lineage], body="工作人员内部记录。"),
    ])
    db.session.commit()
    with app.test_request_context("/"):
        data = report.as_json(report.build(scene.draft))
    article = next(c for c in data["clauses"] if c["title"].startswith("第十一条"))
    assert any("高层住宅是否一律禁止户内充电" in point for point in article["hearing"])
    assert any("139****1111" in point for point in article["hearing"])
    assert not any("内部记录" in point for c in data["clauses"] for point in c["hearing"])
