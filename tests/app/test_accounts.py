"""Accounts through the real forms: register, log in and out, reset a password, and the
administrators' pages for users and deputy groups."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import func, select
from support import PASSWORD

from app.accounts.services import find_user_by_email
from app.extensions import db
from app.mail import outbox_messages
from app.models import AuditLog, DeputyGroup, User


def translated(message: str, **params: object) -> str:
    """Return a message as a Chinese page shows it."""
    with force_locale("zh"):
        return str(escape(gettext(message, **params)))


def logged_in(browser) -> bool:
    return browser.get("/drafts/mine").status_code == 200


def users_stored() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


# --- registering ----------------------------------------------------------------------------


def register(browser, **fields):
    data = {"name": "王小明", "email": "xiaoming@example.com", "password": "a-long-password",
            "confirm": "a-long-password", **fields}
    return browser.post_form("/register", data)


def test_a_visitor_registers_and_is_logged_in(client):
    response = register(client, email="XiaoMing@Example.com")

    assert response.status_code == 302
    user = find_user_by_email("xiaoming@example.com")
    assert (user.email, user.name, user.role) == ("xiaoming@example.com", "王小明", "public")
    assert user.password_hash != "a-long-password" and user.check_password("a-long-password")
    assert logged_in(client)


def test_a_second_account_for_the_same_email_is_refused(client, make_user):
    make_user("public", email="taken@example.com")

    response = register(client, email="Taken@Example.com", name="冒名者")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert translated("An account with this e-mail address already exists.") in page
    assert 'value="冒名者"' in page
    assert users_stored() == 1
    assert not logged_in(client)


def test_registration_checks_the_password(client):
    differ = register(client, confirm="another-password").get_data(as_text=True)
    short = register(client, password="short", confirm="short").get_data(as_text=True)

    assert translated("The passwords differ.") in differ
    assert 'id="password-error"' in short
    assert users_stored() == 0


# --- logging in and out ---------------------------------------------------------------------


def test_login_with_a_wrong_password_or_unknown_address_says_so(client, make_user):
    user = make_user("public")

    wrong = client.post_form("/login", {"email": user.email, "password": "not-the-password"})
    unknown = client.post_form("/login", {"email": "nobody@example.com", "password": PASSWORD})

    message = translated("Wrong e-mail address or password.")
    assert wrong.status_code == unknown.status_code == 200
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    assert not logged_in(client)


def test_login_ignores_the_case_of_the_address_and_follows_a_local_next(client, make_user):
    user = make_user("public", email="case@example.com")

    response = client.post_form("/login?next=/drafts/mine",
                                {"email": "CASE@example.com", "password": PASSWORD})

    assert response.status_code == 302
    assert response.headers["Location"] == "/drafts/mine"
    assert logged_in(client)
    assert user.active


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/",
                                    "/\\evil.example/", "/\t/evil.example/",
                                    "javascript:alert(1)"])
def test_login_does_not_send_the_user_to_another_site(client, make_user, target):
    user = make_user("public")

    response = client.post_form("/login", {"email": user.email, "password": PASSWORD,
                                           "next": target})

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_a_deactivated_account_cannot_log_in(client, make_user):
    user = make_user("public")
    user.active = False
    db.session.commit()

    response = client.post_form("/login", {"email": user.email, "password": PASSWORD})

    assert translated("Wrong e-mail address or password.") in response.get_data(as_text=True)
    assert not logged_in(client)


def test_logout_is_a_post_with_the_csrf_token(client, make_user):
    client.login(make_user("public"))

    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert logged_in(client)

    response = client.post_form("/logout")

    assert response.status_code == 302
    assert not logged_in(client)


# --- resetting a password -------------------------------------------------------------------


def reset_link() -> str:
    body = outbox_messages()[-1].get_content()
    match = re.search(r"https?://[^/\s]+(/reset/\S+)", body)
    assert match, body
    return match.group(1)


def test_a_password_reset_link_works_once(client, make_client, make_user):
    user = make_user("public", email="forgot@example.com")

    response = client.post_form("/reset", {"email": "Forgot@example.com"})
    assert response.status_code == 302
    assert outbox_messages()[-1]["To"] == "forgot@example.com"
    link = reset_link()
    assert 'name="password"' in client.get(link).get_data(as_text=True)

    changed = client.post_form(link, {"password": "brand-new-secret",
                                      "confirm": "brand-new-secret"})

    assert changed.status_code == 302 and changed.headers["Location"] == "/login"
    assert db.session.get(User, user.id).check_password("brand-new-secret")
    again = client.get(link)
    assert again.status_code == 302 and again.headers["Location"] == "/reset"
    assert translated("This link is invalid or has expired. Ask for a new one.") in client.get(
        "/reset").get_data(as_text=True)
    reused = client.post_form(link, {"password": "third-secret-123", "confirm": "third-secret-123"})
    assert reused.status_code == 302
    assert db.session.get(User, user.id).check_password("brand-new-secret")
    fresh = make_client()
    assert fresh.post_form("/login", {"email": user.email, "password": PASSWORD}).status_code == 200
    fresh.login(user, password="brand-new-secret")


def test_a_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client):
    response = client.post_form("/reset", {"email": "nobody@example.com"}, follow_redirects=True)

    assert translated("If an account exists for that address, we have sent it a link to reset "
                      "the password.") in response.get_data(as_text=True)
    assert outbox_messages() == []


def test_a_forged_reset_link_is_refused(client):
    response = client.get("/reset/forged-token")

    assert response.status_code == 302
    assert response.headers["Location"] == "/reset"


# --- administrators -------------------------------------------------------------------------


@pytest.fixture
def admin(make_user):
    return make_user("admin")


@pytest.fixture
def console(client, admin):
    """An administrator's browser."""
    client.login(admin)
    return client


@pytest.fixture
def group() -> DeputyGroup:
    group = DeputyGroup(name="城建环资代表小组", description="城市建设")
    db.session.add(group)
    db.session.commit()
    return group


def test_the_user_list_filters_by_role_and_name(console, make_user):
    make_user("deputy", name="李代表")
    make_user("public", name="张明")

    deputies = console.get("/admin/users?role=deputy").get_data(as_text=True)
    named = console.get("/admin/users?q=张").get_data(as_text=True)

    assert "李代表" in deputies and "张明" not in deputies
    assert "张明" in named and "李代表" not in named


def test_an_admin_makes_a_user_a_deputy_in_a_group_and_it_is_audited(console, admin, group,
                                                                     make_user):
    user = make_user("public", name="李四")
    page = console.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "城建环资代表小组" in page

    response = console.post_form(f"/admin/users/{user.id}", {
        "name": "李四代表", "role": "deputy", "deputy_level": "county",
        "deputy_group_id": str(group.id), "active": "y"})

    assert response.status_code == 302
    stored = db.session.get(User, user.id)
    assert (stored.name, stored.role, stored.deputy_level, stored.deputy_group_id) == (
        "李四代表", "deputy", "county", group.id)
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "user.update")).one()
    assert (row.actor_id, row.object_id) == (admin.id, user.id)
    assert row.details["before"]["role"] == "public"
    assert row.details["after"] == {"role": "deputy", "active": True, "deputy_level": "county",
                                    "deputy_group_id": group.id}


def test_leaving_the_deputy_role_clears_the_group(console, group, make_user):
    deputy = make_user("deputy", deputy_group=group)

    console.post_form(f"/admin/users/{deputy.id}", {
        "name": deputy.name, "role": "staff", "deputy_level": "city",
        "deputy_group_id": str(group.id), "active": "y"})

    stored = db.session.get(User, deputy.id)
    assert (stored.role, stored.deputy_level, stored.deputy_group_id) == ("staff", None, None)


def test_an_admin_cannot_take_away_their_own_admin_role(console, admin):
    response = console.post_form(f"/admin/users/{admin.id}", {
        "name": admin.name, "role": "staff", "deputy_level": "", "deputy_group_id": "0",
        "active": "y"})

    assert response.status_code == 200
    assert translated("You cannot take away your own administrator role.") in response.get_data(
        as_text=True)
    assert db.session.get(User, admin.id).role == "admin"
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == 0


def test_an_admin_creates_a_deputy_group_and_a_duplicate_name_is_refused(console, admin):
    created = console.post_form("/admin/deputy-groups/new", {"name": " 财政经济代表小组 ",
                                                             "description": "预算审查"})
    duplicate = console.post_form("/admin/deputy-groups/new", {"name": "财政经济代表小组"})

    assert created.status_code == 302
    assert duplicate.status_code == 200
    assert translated("A deputy group with this name already exists.") in duplicate.get_data(
        as_text=True)
    groups = db.session.scalars(select(DeputyGroup)).all()
    assert [(g.name, g.description) for g in groups] == [("财政经济代表小组", "预算审查")]
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "deputy_group.save")).one()
    assert (row.actor_id, row.object_id) == (admin.id, groups[0].id)
    assert "财政经济代表小组" in console.get("/admin/deputy-groups").get_data(as_text=True)


def test_a_deputy_group_keeps_its_name_when_edited_and_cannot_take_anothers(console, group):
    other = DeputyGroup(name="教科文卫代表小组")
    db.session.add(other)
    db.session.commit()

    kept = console.post_form(f"/admin/deputy-groups/{group.id}",
                             {"name": "城建环资代表小组", "description": "新的说明"})
    clash = console.post_form(f"/admin/deputy-groups/{other.id}", {"name": "城建环资代表小组"})

    assert kept.status_code == 302
    assert translated("A deputy group with this name already exists.") in clash.get_data(
        as_text=True)
    assert db.session.get(DeputyGroup, group.id).description == "新的说明"
    assert db.session.get(DeputyGroup, other.id).name == "教科文卫代表小组"
