"""The balanced choice of speakers: a pure function over plain data.

The rules (第十二条, 第十三条) ask for roughly equal numbers of speakers for each position, for
breadth by sector and region, and for registration order. `propose` ranks every registrant:

1. Each turn goes to the position with the fewest speakers ranked so far among the positions
   that still have registrants; so counts never differ by more than one, and a position that
   runs short leaves its seats to the others, shared as evenly as possible.
2. Within the position, the registrant whose sector, then region, is least represented among
   everyone ranked so far comes first (a round-robin over sectors, then regions).
3. Remaining ties, including between positions, go to the earlier registration (then the
   lower id), so the result is deterministic and does not depend on the input order.

The first `seats` of the ranking are selected, the next `waitlist` are waitlisted in ranking
order (which continues the balance), the rest are not selected (and not ranked further, which
keeps a pool of thousands cheap). Each outcome carries a reason
code and parameters that the interface turns into a sentence in the reader's language.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

#: reason codes set by `propose`
SELECTED, WAITLISTED, NOT_SELECTED = "selected", "waitlisted", "not_selected"
#: why a selected registrant came first within their position
NEW_SECTOR, NEW_REGION, BY_ORDER = "sector", "region", "order"


@dataclass(frozen=True)
class Candidate:
    """A registrant as the selection sees them."""

    id: int
    registered_at: datetime
    #: the position on the main question
    position: str
    sector: str = ""
    region: str = ""

    @property
    def order_key(self) -> tuple[datetime, int]:
        return self.registered_at, self.id


@dataclass(frozen=True)
class Outcome:
    """What the proposal does with one registrant, and why."""

    id: int
    #: SELECTED, WAITLISTED or NOT_SELECTED
    status: str
    #: place in the ranking, 1 first; None for those not selected (the ranking stops there)
    order: int | None
    waitlist_position: int | None
    #: the reason code (equal to the status) and its parameters
    reason: str
    params: dict = field(default_factory=dict)


@dataclass
class _Pool:
    """The registrants of one position, bucketed by (sector, region) in registration order."""

    buckets: dict[tuple[str, str], deque[Candidate]]
    ranked: int = 0

    def best(self, sectors: Counter, regions: Counter) -> tuple[tuple, tuple[str, str]] | None:
        """Return the sort key and bucket of the registrant to rank next, if any is left."""
        choice = None
        for bucket, queue in self.buckets.items():
            if not queue:
                continue
            head = queue[0]
            key = (sectors[head.sector], regions[head.region], *head.order_key)
            if choice is None or key < choice[0]:
                choice = (key, bucket)
        return choice


def rank(candidates: Iterable[Candidate],
         limit: int | None = None) -> list[tuple[Candidate, str]]:
    """Return the candidates in balanced order (the first `limit` of them), each with why it
    came when it did."""
    pools: dict[str, _Pool] = {}
    for candidate in sorted(candidates, key=lambda c: c.order_key):
        pool = pools.setdefault(candidate.position, _Pool({}))
        pool.buckets.setdefault((candidate.sector, candidate.region), deque()).append(candidate)
    sectors: Counter[str] = Counter()
    regions: Counter[str] = Counter()
    ranking: list[tuple[Candidate, str]] = []
    while limit is None or len(ranking) < limit:
        best = None
        for pool in pools.values():
            found = pool.best(sectors, regions)
            if found is None:
                continue
            key = (pool.ranked, *found[0])
            if best is None or key < best[0]:
                best = (key, pool, found[1])
        if best is None:
            break
        _key, pool, bucket = best
        candidate = pool.buckets[bucket].popleft()
        if sectors[candidate.sector] == 0:
            novelty = NEW_SECTOR
        elif regions[candidate.region] == 0:
            novelty = NEW_REGION
        else:
            novelty = BY_ORDER
        sectors[candidate.sector] += 1
        regions[candidate.region] += 1
        pool.ranked += 1
        ranking.append((candidate, novelty))
    return ranking


def propose(candidates: Iterable[Candidate], seats: int, waitlist: int) -> list[Outcome]:
    """Select `seats` registrants in balance and waitlist `waitlist` more; explain every one."""
    if seats < 0 or waitlist < 0:
        raise ValueError("seats and waitlist must not be negative")
    candidates = list(candidates)
    ranking = rank(candidates, seats + waitlist)
    chosen = Counter(c.position for c, _novelty in ranking[:seats])
    place_in_position: Counter[str] = Counter()
    outcomes = []
    for order, (candidate, novelty) in enumerate(ranking, start=1):
        position = candidate.position
        params: dict = {"position": position, "seats": chosen[position], "order": order}
        if order <= seats:
            place_in_position[position] += 1
            params.update(rank=place_in_position[position], novelty=novelty,
                          sector=candidate.sector, region=candidate.region)
            outcomes.append(Outcome(candidate.id, SELECTED, order, None, SELECTED, params))
        else:
            params["waitlist"] = order - seats
            outcomes.append(Outcome(candidate.id, WAITLISTED, order, order - seats, WAITLISTED,
                                    params))
    ranked = {c.id for c, _novelty in ranking}
    for candidate in sorted(candidates, key=lambda c: c.order_key):
        if candidate.id not in ranked:
            params = {"position": candidate.position, "seats": chosen[candidate.position]}
            outcomes.append(Outcome(candidate.id, NOT_SELECTED, None, None, NOT_SELECTED,
                                    params))
    return outcomes
