"""The comparison exports read back: the PDF's text with pypdf, the .docx table with python-docx."""

from __future__ import annotations

from io import BytesIO

import pytest
from docx import Document
from docx.enum.text import WD_UNDERLINE
from pypdf import PdfReader
from support import REPO

from app.extensions import db
from drafts import exports, versions

SECOND = (REPO / "app" / "demo" / "draft_v2.txt").read_text(encoding="utf-8")


@pytest.fixture
def compared(make_draft, make_user):
    draft = make_draft()
    first = draft.current_version
    second = versions.add_version(draft, SECOND, label="二审稿", user=make_user("staff"))
    db.session.commit()
    return draft, first, second, versions.compare(first, second)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(BytesIO(data))
    return "".join("".join(page.extract_text() for page in reader.pages).split())


def test_the_pdf_holds_the_article_labels_and_the_changed_words(app, compared):
    draft, first, second, result = compared
    with app.test_request_context("/?lang=en"):
        path = exports.comparison_pdf(draft, first, second, result, only_changed=True)
        again = exports.comparison_pdf(draft, first, second, result, only_changed=True)
        everything = exports.comparison_pdf(draft, first, second, result, only_changed=False)
    assert again == path and everything != path and path.exists() and everything.exists()

    text = pdf_text(path.read_bytes())
    assert "Beforeamendment" in text and "Afteramendment" in text
    # 第六条 with its old and new wording; the inserted 第四条; the deleted 第十四条.
    assert "按照不低于规划户数的比例" in text and "按照不低于规划户数百分之三十的比例" in text
    assert "具体比例由市人民政府规定" in text
    assert "第四条各级人民政府和有关部门应当加强电动自行车消防安全宣传教育" in text
    assert "第十四条电梯使用管理单位可以在电梯内安装电动自行车阻车装置" in text
    assert "第五条住房城乡建设部门" in text and "第十七条住房城乡建设部门" in text
    assert "第一条为了规范" not in text  # unchanged articles are left out
    assert "第一条为了规范" in pdf_text(everything.read_bytes())
    assert "[inserted:" not in text  # screen-reader words are not printed


def test_the_docx_is_a_real_table_with_the_changes_marked(app, compared):
    draft, first, second, result = compared
    with app.test_request_context("/?lang=en"):
        data = exports.comparison_docx(draft, first, second, result, only_changed=False)
    document = Document(data)

    (table,) = document.tables
    assert [c.text for c in table.rows[0].cells] == ["Before amendment", "After amendment",
                                                     "Change"]
    rows = [[c.text for c in row.cells] for row in table.rows[1:]]
    assert len(rows) == len(result.rows) == 22
    assert rows[0][0].startswith("第一条") and rows[0][2] == "Unchanged"
    assert rows[3] == ["—", rows[3][1], "Inserted"] and rows[3][1].startswith("第四条")
    assert rows[4][0].startswith("第四条") and rows[4][1].startswith("第五条")
    split = next(r for r in rows if r[2] == "Split")
    assert split[0].startswith("第十二条") and "第十三条" in split[1]

    six = table.rows[6].cells  # the header, then 第一条 … 第五条 (a new 第四条 in between)
    assert six[0].text.startswith("第六条") and six[2].text == "Modified"
    inserted = [r.text for p in six[1].paragraphs for r in p.runs if r.bold and r.underline]
    deleted = [r.text for p in six[0].paragraphs for r in p.runs if r.bold and r.font.strike]
    assert inserted == ["百分之三十"] and deleted == ["具体比例由市人民政府规定。"]
    assert not [r for p in six[1].paragraphs for r in p.runs if r.font.strike]

    # 二审稿 第二十条 changed a reference: the change is named in the last column.
    twenty = next(r for r in rows if r[1].startswith("第二十条"))
    assert "第十二条第一款 → 第十二条" in twenty[2]


def test_a_renumbered_reference_is_underlined_with_dots(app, make_draft, make_user):
    old = "测试条例\n\n第一条　本条例适用于本市。\n\n第二条　违反本条例第一条规定的，予以警告。\n"
    new = ("测试条例\n\n第一条　本市鼓励绿色出行。\n\n第二条　本条例适用于本市。\n\n"
           "第三条　违反本条例第二条规定的，予以警告。\n")
    draft = make_draft(text=old)
    first = draft.current_version
    second = versions.add_version(draft, new, label="二审稿", user=make_user("staff"))
    db.session.commit()
    with app.test_request_context("/?lang=en"):
        data = exports.comparison_docx(draft, first, second, versions.compare(first, second),
                                       only_changed=False)
    table = Document(data).tables[0]
    last = table.rows[-1].cells
    dotted = [r.text for r in last[1].paragraphs[0].runs if r.underline == WD_UNDERLINE.DOTTED]
    assert dotted == ["第二条"] and last[2].text == "Renumbered"


def test_the_downloads(client, compared):
    draft = compared[0]
    with client.get(f"/drafts/{draft.slug}/compare.pdf?from=1&to=2&changed=1") as pdf:
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        assert "百分之三十" in pdf_text(pdf.data)
        assert pdf.headers["Content-Disposition"].endswith(f"{draft.slug}-v1-v2.pdf")
    docx = client.get(f"/drafts/{draft.slug}/compare.docx?from=1&to=2&changed=1")
    assert docx.status_code == 200
    assert docx.headers["Content-Disposition"].endswith(f"{draft.slug}-v1-v2.docx")
    assert len(Document(BytesIO(docx.data)).tables[0].rows) == 1 + 11
