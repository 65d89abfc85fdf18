"""The record and report PDFs: Chinese text that can be extracted, fonts embedded, caching."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader

from app.demo.live_notes import load_demo_notes
from app.extensions import db
from app.models import utcnow
from hearings import pdf, report


@pytest.fixture
def finished(app, make_hearing, make_speaker, make_user):
    hearing = make_hearing(starts_at=utcnow() - timedelta(days=20))
    make_speaker(hearing, "张明", "support", order=1, user=make_user("public"), sector="居民")
    make_speaker(hearing, "某物业公司", "oppose", order=2, kind="organisation",
                 representative="王经理", sector="物业服务")
    load_demo_notes(hearing, {}, notes_per_speaker=2)
    report.set_suggestion(hearing, hearing.recorder, hearing.questions[0].id,
                          "建议区分可拆卸电池和整车，分别作出规定。")
    db.session.commit()
    return hearing


def read(path) -> tuple[str, PdfReader]:
    reader = PdfReader(BytesIO(path.read_bytes()))
    return "\n".join(page.extract_text() for page in reader.pages), reader


def embedded_fonts(reader: PdfReader) -> set[str]:
    """Return the base names of the fonts whose glyphs are embedded in the file."""
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target["/FontDescriptor"].get_object()
            if any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
                names.add(str(target["/BaseFont"]))
    return names


def test_record_pdf_holds_the_chinese_record(app, finished):
    with app.test_request_context("/"):
        path = pdf.record_pdf(finished)
    text, reader = read(path)
    compact = text.replace(" ", "").replace("\n", "")
    assert "电动自行车充电安全管理立法听证会" in compact
    assert "主持人宣布听证会开始" in compact
    assert "某物业公司（王经理）" in compact
    assert "陈述人补正：比例不低于百分之三十" in compact
    assert "已按陈述人意见更正" in compact
    fonts = embedded_fonts(reader)
    assert any("Noto-Serif-CJK-SC" in name for name in fonts), fonts
    assert any("Noto-Sans-CJK-SC" in name for name in fonts), fonts


def test_report_pdf_holds_opinions_and_suggestions(app, finished):
    with app.test_request_context("/"):
        path = pdf.report_pdf(finished)
    text, _reader = read(path)
    compact = text.replace(" ", "").replace("\n", "")
    assert "高层住宅是否应当一律禁止电动自行车进户充电" in compact
    assert "张明就第1个听证事项的立场和理由" in compact
    assert "某物业公司（王经理）" in compact
    assert "建议区分可拆卸电池和整车，分别作出规定" in compact
    assert "市人大常委会法制工作委员会" in compact


def test_pdfs_are_made_again_only_when_the_content_changes(app, finished):
    with app.test_request_context("/"):
        first = pdf.report_pdf(finished)
        again = pdf.report_pdf(finished)
        report.set_suggestion(finished, finished.recorder, None, "建议尽快修改草案。")
        db.session.commit()
        changed = pdf.report_pdf(finished)
    assert again == first
    assert changed != first and changed.exists() and not first.exists()
    assert "建议尽快修改草案" in read(changed)[0]


def test_pdf_benchmark_runs_and_extracts_chinese(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "MINYI_BENCH_CACHE": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    process = subprocess.run(
        [sys.executable, "-m", "benchmarks", "hearing_pdfs", "--smoke", "--json"], cwd=repo,
        env=env, capture_output=True, text=True, timeout=300, check=False)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    figures = json.loads(process.stdout.strip().splitlines()[-1])
    assert figures["speakers"] == 3 and figures["notes"] == 1 + 3 * 2 + 2 + 2 + 1
    for name in ("record", "report"):
        assert figures[name]["chinese_text"] is True
        assert figures[name]["pages"] >= 1 and figures[name]["seconds"] > 0
