"""The `minyi` command: the real command objects run against the test application."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select
from support import CORPUS

from app.accounts.services import find_user_by_email
from app.cli import cli
from app.demo import DRAFT_SLUG, USERS
from app.extensions import db
from app.models import ROLES, DeputyGroup, User
from drafts import services
from drafts.models import Clause, Comment, Draft

LAW = CORPUS / "济南市城市公共交通条例(2013-11-29).md"


@pytest.fixture
def minyi(runner, monkeypatch):
    """Run `minyi ARGS…`; the environment the command group sets is restored afterwards."""
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")

    def run(*args: str):
        return runner.invoke(cli, list(args))

    return run


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_users_create_makes_a_staff_account(minyi):
    result = minyi("users", "create", "--email", "Wang.Li@Example.com", "--password",
                   "a-long-password", "--role", "staff", "--name", "法工委 王立")

    assert result.exit_code == 0, result.output
    user = find_user_by_email("wang.li@example.com")
    assert (user.name, user.role) == ("法工委 王立", "staff")
    assert user.check_password("a-long-password")
    assert result.output.strip() == f"created user {user.id} <wang.li@example.com> with role staff"


def test_users_create_refuses_a_taken_email_and_a_short_password(minyi, make_user):
    make_user("public", email="taken@example.com")

    taken = minyi("users", "create", "--email", "TAKEN@example.com", "--password",
                  "a-long-password", "--role", "staff")
    short = minyi("users", "create", "--email", "new@example.com", "--password", "short")

    assert taken.exit_code != 0
    with force_locale("zh"):
        assert gettext("An account with this e-mail address already exists.") in taken.output
    assert short.exit_code != 0
    assert "--password" in short.output
    assert count(User) == 1


def articles_in(path) -> int:
    """Count the lines that start an article, independently of the parser."""
    pattern = re.compile(r"^第[一二三四五六七八九十百千零〇]+条(?:之[一二三四五六七八九十]+)?\s")
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if pattern.match(line))


def test_drafts_import_stores_a_corpus_law_as_an_unpublished_draft(minyi):
    result = minyi("drafts", "import", str(LAW), "--title", "济南市城市公共交通条例", "--slug",
                   "jinan-transit")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1].endswith("jinan-transit")
    draft = services.draft_by_slug("jinan-transit")
    assert (draft.title, draft.status) == ("济南市城市公共交通条例", "draft")
    assert draft.current_version.source_filename == LAW.name
    stored = db.session.scalar(select(func.count()).select_from(Clause).where(
        Clause.version_id == draft.current_version_id, Clause.kind == "article"))
    assert stored == articles_in(LAW) == 49
    assert f"imported {stored} articles" in result.stdout


def test_drafts_import_refuses_a_taken_slug_and_a_wrong_kind_of_file(minyi, make_draft, tmp_path):
    make_draft(slug="taken")
    pdf = tmp_path / "law.pdf"
    pdf.write_bytes(b"%PDF-1.7")

    taken = minyi("drafts", "import", str(LAW), "--title", "重名", "--slug", "taken")
    wrong = minyi("drafts", "import", str(pdf), "--title", "PDF")

    assert taken.exit_code != 0 and wrong.exit_code != 0
    with force_locale("zh"):
        assert gettext("Upload a .txt, .md or .docx file.") in wrong.output
    assert count(Draft) == 1


def test_demo_loads_every_role_an_open_draft_and_comments_and_runs_twice(minyi):
    first = minyi("demo")

    assert first.exit_code == 0, first.output
    assert f"/drafts/{DRAFT_SLUG}" in first.output
    roles = set(db.session.scalars(select(User.role)))
    assert roles == set(ROLES)
    draft = services.draft_by_slug(DRAFT_SLUG)
    assert draft.is_open_for_comment()
    statuses = set(db.session.scalars(select(Comment.status).where(Comment.draft_id == draft.id)))
    assert {"published", "pending"} <= statuses
    deputies = db.session.scalars(select(User).where(User.role == "deputy")).all()
    assert deputies and all(d.deputy_group is not None for d in deputies)
    emails = db.session.scalars(select(User.email)).all()
    assert {email for email, *_rest in USERS} <= set(emails)
    totals = {model: count(model) for model in (User, Draft, Comment, DeputyGroup, Clause)}

    second = minyi("demo")

    assert second.exit_code == 0, second.output
    assert {model: count(model) for model in totals} == totals
