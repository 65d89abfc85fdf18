"""A first end-to-end check of commenting through the real forms."""

from sqlalchemy import select

from app.extensions import db
from drafts.models import Comment


def test_public_user_comments_on_an_item_and_sees_it_under_my_comments(client, make_user,
                                                                       make_draft):
    draft = make_draft()
    user = make_user("public")
    client.login(user)
    form = client.get(f"/drafts/{draft.slug}/comment?clause=art-11-p1-i2").get_data(as_text=True)
    key = form.split('name="submission_key" type="hidden" value="')[1].split('"')[0]
    data = {"stance": "oppose", "body": "户内一律禁止过严。", "submission_key": key,
            "clause": "art-11-p1-i2"}
    first = client.post_form(f"/drafts/{draft.slug}/comment", data)
    second = client.post_form(f"/drafts/{draft.slug}/comment", data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    comments = db.session.scalars(select(Comment)).all()
    assert len(comments) == 1
    assert comments[0].clause.anchor == "art-11-p1-i2"
    assert comments[0].status == "pending"
    mine = client.get("/drafts/mine").get_data(as_text=True)
    assert "户内一律禁止过严。" in mine
