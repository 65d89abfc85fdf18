"""Charts on the draft's pages: where comments concentrate (per chapter, per article) on the
public statistics page, and opinions by source, stance and disposition on the staff workspace
and the public feedback page; each chart with its numbers as a table."""

from __future__ import annotations

import pytest
from opinion_helpers import make_scene
from support import chart_bars


@pytest.fixture
def scene(make_draft, make_user, make_comment):
    return make_scene(make_draft, make_user, make_comment)


def chart_named(page: str, caption: str) -> list[tuple[str, list[int]]]:
    found = [rows for name, rows in chart_bars(page).items() if name.startswith(caption + ". ")]
    assert len(found) == 1, list(chart_bars(page))
    return found[0]


def test_the_statistics_page_charts_comments_per_chapter_and_article(make_draft, make_comment,
                                                                    client):
    draft = make_draft()
    for anchor in ("art-6", "art-6", "art-7-p2", "art-11-p1-i2"):
        make_comment(draft, anchor)
    make_comment(draft, "art-12", status="hidden")  # not published: not counted
    page = client.get(f"/drafts/{draft.slug}/statistics?lang=en").get_data(as_text=True)

    chapters = chart_named(page, "Comments by chapter")
    assert [label.split()[0] for label, _v in chapters][:3] == ["第一章", "第二章", "第三章"]
    assert dict((label.split()[0], v) for label, v in chapters)["第二章"] == [3]
    assert sum(v[0] for _label, v in chapters) == 4
    assert chart_named(page, "The most-commented articles") == [
        ("第六条", [2]), ("第七条", [1]), ("第十一条", [1])]
    assert "The figures as a table" in page
    assert '<th scope="row">第六条</th><td>2</td>' in page


def test_comments_on_the_earlier_wording_are_a_second_bar(scene, client):
    page = client.get(f"/drafts/{scene.draft.slug}/statistics?lang=en").get_data(as_text=True)
    articles = dict(chart_named(page, "The most-commented articles"))
    assert articles["第六条"] == [0, 1]  # made on the first text, shown with its successor
    assert "On the earlier wording" in page


def test_the_draft_page_links_to_its_charts(make_draft, client):
    draft = make_draft()
    page = client.get(f"/drafts/{draft.slug}?lang=en").get_data(as_text=True)
    assert f'href="/drafts/{draft.slug}/statistics"' in page


def test_the_workspace_and_the_feedback_page_chart_source_stance_and_disposition(scene, client):
    scene.decide(["charging"], "adopted", "", "art-6")
    scene.decide(["letter"], "not_adopted", "属于价格管理事项。")
    client.login(scene.staff)
    for url in (f"/staff/drafts/{scene.draft.slug}/opinions?lang=en",
                f"/drafts/{scene.draft.slug}/feedback?lang=en"):
        page = client.get(url).get_data(as_text=True)
        assert chart_named(page, "Opinions by source") == [("Online comment", [4]),
                                                           ("Letter", [1])], url
        assert dict(chart_named(page, "Opinions by stance")) == {"Support": [2],
                                                                 "Suggest a change": [3]}, url
        assert dict(chart_named(page, "Opinions by disposition")) == {
            "Adopted in full": [1], "Not adopted": [1], "Not yet decided": [3]}, url


def test_the_statistics_page_of_an_unpublished_draft_is_not_found(make_draft, client):
    draft = make_draft(status="draft")
    assert client.get(f"/drafts/{draft.slug}/statistics").status_code == 404
