"""Personal data in comments is masked wherever the public reads them, and only there."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.masking import mask_personal_data
from drafts.models import Comment


@pytest.mark.parametrize(("text", "masked"), [
    ("13812345678", "138****5678"),
    ("电话13812345678联系", "电话138****5678联系"),
    ("+8613812345678", "138****5678"),
    ("+86 138 1234 5678", "138****5678"),
    ("+86-139-1234-5678", "139****5678"),
    ("86 15912345678", "159****5678"),
    ("手机：138-1234-5678。", "手机：138****5678。"),
    ("打19987654321或17712345678", "打199****4321或177****5678"),
])
def test_mobile_numbers_are_masked(text, masked):
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(("text", "masked"), [
    ("010-12345678", "010-****5678"),
    ("办公室0571-87654321转", "办公室0571-****4321转"),
    ("021 6234 5678", "021-****5678"),
    ("0755-8765-4321", "0755-****4321"),
])
def test_landline_numbers_are_masked(text, masked):
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(("text", "masked"), [
    ("身份证号110105194912310021。", "身份证号110105***********1。"),
    ("11010519491231002X", "110105***********X"),
    ("ID 44030619900101123x ok", "ID 440306***********x ok"),
])
def test_id_card_numbers_are_masked_leaving_region_code_and_check_digit(text, masked):
    assert mask_personal_data(text) == masked
    assert "19491231" not in mask_personal_data(text)


@pytest.mark.parametrize(("text", "masked"), [
    ("zhang.ming@example.com", "z***@***"),
    ("请发到li_fang+draft@mail.example.org.cn，谢谢", "请发到l***@***，谢谢"),
])
def test_email_addresses_are_masked(text, masked):
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize("text", [
    "2024年5月14日起施行",
    "2024-05-14",
    "第十二条第二款",
    "依照本条例第12条第3款",
    "处五百元以上五千元以下罚款",
    "罚款5000元，没收违法所得20000元",
    "按照不低于规划户数30%的比例",
    "上午10:30在第1会议室",
    "订单号 1234567890123456789",
    "版本 1.2.3",
    "",
])
def test_ordinary_numbers_and_text_are_untouched(text):
    assert mask_personal_data(text) == text


def test_several_kinds_in_one_text():
    text = "张三，13812345678，zhang@example.com，110105194912310021，2024年"

    assert mask_personal_data(text) == "张三，138****5678，z***@***，110105***********1，2024年"


PERSONAL = "我的电话13812345678，邮箱zhang.ming@example.com，身份证11010519491231002X。"
PROPOSED = "联系人手机13987654321"


@pytest.fixture
def published(make_draft, make_comment):
    draft = make_draft()
    on_clause = make_comment(draft, "art-6", PERSONAL, proposed_wording=PROPOSED)
    on_draft = make_comment(draft, None, "整体意见：" + PERSONAL)
    return draft, on_clause, on_draft


def assert_masked(text: str) -> None:
    for raw in ("13812345678", "zhang.ming@example.com", "11010519491231002X", "13987654321"):
        assert raw not in text
    assert "138****5678" in text
    assert "z***@***" in text
    assert "110105***********X" in text


def test_public_pages_show_masked_comments(client, published):
    draft, _on_clause, _on_draft = published

    clause_page = client.get(f"/drafts/{draft.slug}/clauses/art-6").get_data(as_text=True)
    draft_page = client.get(f"/drafts/{draft.slug}").get_data(as_text=True)
    whole_page = client.get(f"/drafts/{draft.slug}/comments").get_data(as_text=True)

    assert_masked(clause_page)
    assert "139****4321" in clause_page
    assert "整体意见" in draft_page and "整体意见" in whole_page
    assert_masked(draft_page)
    assert_masked(whole_page)


def test_the_api_shows_masked_comments(client, published):
    draft, on_clause, on_draft = published

    listed = client.get(f"/api/v1/drafts/{draft.slug}/comments").get_json()["comments"]

    by_id = {c["id"]: c for c in listed}
    assert set(by_id) == {on_clause.id, on_draft.id}
    assert by_id[on_clause.id]["body"] == mask_personal_data(PERSONAL)
    assert by_id[on_clause.id]["proposed_wording"] == "联系人手机139****4321"
    assert_masked(str(listed))


def test_the_stored_text_is_unchanged_and_staff_see_the_original(make_client, make_user,
                                                                 published):
    draft, on_clause, _on_draft = published
    desk = make_client()
    desk.login(make_user("staff"))

    stored = db.session.get(Comment, on_clause.id)
    moderation = desk.get(f"/staff/drafts/{draft.slug}/moderation?status=published").get_data(
        as_text=True)

    assert (stored.body, stored.proposed_wording) == (PERSONAL, PROPOSED)
    assert PERSONAL in moderation
    assert PROPOSED in moderation
