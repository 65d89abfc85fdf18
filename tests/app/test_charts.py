"""Bar charts drawn on the server: bars proportional to the values, a name that reads out every
value, labels shortened to fit, the same charts in pages and PDFs."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale
from support import chart_bars

from app.charts import PRINT, SCREEN, Chart, fit


@pytest.fixture(autouse=True)
def english(app):
    """Read the charts' sentences in English (the default language is Chinese)."""
    with app.test_request_context("/"), force_locale("en"):
        yield


def test_the_sentence_is_chinese_in_the_chinese_ui(app):
    chart = Chart("按意见倾向统计意见", [("支持", 8, None), ("反对", 4, None)])
    with force_locale("zh"):
        assert chart.description() == "按意见倾向统计意见。支持：8；反对：4。"


def widths(svg: str) -> list[float]:
    return [float(w) for w in re.findall(r'<rect class="bar" [^>]*width="([\d.]+)"', svg)]


def test_one_bar_per_row_proportional_to_its_value(app):
    chart = Chart("按来源统计的意见", [("网上征求意见", 12, None), ("来信", 3, None),
                                       ("座谈会", 0, None)])
    svg = str(chart.svg())
    assert chart_bars(svg) == {chart.description(): [("网上征求意见", [12]), ("来信", [3]),
                                                     ("座谈会", [0])]}
    longest, short, empty = widths(svg)
    assert longest == SCREEN.width - SCREEN.label_width - 40
    assert abs(short - longest / 4) < 0.1
    assert empty < 1  # a hairline, so that the row still shows where the bar would be


def test_the_accessible_name_reads_out_every_value(app):
    chart = Chart("Opinions by stance", [("Support", 8, None), ("Oppose", 4, None)])
    assert chart.description() == "Opinions by stance. Support: 8; Oppose: 4."
    assert 'role="img"' in chart.svg()
    assert 'aria-label="Opinions by stance. Support: 8; Oppose: 4."' in chart.svg()


def test_two_series_draw_two_bars_a_legend_and_name_both(app):
    chart = Chart("Positions", [("Support", 5, 2), ("Oppose", 5, None)],
                  ("Registered", "Selected"))
    svg = str(chart.svg())
    assert chart_bars(svg)[chart.description()] == [("Support", [5, 2]), ("Oppose", [5, 0])]
    assert ">Registered</text>" in svg and ">Selected</text>" in svg
    assert "Support: Registered 5, Selected 2" in chart.description()
    first, second, third, _fourth = widths(svg)
    assert first == third and abs(second - first * 2 / 5) < 0.1


def test_labels_are_escaped_and_shortened_to_fit(app):
    chart = Chart("<caption>", [("第二章　停放场所和充电设施的规划与建设管理", 1, None),
                                ("A & B", 2, None)])
    svg = str(chart.svg(for_print=True))
    assert "<caption>" not in svg and "&lt;caption&gt;" in svg
    assert "A &amp; B" in svg
    (name, rows), = chart_bars(svg).items()
    assert name.startswith("<caption>. 第二章　停放场所和充电设施的规划与建设管理: 1")  # in full
    shown = rows[0][0]
    assert shown.endswith("…") and len(shown) < 20
    assert fit("第一章 总则", 150, 8) == "第一章 总则"
    assert f'font-size="{PRINT.font}"' in svg


def test_an_empty_chart_is_false(app):
    assert not Chart("Nothing")
    assert Chart("Something", [("a", 1, None)])
