"""Schemathesis against /api/v1/openapi.json, in process (WSGI), over the demo world: every
operation answers what its document promises, never a 5xx, for valid and invalid input."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from security_world import build_world

from app.demo import DRAFT_SLUG

#: examples per operation; the file stays within about half a minute
EXAMPLES = 25


def test_the_api_keeps_its_openapi_document(app):
    build_world(app)
    from search.indexer import drain

    drain(app)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    tried = []
    for result in schema.get_all_operations():
        operation = result.ok()
        tried.append(operation.label)

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def call(case):
            case.call_and_validate()
            if case.path_parameters and "slug" in case.path_parameters:
                # a made-up slug only finds 404: ask the same of the demo draft too
                case.path_parameters["slug"] = DRAFT_SLUG
                case.call_and_validate()

        call()

    # the document itself is the one path schemathesis leaves out
    assert tried == ["GET /api/v1/drafts", "GET /api/v1/drafts/{slug}",
                     "GET /api/v1/drafts/{slug}/comments", "GET /api/v1/drafts/{slug}/diff",
                     "GET /api/v1/search"]
