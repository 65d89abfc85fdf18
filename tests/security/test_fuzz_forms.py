"""Hypothesis over every form: no 5xx, refusals explained in the user's language, and what was
typed is kept.

Each page with a form is read as a browser would read it (tests/security/form_fuzz.py finds its
fields, choices and hidden values), then posted back with bad values in every field: unicode
edge cases, text longer than any limit, long unbroken text, numbers and dates that are not,
wrong choices and missing fields, in Chinese (the default) or English (`?lang=en`). Routes
that only take a POST get random fields of the names our forms use. One demo world per role
is shared by that role's examples; what earlier examples saved does not matter to the checks.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

import pytest
from form_fuzz import CJK, LATIN, PageForm, form_for, fuzzed, text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from security_world import DEMO_PASSWORD, build_world
from test_authorization import POLICIES, fill

from app.jobs import wait_here

#: examples per form and per POST-only route; the whole file stays within about a minute
EXAMPLES = 8
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))
#: fields whose value the page may not show again, by design
NOT_SHOWN_AGAIN = {"password", "password2", "confirm", "new_password", "current_password"}
#: the names the POST-only routes' forms use
FIELD_NAMES = ("body", "kind", "visibility", "status", "action", "reason", "decision", "seconds",
               "revision", "note_id", "text", "response", "role", "seats", "waitlist",
               "speaker_id", "agenda_item", "question_id", "override_reason", "group",
               "deputies", "embedded", "feedback_emails", "review_required", "language",
               "next", "ids", "outcome", "comment_ids", "old", "new", "reopen", "enabled")
#: pages that take a POST but whose form has nothing to fill: a button with the CSRF token
NO_FORM: dict[str, list[str]] = {"public": ["drafts.confirm_guest", "opinions.opt_out"]}
#: query strings that make a page show its form: the flood tools act on a filter's matches
FORM_QUERIES = {"floods.floods_page": "?status=published&text=充电设施"}
#: the roles that fill each route's forms: the first of them its policy lets in
ROLE_ORDER = ("public", "deputy", "staff", "admin")
ERROR_BLOCKS = re.compile(
    r'<(?:p class="error"[^>]*|div class="error-summary"[^>]*|p class="flash flash-error")>'
    r"(.*?)</(?:p|div)>", re.S)
TAGS = re.compile(r"<[^>]+>")


def role_for(endpoint: str) -> str:
    return next(r for r in ROLE_ORDER if r in POLICIES[endpoint].roles)


def login(make_client, world, role):
    browser = make_client()
    browser.post_form("/login", {"email": world.users[role].email, "password": DEMO_PASSWORD})
    return browser


def error_texts(page: str) -> list[str]:
    return [TAGS.sub(" ", block).strip() for block in ERROR_BLOCKS.findall(page)]


def check_response(response, lang: str, sent: dict[str, str], form: PageForm | None,
                   where: str) -> None:
    """No 5xx; errors in the request's language; typed text shown again."""
    assert response.status_code < 500, (where, response.status_code)
    page = response.get_data(as_text=True)
    response.close()
    if response.status_code >= 400 and response.mimetype == "text/html":
        messages = [TAGS.sub(" ", m) for m in re.findall(r"<main.*?</main>", page, re.S)]
    else:
        messages = error_texts(page) if response.mimetype == "text/html" else []
    for message in messages:
        assert (CJK if lang == "zh" else LATIN).search(message), (where, lang, message)
    if form is None or response.status_code != 200 or not error_texts(page):
        return
    if any(f.kind == "hidden" and sent.get(n) != f.value
           for n, f in form.fields.items() if n != "csrf_token"):
        return  # a hidden field was tampered with: nobody typed into this form
    for name, value in sent.items():
        shown = form.fields.get(name)
        if (shown is None or shown.kind not in ("text", "textarea") or name in NOT_SHOWN_AGAIN
                or not value.strip()):
            continue
        assert str(escape(value.replace("\r\n", "\n").replace("\r", "\n"))) in page.replace(
            "\r\n", "\n").replace("\r", "\n"), f"{where}: {name} lost what was typed"


def follow(browser, response, lang: str, where: str) -> None:
    """Read the page a POST redirected to, in the same language: the message flashed there
    is the answer to the POST (and must not be left for the next example's page)."""
    location = response.headers.get("Location", "")
    if response.status_code in (302, 303) and location.startswith("/"):
        path, _sep, query = location.split("#")[0].partition("?")
        page = browser.get(path, query_string=[*parse_qsl(query), ("lang", lang)])
        check_response(page, lang, {}, None, f"{where} → {location}")


def form_routes(app, world, role):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if {"GET", "POST"} <= rule.methods and role_for(rule.endpoint) == role:
            yield rule, fill(rule, world)


def post_only_routes(app, world, role):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if ("POST" in rule.methods and "GET" not in rule.methods
                and role_for(rule.endpoint) == role and rule.endpoint != "auth.logout"):
            yield rule, fill(rule, world)


def fuzz_form(browser, token: str, path: str, form: PageForm) -> None:
    """Post the page's form back with hypothesis' values, in either language."""

    @FUZZ
    @given(data=fuzzed(form), lang=st.sampled_from(["zh", "en"]))
    def post(data, lang):
        response = browser.post(path, query_string={"lang": lang},
                                data={**data, "csrf_token": token})
        check_response(response, lang, data, form, path)
        follow(browser, response, lang, path)

    post()


@pytest.mark.parametrize("role", ROLE_ORDER)
def test_every_form_survives_bad_input(app, make_client, role):
    world = build_world(app)
    browser = login(make_client, world, role)
    token = browser.csrf_token()
    without_form = []
    for rule, url in form_routes(app, world, role):
        path = url.split("?")[0]
        page = browser.get(url + FORM_QUERIES.get(rule.endpoint, ""))
        form = form_for(page.get_data(as_text=True), path) if page.status_code == 200 else None
        page.close()
        if form is None:
            without_form.append(rule.endpoint)
            continue
        fuzz_form(browser, token, path, form)
    assert without_form == NO_FORM.get(role, []), without_form


@pytest.mark.parametrize("role", ("public", "deputy", "staff"))  # admin: none only admins use
def test_every_post_only_route_survives_random_fields(app, make_client, role):
    world = build_world(app)
    browser = login(make_client, world, role)
    token = browser.csrf_token()
    routes = list(post_only_routes(app, world, role))

    @FUZZ
    @given(route=st.sampled_from(routes), lang=st.sampled_from(["zh", "en"]),
           data=st.dictionaries(st.sampled_from(FIELD_NAMES), text, max_size=6))
    def post(route, lang, data):
        _rule, url = route
        response = browser.post(url, query_string={"lang": lang},
                                data={**data, "csrf_token": token})
        check_response(response, lang, data, None, url)
        follow(browser, response, lang, url)

    post()
    assert wait_here(), "a background job (the report) did not finish"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_search_form_survives_bad_input(app, make_client, lang):
    browser = make_client()
    names = ("q", "type", "draft", "version", "clause", "stance", "region", "sector", "sort",
             "page", "date_from", "date_to", "unpublished", "disposition")

    @FUZZ
    @given(args=st.dictionaries(st.sampled_from(names), text, max_size=5))
    def search(args):
        check_response(browser.get("/search", query_string={**args, "lang": lang}), lang,
                       args, None, "/search")

    search()
