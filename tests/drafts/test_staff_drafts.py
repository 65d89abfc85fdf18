"""Staff draft flows through the real forms: create from pasted text or an upload, preview,
publish, edit, and export the comments."""

from __future__ import annotations

import csv
import io

import docx
import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog
from drafts import display, services
from drafts.forms import KIND_LABELS
from drafts.models import Clause, Draft
from drafts.parser import parse

TEXT = """测试管理条例

第一章　总　　则

第一条　为了测试，制定本条例。

第二条　本条例适用于测试。

有关部门应当配合。

第二章　管理

第三条　管理者应当履行下列职责：

（一）登记；

（二）公示。
"""
GAP_TEXT = "第一条　第一条的内容。\n\n第二条　第二条的内容。\n\n第四条　第四条的内容。\n"


def translated(message: str, **params: object) -> str:
    """Return a message as a Chinese page shows it."""
    with force_locale("zh"):
        return str(escape(gettext(message, **params)))


def draft_form(**fields: object) -> dict:
    """Return the fields of the draft form as staff fill them in."""
    return {"title": "测试管理条例（征求意见稿）", "slug": "test-rules", "summary": "摘要",
            "explanation": "", "office": "法制工作委员会", "moderation": "pre",
            "version_label": "征求意见稿", "sectors": "居民\n物业服务\n", "regions": "东城区",
            "text": TEXT, **fields}


def drafts_stored() -> int:
    return db.session.scalar(select(func.count()).select_from(Draft))


def anchors(draft: Draft) -> list[str]:
    return list(db.session.scalars(select(Clause.anchor).where(
        Clause.version_id == draft.current_version_id).order_by(Clause.position)))


@pytest.fixture
def staff(make_user):
    return make_user("staff")


@pytest.fixture
def desk(client, staff):
    """A staff member's browser."""
    client.login(staff)
    return client


# --- creating a draft -----------------------------------------------------------------------


def test_staff_create_a_draft_by_pasting_the_text(desk, staff):
    response = desk.post_form("/staff/drafts/new", draft_form())

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/drafts/test-rules")
    draft = services.draft_by_slug("test-rules")
    assert (draft.status, draft.title, draft.office) == ("draft", "测试管理条例（征求意见稿）",
                                                         "法制工作委员会")
    assert (draft.sectors, draft.regions, draft.moderation) == (["居民", "物业服务"], ["东城区"],
                                                                "pre")
    assert draft.published_at is None
    assert draft.current_version.source_text == TEXT
    assert anchors(draft) == ["ch-1", "art-1", "art-1-p1", "art-2", "art-2-p1", "art-2-p2",
                              "ch-2", "art-3", "art-3-p1", "art-3-p1-i1", "art-3-p1-i2"]
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "draft.create")).one()
    assert (audit.actor_id, audit.object_id) == (staff.id, draft.id)
    assert "测试管理条例（征求意见稿）" in desk.get("/staff/drafts").get_data(as_text=True)


def word_file(text: str) -> bytes:
    document = docx.Document()
    for line in text.splitlines():
        if line.strip():
            document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(("filename", "content"), [
    ("rules.txt", TEXT.encode("utf-8")),
    ("rules-bom.txt", TEXT.encode("utf-8-sig")),
    ("rules-gb.txt", TEXT.encode("gb18030")),
    ("rules.md", TEXT.replace("第一章", "## 第一章").replace("第二章", "## 第二章").encode()),
    ("rules.DOCX", word_file(TEXT)),
])
def test_staff_create_a_draft_from_an_uploaded_file(desk, filename, content):
    response = desk.post_form("/staff/drafts/new", draft_form(
        text="", upload=(io.BytesIO(content), filename)))

    assert response.status_code == 302, response.get_data(as_text=True)
    draft = services.draft_by_slug("test-rules")
    assert draft.current_version.source_filename == filename
    assert "第三条" in draft.current_version.source_text
    assert anchors(draft)[-2:] == ["art-3-p1-i1", "art-3-p1-i2"]
    items = db.session.scalars(select(Clause.text).where(
        Clause.version_id == draft.current_version_id, Clause.kind == "item")).all()
    assert items == ["登记；", "公示。"]


def test_an_upload_of_another_kind_is_refused_with_a_message(desk):
    response = desk.post_form("/staff/drafts/new", draft_form(
        text="", upload=(io.BytesIO(TEXT.encode()), "rules.pdf")))

    assert response.status_code == 200
    assert translated("Upload a .txt, .md or .docx file.") in response.get_data(as_text=True)
    assert drafts_stored() == 0


def test_an_upload_that_is_not_text_is_refused_with_a_message(desk):
    response = desk.post_form("/staff/drafts/new", draft_form(
        text="", upload=(io.BytesIO(b"PK\x03\x04 not really a word file"), "rules.docx")))

    assert response.status_code == 200
    assert 'id="upload-error"' in response.get_data(as_text=True)
    assert drafts_stored() == 0


def test_text_without_articles_is_refused_and_what_was_typed_is_kept(desk):
    typed = "这是一段没有条文编号的说明文字。\n第二段说明。"

    response = desk.post_form("/staff/drafts/new", draft_form(text=typed, title="无条文的草案"))

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert translated("No articles were found in the text (lines starting with 第…条 or "
                      "Article …).") in page
    assert "这是一段没有条文编号的说明文字。" in page and "第二段说明。" in page
    assert 'value="无条文的草案"' in page
    assert drafts_stored() == 0


def test_neither_text_nor_file_is_refused(desk):
    response = desk.post_form("/staff/drafts/new", draft_form(text="  "))

    assert translated("Paste the text or upload a file.") in response.get_data(as_text=True)
    assert drafts_stored() == 0


def test_a_window_that_closes_before_it_opens_and_a_taken_slug_are_refused(desk, make_draft):
    make_draft(slug="taken")
    window = desk.post_form("/staff/drafts/new", draft_form(
        opens_at="2030-03-01T09:00", closes_at="2030-02-01T09:00")).get_data(as_text=True)
    taken = desk.post_form("/staff/drafts/new", draft_form(slug="taken")).get_data(as_text=True)

    assert translated("The comment window must close after it opens.") in window
    assert translated("This URL name is already used by another draft.") in taken
    assert drafts_stored() == 1


# --- preview and publication ----------------------------------------------------------------


def test_the_preview_shows_the_structure_counts_and_the_parser_warnings(desk):
    desk.post_form("/staff/drafts/new", draft_form(text=GAP_TEXT))

    page = desk.get("/staff/drafts/test-rules").get_data(as_text=True)

    warnings = parse(GAP_TEXT).warnings
    assert [w.code for w in warnings] == ["numbering_gap"]
    with force_locale("zh"):
        article = str(KIND_LABELS["article"])
        expected = str(escape(display.parse_warning_text(warnings[0])))
    assert f"{article}: 3" in page
    assert expected in page
    assert "第四条" in expected
    assert translated("Line %(line)d", line=warnings[0].line) in page


def test_a_clean_text_shows_no_warnings(desk):
    desk.post_form("/staff/drafts/new", draft_form())

    page = desk.get("/staff/drafts/test-rules").get_data(as_text=True)

    assert translated("No numbering gaps, duplicates or unparsed lines.") in page
    with force_locale("zh"):
        counts = {str(KIND_LABELS[k]): n for k, n in (("chapter", 2), ("article", 3),
                                                         ("paragraph", 4), ("item", 2))}
    for label, count in counts.items():
        assert f"{label}: {count}" in page


def test_publishing_opens_the_draft_sets_published_at_and_is_audited(desk, client, staff,
                                                                      make_client):
    desk.post_form("/staff/drafts/new", draft_form())
    visitor = make_client()
    assert visitor.get("/drafts/test-rules").status_code == 404

    response = desk.post_form("/staff/drafts/test-rules/status",
                              {"status": "open", "reason": "常委会决定公开征求意见"})

    assert response.status_code == 302
    draft = services.draft_by_slug("test-rules")
    assert draft.status == "open"
    assert draft.published_at is not None
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "draft.status")).one()
    assert row.actor_id == staff.id
    assert row.details == {"before": "draft", "after": "open", "reason": "常委会决定公开征求意见"}
    assert visitor.get("/drafts/test-rules").status_code == 200


def test_an_invalid_transition_is_refused(desk):
    desk.post_form("/staff/drafts/new", draft_form())

    response = desk.post_form("/staff/drafts/test-rules/status", {"status": "adopted"})

    page = desk.get(response.headers["Location"]).get_data(as_text=True)
    assert translated("A draft cannot move from this status to that one.") in page
    draft = services.draft_by_slug("test-rules")
    assert (draft.status, draft.published_at) == ("draft", None)
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "draft.status")) == 0


# --- editing --------------------------------------------------------------------------------


def test_editing_replaces_the_text_while_unpublished(desk):
    desk.post_form("/staff/drafts/new", draft_form())
    form = desk.get("/staff/drafts/test-rules/edit").get_data(as_text=True)
    assert 'value="测试管理条例（征求意见稿）"' in form
    assert "居民\n物业服务" in form

    response = desk.post_form("/staff/drafts/test-rules/edit", draft_form(
        title="改过的标题", text=GAP_TEXT, regions="西湖区\n南山区"))

    assert response.status_code == 302
    draft = services.draft_by_slug("test-rules")
    assert draft.title == "改过的标题"
    assert draft.regions == ["西湖区", "南山区"]
    assert anchors(draft) == ["art-1", "art-1-p1", "art-2", "art-2-p1", "art-4", "art-4-p1"]
    assert [v.sequence for v in draft.versions] == [1]
    assert draft.current_version.source_text == GAP_TEXT


def test_editing_without_text_keeps_the_text(desk):
    desk.post_form("/staff/drafts/new", draft_form())
    before = anchors(services.draft_by_slug("test-rules"))

    desk.post_form("/staff/drafts/test-rules/edit", draft_form(text="", summary="新的摘要"))

    draft = services.draft_by_slug("test-rules")
    assert draft.summary == "新的摘要"
    assert anchors(draft) == before


def test_a_published_drafts_text_cannot_be_replaced(desk, make_draft):
    draft = make_draft(slug="published-one")
    before = anchors(draft)
    form = desk.get("/staff/drafts/published-one/edit").get_data(as_text=True)
    assert 'name="text"' not in form

    response = desk.post_form("/staff/drafts/published-one/edit",
                              draft_form(slug="published-one", text=GAP_TEXT))

    assert response.status_code == 200
    assert translated("A published draft's text cannot be replaced; add a new version.") in (
        response.get_data(as_text=True))
    assert anchors(services.draft_by_slug("published-one")) == before


# --- export ---------------------------------------------------------------------------------


def test_the_csv_export_holds_the_comments_defused_and_is_audited(desk, staff, make_draft,
                                                                   make_comment):
    draft = make_draft(slug="exported")
    make_comment(draft, "art-6", "=1+1", region='=HYPERLINK("http://evil.example")',
                 sector="+居民", proposed_wording="+SUM(A1)")
    make_comment(draft, None, "普通意见，含逗号，\n和换行", status="pending")
    make_comment(draft, "art-8-p1-i1", "@cmd", status="rejected", reason="-广告")

    response = desk.get("/staff/drafts/exported/comments.csv")

    raw = response.get_data()
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "exported-comments.csv" in response.headers["Content-Disposition"]
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["id", "created_at_utc", "status", "clause", "stance", "body",
                       "proposed_wording", "author", "region", "sector", "age_band",
                       "support_count", "moderation_reason"]
    body = {row[5]: row for row in rows[1:]}
    assert set(body) == {"'=1+1", "普通意见，含逗号，\n和换行", "'@cmd"}
    assert body["'=1+1"][6] == "'+SUM(A1)"
    assert body["'=1+1"][3] == "第六条"
    assert body["'=1+1"][8:10] == ["'=HYPERLINK(\"http://evil.example\")", "'+居民"]
    assert body["'@cmd"][2] == "rejected" and body["'@cmd"][12] == "'-广告"
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "comments.export")).one()
    assert (row.actor_id, row.object_id, row.details) == (staff.id, draft.id, {"format": "csv"})


@pytest.mark.parametrize("comments", [4, 5])
def test_the_export_reads_in_batches_and_holds_every_comment_once(desk, make_draft,
                                                                 make_comment, monkeypatch,
                                                                 comments):
    from drafts import routes

    monkeypatch.setattr(routes, "EXPORT_BATCH", 2)
    draft = make_draft(slug="batched")
    made = [make_comment(draft, "art-6", f"意见{n}") for n in range(comments)]

    raw = desk.get("/staff/drafts/batched/comments.csv").get_data().decode("utf-8-sig")

    rows = list(csv.reader(io.StringIO(raw)))
    assert [int(row[0]) for row in rows[1:]] == [c.id for c in made]
