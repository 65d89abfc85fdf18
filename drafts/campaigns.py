"""Campaigns: opinions sent with identical or lightly edited texts, found by MinHash.

Texts are normalised (NFKC, lower case, only letters and digits), cut into overlapping
character 3-grams (Chinese has no spaces, and a word segmenter is ten times slower than
n-grams on 100,000 opinions without finding more copies), and each text gets a MinHash
signature.  Locality-sensitive hashing over bands of the signature proposes candidates; a
candidate joins a bucket when its signatures agree on at least `threshold` of their values
(an estimate of the 3-gram Jaccard similarity).  Identical normalised texts are grouped
before hashing.  `find_campaigns` needs no Flask and no database; `cluster_draft` stores the
result for a draft, keeping each campaign's id where its members stay together.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

#: MinHash values per signature, split into BANDS bands of PERMUTATIONS // BANDS rows
PERMUTATIONS = 128
BANDS = 32
#: signatures agreeing on this share of values are copies (estimated 3-gram Jaccard).  Two
#: lightly edited copies of one text mostly agree on 0.5–0.8 and each has thousands of
#: copies to link to; two opinions written separately rarely pass 0.6, and at 0.5 the few
#: that do chained 12,000 of 70,000 generated individual opinions into one "campaign".
#: 128 values keep the estimate's error near 0.04.
THRESHOLD = 0.6
#: a text that is nobody's copy at THRESHOLD still joins a campaign it agrees with this much;
#: it links nothing further, so it cannot chain campaigns or other texts together
ATTACH = 0.5
SHINGLE = 3
#: sources whose opinions are individual by nature: a hearing statement follows one template
#: for every speaker, and a deputy's suggestion is answered on its own
NOT_CLUSTERED = ("hearing", "deputy")
#: 3-grams hashed per step: bounds the memory of a run at about PERMUTATIONS × 8 bytes × this
CHUNK_GRAMS = 200_000
_NOT_WORD = re.compile(r"[\W_]+")
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def normalise(text: str) -> str:
    """Return the text as compared: NFKC, lower case, letters and digits only."""
    # Punctuation goes first: what is left of a Chinese text is nearly always NFKC already,
    # and checking that is much faster than normalising.
    text = _NOT_WORD.sub("", text)
    if not unicodedata.is_normalized("NFKC", text):
        text = _NOT_WORD.sub("", unicodedata.normalize("NFKC", text))
    return text.lower()


def _mix(values: np.ndarray) -> np.ndarray:
    """Scramble 64-bit values (the finaliser of MurmurHash3), so near codes hash far apart."""
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xFF51AFD7ED558CCD)
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xC4CEB9FE1A85EC53)
    return values ^ (values >> np.uint64(33))


def _grams(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return the hashed 3-grams of all texts, concatenated, and each text's count of them.

    A text shorter than a shingle is padded with a character normalised texts never hold, so
    that it is one gram of its own; an empty text has none.
    """
    padded = [t.ljust(SHINGLE, "\x01") if t else t for t in texts]
    lengths = np.fromiter(map(len, padded), dtype=np.int64, count=len(padded))
    counts = np.maximum(lengths - (SHINGLE - 1), 0)
    # texts joined by NUL: a gram holding a NUL crosses from one text into the next
    codes = np.frombuffer("\0".join(padded).encode("utf-32-le"), dtype=np.uint32)
    codes = codes.astype(np.uint64)
    if len(codes) < SHINGLE:
        return np.zeros(0, dtype=np.uint64), counts
    first, middle, last = codes[:-2], codes[1:-1], codes[2:]
    inside = (first != 0) & (middle != 0) & (last != 0)
    combined = (first * np.uint64(0x9E3779B97F4A7C15) + middle * np.uint64(0xBF58476D1CE4E5B9)
                + last)
    return _mix(combined[inside]), counts


def signatures(texts: Sequence[str], *, permutations: int = PERMUTATIONS,
               seed: int = 1) -> np.ndarray:
    """Return the MinHash signature of each normalised text, one row each.

    An empty text gets the largest value everywhere, which no other text shares by chance.
    """
    rng = np.random.default_rng(seed)
    multipliers = rng.integers(1, 2**63, size=permutations, dtype=np.uint64) | np.uint64(1)
    offsets = rng.integers(0, 2**63, size=permutations, dtype=np.uint64)
    grams, counts = _grams(texts)
    result = np.full((len(texts), permutations), _MASK64, dtype=np.uint64)
    present = np.flatnonzero(counts)
    ends = np.cumsum(counts)
    at = 0
    while at < len(present):
        # a chunk of whole texts holding at most CHUNK_GRAMS grams (or one longer text)
        first_gram = ends[present[at]] - counts[present[at]]
        stop = at + 1
        while stop < len(present) and ends[present[stop]] - first_gram <= CHUNK_GRAMS:
            stop += 1
        docs = present[at:stop]
        chunk = grams[first_gram:ends[docs[-1]]]
        hashed = chunk[None, :] * multipliers[:, None] + offsets[:, None]
        starts = (ends[docs] - counts[docs]) - first_gram
        result[docs] = np.minimum.reduceat(hashed, starts, axis=1).T
        at = stop
    return result


def find_campaigns(texts: Sequence[str], *, threshold: float = THRESHOLD,
                   bands: int = BANDS, permutations: int = PERMUTATIONS) -> list[int]:
    """Label each text with its campaign number, or -1 when no other text is a copy of it.

    Campaigns are numbered 0, 1, … in the order of their first text.
    """
    normal = [normalise(t) for t in texts]
    distinct: dict[str, int] = {}
    which = [distinct.setdefault(t, len(distinct)) for t in normal]
    unique_texts = list(distinct)
    n = len(unique_texts)
    rows_per_band = permutations // bands
    sources: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    near: list[np.ndarray] = []  # (a, b) pairs agreeing on ATTACH up to THRESHOLD
    if n > 1:
        sig = signatures(unique_texts, permutations=permutations)
        empty = np.array([not t for t in unique_texts])
        weights = _mix(np.arange(1, rows_per_band + 1, dtype=np.uint64))
        for band in range(bands):
            block = sig[:, band * rows_per_band:(band + 1) * rows_per_band]
            keys = (block * weights[None, :]).sum(axis=1, dtype=np.uint64)
            order = np.argsort(keys, kind="stable")
            sorted_keys = keys[order]
            boundary = np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1]))
            heads = order[np.maximum.accumulate(np.where(boundary, np.arange(n), 0))]
            members = order[~boundary]
            heads = heads[~boundary]
            if not len(members):
                continue
            agree = (sig[members] == sig[heads]).mean(axis=1)
            ok = (agree >= threshold) & ~empty[members]
            sources.append(heads[ok])
            targets.append(members[ok])
            close = (agree >= ATTACH) & ~ok & ~empty[members]
            near.append(np.stack([heads[close], members[close]], axis=1))
    if sources:
        edges_from = np.concatenate(sources)
        edges_to = np.concatenate(targets)
        graph = coo_matrix((np.ones(len(edges_from), dtype=np.int8), (edges_from, edges_to)),
                           shape=(n, n))
        _count, component = connected_components(graph, directed=False)
    else:
        component = np.arange(n)
    _attach(component, near, which)
    per_text = [int(component[w]) for w in which]
    sizes = Counter(per_text)
    numbers: dict[int, int] = {}
    labels = []
    for text, group in zip(normal, per_text, strict=True):
        if sizes[group] < 2 or not text:
            labels.append(-1)
        else:
            labels.append(numbers.setdefault(group, len(numbers)))
    return labels


def _attach(component: np.ndarray, near: list[np.ndarray], which: list[int]) -> None:
    """Put each text left alone into a campaign it nearly copies (see ATTACH), in place."""
    if not near:
        return
    size = Counter(component[w] for w in which)
    for a, b in np.concatenate(near).tolist():
        for alone, other in ((a, b), (b, a)):
            if size[component[alone]] == 1 and size[component[other]] >= 2:
                size[component[alone]] -= 1
                component[alone] = component[other]
                size[component[other]] += 1
                break


def pair_scores(truth: Sequence[int], found: Sequence[int]) -> dict[str, float]:
    """Return the pairwise precision and recall of found campaigns against true ones.

    Labels are campaign numbers, -1 for a text alone.  A pair counts when both texts share a
    campaign: precision is the share of found pairs that are true, recall the share of true
    pairs found.
    """
    def pairs(counter: Counter) -> int:
        return sum(k * (k - 1) // 2 for k in counter.values())

    both = Counter((t, f) for t, f in zip(truth, found, strict=True) if t >= 0 and f >= 0)
    true_pairs = pairs(Counter(t for t in truth if t >= 0))
    found_pairs = pairs(Counter(f for f in found if f >= 0))
    hits = pairs(both)
    return {"precision": hits / found_pairs if found_pairs else 1.0,
            "recall": hits / true_pairs if true_pairs else 1.0,
            "true_pairs": true_pairs, "found_pairs": found_pairs}


# --- storing the campaigns of a draft -------------------------------------------------------


@dataclass
class ClusterResult:
    """What a clustering run found on a draft."""

    #: opinions compared (the draft's counted opinions but NOT_CLUSTERED)
    considered: int
    unique: int
    campaigns: int
    in_campaigns: int


def cluster_draft(draft, *, user=None) -> ClusterResult:
    """Find the campaigns among the draft's counted opinions (but NOT_CLUSTERED) and store them.

    A campaign keeps the id of the stored cluster most of its members had, so links and
    labels survive a new run; clusters left without members are deleted.
    """
    from sqlalchemy import delete, select, update

    from app import audit
    from app.extensions import db
    from app.models import utcnow
    from drafts.models import Comment, OpinionCluster
    from drafts.opinions import counted

    rows = db.session.execute(counted(
        select(Comment.id, Comment.body, Comment.cluster_id), draft)
        .where(Comment.source.not_in(NOT_CLUSTERED)).order_by(Comment.id)).all()
    labels = find_campaigns([row.body for row in rows])
    groups: dict[int, list] = defaultdict(list)
    for row, label in zip(rows, labels, strict=True):
        if label >= 0:
            groups[label].append(row)
    existing = {c.id: c for c in db.session.scalars(
        select(OpinionCluster).where(OpinionCluster.draft_id == draft.id))}
    taken: set[int] = set()
    target: dict[int, int | None] = {row.id: None for row in rows}
    now = utcnow()
    for members in sorted(groups.values(), key=len, reverse=True):
        votes = Counter(m.cluster_id for m in members if m.cluster_id in existing)
        reuse = next((cid for cid, _n in votes.most_common() if cid not in taken), None)
        cluster = existing[reuse] if reuse is not None else OpinionCluster(draft_id=draft.id)
        if reuse is None:
            db.session.add(cluster)
            db.session.flush()
        taken.add(cluster.id)
        if cluster.size != len(members) or cluster.representative_id != members[0].id:
            cluster.size = len(members)
            cluster.representative_id = members[0].id
            cluster.updated_at = now
        for member in members:
            target[member.id] = cluster.id
    changes: dict[int | None, list[int]] = defaultdict(list)
    for row in rows:
        if row.cluster_id != target[row.id]:
            changes[target[row.id]].append(row.id)
    for cluster_id, ids in changes.items():
        for start in range(0, len(ids), 500):
            db.session.execute(update(Comment).where(Comment.id.in_(ids[start:start + 500]))
                               .values(cluster_id=cluster_id),
                               execution_options={"synchronize_session": False})
    gone = [cid for cid in existing if cid not in taken]
    if gone:
        db.session.execute(update(Comment).where(Comment.cluster_id.in_(gone))
                           .values(cluster_id=None),
                           execution_options={"synchronize_session": False})
        db.session.execute(delete(OpinionCluster).where(OpinionCluster.id.in_(gone)))
    db.session.expire_all()
    in_campaigns = sum(len(m) for m in groups.values())
    result = ClusterResult(considered=len(rows), unique=len(rows) - in_campaigns + len(groups),
                           campaigns=len(groups), in_campaigns=in_campaigns)
    audit.record(user, "opinions.cluster", draft, campaigns=result.campaigns,
                 in_campaigns=result.in_campaigns, considered=result.considered)
    db.session.flush()
    return result
