"""Unicode edge cases typed into a comment are stored unchanged, come back unchanged from the
API, and are found by search (the browser test checks they fit a 320 px screen)."""

from __future__ import annotations

import pytest
from test_browser_xss import UNICODE_TEXTS

from drafts.models import Comment


@pytest.mark.parametrize(("body", "query"), [
    (UNICODE_TEXTS[0], "反向显示"),
    (UNICODE_TEXTS[1], "字节序标记"),
    (UNICODE_TEXTS[2], "家庭"),
    (UNICODE_TEXTS[4], "русский"),
    (UNICODE_TEXTS[5], "无空格"),
])
def test_typed_unicode_is_stored_unchanged_and_found(app, client, make_user, make_draft, body,
                                                     query):
    from search.indexer import drain

    draft = make_draft(moderation="post")
    client.login(make_user("public"))
    form = client.get(f"/drafts/{draft.slug}/comment?clause=art-6").get_data(as_text=True)
    key = form.split('name="submission_key" type="hidden" value="')[1].split('"')[0]

    response = client.post_form(f"/drafts/{draft.slug}/comment?clause=art-6",
                                {"stance": "suggest", "body": body, "submission_key": key})
    drain(app)
    stored = Comment.query.filter_by(submission_key=key).one()
    api = client.get(f"/api/v1/drafts/{draft.slug}/comments?clause=art-6").get_json()
    hits = client.get("/api/v1/search", query_string={"q": query, "type": "comment"}).get_json()

    assert response.status_code == 302
    assert stored.body == body
    assert [c["body"] for c in api["comments"]] == [body]
    assert [h["id"] for h in hits["hits"]] == [stored.id]
