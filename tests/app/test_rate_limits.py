"""Posting limits: per address and per account, with a clear message and nothing half-saved."""

import re

from sqlalchemy import func, select

from app.extensions import db, limiter
from drafts.models import Comment


def _send_comments(client, draft, count: int):
    """Open the comment form and send it `count` times; return the statuses and the last answer."""
    statuses = []
    for n in range(count):
        page = client.get(f"/drafts/{draft.slug}/comment?clause=art-6").get_data(as_text=True)
        key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post_form(f"/drafts/{draft.slug}/comment", {
            "stance": "support", "body": f"第{n}条意见", "submission_key": key,
            "clause": "art-6"})
        statuses.append(response.status_code)
    return statuses, response


def test_comment_posting_is_limited_per_account_with_a_clear_message(app, client, make_user,
                                                                       make_draft):
    app.config["RATELIMIT_ENABLED"] = True
    limiter.enabled = True
    limiter.reset()
    try:
        draft = make_draft()
        client.login(make_user("public"))
        statuses, response = _send_comments(client, draft, 32)
        assert statuses[:30] == [302] * 30
        assert statuses[30:] == [429, 429]
        assert "请求过于频繁，请稍后再试。" in response.get_data(as_text=True)
        assert db.session.scalar(select(func.count(Comment.id))) == 30
    finally:
        limiter.reset()
        limiter.enabled = False


def test_comments_are_accepted_and_limited_while_the_limits_redis_is_down(app, client, make_user,
                                                                         make_draft):
    """With REDIS_URL pointing at a Redis that does not answer, the limits fall back to this
    process's memory: comments are stored, and the limit still applies."""
    from app import create_app

    draft = make_draft()
    user = make_user("public")
    config = {key: app.config[key] for key in ("TESTING", "DATA_DIR", "SECRET_KEY",
                                               "SQLALCHEMY_DATABASE_URI")}
    down = create_app({**config, "RATELIMIT_ENABLED": True,
                       "REDIS_URL": "redis://127.0.0.1:9/0", "SOCKETIO_CHANNEL": "limits-down"})
    down.test_client_class = type(client)
    other = down.test_client()
    try:
        other.login(user)
        statuses, _last = _send_comments(other, draft, 31)
        assert statuses == [302] * 30 + [429]
        assert db.session.scalar(select(func.count(Comment.id))) == 30
    finally:
        limiter.enabled = False
