"""Legislative staff in a real browser: import a draft from a Word file, check the structure
found, publish it; moderate pending comments with reasons; propose a balanced selection of
hearing speakers, confirm it and notify the registrants."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import docx
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from app.demo import DRAFT_SLUG
from app.demo.hearing import HEARING_SLUG, REGISTRANTS

STAFF = "staff@demo.minyi"
#: seconds the demo's report may take to be generated on a loaded machine
REPORT_TIMEOUT = 120
HEARING_TITLE = "《青禾市电动自行车停放充电管理条例（草案）》立法听证会"
#: a short regulation written for this test: two chapters, five articles, three items
REGULATION = """青禾市社区花园管理办法（草案）
第一章　总　　则
第一条　为了规范社区花园的建设和管理，方便居民参与绿化，制定本办法。
第二条　本办法适用于本市住宅小区和街道公共空间内由居民参与种植、养护的社区花园。
第二章　建设和养护
第三条　社区花园的设立，应当经居民委员会组织居民协商同意。
第四条　参与养护的居民应当遵守下列规定：
（一）不得使用剧毒农药；
（二）不得种植有毒植物；
（三）及时清理枯枝落叶。
第五条　本办法自公布之日起施行。"""


def staff_nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="主导航").get_by_role("link", name=name).click()


def flash(page: Page):
    return page.get_by_role("status")


def test_staff_import_a_word_file_check_the_structure_and_publish(new_page, demo_server,
                                                                  tmp_path):
    document = docx.Document()
    for line in REGULATION.splitlines():
        document.add_paragraph(line)
    upload = tmp_path / "社区花园管理办法.docx"
    document.save(upload)

    page = new_page(as_user=STAFF)
    page.goto(demo_server("/"))
    staff_nav(page, "工作人员")
    expect(page.get_by_role("heading", level=1)).to_have_text("草案管理")
    page.get_by_role("link", name="新建草案").click()
    page.get_by_label("标题").fill("青禾市社区花园管理办法（草案）")
    page.get_by_label("网址名称").fill("community-gardens")
    page.get_by_label("内容摘要").fill("规范社区花园的设立和养护。")
    closes = date.today() + timedelta(days=30)
    page.get_by_label("征求意见截止时间").fill(f"{closes.isoformat()}T18:00")
    page.get_by_label("或上传文件（.txt、.md、.docx）").set_input_files(upload)
    page.get_by_role("button", name="保存并预览").click()

    expect(flash(page)).to_contain_text("发布前请检查条文结构")
    structure = page.get_by_role("region", name="识别出的结构")
    expect(structure.get_by_role("listitem")).to_have_text(
        [re.compile(r"章\s*[:：]\s*2"), re.compile(r"条\s*[:：]\s*5"),
         re.compile(r"款\s*[:：]\s*5"), re.compile(r"项\s*[:：]\s*3")])
    expect(structure).to_contain_text("未发现编号缺漏、重复或无法识别的行")
    parsed = page.get_by_role("region", name="解析后的文本")
    expect(parsed.get_by_role("article", name="第四条")).to_contain_text("（二）不得种植有毒植物")

    page.get_by_role("button", name="发布征求意见").click()
    expect(flash(page)).to_contain_text("草案状态已变更")
    expect(page.get_by_role("main")).to_contain_text("正在征求意见")

    staff_nav(page, "法规草案")
    page.get_by_role("link", name="青禾市社区花园管理办法（草案）").click()
    expect(page).to_have_url(demo_server("/drafts/community-gardens"))
    expect(page.get_by_role("link", name=re.compile(r"^提意见\s*（第三条）$"))).to_be_visible()


def moderate(page: Page, text: str, decision: str, reason: str) -> None:
    """Take a decision with a reason on the pending comment containing `text`."""
    item = page.get_by_role("article").filter(has_text=text)
    item.get_by_label("审核决定").select_option(label=decision)
    item.get_by_label("理由").fill(reason)
    item.get_by_role("button", name="保存审核决定").click()
    expect(flash(page)).to_contain_text("审核决定已保存")
    expect(page.get_by_role("article").filter(has_text=text)).to_have_count(0)


def test_staff_moderate_pending_comments_with_reasons(new_page, demo_server):
    page = new_page(as_user=STAFF)
    page.goto(demo_server(f"/staff/drafts/{DRAFT_SLUG}"))
    page.get_by_role("link", name="审核意见").click()
    tabs = page.get_by_role("navigation", name="意见状态")
    expect(tabs.get_by_text(re.compile(r"^待审核 \(\d+\)$"))).to_have_attribute("aria-current",
                                                                               "page")

    moderate(page, "收费标准应当由价格主管部门指导", "公开", "与第十条直接相关")
    moderate(page, "The fine for individuals", "隐藏", "含有可识别个人身份的信息")

    tabs.get_by_role("link", name=re.compile(r"^已隐藏 \(\d+\)$")).click()
    hidden = page.get_by_role("article").filter(has_text="The fine for individuals")
    expect(hidden).to_contain_text("理由：含有可识别个人身份的信息")

    # the published comment is on its article's public page; the hidden one is not
    page.goto(demo_server(f"/drafts/{DRAFT_SLUG}/clauses/art-10"))
    expect(page.get_by_role("main")).to_contain_text("收费标准应当由价格主管部门指导")
    page.goto(demo_server(f"/drafts/{DRAFT_SLUG}/clauses/art-18"))
    expect(page.get_by_role("main")).not_to_contain_text("The fine for individuals")


def selected_by_position(page: Page) -> dict[str, int]:
    """Read the "by position" counts of selected registrants from the selection page."""
    counts = page.get_by_role("heading", name="按观点").locator("xpath=..").get_by_role("listitem")
    result = {}
    for line in counts.all_inner_texts():
        match = re.match(r"(\S+?)[:：].*选定(\d+)名", line)
        assert match, line
        result[match.group(1)] = int(match.group(2))
    return result


def test_staff_propose_a_balanced_selection_and_notify(new_page, demo_server):
    page = new_page(as_user=STAFF)
    page.goto(demo_server("/hearings/"))
    page.get_by_role("link", name="听证管理").click()
    page.get_by_role("link", name=HEARING_TITLE).click()
    page.get_by_role("navigation", name="听证会").get_by_role("link", name="报名和遴选").click()

    page.get_by_label("从报名人中遴选的名额").fill("6")
    page.get_by_label("候补名单人数").fill("3")
    page.get_by_role("button", name="生成均衡的遴选方案").click()
    expect(flash(page)).to_contain_text(f"从{len(REGISTRANTS)}名报名人中选定6名")
    selected = selected_by_position(page)
    assert selected["支持"] == selected["反对"] >= 2, selected
    rows = page.get_by_role("table").get_by_role("row")
    status = {label: rows.filter(has=page.get_by_text(label, exact=True))
              for label in ("已选定", "候补")}
    expect(status["已选定"]).to_have_count(6 + 1)  # and the invited expert
    expect(status["候补"]).to_have_count(3)

    page.get_by_role("link", name="请在期限页面确认陈述人名单").click()
    before = len(demo_server.outbox())
    deadlines = page.get_by_role("table")
    deadlines.get_by_role("row", name=re.compile("^确定陈述人")).get_by_role(
        "button", name="确认陈述人名单").click()
    expect(flash(page)).to_contain_text("已完成：确定陈述人")
    deadlines.get_by_role("row", name=re.compile("^通知陈述人")).get_by_role(
        "button", name="向报名人发送遴选结果").click()
    expect(flash(page)).to_contain_text("已完成：通知陈述人")
    sent = int(re.search(r"已发送(\d+)封", flash(page).inner_text()).group(1))
    assert sent >= len(REGISTRANTS)
    assert len(demo_server.outbox()) - before == sent

    page.goto(demo_server(f"/hearings/{HEARING_SLUG}"))
    speakers = page.get_by_role("region", name="陈述人（按发言顺序）").get_by_role("listitem")
    expect(speakers).to_have_count(7)


def test_staff_compare_two_versions_article_by_article(new_page, demo_server):
    page = new_page(as_user=STAFF)
    page.goto(demo_server(f"/staff/drafts/{DRAFT_SLUG}"))
    page.get_by_role("link", name="版本", exact=True).first.click()
    page.get_by_role("link", name=re.compile("版本比较|比较")).first.click()
    page.get_by_label("较早版本").select_option(label="1. 征求意见稿")
    page.get_by_label("较新版本").select_option(label="2. 二审稿")
    page.get_by_label("只显示修改的条文").check()
    page.get_by_role("button", name="比较", exact=True).click()

    summary = page.get_by_role("region", name="征求意见稿 → 二审稿")
    for count in ("序号调整: 5", "修改: 7", "移动: 1", "拆分: 1", "新增: 1", "删除: 1"):
        expect(summary).to_contain_text(count)
    rows = page.get_by_role("table").get_by_role("row")
    # the side-by-side table: a moved article keeps its text under its new number
    moved = rows.filter(has_text="第十七条").filter(has_text="住房城乡建设部门负责")
    expect(moved).to_contain_text("第五条")
    expect(moved).to_contain_text("移动")
    split = rows.filter(has_text="违反本条例第十二条规定")
    expect(split).to_contain_text("拆分")
    expect(split.locator("ins")).to_contain_text(["违反本条例第十二条规定"])
    # a reference renumbered with its article is named as such
    expect(rows.filter(has_text="第二十条")).to_contain_text("引用第十二条第一款现为第十二条")

    page.get_by_label("只显示修改的条文").uncheck()
    page.get_by_label("合并显示，标出增删内容").check()
    page.get_by_role("button", name="比较", exact=True).click()
    expect(page).to_have_url(re.compile("view=redline"))
    main = page.get_by_role("main")
    expect(main).to_contain_text("序号调整")  # unchanged but renumbered articles shown too
    expect(main.locator("del").filter(has_text="电梯使用管理单位可以在电梯内安装")).to_have_count(1)


def decide(page: Page, outcome: str, reason: str, clause: str,
           whole_campaign: bool = False) -> None:
    """Fill in and save the disposition form of the opinion page."""
    form = page.get_by_role("region", name="处理意见")
    form.get_by_role("radio", name=outcome, exact=True).check()
    form.get_by_label("理由").fill(reason)
    if clause:
        form.get_by_label("所涉及的最新文本条款").select_option(label=clause)
    if whole_campaign:
        form.get_by_label("适用于所选批量意见中的每条意见").check()
    form.get_by_role("button", name="保存处理意见").click()
    expect(flash(page)).to_be_visible()


LETTER = "充电设施的收费应当包含电费和服务费两部分"
LETTER_REASON = "浏览器测试：收费包含电费和服务费，已在修改后的第十条写明并接受价格主管部门指导。"
CAMPAIGN_REASON = "浏览器测试：老旧小区加装充电设施的补贴，修改后的第七条要求街道统筹安排。"


def test_staff_record_dispositions_and_download_the_pdf(new_page, demo_server):
    page = new_page(as_user=STAFF)
    page.goto(demo_server(f"/staff/drafts/{DRAFT_SLUG}"))
    page.get_by_role("link", name="意见处理工作台").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("意见处理工作台")
    expect(page.get_by_role("img", name=re.compile("^按来源统计意见"))).to_be_visible()

    # one opinion: a letter, now adopted, with the article of the newest text it changed
    page.get_by_role("row").filter(has_text=LETTER).get_by_role("link").first.click()
    decide(page, "完全采纳", LETTER_REASON, "第十条")
    history = page.get_by_role("region", name="历史记录")
    expect(history).to_contain_text(LETTER_REASON)

    # a campaign: one decision for every copy
    tabs = page.get_by_role("navigation", name="意见汇总")
    tabs.get_by_role("link", name="意见处理工作台").click()
    page.get_by_role("link", name=re.compile(r"^批量意见：收到5条")).first.click()
    campaign = page.get_by_role("table")
    page_url = page.url
    campaign.get_by_role("row").nth(1).get_by_role("link").click()
    decide(page, "部分采纳", CAMPAIGN_REASON, "第七条", whole_campaign=True)
    expect(flash(page)).to_contain_text("5")
    page.goto(page_url)
    expect(campaign.get_by_role("row").filter(has_text="部分采纳")).to_have_count(5)

    # the report: generated in the background, then downloaded
    tabs.get_by_role("link", name="意见采纳情况报告").click()
    page.get_by_role("button", name="立即生成PDF文件").click()
    download_link = page.get_by_role("link", name="下载PDF文件")
    expect(download_link).to_be_visible(timeout=REPORT_TIMEOUT * 1000)
    expect(page.get_by_role("status").last).to_contain_text("PDF文件反映当前的处理意见")
    # the link serves the PDF inline, which headless Chromium does not display: fetch it with
    # the page's own session
    response = page.request.get(demo_server(download_link.get_attribute("href")))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.body()))
    text = "".join("".join(p.extract_text().split()) for p in reader.pages)
    for expected in ("第十条", LETTER_REASON, "第七条", CAMPAIGN_REASON):
        assert expected in text, expected
