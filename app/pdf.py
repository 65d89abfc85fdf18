"""PDF rendering shared by every module: HTML templates through WeasyPrint, with the Noto CJK
fonts embedded (subsetted) so Chinese text prints on any reader, and a cache keyed by content."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

from flask import current_app, render_template

# WeasyPrint logs every page it lays out at INFO; only its warnings are worth keeping.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

#: page set-up and fonts every PDF shares; templates add their own rules on top
BASE_CSS = """
@page {
  size: A4;
  margin: 25mm 22mm 22mm 22mm;
  @bottom-center { content: counter(page) " / " counter(pages); font-size: 9pt; color: #555; }
}
html { font-family: "Noto Serif CJK SC", "Noto Serif", serif; font-size: 11pt; line-height: 1.6; }
h1, h2, h3, h4, th, .sans { font-family: "Noto Sans CJK SC", "Noto Sans", sans-serif; }
h1 { font-size: 18pt; text-align: center; margin: 0 0 4mm; }
h2 { font-size: 14pt; margin: 8mm 0 3mm; break-after: avoid; }
h3 { font-size: 12pt; margin: 5mm 0 2mm; break-after: avoid; }
p { margin: 0 0 2mm; text-align: justify; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 0.5pt solid #888; padding: 1.5mm 2mm; vertical-align: top; text-align: left; }
.meta { color: #444; font-size: 10pt; }
"""


def render_html(template: str, **context: object) -> str:
    """Render a PDF template to HTML."""
    return render_template(template, **context)


def html_to_pdf(html: str) -> bytes:
    """Lay out HTML as a PDF with the shared stylesheet."""
    from weasyprint import CSS, HTML  # imported late: loading Pango takes a while

    return HTML(string=html, base_url=current_app.static_folder).write_pdf(
        stylesheets=[CSS(string=BASE_CSS)])


def cached_pdf(name: str, html: str) -> Path:
    """Return a PDF of the HTML, laid out once per distinct content and kept in the data
    folder; the key is the HTML itself, so any change to what the PDF shows makes a new one."""
    digest = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32]
    folder = Path(current_app.config["GENERATED_DIR"]) / "pdf"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{digest}.pdf"
    if not path.exists():
        data = html_to_pdf(html)
        # Write beside the target and rename, so a concurrent reader never sees half a file.
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
        for older in folder.glob(f"{name}-*.pdf"):
            if older != path:
                older.unlink(missing_ok=True)
    return path
