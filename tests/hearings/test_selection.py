"""The balanced selection: properties over random pools, and waitlist promotion in the service."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.mail import outbox_messages
from app.models import AuditLog, utcnow
from hearings import services
from hearings.models import SpeakerPosition, SpeakerRegistration
from hearings.selection import (
    BY_ORDER,
    NEW_REGION,
    NEW_SECTOR,
    NOT_SELECTED,
    SELECTED,
    WAITLISTED,
    Candidate,
    propose,
)

T0 = datetime(2026, 3, 1, 8, 0)
POSITIONS = ["support", "oppose", "other"]


@st.composite
def pools(draw):
    """A pool of registrants with random positions, sectors, regions and registration times."""
    size = draw(st.integers(min_value=0, max_value=60))
    positions = draw(st.lists(st.sampled_from(POSITIONS), min_size=size, max_size=size))
    sectors = draw(st.lists(st.sampled_from(["居民", "物业", "消防", "律师", ""]),
                            min_size=size, max_size=size))
    regions = draw(st.lists(st.sampled_from(["东城", "西湖", "南山"]), min_size=size,
                            max_size=size))
    # few distinct minutes, so equal registration times (ties) are common
    minutes = draw(st.lists(st.integers(0, 5), min_size=size, max_size=size))
    ids = draw(st.permutations(range(1, size + 1)))
    return [Candidate(ids[i], T0 + timedelta(minutes=minutes[i]), positions[i], sectors[i],
                      regions[i]) for i in range(size)]


@settings(max_examples=300, deadline=None)
@given(pool=pools(), seats=st.integers(0, 30), waitlist=st.integers(0, 10),
       seed=st.integers(0, 2**32 - 1))
def test_proposal_is_balanced_bounded_deterministic_and_explained(pool, seats, waitlist, seed):
    outcomes = propose(pool, seats, waitlist)
    by_id = {o.id: o for o in outcomes}
    # every registrant gets exactly one outcome with a reason
    assert sorted(by_id) == sorted(c.id for c in pool)
    assert all(o.reason in (SELECTED, WAITLISTED, NOT_SELECTED) and o.params for o in outcomes)
    selected = [c for c in pool if by_id[c.id].status == SELECTED]
    waitlisted = [o for o in outcomes if o.status == WAITLISTED]
    # never more than the seats; the seats are filled when the pool allows
    assert len(selected) == min(seats, len(pool))
    assert len(waitlisted) == min(waitlist, max(0, len(pool) - seats))
    assert sorted(o.waitlist_position for o in waitlisted) == list(range(1, len(waitlisted) + 1))
    # position counts differ by at most one, unless the smaller position has run out
    chosen = Counter(c.position for c in selected)
    available = Counter(c.position for c in pool)
    for a in available:
        for b in available:
            if chosen[a] < chosen[b] - 1:
                assert chosen[a] == available[a], (chosen, available)
    # the same input in another order gives the same output
    shuffled = list(pool)
    random.Random(seed).shuffle(shuffled)
    assert propose(shuffled, seats, waitlist) == outcomes


@settings(max_examples=100, deadline=None)
@given(pool=pools(), seats=st.integers(1, 20))
def test_within_a_position_and_a_sector_region_pair_earlier_registration_goes_first(pool, seats):
    outcomes = {o.id: o for o in propose(pool, seats, len(pool))}
    groups: dict[tuple, list[Candidate]] = {}
    for c in pool:
        groups.setdefault((c.position, c.sector, c.region), []).append(c)
    for members in groups.values():
        members.sort(key=lambda c: (c.registered_at, c.id))
        orders = [outcomes[c.id].order for c in members]
        assert orders == sorted(orders)


def test_registration_order_breaks_ties_when_everything_else_is_equal():
    pool = [Candidate(i, T0 + timedelta(minutes=10 - i), "oppose", "居民", "东城")
            for i in range(1, 8)]
    pool.append(Candidate(20, T0 + timedelta(minutes=3), "oppose", "居民", "东城"))
    outcomes = propose(pool, 3, 2)
    selected = [o.id for o in outcomes if o.status == SELECTED]
    # id 7 registered at minute 3, as did id 20: the lower id comes first
    assert selected == [7, 20, 6]
    assert [o.id for o in outcomes if o.status == WAITLISTED] == [5, 4]


def test_a_short_position_gives_its_seats_to_the_others_evenly():
    pool = [Candidate(i, T0 + timedelta(minutes=i), "support") for i in range(1, 11)]
    pool += [Candidate(100 + i, T0 + timedelta(minutes=i), "oppose") for i in range(1, 11)]
    pool += [Candidate(200, T0, "other")]
    chosen = Counter(o.params["position"] for o in propose(pool, 8, 0) if o.status == SELECTED)
    assert chosen == {"support": 4, "oppose": 3, "other": 1} or chosen == {
        "support": 3, "oppose": 4, "other": 1}


def test_breadth_prefers_unrepresented_sectors_then_regions_and_says_so():
    pool = [
        Candidate(1, T0, "support", "居民", "东城"),
        Candidate(2, T0 + timedelta(minutes=1), "support", "居民", "东城"),
        Candidate(3, T0 + timedelta(minutes=2), "support", "居民", "西湖"),
        Candidate(4, T0 + timedelta(minutes=3), "support", "物业", "东城"),
    ]
    outcomes = {o.id: o for o in propose(pool, 3, 0)}
    assert [outcomes[i].status for i in (1, 2, 3, 4)] == [SELECTED, NOT_SELECTED, SELECTED,
                                                          SELECTED]
    assert outcomes[1].params["novelty"] == NEW_SECTOR
    assert outcomes[4].params["novelty"] == NEW_SECTOR
    assert outcomes[3].params["novelty"] == NEW_REGION
    assert outcomes[3].params["rank"] == 3 and outcomes[3].params["seats"] == 3
    assert outcomes[2].params == {"position": "support", "seats": 3}
    assert outcomes[2].order is None
    more = {o.id: o for o in propose(pool, 4, 0)}
    assert more[2].params["novelty"] == BY_ORDER


# --- the selection pages and service ------------------------------------------------------

STANCES = ["support", "oppose", "support", "other", "oppose", "support", "support", "oppose"]
SECTORS = ["居民", "物业服务", "居民", "消防", "律师", "物业服务", "居民", "居民"]


@pytest.fixture
def pool(make_hearing, make_user):
    """An announced hearing with eight registrants of varied positions, sectors and regions."""
    start = utcnow() + timedelta(days=30)
    hearing = make_hearing(starts_at=start, ends_at=start + timedelta(hours=3),
                           notice_published_at=utcnow(), speaker_seats=6)
    for index, (stance, sector) in enumerate(zip(STANCES, SECTORS, strict=True)):
        user = make_user("public")
        registration = SpeakerRegistration(
            hearing_id=hearing.id, user_id=user.id, name=f"陈述人{index}", sector=sector,
            region=["东城区", "西湖区"][index % 2], email=f"r{index}@example.org",
            key_points="要点", created_at=utcnow() - timedelta(hours=10 - index))
        registration.positions = [SpeakerPosition(question_id=q.id, stance=stance)
                                  for q in hearing.questions]
        db.session.add(registration)
    db.session.commit()
    return hearing


@pytest.fixture
def staff_browser(client, make_user):
    client.staff = make_user("staff")
    client.login(client.staff)
    return client


def test_propose_adjust_confirm_and_notify_through_the_pages(staff_browser, pool):
    slug = pool.slug
    listing = staff_browser.get(f"/staff/hearings/{slug}/registrations?lang=en")
    assert "Propose a balanced selection" in listing.get_data(as_text=True)
    staff_browser.post_form(f"/staff/hearings/{slug}/invited", {
        "kind": "person", "name": "王教授", "is_expert": "y", "sector": "高校",
        "stance": "", "key_points": "消防技术标准"})
    assert services.default_seats(pool) == 5
    staff_browser.post_form(f"/staff/hearings/{slug}/selection/propose",
                            {"seats": "5", "waitlist": "2"})
    regs = services.registrations(pool)
    chosen = Counter(services.stance_on(r, services.main_question(pool)) for r in regs
                     if r.status == "selected" and not r.invited)
    assert chosen == {"support": 2, "oppose": 2, "other": 1}
    assert Counter(r.status for r in regs) == {"selected": 6, "waitlisted": 2, "not_selected": 1}
    page = staff_browser.get(f"/staff/hearings/{slug}/registrations?lang=en").get_data(
        as_text=True)
    assert "selected: no. 1 of 2 for “Support”; the first from the sector “居民”" in page
    assert "waitlisted: the 2 seats for" in page and "waitlist no. 1" in page
    assert "invited directly by the hearing body" in page
    # filters and counts
    filtered = staff_browser.get(f"/staff/hearings/{slug}/registrations?position=oppose"
                                 "&lang=en").get_data(as_text=True)
    assert "3 registrations shown." in filtered
    # move a waitlisted registrant in by hand
    waiting = next(r for r in regs if r.waitlist_position == 1)
    staff_browser.post_form(f"/staff/hearings/{slug}/registrations/{waiting.id}/move",
                            {"status": "selected"})
    moved = db.session.get(type(waiting), waiting.id)
    assert moved.status == "selected" and moved.selected_by_hand
    assert moved.selection_reason == "moved_in"
    assert [r.waitlist_position for r in services.registrations(pool)
            if r.status == "waitlisted"] == [1]
    # confirm: the running order puts the interested parties first, the expert last
    staff_browser.post_form(f"/staff/hearings/{slug}/steps/selection")
    order = services.running_order(pool)
    assert [r.is_expert for r in order] == [False] * 6 + [True]
    assert [r.speaking_order for r in order] == list(range(1, 8))
    assert all(r.speaking_minutes == pool.minutes_per_speaker for r in order)
    # proposing again is refused once confirmed
    staff_browser.post_form(f"/staff/hearings/{slug}/selection/propose",
                            {"seats": "3", "waitlist": "0"})
    assert sum(r.status == "selected" for r in services.registrations(pool)) == 7
    # one batch of e-mails to every registrant with an address, then nothing new to send
    staff_browser.post_form(f"/staff/hearings/{slug}/steps/speaker_notice")
    subjects = [m["Subject"] for m in outbox_messages()]
    assert len(subjects) == 8
    staff_browser.post_form(f"/staff/hearings/{slug}/steps/speaker_notice")
    assert len(outbox_messages()) == 8
    assert db.session.query(AuditLog).filter_by(action="hearing.selection_propose").count() == 1


def test_running_order_and_minutes_can_be_edited(staff_browser, pool):
    services.propose_selection(pool, 3, 0, user=staff_browser.staff)
    services.take_step(pool, "selection", user=staff_browser.staff)
    db.session.commit()
    speakers = services.running_order(pool)
    data = {}
    for index, speaker in enumerate(reversed(speakers)):
        data[f"speakers-{index}-registration_id"] = str(speaker.id)
        data[f"speakers-{index}-place"] = str(index + 1)
        data[f"speakers-{index}-minutes"] = "10"
    response = staff_browser.post_form(f"/staff/hearings/{pool.slug}/order", data)
    assert response.status_code == 302
    assert [s.id for s in services.running_order(pool)] == [s.id for s in reversed(speakers)]
    assert {s.speaking_minutes for s in services.running_order(pool)} == {10}
    data["speakers-1-place"] = "1"
    assert staff_browser.post_form(f"/staff/hearings/{pool.slug}/order", data).status_code == 200


def test_a_late_registrant_joins_the_end_of_the_waitlist(client, make_user, pool):
    staff = make_user("staff")
    services.propose_selection(pool, 4, 2, user=staff)
    services.take_step(pool, "selection", user=staff)
    db.session.commit()
    late = make_user("public")
    registration, _mails = services.register_speaker(pool, late, services.RegistrationInput(
        name="晚到者", phone="123", key_points="要点", sector="居民", region="东城区",
        positions=[services.PositionInput(q.id, "oppose") for q in pool.questions]))
    assert (registration.status, registration.waitlist_position) == ("waitlisted", 3)
    assert registration.selection_reason == "late"
    assert services.edit_refusal(registration) is not None
    assert services.withdraw_refusal(registration) is None
