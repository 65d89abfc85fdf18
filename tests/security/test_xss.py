"""The XSS corpus (xss_corpus.py) put through comments, user names and hearing notes: pages
show every payload as text (escaped, never as markup) and PDFs print it literally."""

from __future__ import annotations

import io

from markupsafe import escape
from pypdf import PdfReader
from security_world import build_world
from sqlalchemy import select
from xss_corpus import PAYLOADS

from app.demo import DRAFT_SLUG
from app.demo.live_notes import FINISHED_SLUG
from app.extensions import db
from hearings import live
from hearings.models import Hearing


def chunks(items, size: int):
    return [items[i:i + size] for i in range(0, len(items), size)]


def assert_shown_as_text(page: str, payloads) -> None:
    unsafe = [p for p in payloads if ("<" in p or '"' in p) and p in page]
    missing = [p for p in payloads if str(escape(p)) not in page]
    assert unsafe == [], "payloads put into the page as markup"
    assert missing == [], "payloads not shown as text"


def test_comments_and_names_show_every_payload_as_text(app, client, make_user, make_comment):
    build_world(app)
    from drafts import services

    draft = services.draft_by_slug(DRAFT_SLUG)
    groups = chunks(PAYLOADS, 20)
    for group in groups:
        author = make_user("public", name=group[0][:100])
        make_comment(draft, "art-6", "\n".join(group), user=author)

    page = client.get(f"/drafts/{DRAFT_SLUG}/clauses/art-6").get_data(as_text=True)
    mine = client.get(f"/api/v1/drafts/{DRAFT_SLUG}/comments?clause=art-6&per_page=100")

    assert_shown_as_text(page, PAYLOADS)
    assert {c["body"] for c in mine.get_json()["comments"]} >= {"\n".join(g) for g in groups}


def test_hearing_notes_show_every_payload_as_text_and_in_the_pdf(app, client):
    world = build_world(app)
    hearing = db.session.scalars(select(Hearing).where(Hearing.slug == FINISHED_SLUG)).one()
    for group in chunks(PAYLOADS, 20):
        live.add_note(hearing, world.users["staff"], "\n".join(group), kind="record")
    db.session.commit()

    page = client.get(f"/hearings/{FINISHED_SLUG}/record").get_data(as_text=True)
    response = client.get(f"/hearings/{FINISHED_SLUG}/record.pdf")
    pdf = response.get_data()
    response.close()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    flat = "".join(text.split())

    assert_shown_as_text(page, PAYLOADS)
    # a right-to-left override makes the PDF draw the text reversed, as it should: pypdf then
    # extracts it in drawing order, so those payloads are checked in the page only
    short = [p for p in PAYLOADS if len(p) < 40 and "\u202e" not in p]
    assert [p for p in short if "".join(p.split()) not in flat] == []


def test_e_mails_carry_payloads_as_plain_text(app, client):
    """A guest's name goes into the confirmation e-mail: plain text only, so markup stays
    inert characters, printed as typed (no HTML part a mail client could run)."""
    from app.mail import outbox_messages

    build_world(app)
    names = [p for p in PAYLOADS if len(p) <= 100][:20]
    for n, name in enumerate(names):
        form = client.get(f"/drafts/{DRAFT_SLUG}/comment").get_data(as_text=True)
        key = form.split('name="submission_key" type="hidden" value="')[1].split('"')[0]
        response = client.post_form(f"/drafts/{DRAFT_SLUG}/comment", {
            "stance": "support", "body": "同意。", "submission_key": key, "guest_name": name,
            "guest_email": f"guest{n}@example.com"})
        assert response.status_code == 302, name

    messages = outbox_messages()
    bodies = {m["To"]: m.get_content() for m in messages}

    assert [m.get_content_type() for m in messages] == ["text/plain"] * len(names)
    assert [n for i, n in enumerate(names) if n not in bodies[f"guest{i}@example.com"]] == []
