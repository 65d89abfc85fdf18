"""The balanced selection: properties over random pools, and waitlist promotion in the service."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

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
    outcomes = {o.id: o for o in propose(pool, seats, 0)}
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
    assert outcomes[2].params == {"position": "support", "seats": 3, "order": 4}
    more = {o.id: o for o in propose(pool, 4, 0)}
    assert more[2].params["novelty"] == BY_ORDER
