"""The comparison of two versions as a PDF and as a Word table (修改前后对照表) that staff can
attach to a bill: 修改前 | 修改后 columns, inserted words bold and underlined, deleted words
bold and struck through."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from flask_babel import gettext as _

from app.pdf import cached_pdf, render_html
from drafts.comparison import Block, Comparison, Row
from drafts.models import Draft, DraftVersion
from drafts.version_forms import CHANGE_LABELS

#: East Asian and Latin fonts of the Word document, present on any Chinese Office install
DOCX_FONTS = ("SimSun", "Times New Roman")
#: widths of the before, after and change columns, in centimetres (A4 portrait)
DOCX_COLUMNS = (7.2, 7.2, 2.6)


def _title(draft: Draft) -> str:
    return _("%(title)s: comparison of versions", title=draft.title)


def _version_name(version: DraftVersion) -> str:
    return f"{version.sequence}. {version.label}"


def _rows(result: Comparison, only_changed: bool) -> list[Row]:
    return result.changed_rows if only_changed else result.rows


def comparison_html(draft: Draft, old: DraftVersion, new: DraftVersion, result: Comparison,
                    *, only_changed: bool) -> str:
    """Render the comparison as the HTML the PDF is laid out from."""
    return render_html("pdf/comparison.html", title=_title(draft), old_label=_version_name(old),
                       new_label=_version_name(new), comparison=result,
                       rows=_rows(result, only_changed), status_labels=CHANGE_LABELS,
                       language="en" if new.language == "en" else "zh-Hans",
                       only_changed=only_changed)


def comparison_pdf(draft: Draft, old: DraftVersion, new: DraftVersion, result: Comparison,
                   *, only_changed: bool) -> Path:
    """Return the comparison as a PDF file, laid out again only when its content changed."""
    scope = "changed" if only_changed else "all"
    name = f"draft-{draft.id}-compare-{scope}-{old.id}-{new.id}"
    return cached_pdf(name, comparison_html(draft, old, new, result, only_changed=only_changed))


def comparison_docx(draft: Draft, old: DraftVersion, new: DraftVersion, result: Comparison,
                    *, only_changed: bool) -> BytesIO:
    """Return the comparison as a .docx document holding one real table."""
    from docx import Document  # imported late: only exports need it
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = DOCX_FONTS[1]
    normal.font.size = Pt(10.5)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), DOCX_FONTS[0])
    document.add_heading(_title(draft), level=1)
    document.add_paragraph(_("%(old)s → %(new)s", old=_version_name(old),
                             new=_version_name(new)))
    counts = "；".join(f"{CHANGE_LABELS[status]} {n}" for status, n in result.counts.items() if n)
    document.add_paragraph(counts)
    document.add_paragraph(_("Underlined bold text was inserted; struck-through text was "
                             "deleted. A dotted line marks a cross-reference renumbered along "
                             "with the articles."))

    table = document.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    header = table.rows[0]
    # Repeat the header row on every page, as a printed 对照表 does.
    header._tr.get_or_add_trPr().append(header._tr.makeelement(qn("w:tblHeader"), {}))
    for cell, text in zip(header.cells, (_("Before amendment"), _("After amendment"),
                                         _("Change")), strict=True):
        cell.paragraphs[0].add_run(text).bold = True
    for row in _rows(result, only_changed):
        cells = table.add_row().cells
        _fill(cells[0], row.old)
        _fill(cells[1], row.new)
        cells[2].paragraphs[0].add_run(str(CHANGE_LABELS[row.status]))
        for change in row.pair.ref_changes:
            if change.kind != "renumbered":
                cells[2].add_paragraph(f"{change.old} → {change.new} "
                                       f"({_('expected %(ref)s', ref=change.expected)})")
    for table_row in table.rows:
        for cell, width in zip(table_row.cells, DOCX_COLUMNS, strict=True):
            cell.width = Cm(width)
    buffer = BytesIO()
    document.save(buffer)
    buffer.seek(0)
    return buffer


def _fill(cell, blocks: list[Block]) -> None:
    """Write one side of a row into a table cell: a paragraph per line, changes marked."""
    from docx.enum.text import WD_UNDERLINE

    paragraph = cell.paragraphs[0]
    first = True
    for block in blocks:
        for k, line in enumerate(block.lines or [[]]):
            if not first:
                paragraph = cell.add_paragraph()
            first = False
            if k == 0:
                paragraph.add_run(block.label + "　").bold = True
            for segment in line:
                run = paragraph.add_run(segment.text)
                if segment.kind == "insert":
                    run.bold = True
                    run.underline = True
                elif segment.kind == "delete":
                    run.bold = True
                    run.font.strike = True
                elif segment.kind == "renumbered":
                    run.underline = WD_UNDERLINE.DOTTED
    if first:  # an empty side: nothing before an insertion, nothing after a deletion
        paragraph.add_run("—")
