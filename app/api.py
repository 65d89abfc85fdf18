"""The JSON API under /api/v1 and its OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request, url_for
from flask_login import current_user

from app.forms import MAX_DATABASE_ID, plain_number
from app.masking import mask_personal_data
from drafts import services
from drafts.models import Comment, Draft, DraftVersion

api_blueprint = Blueprint("api", __name__, url_prefix="/api/v1")


def _draft(slug: str) -> Draft:
    draft = services.draft_by_slug(slug)
    if draft is None or not (draft.is_public or (current_user.is_authenticated
                                                  and current_user.is_staff)):
        abort(404)
    return draft


def _draft_summary(draft: Draft) -> dict:
    return {
        "slug": draft.slug,
        "title": draft.title,
        "status": draft.status,
        "summary": draft.summary,
        "office": draft.office,
        "opens_at": _iso(draft.opens_at),
        "closes_at": _iso(draft.closes_at),
        "url": url_for("drafts.show", slug=draft.slug, _external=True),
    }


def _iso(value) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def _version(draft: Draft, version: DraftVersion) -> dict:
    return {"id": version.id, "sequence": version.sequence, "label": version.label,
            "note": version.note, "created_at": _iso(version.created_at),
            "current": version.id == draft.current_version_id}


def _node(node: services.ClauseNode) -> dict:
    clause = node.clause
    return {
        "id": clause.id,
        "kind": clause.kind,
        "label": clause.label,
        "heading": clause.heading,
        "text": clause.text,
        "anchor": clause.anchor,
        "comment_count": node.total_comments,
        "children": [_node(child) for child in node.children],
    }


def _comment(comment: Comment) -> dict:
    return {
        "id": comment.id,
        "clause_id": comment.clause_id,
        "stance": comment.stance,
        "body": mask_personal_data(comment.body),
        "proposed_wording": mask_personal_data(comment.proposed_wording),
        "author": comment.display_name,
        "region": comment.region,
        "sector": comment.sector,
        "support_count": comment.support_count,
        "created_at": _iso(comment.created_at),
    }


@api_blueprint.route("/drafts")
def drafts():
    return jsonify({"drafts": [_draft_summary(d) for d in services.public_drafts()]})


@api_blueprint.route("/drafts/<slug>")
def draft(slug: str):
    draft = _draft(slug)
    version = draft.current_version
    data = _draft_summary(draft)
    data["explanation"] = draft.explanation
    data["versions"] = [_version(draft, v) for v in draft.versions]
    data["clauses"] = [_node(n) for n in services.clause_tree(version)] if version else []
    return jsonify(data)


@api_blueprint.route("/drafts/<slug>/comments")
def comments(slug: str):
    draft = _draft(slug)
    anchor = request.args.get("clause")
    unit = None
    if anchor:
        unit = services.clause_by_anchor(draft.current_version, anchor)
        if unit is None:
            abort(404)
    per_page = min(max(request.args.get("per_page", 20, type=int), 1), 100)
    sort = request.args.get("sort", "new")
    if sort not in ("new", "support"):
        abort(400)
    page = services.published_comments(draft, unit, sort=sort, cursor=request.args.get("cursor"),
                                       per_page=per_page, whole_draft_only=bool(anchor) or
                                       request.args.get("scope") == "draft")
    return jsonify({"comments": [_comment(c) for c in page.comments],
                    "next_cursor": page.next_cursor})


@api_blueprint.route("/drafts/<slug>/diff")
def diff(slug: str):
    """What changed between two versions, by their sequence numbers in `from` and `to`."""
    from flask_babel import gettext as _

    from drafts import comparison, versions

    draft = _draft(slug)
    staff = current_user.is_authenticated and current_user.is_staff
    visible = {v.sequence: v for v in versions.versions_of(draft, public=not staff)}
    picked = []
    for name in ("from", "to"):
        raw = request.args.get(name, "").strip()
        number = plain_number(raw)
        if number is None:
            return _error(400, _("Give “%(name)s” as a version number: 1, 2 …", name=name))
        if number not in visible:
            return _error(404, _("This draft has no version %(n)s.", n=raw))
        picked.append(visible[number])
    old, new = picked
    if old.id == new.id:
        return _error(400, _("Choose two different versions."))
    data = comparison.summary(versions.compare(old, new), detail=True)
    return jsonify({"from": _version(draft, old), "to": _version(draft, new), **data})


def _error(code: int, message: str):
    return jsonify({"error": {"code": code, "message": message}}), code


@api_blueprint.route("/openapi.json")
def openapi():
    return jsonify(openapi_document())


def openapi_document() -> dict:
    """Describe the public API (OpenAPI 3.1)."""
    slug = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
    error = {"description": "Error", "content": {"application/json": {"schema": {
        "$ref": "#/components/schemas/Error"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Minyi API", "version": "1.0.0",
                 "description": "Drafts open for comment, clause by clause."},
        "servers": [{"url": request.host_url.rstrip("/")}],
        "paths": {
            "/api/v1/drafts": {"get": {
                "summary": "Published drafts",
                "responses": {"200": {"description": "List", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {"drafts": {
                        "type": "array", "items": {"$ref": "#/components/schemas/Draft"}}}}}}}},
            }},
            "/api/v1/drafts/{slug}": {"get": {
                "summary": "A draft with its versions and the current version's clause tree",
                "parameters": [slug],
                "responses": {"200": {"description": "Draft", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/DraftDetail"}}}}, "404": error},
            }},
            "/api/v1/drafts/{slug}/comments": {"get": {
                "summary": "Published comments on a clause or on the draft",
                "parameters": [
                    slug,
                    {"name": "clause", "in": "query", "schema": {"type": "string"},
                     "description": "Anchor of a clause, e.g. art-12-p2"},
                    {"name": "scope", "in": "query", "schema": {"enum": ["all", "draft"]}},
                    {"name": "sort", "in": "query", "schema": {"enum": ["new", "support"]}},
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                    {"name": "per_page", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                ],
                "responses": {"200": {"description": "Comments", "content": {
                    "application/json": {"schema": {"type": "object", "properties": {
                        "comments": {"type": "array",
                                     "items": {"$ref": "#/components/schemas/Comment"}},
                        "next_cursor": {"type": ["string", "null"]}}}}}},
                    "400": error, "404": error},
            }},
            "/api/v1/drafts/{slug}/diff": {"get": {
                "summary": "What changed between two versions of a draft",
                "description": "Articles are paired by content: each pair has a status "
                               "(unchanged, renumbered, modified, moved, split, merged) and "
                               "the word diff of its row; a split or merge is several pairs "
                               "sharing one side and one `group`.  A cross-reference "
                               "renumbered along with the articles is an `equal` run with "
                               "`old_text`.",
                "parameters": [
                    slug,
                    {"name": "from", "in": "query", "required": True,
                     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_DATABASE_ID},
                     "description": "Sequence number of the earlier version (1, 2 …)"},
                    {"name": "to", "in": "query", "required": True,
                     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_DATABASE_ID},
                     "description": "Sequence number of the later version"},
                ],
                "responses": {"200": {"description": "Comparison", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Diff"}}}},
                    "400": error, "404": error},
            }},
            "/api/v1/search": {"get": {
                "summary": "Full-text search over clauses, comments and hearing notes; public "
                           "items, and staff's items too for a staff session",
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"type": "string"},
                     "description": "Words, \"exact phrases\", OR, NOT, prefix*"},
                    {"name": "type", "in": "query", "schema": {
                        "enum": ["clause", "comment", "note"]}},
                    *({"name": name, "in": "query", "schema": {
                        "type": "integer", "minimum": 0, "maximum": MAX_DATABASE_ID}}
                      for name in ("draft", "version", "clause")),
                    *({"name": name, "in": "query", "schema": {"type": "string"}}
                      for name in ("stance", "disposition", "region", "sector")),
                    {"name": "sort", "in": "query", "schema": {"enum": ["relevance", "date"]}},
                    {"name": "page", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                    {"name": "per_page", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                    {"name": "facets", "in": "query", "schema": {"enum": ["0", "1"]},
                     "description": "1 adds the number of matches per facet value"},
                ],
                "responses": {"200": {"description": "One page of hits", "content": {
                    "application/json": {"schema": {"type": "object", "properties": {
                        "hits": {"type": "array",
                                 "items": {"$ref": "#/components/schemas/SearchHit"}},
                        "total": {"type": "integer"},
                        "total_exact": {
                            "type": "boolean",
                            "description": "false when total is estimated (past 2,000 "
                                           "matches); the last page's total is exact"},
                        "page": {"type": "integer"},
                        "pages": {"type": "integer"}, "per_page": {"type": "integer"},
                        "facets": {"type": "object"}}}}}},
                    "400": error},
            }},
            "/api/v1/openapi.json": {"get": {
                "summary": "This document",
                "responses": {"200": {"description": "OpenAPI 3.1 document", "content": {
                    "application/json": {"schema": {"type": "object"}}}}},
            }},
        },
        "components": {"schemas": {
            "SearchHit": {"type": "object", "properties": {
                "type": {"enum": ["clause", "comment", "note"]}, "id": {"type": "integer"},
                "label": {"type": "string", "description": "The article, e.g. 第十二条"},
                "title": {"type": "string"}, "score": {"type": ["number", "null"]},
                "highlight": {"type": "string", "description": "Escaped HTML with <mark>"},
                "url": {"type": "string"}, "draft_id": {"type": ["integer", "null"]},
                "version_id": {"type": ["integer", "null"]},
                "clause_id": {"type": ["integer", "null"]},
                "stance": {"type": ["string", "null"]}, "region": {"type": ["string", "null"]},
                "sector": {"type": ["string", "null"]}, "created": {"type": ["string", "null"]}}},
            "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                "code": {"type": "integer"}, "message": {"type": "string"}}}}},
            "Draft": {"type": "object", "required": ["slug", "title", "status"], "properties": {
                "slug": {"type": "string"}, "title": {"type": "string"},
                "status": {"enum": ["draft", "open", "closed", "adopted"]},
                "summary": {"type": "string"}, "office": {"type": "string"},
                "opens_at": {"type": ["string", "null"]}, "closes_at": {"type": ["string", "null"]},
                "url": {"type": "string"}}},
            "DraftDetail": {"allOf": [{"$ref": "#/components/schemas/Draft"}, {
                "type": "object", "properties": {
                    "explanation": {"type": "string"},
                    "versions": {"type": "array", "items": {"type": "object"}},
                    "clauses": {"type": "array",
                                "items": {"$ref": "#/components/schemas/Clause"}}}}]},
            "Clause": {"type": "object", "required": ["kind", "label", "text", "children"],
                       "properties": {
                "id": {"type": "integer"},
                "kind": {"enum": ["part", "subpart", "chapter", "section", "article",
                                  "paragraph", "item", "subitem"]},
                "label": {"type": "string"}, "heading": {"type": "string"},
                "text": {"type": "string"}, "anchor": {"type": "string"},
                "comment_count": {"type": "integer"},
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Clause"}}}},
            "Version": {"type": "object", "properties": {
                "id": {"type": "integer"}, "sequence": {"type": "integer"},
                "label": {"type": "string"}, "note": {"type": "string"},
                "created_at": {"type": "string"}, "current": {"type": "boolean"}}},
            "Diff": {"type": "object", "required": ["pairs", "inserted", "deleted", "stats"],
                     "properties": {
                "from": {"$ref": "#/components/schemas/Version"},
                "to": {"$ref": "#/components/schemas/Version"},
                "pairs": {"type": "array", "items": {"$ref": "#/components/schemas/DiffPair"}},
                "inserted": {"type": "array", "items": {"$ref": "#/components/schemas/Article"}},
                "deleted": {"type": "array", "items": {"$ref": "#/components/schemas/Article"}},
                "stats": {"type": "object", "additionalProperties": {"type": "integer"}}}},
            "Article": {"type": "object", "properties": {
                "label": {"type": "string"}, "anchor": {"type": "string"}}},
            "DiffPair": {"type": "object", "properties": {
                "group": {"type": "integer"},
                "old": {"type": "string"}, "new": {"type": "string"},
                "old_anchor": {"type": "string"}, "new_anchor": {"type": "string"},
                "status": {"enum": ["unchanged", "renumbered", "modified", "moved", "split",
                                    "merged"]},
                "similarity": {"type": "number"}, "moved": {"type": "boolean"},
                "text_changed": {"type": "boolean"},
                "diff": {"type": "array", "items": {"type": "object", "properties": {
                    "op": {"enum": ["equal", "insert", "delete"]}, "text": {"type": "string"},
                    "old_text": {"type": "string"}}}},
                "reference_changes": {"type": "array", "items": {"type": "object", "properties": {
                    "old": {"type": "string"}, "new": {"type": "string"},
                    "kind": {"enum": ["renumbered", "retargeted", "stale"]},
                    "expected": {"type": ["string", "null"]}}}}}},
            "Comment": {"type": "object", "properties": {
                "id": {"type": "integer"}, "clause_id": {"type": ["integer", "null"]},
                "stance": {"enum": ["support", "oppose", "suggest"]},
                "body": {"type": "string"}, "proposed_wording": {"type": "string"},
                "author": {"type": "string"}, "region": {"type": "string"},
                "sector": {"type": "string"}, "support_count": {"type": "integer"},
                "created_at": {"type": "string"}}},
        }},
    }


@api_blueprint.errorhandler(404)
def _not_found(error):
    from flask_babel import gettext as _

    return jsonify({"error": {"code": 404, "message": _("Not found.")}}), 404


def init_app(app) -> None:
    """Register the blueprint."""
    app.register_blueprint(api_blueprint)
