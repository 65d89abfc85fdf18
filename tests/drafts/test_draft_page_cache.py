"""The draft page keeps its rendered text between requests; nothing it shows may go stale."""

from __future__ import annotations

import re
from datetime import timedelta

from app.extensions import db
from app.models import utcnow
from drafts import services


def count_links(page: str) -> dict[str, str]:
    """Return {anchor: link text} of the comment-count links on a draft page."""
    return dict(re.findall(r'/clauses/([\w-]+)" class="count-link">([^<]+)<', page))


def test_a_published_or_hidden_comment_changes_the_counts_of_a_page_seen_before(
        client, make_draft, make_comment, make_user):
    draft = make_draft()
    assert count_links(client.get(f"/drafts/{draft.slug}").get_data(as_text=True)) == {}
    comment = make_comment(draft, "art-8-p1-i2")
    counts = count_links(client.get(f"/drafts/{draft.slug}").get_data(as_text=True))
    assert set(counts) == {"art-8", "art-8-p1", "art-8-p1-i2"}
    assert "1" in counts["art-8"]
    services.moderate(comment, "hide", user=make_user("staff"), reason="与本条无关")
    db.session.commit()
    assert count_links(client.get(f"/drafts/{draft.slug}").get_data(as_text=True)) == {}


def test_the_text_follows_the_language_and_the_comment_window(client, make_draft):
    draft = make_draft()
    chinese = client.get(f"/drafts/{draft.slug}").get_data(as_text=True)
    english = client.get(f"/drafts/{draft.slug}?lang=en").get_data(as_text=True)
    assert 'class="comment-link">提意见' in chinese
    assert 'class="comment-link">Comment' in english
    draft.closes_at = utcnow() - timedelta(minutes=1)
    draft.opens_at = utcnow() - timedelta(days=2)
    db.session.commit()
    closed = client.get(f"/drafts/{draft.slug}").get_data(as_text=True)
    assert 'class="comment-link"' not in closed
    assert "第八条" in closed
