"""The selection page charts the registrants' positions on each question of the hearing:
registered beside selected, per position, with the numbers as a table."""

from __future__ import annotations

from support import chart_bars

from app.extensions import db


def test_positions_on_each_question_registered_and_selected(make_hearing, make_speaker,
                                                            make_user, client):
    hearing = make_hearing()
    make_speaker(hearing, "甲", "support")
    waiting = make_speaker(hearing, "乙", "oppose")
    make_speaker(hearing, "丙", "oppose")
    other = make_speaker(hearing, "丁", "other")
    waiting.status, other.status = "registered", "waitlisted"
    db.session.delete(other.positions[1])  # nothing said on the second question
    db.session.commit()
    client.login(make_user("staff"))
    page = client.get(f"/staff/hearings/{hearing.slug}/registrations?lang=en").get_data(
        as_text=True)

    charts = {name.split(". ")[0]: rows for name, rows in chart_bars(page).items()}
    first, second = (f"Question {n}: {q.text}" for n, q in enumerate(hearing.questions, 1))
    assert charts[first] == [("Support", [1, 1]), ("Oppose", [2, 1]), ("Other", [1, 0])]
    assert charts[second] == [("Support", [1, 1]), ("Oppose", [2, 1]), ("Other", [0, 0]),
                              ("no position stated", [1, 0])]
    assert "Support: Registered 1, Selected 1" in next(iter(chart_bars(page)))
    assert "The figures as a table" in page
