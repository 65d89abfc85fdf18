"""The adopted-opinions report (意见采纳情况报告) of a large draft, and campaign detection.

1. Clustering: 100,000 generated opinions (30 % of them copies of a few campaign texts with
   light edits: a greeting, a signature, a few characters changed or dropped, punctuation)
   clustered by drafts.campaigns; the figures are the seconds and the pairwise precision and
   recall against the generated campaigns.  Goal: ≤ 60 s.
2. The report: the fictional 120-article draft with 10,000 opinions (30 % in campaigns),
   every one with a disposition, clustered and rendered to the tagged PDF by the same code as
   `minyi report adopted`, in a child process whose peak resident memory is measured.
   Goals: ≤ 20 s, ≤ 1 GB.
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import common

#: (opinions to cluster, opinions on the report's draft)
SIZES = {"smoke": (2_000, 300), "quick": (20_000, 1_000), "full": (100_000, 10_000)}
CAMPAIGN_SHARE = 0.3
CLUSTER_GOAL_S = 60.0
PDF_GOAL_S = 20.0
PDF_GOAL_MB = 1024

#: campaign texts written for the benchmark; copies are made with light edits
CAMPAIGN_TEXTS = (
    "强烈要求在城市更新中保留老街区的历史风貌，不得以更新为名大拆大建，拆除前必须公开听证，"
    "并给予居民充分的表达机会。",
    "我们小区的居民一致认为，更新方案必须经过项目范围内三分之二以上业主同意才能实施，"
    "请在条例中明确这一比例。",
    "补偿标准应当不低于同地段新建商品住房的市场价格，并且由居民共同选定评估机构，"
    "评估报告要向全体居民公开。",
    "请把加装电梯、增设停车位和社区养老设施列为老旧小区更新的必备内容，"
    "资金由市区两级财政共同承担。",
    "临时安置期限不得超过二十四个月，逾期的应当按月加倍支付临时安置费，"
    "请在法律责任一章中写明。",
    "反对把历史风貌保护区内的公房交给企业统一经营，原住居民有权选择回迁，"
    "回迁房的面积不得小于原住房面积。",
    "建议设立城市更新居民监督委员会，成员由居民选举产生，"
    "有权查阅项目资金使用情况并向人大常委会报告。",
    "请求在条例中规定更新项目施工期间每天晚上十时至次日六时禁止产生噪声的作业，"
    "保障周边居民休息。",
)
_GREETINGS = ("", "", "", "我是东城区居民，", "尊敬的立法机关：", "您好！", "作为一名老党员，",
              "我们是西湖区的居民，")
_SIGN_OFFS = ("", "", "", "望采纳！", "谢谢。", "请认真考虑群众的意见。", "此致敬礼。")
_NOISE = "的了和在是我们这个有也就都要"
#: pieces of the opinions people write on their own; combined at random they rarely repeat
_PEOPLE = ("我", "我们家", "我们小区的居民", "我们单位", "我和邻居们", "我们楼栋的住户",
           "我父母", "我们社区的志愿者")
_PLACES = ("东城区", "西湖区", "南港区", "北山区", "青禾新区", "河口县", "老城区", "开发区")
_STREETS = "桂花梧桐银杏枫林柳岸竹园松涛杏坛荷塘梅岭兰亭菊苑樱桥槐荫榆林桃源"
_EXPERIENCES = (
    "去年改造时被要求在{n}天内搬走", "等了{n}个月才拿到临时安置费", "家门口的道路被挖开了{n}次",
    "小区的停车位只有{n}个", "楼里住着{n}户老人却没有电梯", "施工噪声持续到晚上{h}点",
    "补偿款比评估价低了{n}万元", "征求意见只贴了{n}天公告",
    "旁边的工地{n}个月没有围挡", "社区食堂只能坐{n}个人", "离最近的公交站要走{n}分钟",
    "老房子的屋顶漏了{n}年没人修", "我们楼有{n}户想加装电梯却谈不拢",
    "小区门口的菜场拆了{n}年还没建好", "家里老人每天要爬{n}层楼", "去年夏天停电{n}次",
)
_ASKS = (
    "{actor}应当{duty}", "请在第{art}条中写明{duty}的期限", "希望{actor}先听取{place}居民的意见",
    "建议把{purpose}写进第{art}条", "第{art}条的程序应当更具体，比如{duty}",
    "{actor}和{other}的职责要分清，{purpose}才有保障", "{place}的做法是{duty}，值得写进条例",
    "{reason}", "要是{actor}能{duty}，{purpose}就不是空话", "我最关心的是{purpose}",
    "能不能规定{actor}每年至少{duty}一次", "第{art}条里“{actor}”的说法不清楚",
)


def _street(rng: random.Random) -> str:
    return "".join(rng.sample(_STREETS, 2)) + rng.choice(("路", "街", "巷", "里"))


def individual_opinion(rng: random.Random) -> str:
    """Return an opinion written by one person: their experience and what they ask for."""
    from drafts.parser import int_to_chinese_numeral as numeral

    place = rng.choice(_PLACES)
    sentences = [f"{rng.choice(_PEOPLE)}住在{place}{_street(rng)}，"
                 + rng.choice(_EXPERIENCES).format(n=rng.randint(2, 90), h=rng.randint(9, 12))
                 + "。"]
    for _ in range(rng.randint(1, 3)):
        actor, other = rng.sample(common._ACTORS, 2)
        sentences.append(rng.choice(_ASKS).format(
            actor=actor, other=other, duty=rng.choice(common._DUTIES),
            purpose=rng.choice(common._PURPOSES), place=place,
            reason=(rng.choice(common._REASONS) or "这件事拖得太久了。").rstrip("。"),
            art=numeral(rng.randint(1, 120))) + rng.choice(("。", "！", "，谢谢。")))
    rng.shuffle(sentences)
    return "".join(sentences)


def light_edit(text: str, rng: random.Random) -> str:
    """Return a copy of a campaign text with the edits people make before sending one."""
    chars = list(text)
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        action = rng.randrange(3)
        at = rng.randrange(len(chars))
        if action == 0:
            chars[at] = rng.choice(_NOISE)
        elif action == 1:
            del chars[at:at + rng.randint(1, 4)]
        else:
            chars.insert(at, rng.choice(_NOISE))
    edited = "".join(chars)
    if rng.random() < 0.3:
        edited = edited.replace("，", ",").replace("。", ".")
    return rng.choice(_GREETINGS) + edited + rng.choice(_SIGN_OFFS)


def generate_opinions(count: int, rng: random.Random, share: float = CAMPAIGN_SHARE
                      ) -> tuple[list[str], list[int]]:
    """Return `count` opinion texts and their true campaign (-1 for individual ones).

    Campaign sizes are uneven, as in real campaigns: the first text is sent most often.
    """
    weights = [1 / (k + 1) for k in range(len(CAMPAIGN_TEXTS))]
    texts, truth = [], []
    for _ in range(count):
        if rng.random() < share:
            campaign = rng.choices(range(len(CAMPAIGN_TEXTS)), weights)[0]
            texts.append(light_edit(CAMPAIGN_TEXTS[campaign], rng))
            truth.append(campaign)
        else:
            texts.append(individual_opinion(rng))
            truth.append(-1)
    return texts, truth


def clustering_figures(count: int, seed: int = 7) -> dict:
    """Cluster `count` generated opinions; return the seconds, precision and recall."""
    from drafts.campaigns import find_campaigns, pair_scores

    texts, truth = generate_opinions(count, random.Random(seed))
    started = time.perf_counter()
    cpu = time.process_time()
    found = find_campaigns(texts)
    seconds = time.perf_counter() - started
    scores = pair_scores(truth, found)
    return {
        "opinions": count,
        "seconds": round(seconds, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
        "precision": round(scores["precision"], 4),
        "recall": round(scores["recall"], 4),
        "campaigns_found": len({f for f in found if f >= 0}),
        "in_campaigns_true": sum(t >= 0 for t in truth),
        "in_campaigns_found": sum(f >= 0 for f in found),
        # opinions written alone that were put into a campaign (the pair measures hide them)
        "individuals_in_campaigns": sum(t < 0 <= f for t, f in zip(truth, found, strict=True)),
        "within_goal": seconds <= CLUSTER_GOAL_S,
    }


# --- the report of a large draft --------------------------------------------------------------

#: bump when the seeded data changes shape
SEED_FORMAT = 3
#: (source, share) of the seeded opinions; the rest are online comments
SOURCE_SHARES = (("letter", 0.04), ("email", 0.05), ("symposium", 0.01), ("deputy", 0.01))
#: (outcome, share) of the dispositions
OUTCOME_SHARES = (("adopted", 0.15), ("partly_adopted", 0.15), ("not_adopted", 0.35),
                  ("already_provided", 0.25), ("out_of_scope", 0.10))
_REASON_STEMS = (
    "{article}已经规定了相关内容", "该意见涉及的事项由{actor}制定的配套文件规定",
    "该建议与上位法的规定不一致", "该事项属于{actor}的职责，不宜在本条例中规定",
    "经研究，{article}的表述已能涵盖该意见", "该意见在实践中难以操作，暂不采纳",
    "该意见涉及资金安排，属于预算管理事项", "该意见已在修改后的{article}中部分体现",
)


def _reasons(rng: random.Random) -> list[str]:
    """Return the reasons staff give, a few dozen in all as in a real report."""
    from drafts.parser import int_to_chinese_numeral as numeral

    return [stem.format(article=f"第{numeral(rng.randint(1, 120))}条",
                        actor=rng.choice(common._ACTORS)) + "。"
            for stem in _REASON_STEMS for _ in range(6)]


def second_reading(text: str) -> str:
    """Return the 二审稿 of the fictional draft: every sixth article gains a sentence."""
    lines = text.split("\n")
    articles = 0
    for index, line in enumerate(lines):
        if line.startswith("第") and "条　" in line[:12]:
            articles += 1
            if articles % 6 == 0:
                lines[index] = line + "有关部门应当加强监督检查，并向社会公布检查结果。"
    return "\n".join(lines)


def seeded_report(count: int) -> tuple[Path, dict, float | None]:
    """Return the cached data folder holding the draft with `count` decided opinions."""
    folder, meta, seconds = common.cached_folder(
        f"report-{count}-rev{common.schema_revision()}-f{SEED_FORMAT}",
        lambda scratch: seed(scratch, count))
    return folder, meta, seconds


def seed(folder: Path, count: int) -> dict:
    """Make the draft with its second reading, `count` opinions and their dispositions."""
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import User, utcnow
    from drafts import opinions, versions
    from drafts.models import Clause, Comment, Disposition

    rng = random.Random(count)
    with common.new_database(folder, max(200, count // 5), rng) as (draft, staff):
        for n in range(20):
            db.session.add(User(email=f"deputy{n}@example.org", name=f"代表{n + 1}",
                                password_hash="-", role="deputy", deputy_level="city"))
        versions.add_version(draft, second_reading(common.draft_text()), label="二审稿",
                             user=staff, make_current=True)
        db.session.flush()
        first = opinions.first_version(draft)
        units = db.session.scalars(select(Clause).where(
            Clause.version_id == first.id, Clause.kind.in_(("article", "paragraph", "item")))
            .order_by(Clause.position)).all()
        weights = [1 / (rank + 1) ** 0.7 for rank in range(len(units))]
        rng.shuffle(weights)
        deputies = list(db.session.scalars(select(User.id).where(User.role == "deputy")))
        publics = list(db.session.scalars(select(User.id).where(User.role == "public")))
        texts, truth = generate_opinions(count, rng)
        now = utcnow()
        rows = []
        for index, (text, campaign) in enumerate(zip(texts, truth, strict=True), start=1):
            roll, source = rng.random(), "online"
            for name, share in SOURCE_SHARES:
                if roll < share:
                    source = name
                    break
                roll -= share
            if campaign >= 0 and source == "deputy":
                source = "online"
            unit = None if rng.random() < 0.05 else rng.choices(units, weights)[0]
            rows.append({
                "id": index, "draft_id": draft.id, "version_id": first.id,
                "clause_id": unit.id if unit else None,
                "author_id": rng.choice(deputies) if source == "deputy" else
                rng.choice(publics) if source == "online" else None,
                "guest_name": "" if source in ("online", "deputy") else f"来信人{index}",
                "guest_email": "", "stance": rng.choice(("support", "oppose", "suggest")),
                "body": text, "proposed_wording": "", "region": rng.choice(common.REGIONS),
                "sector": rng.choice(common.SECTORS), "age_band": "",
                "status": "published" if source == "online" else "recorded", "source": source,
                "source_detail": "", "received_at": None, "cluster_id": None, "topic": "",
                "moderation_reason": "", "submission_key": f"report-{index:07d}",
                "support_count": 0, "created_at": now,
            })
        db.session.execute(insert(Comment.__table__), rows)
        places = opinions.ClausePlaces(draft)
        reasons = _reasons(rng)
        # staff give the opinions on one article a handful of reasons, not a new one each
        article_reasons = {a.id: rng.sample(reasons, 4) for a in places.articles()}
        outcomes = [o for o, _share in OUTCOME_SHARES]
        shares = [share for _o, share in OUTCOME_SHARES]
        per_campaign: dict[int, tuple[str, str]] = {}
        decisions = []
        for row, campaign in zip(rows, truth, strict=True):
            if campaign >= 0:  # staff decide a campaign once, for all of its copies
                outcome, reason = per_campaign.setdefault(
                    campaign, (rng.choices(outcomes, shares)[0], rng.choice(reasons)))
            else:
                article = places.article(row["clause_id"])
                outcome = rng.choices(outcomes, shares)[0]
                reason = rng.choice(article_reasons[article.id] if article else reasons)
            target = places.unit(row["clause_id"]) if outcome in (
                "adopted", "partly_adopted") else None
            decisions.append({
                "comment_id": row["id"], "draft_id": draft.id, "outcome": outcome,
                "reason": "" if outcome == "adopted" else reason,
                "clause_id": target.id if target else None, "decided_by_id": staff.id,
                "decided_at": now, "review_state": "", "review_note": "",
                "notified_at": now})
        db.session.execute(insert(Disposition.__table__), decisions)
        slug = draft.slug
    return {"opinions": count, "in_campaigns_true": sum(t >= 0 for t in truth),
            "draft": slug}


def render_child(folder: Path, slug: str, out: Path) -> dict:
    """Render the report in this process (the child); return its seconds and peak memory."""
    app = common.bench_app(folder)
    with app.app_context(), app.test_request_context("/"):
        from drafts import report, services

        draft = services.draft_by_slug(slug)
        started, cpu = time.perf_counter(), time.process_time()
        data = report.render_pdf(draft, cluster=False)
        seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    out.write_bytes(data)
    return {"seconds": round(seconds, 2), "cpu_s": round(cpu_s, 2),
            "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> int:
    """Return this process's peak resident memory in MB.

    The high-water mark of its own address space (VmHWM): getrusage's ru_maxrss carries the
    parent's peak over fork and exec, and the parent has just clustered 100,000 texts.
    """
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return round(int(line.split()[1]) / 1024)


def report_figures(count: int) -> dict:
    """Seed (or reuse) the draft, find its campaigns, and render the PDF in a child process."""
    from io import BytesIO

    from pypdf import PdfReader

    folder, meta, seed_s = seeded_report(count)
    with tempfile.TemporaryDirectory(prefix="minyi-bench-report.") as scratch:
        work = Path(scratch)
        for name in ("minyi.sqlite3",):
            (work / name).write_bytes((folder / name).read_bytes())
        app = common.bench_app(work)
        with app.app_context():
            from app.extensions import db
            from drafts import campaigns, opinions, services

            draft = services.draft_by_slug(meta["draft"])
            started = time.perf_counter()
            found = campaigns.cluster_draft(draft)
            db.session.commit()
            cluster_s = time.perf_counter() - started
            totals = opinions.totals(draft)
            db.session.remove()
            db.engine.dispose()
        out = work / "report.pdf"
        started = time.perf_counter()
        child = subprocess.run(
            [sys.executable, "-m", "benchmarks", "report", "--render-child", str(work),
             meta["draft"], str(out)], cwd=common.REPO, capture_output=True, text=True,
            check=False)
        wall = time.perf_counter() - started
        if child.returncode:
            raise RuntimeError(child.stderr[-3000:])
        rendered = json.loads(child.stdout.strip().splitlines()[-1])
        data = out.read_bytes()
        reader = PdfReader(BytesIO(data))
        text = "".join(page.extract_text() for page in reader.pages[:3])
    return {
        "opinions": totals.received, "unique": totals.unique,
        "campaigns": found.campaigns, "cluster_draft_s": round(cluster_s, 2),
        "seed_s": meta.get("seed_s") if seed_s is None else round(seed_s, 1),
        "pdf_s": rendered["seconds"], "pdf_cpu_s": rendered["cpu_s"],
        "child_wall_s": round(wall, 2), "peak_rss_mb": rendered["peak_rss_mb"],
        "pages": len(reader.pages), "bytes": len(data), "chinese_text": "意见" in text,
        "within_goal": rendered["seconds"] <= PDF_GOAL_S and rendered["peak_rss_mb"]
        <= PDF_GOAL_MB,
    }


def main(argv: list[str]) -> int:
    """Print the figures; with --json the last line is one JSON object of them."""
    if argv[:1] == ["--render-child"]:
        folder, slug, out = argv[1:4]
        print(json.dumps(render_child(Path(folder), slug, Path(out))))
        return 0
    args = common.parse_args("report", __doc__.split("\n")[0], argv)
    cluster_count, report_count = SIZES[args.size]
    figures: dict = {"clustering": clustering_figures(cluster_count)}
    c = figures["clustering"]
    print(f"clustering {c['opinions']} opinions: {c['seconds']} s (CPU {c['cpu_s']} s), "
          f"precision {c['precision']}, recall {c['recall']}, "
          f"{c['campaigns_found']} campaigns found")
    figures["report"] = r = report_figures(report_count)
    print(f"report of {r['opinions']} opinions ({r['unique']} unique, {r['campaigns']} "
          f"campaigns; clustered in {r['cluster_draft_s']} s): PDF in {r['pdf_s']} s "
          f"(CPU {r['pdf_cpu_s']} s), peak memory {r['peak_rss_mb']} MB, {r['pages']} pages, "
          f"{r['bytes'] // 1024} KiB, Chinese text extracted: {r['chinese_text']}")
    figures["load_average"] = common.load_average()
    common.emit(figures, args.json)
    # The goals are figures, not failures: on a shared machine they measure the neighbours.
    return 0 if r["chinese_text"] else 1
