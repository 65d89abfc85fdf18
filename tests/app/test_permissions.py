"""Every /staff and /admin route refuses the wrong roles; unpublished drafts stay hidden.

The routes are read from `app.url_map`, so a route added later is checked without editing
this file. URL parameters of the drafts and admin pages are filled with real objects; those of
other blueprints with values that match nothing, which still proves that the role is checked
before anything else (a route that loads first answers 404 here and fails the test: then give
its blueprint real objects in `real_values`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask import Flask
from werkzeug.routing import IntegerConverter, Rule

from app.extensions import db
from app.models import DeputyGroup

ROLES = ("anonymous", "public", "deputy", "staff", "admin")
#: which roles may use the routes under each prefix
ALLOWED = {"/staff": {"staff", "admin"}, "/admin": {"admin"}}


@dataclass
class World:
    """Real objects to put into URLs."""

    draft_slug: str
    comment_id: int
    user_id: int
    group_id: int


@pytest.fixture
def world(make_draft, make_comment, make_user) -> World:
    draft = make_draft(status="draft", slug="hidden-draft")
    open_draft = make_draft(slug="open-draft")
    comment = make_comment(open_draft, "art-6", status="pending")
    group = DeputyGroup(name="城建环资代表小组")
    db.session.add(group)
    db.session.commit()
    return World(draft.slug, comment.id, make_user("public").id, group.id)


def real_values(rule: Rule, world: World) -> dict[str, object]:
    """Return real objects for the parameters of the drafts and admin routes."""
    blueprint = rule.endpoint.split(".")[0]
    if blueprint == "staff_drafts":
        return {"slug": world.draft_slug, "comment_id": world.comment_id}
    if blueprint == "admin":
        return {"user_id": world.user_id, "group_id": world.group_id}
    return {}


def protected_rules(app: Flask) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules()
                   if r.rule.startswith(tuple(f"{p}/" for p in ALLOWED)) or r.rule in ALLOWED),
                  key=lambda r: r.rule)


def url_for_rule(rule: Rule, world: World) -> tuple[str, bool]:
    """Fill the rule's parameters; tell whether every one is a real object."""
    real = real_values(rule, world)
    complete = True

    def fill(match: re.Match) -> str:
        nonlocal complete
        name = match.group(2)
        if name in real:
            return str(real[name])
        complete = False
        return "999999" if isinstance(rule._converters[name], IntegerConverter) else "no-such"

    return re.sub(r"<(?:([^:<>]+):)?([^<>]+)>", fill, rule.rule), complete


def browser_for(role: str, make_client, make_user):
    browser = make_client()
    if role != "anonymous":
        browser.login(make_user(role))
    return browser


def request(browser, method: str, url: str):
    return browser.get(url) if method == "GET" else browser.post_form(url)


def sent_to_login(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_protected_routes_are_found(app):
    rules = {r.endpoint for r in protected_rules(app)}

    assert {"staff_drafts.drafts", "staff_drafts.new_draft", "staff_drafts.preview",
            "staff_drafts.edit_draft", "staff_drafts.change_status", "staff_drafts.moderation",
            "staff_drafts.moderate", "staff_drafts.export_comments", "admin.users",
            "admin.edit_user", "admin.deputy_groups", "admin.edit_deputy_group"} <= rules


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_the_protected_routes_it_may_use(app, world, make_client,
                                                                   make_user, role):
    browser = browser_for(role, make_client, make_user)
    problems = []

    for rule in protected_rules(app):
        prefix = "/" + rule.rule.split("/")[1]
        allowed = role in ALLOWED[prefix]
        url, complete = url_for_rule(rule, world)
        methods = sorted(rule.methods & {"GET", "POST"})
        if allowed and "GET" in methods:
            methods = ["GET"]  # a POST of an empty form proves nothing more for allowed roles
        for method in methods:
            response = request(browser, method, url)
            code = response.status_code
            if not allowed:
                ok = (sent_to_login(response) or code == 401) if role == "anonymous" else (
                    code == 403)
            elif complete:
                ok = code == 200 or (code == 302 and not sent_to_login(response))
            else:
                ok = code in (200, 302, 404) and not sent_to_login(response)
            if not ok:
                problems.append(f"{method} {url} ({rule.endpoint}) → {code}")

    assert not problems, "\n".join(problems)


def test_a_protected_post_without_the_csrf_token_is_refused_even_for_staff(world, client,
                                                                          make_user):
    client.login(make_user("staff"))

    response = client.post(f"/staff/comments/{world.comment_id}/moderate",
                           data={"action": "publish"})

    assert response.status_code == 400


# --- unpublished drafts ---------------------------------------------------------------------


PUBLIC_VIEWS = ("/drafts/{slug}", "/drafts/{slug}/clauses/art-6", "/drafts/{slug}/comments",
                "/drafts/{slug}/comment", "/api/v1/drafts/{slug}",
                "/api/v1/drafts/{slug}/comments", "/api/v1/drafts/{slug}/comments?clause=art-6")


@pytest.mark.parametrize("role", ["anonymous", "public", "deputy"])
def test_an_unpublished_draft_is_not_found_by_the_public_or_the_api(world, make_client,
                                                                    make_user, role):
    browser = browser_for(role, make_client, make_user)

    codes = {path: browser.get(path.format(slug=world.draft_slug)).status_code
             for path in PUBLIC_VIEWS}
    listed = browser.get("/api/v1/drafts").get_json()["drafts"]
    index = browser.get("/drafts/").get_data(as_text=True)

    assert set(codes.values()) == {404}, codes
    assert [d["slug"] for d in listed] == ["open-draft"]
    assert "/drafts/hidden-draft" not in index and "/drafts/open-draft" in index


def test_an_unpublished_draft_is_visible_to_staff(world, client, make_user):
    client.login(make_user("staff"))

    for path in ("/drafts/{slug}", "/drafts/{slug}/clauses/art-6", "/api/v1/drafts/{slug}",
                 "/staff/drafts/{slug}"):
        response = client.get(path.format(slug=world.draft_slug))
        assert response.status_code == 200, path
    assert "hidden-draft" in client.get("/staff/drafts").get_data(as_text=True)
