"""The search results page and GET /api/v1/search."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.forms import plain_number
from drafts.forms import COMMENT_STATUS_LABELS, STANCE_LABELS
from drafts.models import Clause, Comment
from drafts.services import unit_label
from search import service
from search.engine import TYPES
from search.forms import SORT_LABELS, TYPE_LABELS, SearchForm

search_blueprint = Blueprint("search", __name__)
search_api_blueprint = Blueprint("search_api", __name__, url_prefix="/api/v1")

PER_PAGE = 20
API_MAX_PER_PAGE = 100
#: query-string parameter of each engine filter
FILTER_PARAMS = {"draft_id": "draft", "version_id": "version", "clause_id": "clause",
                 "stance": "stance", "disposition": "disposition", "region": "region",
                 "sector": "sector"}
#: facets in the order the page lists them, with their headings
FACET_HEADINGS = (("type", "type"), ("draft_id", "draft"), ("version_id", "version"),
                  ("stance", "stance"), ("disposition", "disposition"),
                  ("region", "region"), ("sector", "sector"))


def _search_request(form: SearchForm, per_page: int) -> service.SearchRequest:
    filters: dict[str, Any] = {}
    for name, param in FILTER_PARAMS.items():
        value = form[param].data
        if value not in (None, ""):
            filters[name] = value
    return service.SearchRequest(
        q=(form.q.data or "").strip(),
        types=(form.type.data,) if form.type.data else (),
        filters=filters, date_from=form.date_from.data, date_to=form.date_to.data,
        sort=form.sort.data or "relevance", page=form.page.data or 1, per_page=per_page)


def _link(**changes: Any) -> str:
    """The results page with some parameters changed (None removes one), on page 1."""
    args = {k: v for k, v in request.args.items() if v != ""}
    args.pop("page", None)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return url_for("search.results", **args)


def _page_link(page: int) -> str:
    args = {k: v for k, v in request.args.items() if v != ""}
    args["page"] = page
    return url_for("search.results", **args)


def _facet_label(name: str, value: Any, names: dict[str, dict[Any, str]]) -> str:
    if name == "type":
        return str(TYPE_LABELS.get(value, value))
    if name == "stance":
        return str(STANCE_LABELS.get(value, value))
    if name in names:
        return names[name].get(value, str(value))
    return str(value)


def _where(hit: service.Hit) -> str:
    """Where the hit sits: the citation of a clause, the clause a comment is on."""
    obj = hit.obj
    if isinstance(obj, Clause):
        return unit_label(obj)
    if isinstance(obj, Comment):
        return (_("Comment on %(unit)s", unit=hit.label) if hit.label
                else _("Comment on the draft as a whole"))
    return _("Hearing note on %(unit)s", unit=hit.label) if hit.label else _("Hearing note")


@search_blueprint.route("/search")
def results():
    form = SearchForm(formdata=request.args)
    staff = current_user.is_authenticated and current_user.is_staff
    found = names = None
    urls: dict[int, str] = {}
    if form.validate():
        query = _search_request(form, PER_PAGE)
        if not query.is_empty:
            reader = service.Reader.of(current_user, unpublished=bool(form.unpublished.data))
            found = service.search(current_app, query, reader)
            names = service.facet_names(found.facets)
            urls = {id(hit): service.hit_url(hit, reader) for hit in found.hits}
    active = [(param, _facet_label(name, form[param].data, names or {}))
              for name, param in FACET_HEADINGS if name != "type"
              and form[param].data not in (None, "")]
    return render_template(
        "search/results.html", form=form, results=found, staff=staff,
        facet_names=names or {}, facet_headings=FACET_HEADINGS, active=active,
        url_of=lambda hit: urls[id(hit)], where=_where, link=_link, page_link=_page_link,
        facet_label=_facet_label, type_labels=TYPE_LABELS, stance_labels=STANCE_LABELS,
        comment_status_labels=COMMENT_STATUS_LABELS,
        sort_labels=SORT_LABELS)


def _api_error(code: int, message: str):
    return jsonify({"error": {"code": code, "message": message}}), code


@search_api_blueprint.route("/search")
def api_search():
    """Search what the caller may see: public items, and staff's items for staff sessions."""
    args = request.args
    kind = args.get("type", "")
    if kind and kind not in TYPES:
        return _api_error(400, _("“type” is one of: %(types)s.", types=", ".join(TYPES)))
    filters: dict[str, Any] = {}
    for name, param in FILTER_PARAMS.items():
        raw = args.get(param, "").strip()
        if not raw:
            continue
        if name.endswith("_id"):
            number = plain_number(raw)
            if number is None:
                return _api_error(400, _("“%(name)s” is a number.", name=param))
            filters[name] = number
        else:
            filters[name] = raw
    page = args.get("page", 1, type=int)
    per_page = args.get("per_page", PER_PAGE, type=int)
    sort = args.get("sort", "relevance")
    if not 1 <= page <= 500 or not 1 <= per_page <= API_MAX_PER_PAGE or sort not in SORT_LABELS:
        return _api_error(400, _("Give page 1–500, per_page 1–100 and sort “relevance” or "
                                 "“date”."))
    query = service.SearchRequest(q=args.get("q", "").strip(), types=(kind,) if kind else (),
                                  filters=filters, sort=sort, page=page, per_page=per_page)
    reader = service.Reader.of(current_user, unpublished=True)
    found = service.search(current_app, query, reader, facets=args.get("facets") == "1")
    data: dict[str, Any] = {
        "hits": [service.hit_json(hit, reader) for hit in found.hits],
        "total": found.total, "total_exact": found.exact, "page": found.page,
        "pages": found.pages,
        "per_page": found.per_page}
    if found.facets:
        data["facets"] = {name: {str(k): v for k, v in counts.items()}
                          for name, counts in found.facets.items()}
    return jsonify(data)
