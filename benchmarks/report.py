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

import random
import time

from benchmarks import common

#: (opinions to cluster, opinions on the report's draft)
SIZES = {"smoke": (2_000, 300), "quick": (20_000, 2_000), "full": (100_000, 10_000)}
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
)
_ASKS = (
    "{actor}应当{duty}", "请在第{art}条中写明{duty}的期限", "希望{actor}先听取{place}居民的意见",
    "建议把{purpose}写进第{art}条", "第{art}条的程序应当更具体，比如{duty}",
    "{actor}和{other}的职责要分清，{purpose}才有保障", "{place}的做法是{duty}，值得写进条例",
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
            art=numeral(rng.randint(1, 120))) + rng.choice(("。", "！", "，谢谢。")))
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
        "within_goal": seconds <= CLUSTER_GOAL_S,
    }


def main(argv: list[str]) -> int:
    """Print the figures; with --json the last line is one JSON object of them."""
    args = common.parse_args("report", __doc__.split("\n")[0], argv)
    cluster_count, report_count = SIZES[args.size]
    figures: dict = {"clustering": clustering_figures(cluster_count)}
    c = figures["clustering"]
    print(f"clustering {c['opinions']} opinions: {c['seconds']} s (CPU {c['cpu_s']} s), "
          f"precision {c['precision']}, recall {c['recall']}, "
          f"{c['campaigns_found']} campaigns found")
    common.emit(figures, args.json)
    return 0
