"""A staff POST without its CSRF token is refused; unpublished drafts stay hidden.

Which role reaches which route is checked over the whole URL map, against a declared policy
per endpoint, in tests/security/test_authorization.py."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.extensions import db
from app.models import DeputyGroup

ROLES = ("anonymous", "public", "deputy", "staff", "admin")


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


def browser_for(role: str, make_client, make_user):
    browser = make_client()
    if role != "anonymous":
        browser.login(make_user(role))
    return browser


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
