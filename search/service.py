"""Queries for the search pages, the JSON API and the command line."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import Flask, url_for
from sqlalchemy import select
from whoosh.index import EmptyIndexError

from app.extensions import db
from app.models import User
from drafts.models import COMMENTABLE_KINDS, Clause, Comment, Draft, DraftVersion
from hearings.models import HearingNote
from search.documents import MODELS, DocumentBuilder, may_see
from search.engine import SearchResult
from search.indexer import index_copy

log = logging.getLogger(__name__)


@dataclass
class SearchRequest:
    """What a reader asked for: the query, filters, order and page."""

    q: str = ""
    types: tuple[str, ...] = ()
    #: engine filters: draft_id, version_id, clause_id, stance, disposition, region, sector
    filters: dict[str, Any] = field(default_factory=dict)
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20

    @property
    def is_empty(self) -> bool:
        return not (self.q.strip() or self.types or self.filters or self.date_from
                    or self.date_to)


@dataclass
class Hit:
    """One result, with the row it came from."""

    type: str
    id: int
    label: str
    title: str
    score: float | None
    #: HTML: the engine escaped the text and added only <mark> elements
    highlight: str
    title_highlight: str
    created: datetime | None
    fields: dict[str, Any]
    obj: Any


@dataclass
class Results:
    hits: list[Hit]
    total: int
    page: int
    pages: int
    per_page: int
    facets: dict[str, dict[Any, int]]
    #: False when ``total`` and the facet counts are estimates (many matches)
    exact: bool = True


@dataclass(frozen=True)
class Reader:
    """Who is searching: staff rights (only when they asked for unpublished items too) and
    the user whose private notes are theirs."""

    staff: bool = False
    user_id: int | None = None

    @classmethod
    def of(cls, user: User | None, *, unpublished: bool = False) -> Reader:
        if user is None or not user.is_authenticated:
            return cls()
        return cls(staff=bool(unpublished and user.is_staff), user_id=user.id)


def _engine_search(app: Flask, request: SearchRequest, reader: Reader,
                   facets: bool) -> SearchResult:
    copy = index_copy(app)
    kwargs = {"types": request.types or None, "filters": request.filters,
              "include_staff": reader.staff, "user_id": reader.user_id, "sort": request.sort,
              "page": request.page, "per_page": request.per_page,
              "date_from": request.date_from, "date_to": request.date_to, "facets": facets}
    try:
        return copy.index().search(request.q, **kwargs)
    except (FileNotFoundError, EmptyIndexError):
        # a reindex swapped the generation while this one was being opened: use the new one
        log.info("search: index generation changed during a query; retrying")
        return copy.index().search(request.q, **kwargs)


def search(app: Flask, request: SearchRequest, reader: Reader, *,
           facets: bool = True) -> Results:
    """Run a search and return the hits the reader may see, with their rows.

    The index decides what matches; each hit is then checked against its row as it is now,
    so that a comment hidden a moment ago, whose change the indexer has not applied yet,
    is not shown.
    """
    result = _engine_search(app, request, reader, facets)
    current = _current_documents(result.hits)
    hits = []
    for found in result.hits:
        doc = current.get((found["type"], found["obj_id"]))
        if doc is None or not may_see(doc["visibility"], staff=reader.staff,
                                      user_id=reader.user_id):
            continue
        hits.append(Hit(
            type=found["type"], id=found["obj_id"], label=found["label"] or "",
            title=found["title"] or "", score=found["score"],
            highlight=found["highlight"], title_highlight=found["title_highlight"],
            created=found["created"], fields=found,
            obj=db.session.get(MODELS[found["type"]], found["obj_id"])))
    return Results(hits, result.total, result.page, result.pages, result.per_page,
                   result.facets, exact=result.exact and result.facets_exact)


def _current_documents(found: list[dict[str, Any]]) -> dict[tuple[str, int], dict]:
    builder = DocumentBuilder(db.session)
    wanted: dict[str, list[int]] = {}
    for hit in found:
        wanted.setdefault(hit["type"], []).append(hit["obj_id"])
    return {(entity, obj_id): doc for entity, ids in wanted.items()
            for obj_id, doc in builder.build(entity, ids).items() if doc is not None}


def hit_url(hit: Hit, reader: Reader, external: bool = False) -> str:
    """Return the page that shows the hit (inside a request)."""
    return _url(hit.obj, reader, {"_external": True} if external else {})


def _url(obj: Any, reader: Reader, options: dict[str, Any]) -> str:
    if isinstance(obj, Clause):
        draft = obj.version.draft
        current = draft.current_version
        if current is not None and obj.version_id == current.id:
            if obj.kind in COMMENTABLE_KINDS:
                return url_for("drafts.clause", slug=draft.slug, anchor=obj.anchor, **options)
            return url_for("drafts.show", slug=draft.slug, _anchor=obj.anchor, **options)
        if current is not None and obj.version.sequence < current.sequence:
            return url_for("versions.compare", slug=draft.slug, **{
                "from": obj.version.sequence, "to": current.sequence}, **options)
        return url_for("staff_versions.staff_index", slug=draft.slug, **options)
    if isinstance(obj, Comment):
        draft = obj.draft
        if obj.status != "published" and reader.staff:
            return url_for("staff_drafts.moderation", slug=draft.slug, status=obj.status,
                           **options)
        anchor = f"comment-{obj.id}"
        if obj.clause is not None and obj.clause.version_id == draft.current_version_id:
            return url_for("drafts.clause", slug=draft.slug, anchor=obj.clause.anchor,
                           _anchor=anchor, **options)
        return url_for("drafts.draft_comments", slug=draft.slug, _anchor=anchor, **options)
    if isinstance(obj, HearingNote):
        return url_for("hearing_live.live_page", slug=obj.hearing.slug,
                       _anchor=f"note-{obj.id}", **options)
    raise TypeError(f"no page for {obj!r}")


def facet_names(facets: dict[str, dict[Any, int]]) -> dict[str, dict[Any, str]]:
    """Return display names for the ids among the facet values: draft titles, version
    labels."""
    names: dict[str, dict[Any, str]] = {"draft_id": {}, "version_id": {}}
    draft_ids = list(facets.get("draft_id", {}))
    if draft_ids:
        names["draft_id"] = dict(db.session.execute(
            select(Draft.id, Draft.title).where(Draft.id.in_(draft_ids))).all())
    version_ids = list(facets.get("version_id", {}))
    if version_ids:
        for vid, label, title in db.session.execute(
                select(DraftVersion.id, DraftVersion.label, Draft.title)
                .join(Draft, DraftVersion.draft_id == Draft.id)
                .where(DraftVersion.id.in_(version_ids))):
            names["version_id"][vid] = f"{title} · {label}"
    return names


def hit_json(hit: Hit, reader: Reader | None = None) -> dict[str, Any]:
    """Return a hit as plain data: the fields the command line prints, plus the page's
    address inside a request (`reader` given)."""
    data = {"type": hit.type, "id": hit.id, "label": hit.label, "title": hit.title,
            "score": round(hit.score, 4) if hit.score is not None else None,
            "highlight": str(hit.highlight)}
    if reader is not None:
        fields = hit.fields
        data.update({
            "draft_id": fields["draft_id"], "version_id": fields["version_id"],
            "clause_id": fields["clause_id"], "stance": fields["stance"],
            "region": fields["region"], "sector": fields["sector"],
            "created": hit.created.isoformat(timespec="seconds") + "Z" if hit.created else None,
            "url": hit_url(hit, reader, external=True)})
    return data
