"""Helpers shared by the benchmarks: arguments, percentiles, output, caches and our own texts."""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

# The application is imported inside the functions that need it: the load generator's
# processes import this module too and should start fast.

REPO = Path(__file__).resolve().parent.parent
#: environment variable naming the folder for seeded databases (default ~/.cache/minyi-bench)
CACHE_ENV = "MINYI_BENCH_CACHE"
SIZES = ("smoke", "quick", "full")


def parse_args(prog: str, description: str, argv: list[str],
               extra: Callable[[argparse.ArgumentParser], None] | None = None
               ) -> argparse.Namespace:
    """Parse the options every benchmark takes: --quick, --json and the hidden --smoke."""
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks {prog}",
                                     description=description)
    parser.add_argument("--quick", action="store_true", help="a smaller run (under a minute)")
    parser.add_argument("--json", action="store_true",
                        help="end with one line holding a JSON object of the figures")
    # a run of a few seconds for the test suite; not meant for measuring
    parser.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)
    if extra is not None:
        extra(parser)
    args = parser.parse_args(argv)
    args.size = "smoke" if args.smoke else "quick" if args.quick else "full"
    return args


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    """Return the count, p50, p95 and p99 of timings in milliseconds."""
    if not samples_ms:
        return {"n": 0, "p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0}
    if len(samples_ms) == 1:
        value = round(samples_ms[0], 3)
        return {"n": 1, "p50_ms": value, "p95_ms": value, "p99_ms": value}
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return {
        "n": len(samples_ms),
        "p50_ms": round(statistics.median(samples_ms), 3),
        "p95_ms": round(cuts[94], 3),
        "p99_ms": round(cuts[98], 3),
    }


def emit(figures: dict[str, Any], as_json: bool) -> None:
    """Print the figures as JSON on the last line when asked to."""
    if as_json:
        print(json.dumps(figures, ensure_ascii=False, sort_keys=True), flush=True)


def cache_dir() -> Path:
    """Return (and create) the folder where seeded databases are kept between runs."""
    folder = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "minyi-bench")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def schema_revision() -> str:
    """Return the Alembic head revision(s) of the migrations, which key the seeded caches."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(REPO / "app" / "migrations"))
    return "+".join(sorted(ScriptDirectory.from_config(config).get_heads()))


def cached_folder(key: str, build: Callable[[Path], dict]) -> tuple[Path, dict, float | None]:
    """Return the cache folder `key`, building it first with `build(folder)` (which returns
    facts kept as meta.json) when missing; also return the facts and the seconds building
    took (None when the folder came from the cache)."""
    folder = cache_dir() / key
    meta_path = folder / "meta.json"
    if meta_path.exists():
        return folder, json.loads(meta_path.read_text()), None
    scratch = Path(tempfile.mkdtemp(prefix=key + ".", dir=cache_dir()))
    started = time.perf_counter()
    try:
        meta = build(scratch)
    except BaseException:
        shutil.rmtree(scratch)
        raise
    seconds = time.perf_counter() - started
    meta["seed_s"] = round(seconds, 1)
    (scratch / "meta.json").write_text(json.dumps(meta, ensure_ascii=False))
    try:
        scratch.rename(folder)
    except OSError:  # another run built the same key meanwhile: keep theirs
        shutil.rmtree(scratch)
    return folder, json.loads(meta_path.read_text()), seconds


def bench_app(data_dir: Path, database: Path | str | None = None) -> Flask:
    """Create the application on a data folder (and optionally a database elsewhere: a SQLite
    file, or a database URL such as postgresql://…)."""
    from app import create_app

    config: dict[str, Any] = {"DATA_DIR": str(data_dir), "SECRET_KEY": "minyi-benchmark",
                              "SEARCH_INDEXER_THREAD": False, "RATELIMIT_ENABLED": False}
    if isinstance(database, str):
        config["SQLALCHEMY_DATABASE_URI"] = database
    elif database is not None:
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{database}"
    return create_app(config)


@contextmanager
def new_database(folder: Path, users: int, rng: random.Random,
                 url: str | None = None) -> Iterator[tuple[Any, Any]]:
    """Migrate a new SQLite database in `folder` (or the empty database at `url`) as
    `minyi db upgrade` does, with `users` public accounts (user1@example.org …), one staff
    account and the fictional draft open for comment; yield the draft and the staff account
    inside the application context, then commit (and fold SQLite's write-ahead log into the
    file)."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app.accounts.services import create_user
    from app.extensions import db
    from app.models import utcnow
    from drafts import services

    app = bench_app(folder, url)
    with app.app_context():
        upgrade()
        add_users(users, rng)
        staff = create_user("staff@example.org", PASSWORD, "法工委工作人员", role="staff")
        now = utcnow()
        draft = services.create_draft(
            DRAFT_TITLE, draft_text(), user=staff, slug=DRAFT_SLUG,
            summary="本条例草案规定城市更新的规划、实施、历史风貌保护、公众参与和权益保障。",
            office="青禾市人大常委会法制工作委员会", opens_at=now - timedelta(days=10),
            closes_at=now + timedelta(days=20), moderation="pre", regions=list(REGIONS),
            sectors=list(SECTORS))
        services.change_status(draft, "open", user=staff)
        db.session.commit()
        yield draft, staff
        db.session.commit()
        if url is None:
            db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()
        db.engine.dispose()


def free_port() -> int:
    """Return a TCP port on the loopback interface that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_average() -> float:
    """Return the one-minute load average: other work on the machine skews every timing."""
    return round(os.getloadavg()[0], 2)


def cpu_count() -> int:
    """Return the number of cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


# --- our own draft text and comments --------------------------------------------------------
# A fictional regulation written for these benchmarks; no real law is copied.

DRAFT_TITLE = "青禾市城市更新条例（草案征求意见稿）"
DRAFT_SLUG = "qinghe-urban-renewal"
REGIONS = ("东城区", "西湖区", "南港区", "北山区", "青禾新区", "河口县", "外地")
SECTORS = ("居民", "企业", "社会组织", "律师", "专家学者", "公职人员", "学生", "其他")

#: (chapter heading, number of articles); 120 articles in all
CHAPTERS = (
    ("总　　则", 10), ("更新规划", 14), ("更新实施", 18), ("历史风貌保护", 12),
    ("公众参与", 16), ("权益保障", 14), ("资金和用地保障", 12), ("监督管理", 10),
    ("法律责任", 10), ("附　　则", 4),
)
_ACTORS = (
    "市人民政府", "区人民政府", "市规划和自然资源部门", "市住房城乡建设部门", "街道办事处",
    "乡镇人民政府", "更新实施主体", "物业服务人", "居民委员会", "市城市更新中心",
    "财政部门", "生态环境部门", "文物主管部门", "交通运输部门",
)
_DUTIES = (
    "组织编制城市更新专项规划", "建立城市更新项目库并实行动态管理", "公开项目的实施方案和补偿标准",
    "听取项目范围内居民和单位的意见", "统筹配置教育、医疗、养老等公共服务设施",
    "加强对施工现场扬尘和噪声的管理", "保障居民在更新期间的基本生活需要",
    "对老旧管线和消防设施进行排查改造", "优先补足社区停车、托育和助餐设施",
    "对历史建筑实施挂牌保护并建立档案", "将更新项目资金使用情况向社会公布",
    "建立矛盾纠纷多元化解机制", "会同有关部门制定技术导则和操作指引",
    "组织开展更新项目的评估和验收", "推动既有建筑节能改造和绿色低碳建设",
)
_PURPOSES = (
    "提升城市功能品质", "改善人居环境", "保护历史文化遗产", "保障公众的知情权和参与权",
    "促进城市可持续发展", "维护物业权利人的合法权益", "防止大拆大建", "提高公共资源配置效率",
)
_TASKS = (
    "研究确定城市更新的重大政策和重要事项", "审定城市更新专项规划和年度计划",
    "协调解决更新实施中的跨部门问题", "指导区人民政府开展更新工作",
    "组织更新项目的公众意见征询", "公布更新项目的范围、内容和进度",
    "对实施主体履行协议的情况进行监督", "受理和处理有关更新活动的投诉举报",
    "组织对更新区域的历史风貌进行调查评估", "建立城市更新信息平台",
    "会同财政部门安排更新专项资金", "对补偿安置方案的执行情况进行检查",
    "做好更新期间居民临时安置工作", "依法公开项目审批结果",
)
_CONDITIONS = (
    "涉及公共利益的", "需要调整控制性详细规划的", "涉及历史风貌区的", "需要临时安置居民的",
    "项目范围内物业权利人意见分歧较大的", "改变建筑使用功能的",
)
_PENALTIES = (
    "由有关部门责令改正，给予警告", "责令限期改正；逾期不改正的，处一万元以上五万元以下罚款",
    "对直接负责的主管人员和其他直接责任人员依法给予处分",
    "没收违法所得，并处违法所得一倍以上三倍以下罚款",
)


def _sentence(rng: random.Random) -> str:
    shape = rng.randrange(3)
    if shape == 0:
        return f"{rng.choice(_ACTORS)}应当{rng.choice(_DUTIES)}，{rng.choice(_PURPOSES)}。"
    if shape == 1:
        first, second = rng.sample(_DUTIES, 2)
        return f"{rng.choice(_CONDITIONS)}，{rng.choice(_ACTORS)}应当{first}，并{second}。"
    return f"鼓励{rng.choice(_ACTORS)}{rng.choice(_DUTIES)}，{rng.choice(_PURPOSES)}。"


def _article_paragraphs(rng: random.Random, chapter: str, number: int, last: bool,
                        numeral: Callable[[int], str]) -> list[str]:
    """Return the paragraphs of one article; item lines start with （一）."""
    if number == 1:
        return ["为了推进城市更新，" + "，".join(rng.sample(_PURPOSES, 3)) + "，根据有关法律、"
                "行政法规，结合本市实际，制定本条例。"]
    if last:
        return ["本条例自2027年1月1日起施行。"]
    if "法律责任" in chapter:
        return [f"违反本条例规定，{rng.choice(_ACTORS)}未{rng.choice(_DUTIES)}的，"
                f"{rng.choice(_PENALTIES)}。"]
    paragraphs = []
    if rng.random() < 0.3:
        tasks = rng.sample(_TASKS, rng.randint(3, 7))
        items = [f"（{numeral(i + 1)}）{task}{'。' if i == len(tasks) - 1 else '；'}"
                 for i, task in enumerate(tasks)]
        paragraphs.append(f"{rng.choice(_ACTORS)}履行下列职责：")
        paragraphs.extend(items)
    else:
        paragraphs.append("".join(_sentence(rng) for _ in range(rng.randint(1, 3))))
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        paragraphs.append("".join(_sentence(rng) for _ in range(rng.randint(1, 2))))
    return paragraphs


def draft_text(seed: int = 2024) -> str:
    """Return the fictional 120-article draft: ten chapters, paragraphs and （一） items."""
    from drafts.parser import int_to_chinese_numeral as numeral

    rng = random.Random(seed)
    lines = [DRAFT_TITLE, ""]
    number = 0
    total = sum(count for _, count in CHAPTERS)
    for index, (heading, count) in enumerate(CHAPTERS, start=1):
        lines += [f"第{numeral(index)}章　{heading}", ""]
        for _ in range(count):
            number += 1
            paragraphs = _article_paragraphs(rng, heading, number, number == total, numeral)
            lines += [f"第{numeral(number)}条　{paragraphs[0]}", ""]
            for paragraph in paragraphs[1:]:
                lines += [paragraph, ""]
    return "\n".join(lines)


_OPENINGS = ("我认为", "建议", "作为老旧小区的居民，我觉得", "从企业的角度看，", "本条规定",
             "我支持这一条，", "这一款", "对于本项，", "希望立法机关考虑：")
_OPINIONS = (
    "表述过于原则，缺少可操作的程序", "应当明确补偿标准的计算方法和公开方式",
    "对居民的临时安置期限规定得不够清楚", "能够切实保障群众的参与权，值得肯定",
    "给实施主体的裁量空间过大，容易引发纠纷", "应当增加听证程序，特别是涉及拆除的项目",
    "与现行的物业管理规定存在衔接问题", "需要规定意见征询的最短期限",
    "建议把养老和托育设施的配置标准写进条文", "罚款数额偏低，难以起到约束作用",
    "历史建筑的认定程序应当向社会公开", "应当明确街道办事处和居民委员会的分工",
)
_REASONS = (
    "我们小区去年改造时就遇到过类似问题，居民意见很大。", "否则在实践中各区的做法会不一致。",
    "这样可以减少后续的矛盾纠纷。", "很多老年人不会使用网上平台，需要线下渠道。",
    "外地的经验表明，公开透明是推进更新的前提。", "目前的规定容易被理解为可以不征求意见。",
    "涉及的资金数额较大，应当接受审计监督。", "",
)


def comment_body(rng: random.Random) -> str:
    """Return one plausible comment of one to four sentences."""
    sentences = [f"{rng.choice(_OPENINGS)}{rng.choice(_OPINIONS)}。"]
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        sentences.append(rng.choice(_REASONS) or f"{rng.choice(_OPINIONS)}。")
    return "".join(sentences)


def proposed_wording(rng: random.Random) -> str:
    """Return a proposed rewording of a unit."""
    first, second = rng.sample(_DUTIES, 2)
    return f"{rng.choice(_ACTORS)}应当{first}，并{second}。"


#: password of every account the benchmarks create
PASSWORD = "bench-password-1"
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def add_users(count: int, rng: random.Random) -> None:
    """Insert `count` public accounts user1@example.org … in one statement; callers commit."""
    from sqlalchemy import insert
    from werkzeug.security import generate_password_hash

    from app.extensions import db
    from app.models import User, utcnow

    password_hash = generate_password_hash(PASSWORD, method="scrypt")  # hashed once: it is slow
    now = utcnow()
    rows = [{
        "email": f"user{n}@example.org",
        "name": rng.choice(_SURNAMES) + "".join(rng.choices(_GIVEN, k=rng.randint(1, 2))),
        "password_hash": password_hash,
        "role": "public",
        "region": rng.choice(REGIONS),
        "sector": rng.choice(SECTORS),
        "active": True,
        "created_at": now,
    } for n in range(1, count + 1)]
    db.session.execute(insert(User.__table__), rows)
