"""The text quoted for a clause is the clause and everything under it, nothing after it."""

from __future__ import annotations

from drafts import services


def quoted(draft, anchor: str) -> list[str]:
    clause = services.clause_by_anchor(draft.current_version, anchor)
    return services.unit_text(clause).split("\n")


def test_an_article_quotes_its_paragraphs_and_items_and_stops_before_the_next(make_draft):
    draft = make_draft()
    lines = quoted(draft, "art-8")
    assert lines[0] == "充电设施应当具备下列功能："
    assert lines[1:5] == ["（一）充满自动断电；", "（二）过载和短路保护；", "（三）漏电保护；",
                          "（四）故障报警。"]
    assert lines[5].startswith("鼓励充电设施接入智能监控平台")
    assert len(lines) == 6


def test_an_item_quotes_itself_and_the_last_chapter_reaches_the_end(make_draft):
    draft = make_draft()
    assert quoted(draft, "art-8-p1-i2") == ["（二）过载和短路保护；"]
    last = ["本条例自　　年　　月　　日起施行。"]
    assert quoted(draft, "ch-6") == quoted(draft, "art-21") == last
    assert quoted(draft, "ch-5")[-1].startswith("有关部门及其工作人员")
