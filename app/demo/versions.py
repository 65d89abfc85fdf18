"""The demo draft's second reading text (二审稿): an article inserted, one deleted, one split,
one moved, wording changed where the comments asked for it, the rest renumbered."""

from __future__ import annotations

from pathlib import Path

from app.models import User
from drafts import services as drafts
from drafts import versions
from drafts.models import Draft

SECOND_READING = Path(__file__).parent / "draft_v2.txt"

#: comments on the second reading: (author e-mail, clause anchor, stance, text)
COMMENTS = [
    ("citizen2@demo.minyi", "art-4", "support",
     "增加宣传教育的规定很好，建议每年组织进社区的消防演练。"),
    ("deputy2@demo.minyi", "art-7-p2", "support",
     "采纳了业主大会决定和公示七日的意见，程序更加规范。"),
]


def load_demo_second_reading(draft: Draft, users: dict[str, User]) -> None:
    """Add the 二审稿 as the current version, lineage worked out from the 征求意见稿, and two
    comments on it; the comments on the first text show as made on the earlier wording."""
    staff = users["staff@demo.minyi"]
    version = versions.add_version(
        draft, SECOND_READING.read_text(encoding="utf-8"), label="二审稿", user=staff,
        note="根据征求意见情况修改后提请常委会第二次审议的文本。", make_current=True)
    for index, (email, anchor, stance, body) in enumerate(COMMENTS):
        data = drafts.CommentInput(stance=stance, body=body,
                                   submission_key=f"demo-v2-{index:04d}-{draft.slug}")
        comment, _new = drafts.submit_comment(draft, drafts.clause_by_anchor(version, anchor),
                                              data, user=users[email])
        drafts.moderate(comment, "publish", user=staff)
