"""Time to make the record (听证记录) and report (听证报告) PDFs of a four-hour hearing.

A hearing with 30 speakers (three questions, positions spread over support / oppose / other)
is recorded through the live services by app.demo.live_notes: 20 notes per speaker plus the
opening, questioning, debate and closing, about 600 notes over four hours; then it ends, the
record is reviewed, corrected and signed, and staff write a suggestion per question. Each PDF
is rendered from scratch (HTML from the database, then WeasyPrint with the Noto CJK fonts
embedded) N times; the figure is the median wall time. Goal: ≤ 5 s each.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from benchmarks import common

#: speakers, notes per speaker, timed runs per PDF
SIZES = {"smoke": (3, 2, 1), "quick": (30, 20, 1), "full": (30, 20, 3)}
GOAL_S = 5.0
STANCES = ("support", "oppose", "other")
QUESTIONS = (
    "高层住宅是否应当一律禁止电动自行车进户充电？",
    "小区充电设施的收费标准应当由谁确定？",
    "违反停放充电规定的个人应当如何处罚？",
)


def build_hearing(speakers: int, notes_per_speaker: int):
    """Create a finished hearing in the current app's database and return it."""
    from werkzeug.security import generate_password_hash

    from app.demo.live_notes import load_demo_notes
    from app.extensions import db
    from app.models import User, utcnow
    from drafts import services as drafts
    from hearings import report
    from hearings.models import (
        Hearing,
        HearingOfficer,
        HearingQuestion,
        SpeakerPosition,
        SpeakerRegistration,
    )

    password_hash = generate_password_hash(common.PASSWORD, method="scrypt")  # once: it is slow

    def create_user(email: str, name: str, role: str = "public") -> User:
        user = User(email=email, name=name, role=role, password_hash=password_hash)
        db.session.add(user)
        db.session.flush()
        return user

    staff = create_user("staff@bench.minyi", "法工委 王立", "staff")
    chair = create_user("chair@bench.minyi", "主持人 刘洋", "staff")
    text = (common.REPO / "app" / "demo" / "draft.txt").read_text(encoding="utf-8")
    draft = drafts.create_draft("电动自行车停放充电管理条例（草案）", text, user=staff)
    hearing = Hearing(
        slug="bench-hearing", draft_id=draft.id, version_id=draft.current_version_id,
        title="《电动自行车停放充电管理条例（草案）》立法听证会",
        organiser="市人大常委会法制工作委员会", place="市人大常委会第一会议室",
        starts_at=utcnow() - timedelta(days=30), status="announced",
        chair_id=chair.id, recorder_id=staff.id)
    hearing.questions = [HearingQuestion(position=i, text=t, is_main=i == 1,
                                         clause_lineage_ids=[])
                         for i, t in enumerate(QUESTIONS, start=1)]
    hearing.officers = [HearingOfficer(name="刘洋", title="法工委主任", is_chair=True),
                        HearingOfficer(name="陈静", title="常委会委员")]
    db.session.add(hearing)
    db.session.flush()
    for n in range(speakers):
        user = create_user(f"speaker{n}@bench.minyi", f"陈述人{n + 1}")
        speaker = SpeakerRegistration(
            hearing_id=hearing.id, user_id=user.id, name=f"陈述人{n + 1}", status="selected",
            speaking_order=n + 1, sector=common.SECTORS[n % len(common.SECTORS)],
            region=common.REGIONS[n % len(common.REGIONS)],
            key_points="充电设施建设、收费标准和处罚幅度三个方面的意见。")
        speaker.positions = [
            SpeakerPosition(question_id=q.id, stance=STANCES[(n + q.position) % 3],
                            text=f"陈述人{n + 1}就“{q.text}”陈述了立场、事实和理由，"
                                 "并提交了书面材料。")
            for q in hearing.questions]
        db.session.add(speaker)
    db.session.flush()
    load_demo_notes(hearing, {"staff@bench.minyi": staff}, notes_per_speaker=notes_per_speaker,
                    duration=timedelta(hours=4))
    for question in hearing.questions:
        report.set_suggestion(hearing, staff, question.id,
                              "建议对各方意见逐条研究，在修改草案时予以吸收；" * 3)
    report.set_suggestion(hearing, staff, None, "建议将听证情况向常委会会议报告。")
    db.session.commit()
    return hearing


def _time(render, runs: int) -> tuple[float, float, bytes]:
    """Return the median wall and CPU seconds of `runs` renderings, and the last PDF; the CPU
    time shows what the work costs when other processes share the cores."""
    walls, cpus, pdf = [], [], b""
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        pdf = render()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), pdf


def main(argv: list[str]) -> int:
    """Print the figures; with --json the last line is one JSON object of them."""
    args = common.parse_args("hearing_pdfs", __doc__.split("\n")[0], argv)
    speakers, per_speaker, runs = SIZES[args.size]

    from io import BytesIO

    from pypdf import PdfReader

    from app import create_app
    from app.extensions import db
    from app.pdf import html_to_pdf
    from hearings import pdf, record

    with tempfile.TemporaryDirectory(prefix="minyi-bench-pdf.") as folder:
        app = create_app({"DATA_DIR": folder, "SECRET_KEY": "minyi-benchmark",
                          "SEARCH_INDEXER_THREAD": False, "RATELIMIT_ENABLED": False})
        with app.app_context():
            from flask_migrate import upgrade

            upgrade(directory=str(Path(common.REPO / "app" / "migrations")))
            started = time.perf_counter()
            hearing = build_hearing(speakers, per_speaker)
            seed_s = time.perf_counter() - started
            notes = len(record.record_notes(hearing))
            figures: dict = {"speakers": speakers, "notes": notes, "runs": runs,
                             "seed_s": round(seed_s, 2), "goal_s": GOAL_S}
            print(f"hearing with {speakers} speakers and {notes} record notes "
                  f"(seeded in {seed_s:.1f} s)")
            with app.test_request_context("/"):
                html_to_pdf("<p>预热</p>")  # loads Pango and the fonts once per process
                for name, make_html in (("record", pdf.record_html), ("report", pdf.report_html)):
                    seconds, cpu, data = _time(lambda make_html=make_html: html_to_pdf(
                        make_html(hearing)), runs)
                    reader = PdfReader(BytesIO(data))
                    text = "".join(page.extract_text() for page in reader.pages[:2])
                    figures[name] = {"seconds": round(seconds, 3), "cpu_s": round(cpu, 3),
                                     "pages": len(reader.pages),
                                     "bytes": len(data), "chinese_text": "听证" in text,
                                     "within_goal": seconds <= GOAL_S}
                    print(f"{name}: {seconds:.2f} s, CPU {cpu:.2f} s (median of {runs}), "
                          f"{len(reader.pages)} "
                          f"pages, {len(data) / 1024:.0f} KiB, Chinese text extracted: "
                          f"{figures[name]['chinese_text']}")
            db.session.remove()
            db.engine.dispose()
    common.emit(figures, args.json)
    # The time goal is a figure, not a failure: on a shared machine it measures the neighbours.
    return 0 if all(figures[n]["chinese_text"] for n in ("record", "report")) else 1
