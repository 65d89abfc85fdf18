"""The authorisation matrix: every rule in the URL map has a declared policy, and every role
gets exactly what its policy allows, by GET and, for routes that change state, by POST with a
valid CSRF token (so a refusal is about the role, not the form).

The world is the demo (security_world.py): real objects for every URL parameter, and one
account per role whose rights over those objects are known. A route added without a policy,
or a policy left for a route that is gone, fails `test_every_route_has_a_policy`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask import Flask
from security_world import DEMO_PASSWORD, ROLES, World, build_world
from werkzeug.routing import Rule

from app.jobs import wait_here

LOGGED_IN = frozenset({"public", "deputy", "staff", "admin"})
STAFF = frozenset({"staff", "admin"})


@dataclass(frozen=True)
class Policy:
    """Who may use a route, and how a refusal looks."""

    #: public, login, deputy, staff, admin, owner, observer (for docs/security.md)
    kind: str
    #: the roles that may use it in the demo world
    roles: frozenset[str]
    #: refused users get 404 instead of 403: the object is someone else's and stays unnamed
    hides: bool = False
    #: an allowed GET may answer 404: the file exists only after a step the world did not take
    absent_ok: bool = False


PUBLIC = Policy("public", frozenset(ROLES))
LOGIN = Policy("login", LOGGED_IN)
DEPUTY = Policy("deputy", frozenset({"deputy"}))
STAFF_ONLY = Policy("staff", STAFF)
ADMIN = Policy("admin", frozenset({"admin"}))
#: staff, or the hearing's chair and recorder (who are staff in the world)
HEARING_STAFF = Policy("hearing staff", STAFF)
#: the citizen's own speaker registration
OWN_REGISTRATION = Policy("owner", frozenset({"public"}), hides=True)
#: the deputy's own observer seat
OWN_SEAT = Policy("owner", frozenset({"deputy"}), hides=True)
#: accepted observers of the held hearing (the deputy)
OBSERVER = Policy("observer", frozenset({"deputy"}))

POLICIES: dict[str, Policy] = {
    "static": PUBLIC,
    "core.index": PUBLIC,
    "core.health": PUBLIC,
    # accounts
    "auth.login": PUBLIC,
    "auth.logout": PUBLIC,
    "auth.register": PUBLIC,
    "auth.reset_request": PUBLIC,
    "auth.reset_password": PUBLIC,
    "auth.set_language": PUBLIC,
    "auth.account": LOGIN,
    "auth.download_data": LOGIN,
    "auth.delete_account": LOGIN,
    "admin.users": ADMIN,
    "admin.edit_user": ADMIN,
    "admin.deputy_groups": ADMIN,
    "admin.edit_deputy_group": ADMIN,
    "admin.personal_exports": ADMIN,
    # the JSON API
    "api.drafts": PUBLIC,
    "api.draft": PUBLIC,
    "api.comments": PUBLIC,
    "api.diff": PUBLIC,
    "api.openapi": PUBLIC,
    "search_api.api_search": PUBLIC,
    "search.results": PUBLIC,
    # drafts and comments
    "drafts.index": PUBLIC,
    "drafts.show": PUBLIC,
    "drafts.clause": PUBLIC,
    "drafts.draft_comments": PUBLIC,
    "drafts.comment": PUBLIC,  # the demo draft takes comments from guests
    "drafts.submitted": PUBLIC,
    "drafts.confirm_guest": PUBLIC,  # the signed token is the permission
    "drafts.support": LOGIN,
    "drafts.my_comments": LOGIN,
    "versions.index": PUBLIC,
    "versions.compare": PUBLIC,
    "versions.compare_pdf": PUBLIC,
    "versions.compare_docx": PUBLIC,
    "versions.earlier": PUBLIC,
    "opinions.feedback": PUBLIC,
    "opinions.public_export": PUBLIC,
    "opinions.public_report": Policy("public", frozenset(ROLES), absent_ok=True),
    "opinions.statistics": PUBLIC,
    "opinions.suggest": DEPUTY,
    "opinions.feedback_setting": LOGIN,
    "opinions.opt_out": PUBLIC,  # the signed token is the permission
    # staff: drafts, versions, moderation, opinions
    "staff_drafts.drafts": STAFF_ONLY,
    "staff_drafts.new_draft": STAFF_ONLY,
    "staff_drafts.preview": STAFF_ONLY,
    "staff_drafts.edit_draft": STAFF_ONLY,
    "staff_drafts.change_status": STAFF_ONLY,
    "staff_drafts.moderation": STAFF_ONLY,
    "staff_drafts.moderate": STAFF_ONLY,
    "staff_drafts.export_comments": STAFF_ONLY,
    "staff_versions.staff_index": STAFF_ONLY,
    "staff_versions.new_version": STAFF_ONLY,
    "staff_versions.set_current": STAFF_ONLY,
    "staff_versions.staff_compare": STAFF_ONLY,
    "staff_versions.correct_pairing": STAFF_ONLY,
    "staff_versions.remove_pairing": STAFF_ONLY,
    "staff_opinions.workspace": STAFF_ONLY,
    "staff_opinions.bulk": STAFF_ONLY,
    "staff_opinions.opinion": STAFF_ONLY,
    "staff_opinions.review": STAFF_ONLY,
    "staff_opinions.campaign": STAFF_ONLY,
    "staff_opinions.new_offline": STAFF_ONLY,
    "staff_opinions.find_campaigns": STAFF_ONLY,
    "staff_opinions.review_setting": STAFF_ONLY,
    "staff_opinions.send_feedback": STAFF_ONLY,
    "staff_opinions.staff_export": STAFF_ONLY,
    "staff_opinions.report_page": STAFF_ONLY,
    "staff_opinions.report_status": STAFF_ONLY,
    "staff_opinions.generate_report": STAFF_ONLY,
    "staff_opinions.finalise_report": STAFF_ONLY,
    "staff_opinions.download_report": Policy("staff", STAFF, absent_ok=True),
    "floods.floods_page": STAFF_ONLY,
    "floods.challenge": STAFF_ONLY,
    # hearings: public pages, registration, observing
    "hearings.index": PUBLIC,
    "hearings.notice": PUBLIC,
    "hearings.calendar": PUBLIC,
    "hearings.register": LOGIN,
    "hearings.my_registration": OWN_REGISTRATION,
    "hearings.withdraw": OWN_REGISTRATION,
    "hearings.upload_statement": OWN_REGISTRATION,
    # the owner or staff; the citizen handed in no statement, so the file is absent
    "hearings.statement": Policy("owner", frozenset({"public", "staff", "admin"}),
                                 absent_ok=True),
    "hearings.observe": LOGIN,
    "hearings.withdraw_observer": OWN_SEAT,
    "hearings.answer_invitation": OWN_SEAT,
    "hearings.mine": LOGIN,
    # hearings: staff
    "staff_hearings.dashboard": STAFF_ONLY,
    "staff_hearings.new": STAFF_ONLY,
    "staff_hearings.edit": STAFF_ONLY,
    "staff_hearings.show": STAFF_ONLY,
    "staff_hearings.take_step": STAFF_ONLY,
    "staff_hearings.registrations": STAFF_ONLY,
    "staff_hearings.propose": STAFF_ONLY,
    "staff_hearings.registration": STAFF_ONLY,
    "staff_hearings.move": STAFF_ONLY,
    "staff_hearings.staff_withdraw": STAFF_ONLY,
    "staff_hearings.invite_speaker": STAFF_ONLY,
    "staff_hearings.running_order": STAFF_ONLY,
    "staff_hearings.observers": STAFF_ONLY,
    "staff_hearings.invite_deputies": STAFF_ONLY,
    "staff_hearings.decide_observer": STAFF_ONLY,
    "staff_hearings.admit_observers": STAFF_ONLY,
    "staff_hearings.export_registrations": STAFF_ONLY,
    # the live hearing and its record (the held hearing was followed live by the public)
    "hearing_live.live_page": PUBLIC,
    "hearing_live.chair_screen": HEARING_STAFF,
    "hearing_live.post_note": LOGIN,  # what kind of note a user may write is checked next
    "hearing_live.edit_note": HEARING_STAFF,  # the note is the recorder's
    "hearing_live.change_speaker": HEARING_STAFF,
    "hearing_live.timer": HEARING_STAFF,
    "hearing_live.end": HEARING_STAFF,
    "hearing_live.record_page": PUBLIC,  # signed: everyone who could follow it live
    "hearing_live.record_pdf": PUBLIC,
    "hearing_live.open_record": HEARING_STAFF,
    "hearing_live.request_correction": LOGIN,  # only speakers succeed; checked in the service
    "hearing_live.decide_correction": HEARING_STAFF,
    "hearing_live.sign": LOGIN,  # only the chair and recorder succeed; checked in the service
    "hearing_live.report_page": HEARING_STAFF,
    "hearing_live.report_pdf": HEARING_STAFF,
    "hearing_live.opinion": OBSERVER,
}

#: query strings some GETs need to show their page rather than explain what is missing
QUERIES = {"api.diff": "?from=1&to=2", "versions.compare": "?from=1&to=2"}
#: POST routes whose success ends the session; tried last
SESSION_ENDING = ("auth.logout", "auth.delete_account")


def fill(rule: Rule, world: World) -> str:
    """Put the world's values for the rule's blueprint into its parameters."""
    blueprint = rule.endpoint.split(".")[0]
    values = world.values.get(blueprint, {})

    def value(match: re.Match) -> str:
        name = match.group(1)
        assert name in values, f"the world has no {name} for {rule.endpoint}"
        return str(values[name])

    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", value, rule.rule) + QUERIES.get(rule.endpoint, "")


def all_rules(app: Flask) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda r: r.rule)


def test_every_route_has_a_policy(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}

    assert sorted(endpoints - POLICIES.keys()) == [], "routes without a declared policy"
    assert sorted(POLICIES.keys() - endpoints) == [], "policies for routes that are gone"


def sent_to_login(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers.get("Location", "")


def judge(policy: Policy, role: str, method: str, response) -> bool:
    """Tell whether the response is what the policy promises this role."""
    code = response.status_code
    if code >= 500:
        return False
    if role not in policy.roles:
        if role == "anonymous":
            return sent_to_login(response) or code == 401
        return code == 403 or (policy.hides and code == 404)
    if sent_to_login(response) or code in (401, 403):
        return False
    if method == "POST":
        return True  # an empty form may be refused (400) or explained; the role was let in
    return code in (200, 302) or (policy.absent_ok and code == 404)


def browser_for(role: str, world: World, make_client):
    browser = make_client()
    if role != "anonymous":
        response = browser.post_form("/login", {"email": world.users[role].email,
                                                "password": DEMO_PASSWORD})
        assert response.status_code == 302
    return browser


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_what_each_route_allows(app, make_client, role):
    world = build_world(app)
    browser = browser_for(role, world, make_client)
    token = browser.csrf_token()
    rules = all_rules(app)
    problems, tried = [], 0

    # GETs first, then the POSTs the role is refused (which must change nothing), then the
    # POSTs it may make, which change the world (an empty form can apply to observe)
    def order(rule: Rule) -> tuple:
        allowed = role in POLICIES[rule.endpoint].roles
        return (allowed, rule.endpoint in SESSION_ENDING, rule.rule)

    plan = [("GET", r) for r in rules if "GET" in r.methods] + [
        ("POST", r) for r in sorted(rules, key=order) if "POST" in r.methods]
    for method, rule in plan:
        policy = POLICIES[rule.endpoint]
        url = fill(rule, world)
        if method == "GET":
            response = browser.get(url)
        else:
            response = browser.post(url, data={"csrf_token": token})
        response.close()
        tried += 1
        if not judge(policy, role, method, response):
            problems.append(f"{role} {method} {url} ({rule.endpoint}, {policy.kind}) → "
                            f"{response.status_code} {response.headers.get('Location', '')}")

    # the report POSTs started jobs in threads of this process: let them end with the test
    assert wait_here(), "a background job did not finish"
    assert not problems, "\n".join(problems)
    assert tried >= len(rules)
