"""The record and the report of a hearing as PDF files."""

from __future__ import annotations

from pathlib import Path

from app.pdf import cached_pdf, render_html
from hearings import live, record, report
from hearings.models import Hearing


def record_html(hearing: Hearing) -> str:
    """Render the record (听证记录) as HTML for the PDF."""
    notes = record.record_notes(hearing)
    return render_html(
        "pdf/hearing_record.html", hearing=hearing, sections=record.record_sections(notes),
        speakers=live.running_order(hearing), signoffs=record.signoffs(hearing),
        corrections=[c for c in record.corrections(hearing) if c.status != "pending"],
        review_closes_at=record.review_closes_at(hearing))


def report_html(hearing: Hearing) -> str:
    """Render the report (听证报告) as HTML for the PDF."""
    return render_html("pdf/hearing_report.html", hearing=hearing,
                       report=report.build_report(hearing),
                       position_labels=report.POSITION_LABELS,
                       stance_counts=report.stance_counts)


def record_pdf(hearing: Hearing) -> Path:
    """Return the record as a PDF file, made again only when its content changed."""
    return cached_pdf(f"hearing-{hearing.id}-record", record_html(hearing))


def report_pdf(hearing: Hearing) -> Path:
    """Return the report as a PDF file, made again only when its content changed."""
    return cached_pdf(f"hearing-{hearing.id}-report", report_html(hearing))
