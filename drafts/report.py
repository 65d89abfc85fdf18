"""The adopted-opinions report (意见采纳情况报告): its data, the tagged PDF with its charts, the
CSV and JSON exports of every opinion with its disposition, and background generation with
visible progress.

The PDF follows the newest text article by article: the article, its change from the text
first published for comment, the opinions on it (counts, representative quotes with personal
data masked), the dispositions and their reasons, and what the hearing said about it; an
annex lists the deputies' suggestions and their answers.  Generation is a background job
(`app.jobs`: the RQ worker, or a thread of the web process without Redis) that writes its
progress to a status file beside the PDF, so any process sharing the data folder can show it;
a report that was generated once is generated again when its data changes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app import audit, jobs
from app.charts import Chart
from app.extensions import db
from app.masking import mask_personal_data
from app.models import User, utcnow
from drafts import opinions, services
from drafts.forms import STANCE_LABELS
from drafts.models import (
    OUTCOMES,
    Clause,
    Comment,
    Disposition,
    Draft,
    DraftVersion,
    OpinionCluster,
)
from drafts.opinions import OUTCOME_LABELS, SOURCE_LABELS, ClausePlaces

#: representative quotes per disposition group: more where the opinion changed the text
QUOTES_PER_GROUP = {"adopted": 2, "partly_adopted": 2, "not_adopted": 1, "already_provided": 0,
                    "out_of_scope": 0}
QUOTE_LENGTH = 100
#: articles in the chart of opinions by article
CHART_ARTICLES = 15
#: hearing notes quoted per article
HEARING_POINTS = 5
#: how long a "running" status without news is believed (another process may have died)
STALE_RUN_SECONDS = 600
EXPORT_BATCH = 1000


# --- the report's data ----------------------------------------------------------------------


@dataclass
class Quote:
    """A representative opinion: its masked text and how many were received with it."""

    text: str
    received: int
    source: str


@dataclass
class ReasonLine:
    """One reason given to some of an article's opinions with one disposition."""

    reason: str
    #: the citation of the clause of the newest text the opinions affected, if any
    affected: str
    received: int


@dataclass
class DecisionGroup:
    """The opinions on one article that got the same disposition, with each reason given."""

    outcome: str
    received: int = 0
    unique: int = 0
    #: citations of the clauses the opinions were made on, in reading order
    cited: list[str] = field(default_factory=list)
    reasons: list[ReasonLine] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)


@dataclass
class HearingPoint:
    """Something the hearing said about an article: a record note or a question heard."""

    hearing: str
    text: str


@dataclass
class Section:
    """One article of the newest text (or the draft as a whole, or text no longer there)."""

    key: str
    title: str
    text: str
    #: the comparison row of the article between the first and the newest text
    change: object | None
    received: int = 0
    unique: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)
    undecided: int = 0
    groups: list[DecisionGroup] = field(default_factory=list)
    hearing: list[HearingPoint] = field(default_factory=list)


@dataclass
class DeputyAnswer:
    """A deputy's suggestion and the answer it got."""

    deputy: str
    clause: str
    body: str
    proposed_wording: str
    outcome: str
    reason: str
    affected: str


@dataclass
class ReportData:
    """Everything the report shows."""

    draft: Draft
    first: DraftVersion | None
    newest: DraftVersion | None
    generated_at: datetime
    totals: opinions.Totals
    #: (article title, received, unique) of the most-commented articles
    by_article: list[tuple[str, int, int]]
    sections: list[Section]
    deputies: list[DeputyAnswer]

    @property
    def final(self) -> bool:
        return self.draft.report_finalised_at is not None


def _shorten(text: str, length: int = QUOTE_LENGTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[:length] + "…"


def quotable(comment: Comment) -> bool:
    """Tell whether a public report may quote the opinion: comments published on the site and
    deputies' suggestions (answered in public); not hidden comments, letters sent to staff, or
    hearing statements (which open with the speaker's name)."""
    return (comment.status == "published" and comment.source == "online") or \
        comment.source == "deputy"


def _hearing_points(draft: Draft, places: ClausePlaces) -> dict[str, list[HearingPoint]]:
    """Return the record notes and questions of the draft's hearings, by article key."""
    from hearings import record  # hearings build on drafts: imported only when a report is made
    from hearings.models import Hearing

    lineage_clause: dict[int, int] = {}
    for clause in places.clauses.values():
        lineage_clause.setdefault(clause.lineage_id or clause.id, clause.id)
    points: dict[str, list[HearingPoint]] = defaultdict(list)

    def keys(lineages) -> list[str]:
        found = []
        for lineage in lineages or []:
            clause_id = lineage_clause.get(lineage)
            key = opinions.group_key(places, clause_id) if clause_id else None
            if key and key not in found:
                found.append(key)
        return found

    hearings = db.session.scalars(select(Hearing).where(
        Hearing.draft_id == draft.id, Hearing.status.in_(("held", "record_review", "closed")))
        .order_by(Hearing.starts_at))
    for hearing in hearings:
        for question in hearing.questions:
            for key in keys(question.clause_lineage_ids):
                points[key].append(HearingPoint(hearing.title, _(
                    "Question heard: %(text)s", text=question.text)))
        for note in record.record_notes(hearing):
            for key in keys(note.clause_lineage_ids):
                if len(points[key]) < HEARING_POINTS:
                    points[key].append(HearingPoint(
                        hearing.title, _shorten(mask_personal_data(note.body), 240)))
    return points


def build(draft: Draft) -> ReportData:
    """Gather the report's data from the opinions, dispositions, versions and hearings."""
    from drafts import versions

    places = ClausePlaces(draft)
    newest = places.newest
    first = opinions.first_version(draft)
    rows_by_new_anchor: dict[str, object] = {}
    if first is not None and newest is not None and first.id != newest.id:
        for row in versions.compare(first, newest).rows:
            for ref in row.pair.new:
                rows_by_new_anchor[ref.anchor] = row
    comments = db.session.scalars(opinions.counted(
        select(Comment).options(joinedload(Comment.disposition).joinedload(Disposition.clause),
                                joinedload(Comment.author)), draft).order_by(Comment.id)).all()
    sizes = dict(db.session.execute(select(OpinionCluster.id, OpinionCluster.size).where(
        OpinionCluster.draft_id == draft.id)).all())
    by_key: dict[str, list[Comment]] = defaultdict(list)
    for comment in comments:
        by_key[opinions.group_key(places, comment.clause_id)].append(comment)
    hearing = _hearing_points(draft, places)
    order = [opinions.WHOLE_DRAFT] + [str(a.id) for a in places.articles()]
    order += [opinions.NOT_IN_TEXT]
    sections = []
    for key in order:
        members = by_key.get(key, [])
        if key in (opinions.WHOLE_DRAFT, opinions.NOT_IN_TEXT) and not members:
            continue
        title, article = opinions.group_title(places, key)
        section = Section(key, title, services.unit_text(article) if article else "",
                          rows_by_new_anchor.get(article.anchor) if article else None,
                          hearing=hearing.get(key, []))
        _fill(section, members, places, sizes, first)
        sections.append(section)
    by_article = sorted(((s.title, s.received, s.unique) for s in sections
                         if s.key not in (opinions.WHOLE_DRAFT, opinions.NOT_IN_TEXT)
                         and s.received), key=lambda row: -row[1])[:CHART_ARTICLES]
    deputies = [_deputy_answer(c, places) for c in comments if c.source == "deputy"]
    return ReportData(draft, first, newest, utcnow(), opinions.totals(draft), by_article,
                      sections, deputies)


def _citation(clause: Clause | None, places: ClausePlaces,
              plain: DraftVersion | None = None) -> str:
    """Return a clause's citation, naming its version unless it is `plain` (by default the
    newest version)."""
    if clause is None:
        return _("the draft as a whole")
    label = services.unit_label(clause)
    plain = plain or places.newest
    if plain is not None and clause.version_id != plain.id:
        version = db.session.get(DraftVersion, clause.version_id)
        return f"{label}（{version.label}）" if version else label
    return label


def _fill(section: Section, members: list[Comment], places: ClausePlaces,
          sizes: dict[int, int], first: DraftVersion | None) -> None:
    """Count the section's opinions and group them by final disposition, then by reason."""
    section.received = len(members)
    section.unique = opinions.unique_count((c.id, c.cluster_id) for c in members)
    outcomes: Counter[str] = Counter()
    groups: dict[str, list[Comment]] = defaultdict(list)
    for comment in members:
        decision = comment.disposition
        if decision is None or not decision.is_final:
            section.undecided += 1
            continue
        outcomes[decision.outcome] += 1
        groups[decision.outcome].append(comment)
    section.by_outcome = {o: outcomes[o] for o in OUTCOMES if outcomes[o]}
    clauses = places.clauses
    for outcome in section.by_outcome:
        group = groups[outcome]
        cited = sorted({c.clause_id for c in group if c.clause_id in clauses},
                       key=lambda cid: (clauses[cid].version_id, clauses[cid].position))
        decision = DecisionGroup(
            outcome, received=len(group),
            unique=opinions.unique_count((c.id, c.cluster_id) for c in group),
            cited=[_citation(clauses[cid], places, first) for cid in cited])
        lines: Counter[tuple[str, int | None]] = Counter(
            (c.disposition.reason, c.disposition.clause_id) for c in group)
        for (reason, clause_id), count in lines.most_common():
            affected = clauses.get(clause_id) if clause_id else None
            decision.reasons.append(ReasonLine(
                reason, _citation(affected, places) if affected else "", count))
        seen_clusters: set[int] = set()
        candidates = sorted((c for c in group if quotable(c)),
                            key=lambda c: (-sizes.get(c.cluster_id, 1), c.id))
        for comment in candidates:
            if len(decision.quotes) >= QUOTES_PER_GROUP[outcome]:
                break
            if comment.cluster_id is not None:
                if comment.cluster_id in seen_clusters:
                    continue
                seen_clusters.add(comment.cluster_id)
            decision.quotes.append(Quote(_shorten(mask_personal_data(comment.body)),
                                         sizes.get(comment.cluster_id, 1)
                                         if comment.cluster_id else 1,
                                         str(SOURCE_LABELS.get(comment.source, comment.source))))
        section.groups.append(decision)


def _deputy_answer(comment: Comment, places: ClausePlaces) -> DeputyAnswer:
    decision = comment.disposition if comment.disposition and comment.disposition.is_final \
        else None
    author = comment.author
    return DeputyAnswer(
        deputy=author.name if author else comment.guest_name,
        clause=_citation(places.clauses.get(comment.clause_id) if comment.clause_id else None,
                         places),
        body=mask_personal_data(comment.body),
        proposed_wording=mask_personal_data(comment.proposed_wording),
        outcome=decision.outcome if decision else "",
        reason=decision.reason if decision else "",
        affected=_citation(decision.clause, places) if decision and decision.clause else "")


def as_json(data: ReportData) -> dict:
    """Return the report's data as JSON-ready values (what `--format json` prints)."""
    def version(v: DraftVersion | None) -> dict | None:
        return {"sequence": v.sequence, "label": v.label} if v else None

    def when(value: datetime | None) -> str | None:
        return value.isoformat(timespec="seconds") + "Z" if value else None

    totals = data.totals
    return {
        "draft": {"slug": data.draft.slug, "title": data.draft.title,
                  "opens_at": when(data.draft.opens_at), "closes_at": when(data.draft.closes_at),
                  "final": data.final},
        "versions": {"first": version(data.first), "newest": version(data.newest)},
        "generated_at": when(data.generated_at),
        "totals": {"received": totals.received, "unique": totals.unique,
                   "decided": totals.decided, "undecided": totals.undecided,
                   "by_outcome": totals.by_outcome, "by_source": totals.by_source,
                   "by_stance": totals.by_stance},
        "clauses": [{
            "title": s.title, "received": s.received, "unique": s.unique,
            "undecided": s.undecided, "by_outcome": s.by_outcome,
            "changed": bool(s.change is not None and s.change.changed),
            "dispositions": [{
                "outcome": g.outcome, "received": g.received, "unique": g.unique,
                "clauses": g.cited,
                "reasons": [{"reason": r.reason, "affected_clause": r.affected,
                             "received": r.received} for r in g.reasons],
                "quotes": [{"text": q.text, "received": q.received} for q in g.quotes],
            } for g in s.groups],
            "hearing": [p.text for p in s.hearing],
        } for s in data.sections],
        "deputy_suggestions": [{
            "deputy": d.deputy, "clause": d.clause, "suggestion": d.body,
            "outcome": d.outcome or None, "reason": d.reason, "affected_clause": d.affected,
        } for d in data.deputies],
    }


# --- charts -------------------------------------------------------------------------------


def opinion_charts(totals: opinions.Totals) -> list[Chart]:
    """Return the charts of the opinions by source, stance and disposition (empty ones too)."""
    outcomes = [(str(OUTCOME_LABELS[k]), v, None) for k, v in totals.by_outcome.items()]
    if totals.undecided:
        outcomes.append((_("Not yet decided"), totals.undecided, None))
    return [
        Chart(_("Opinions by source"),
              [(str(SOURCE_LABELS.get(k, k)), v, None) for k, v in totals.by_source.items()]),
        Chart(_("Opinions by stance"),
              [(str(STANCE_LABELS[k]), v, None) for k, v in totals.by_stance.items()]),
        Chart(_("Opinions by disposition"), outcomes),
    ]


def charts(data: ReportData) -> list[Chart]:
    """Return the report's charts that have something to show."""
    articles = Chart(_("The most-commented articles: received and unique"),
                     list(data.by_article), (_("Received"), _("Unique texts")))
    return [chart for chart in [*opinion_charts(data.totals), articles] if chart]


# --- rendering ------------------------------------------------------------------------------

REPORT_CSS = """
html { font-family: "Noto Sans CJK SC", "Noto Sans", sans-serif; font-size: 10pt;
       line-height: 1.5; }
@page { @top-center { content: string(title); font-size: 8pt; color: #555; } }
h1 { string-set: title content(); }
.cover { break-after: page; }
.cover-facts { margin-top: 12mm; }
.cover-facts th { width: 40mm; }
.status-working { color: #8a1c1c; font-weight: bold; text-align: center; }
section.article { break-before: auto; }
h2.article-title { break-before: auto; border-bottom: 0.5pt solid #888; }
.article-text p { margin: 0 0 1mm; }
.change ins { text-decoration: underline; font-weight: bold; }
.change del { text-decoration: line-through; }
.decision { margin: 2mm 0 3mm; padding-left: 3mm; border-left: 1.5pt solid #1f4e79; }
.decision h4 { margin: 0; font-size: 10.5pt; }
blockquote { margin: 1mm 0 1mm 4mm; font-size: 10pt; color: #222; }
figure { margin: 3mm 0; break-inside: avoid; }
figcaption { font-weight: bold; font-size: 10pt; }
table.numbers { font-size: 9pt; width: auto; margin-bottom: 4mm; }
.counts { font-size: 9.5pt; color: #333; }
"""


def render_html(data: ReportData) -> str:
    """Render the report's HTML (the PDF is laid out from it)."""
    newest = data.newest
    return render_template(
        "pdf/adopted_report.html", data=data, charts=charts(data),
        outcome_labels=OUTCOME_LABELS, source_labels=SOURCE_LABELS,
        language="en" if newest is not None and newest.language == "en" else "zh-Hans")


def html_to_tagged_pdf(html: str, progress: Callable[[int, str], None] | None = None) -> bytes:
    """Lay out the HTML as a tagged PDF (PDF/UA-1) with the shared fonts and page set-up."""
    from weasyprint import CSS, HTML

    from app.pdf import BASE_CSS

    document = HTML(string=html, base_url=current_app.static_folder).render(
        stylesheets=[CSS(string=BASE_CSS + REPORT_CSS)], pdf_variant="pdf/ua-1")
    if progress is not None:
        progress(85, _("Writing the PDF (%(pages)d pages)", pages=len(document.pages)))
    return document.write_pdf(pdf_variant="pdf/ua-1")


def render_pdf(draft: Draft, progress: Callable[[int, str], None] | None = None,
               *, cluster: bool = True) -> bytes:
    """Return the report of the draft as PDF bytes; with `cluster`, find campaigns first."""
    from drafts import campaigns

    def tell(percent: int, step: str) -> None:
        if progress is not None:
            progress(percent, step)

    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        if cluster:
            tell(5, _("Finding campaigns"))
            campaigns.cluster_draft(draft)
            db.session.commit()
        tell(15, _("Gathering opinions and dispositions"))
        data = build(draft)
        tell(30, _("Laying out the pages"))
        return html_to_tagged_pdf(render_html(data), progress)


# --- exports ------------------------------------------------------------------------------

STAFF_COLUMNS = ("id", "received_at_utc", "source", "source_detail", "status", "clause",
                 "newest_article", "stance", "body", "proposed_wording", "campaign",
                 "campaign_size", "topic", "outcome", "reason", "affected_clause", "decided_by",
                 "decided_at_utc", "review_state", "name", "email", "region", "sector",
                 "age_band")
PUBLIC_COLUMNS = ("id", "received_at_utc", "source", "clause", "newest_article", "stance",
                  "body", "campaign", "campaign_size", "outcome", "reason", "affected_clause")


def export_rows(draft: Draft, *, personal: bool) -> Iterator[dict]:
    """Yield every counted opinion of the draft with its disposition, read in batches.

    The public rows carry no names, addresses or staff names, and the text only of opinions
    a public report may quote (masked); the staff rows carry everything.
    """
    places = ClausePlaces(draft)
    sizes = dict(db.session.execute(select(OpinionCluster.id, OpinionCluster.size).where(
        OpinionCluster.draft_id == draft.id)).all())
    last = 0
    while True:
        batch = db.session.scalars(opinions.counted(
            select(Comment).options(joinedload(Comment.author),
                                    joinedload(Comment.disposition)
                                    .joinedload(Disposition.decided_by)), draft)
            .where(Comment.id > last).order_by(Comment.id).limit(EXPORT_BATCH)).all()
        for comment in batch:
            decision = comment.disposition if comment.disposition and \
                comment.disposition.is_final else None
            if personal:
                decision = comment.disposition
            clause = places.clauses.get(comment.clause_id) if comment.clause_id else None
            article = places.article(comment.clause_id)
            received = comment.received_at or comment.created_at
            affected = places.clauses.get(decision.clause_id) if decision and \
                decision.clause_id else None
            row = {
                "id": comment.id,
                "received_at_utc": received.isoformat(timespec="seconds"),
                "source": comment.source,
                "clause": _citation(clause, places) if clause else "",
                "newest_article": f"{article.label} {article.heading}".strip() if article
                else "",
                "stance": comment.stance,
                "campaign": comment.cluster_id or "",
                "campaign_size": sizes.get(comment.cluster_id, "") if comment.cluster_id
                else "",
                "outcome": decision.outcome if decision else "",
                "reason": decision.reason if decision else "",
                "affected_clause": _citation(affected, places) if affected else "",
            }
            if personal:
                row |= {
                    "source_detail": comment.source_detail,
                    "status": comment.status,
                    "body": comment.body,
                    "proposed_wording": comment.proposed_wording,
                    "topic": comment.topic,
                    "decided_by": decision.decided_by.name if decision and decision.decided_by
                    else "",
                    "decided_at_utc": decision.decided_at.isoformat(timespec="seconds")
                    if decision else "",
                    "review_state": decision.review_state if decision else "",
                    "name": comment.display_name,
                    "email": comment.author.email if comment.author else comment.guest_email,
                    "region": comment.region,
                    "sector": comment.sector,
                    "age_band": comment.age_band,
                }
            else:
                row["body"] = mask_personal_data(comment.body) if quotable(comment) else ""
            yield row
        db.session.rollback()  # no transaction stays open while a slow client downloads
        if len(batch) < EXPORT_BATCH:
            return
        last = batch[-1].id


def _csv_safe(value: object) -> object:
    """Defuse spreadsheet formulas in user text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def export_csv(draft: Draft, *, personal: bool) -> Iterator[str]:
    """Yield the export as CSV text (with a BOM, so spreadsheet programs read it as UTF-8)."""
    columns = STAFF_COLUMNS if personal else PUBLIC_COLUMNS
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(columns)
    for count, row in enumerate(export_rows(draft, personal=personal), start=1):
        writer.writerow([_csv_safe(row.get(column, "")) for column in columns])
        if count % EXPORT_BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def export_json(draft: Draft, *, personal: bool) -> Iterator[str]:
    """Yield the export as one JSON document: the draft and the list of opinions."""
    columns = STAFF_COLUMNS if personal else PUBLIC_COLUMNS
    head = {"draft": draft.slug, "title": draft.title, "personal_data": personal}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "opinions": ['
    for count, row in enumerate(export_rows(draft, personal=personal)):
        item = {column: row.get(column, "") for column in columns}
        yield ("," if count else "") + json.dumps(item, ensure_ascii=False)
    yield "]}"


def record_export(user: User, draft: Draft, fmt: str, *, personal: bool) -> None:
    """Log who exported the opinions, and whether with personal data; the caller commits."""
    audit.record(user, "opinions.export", draft, format=fmt, personal_data=personal)


# --- background generation ------------------------------------------------------------------


def folder(draft: Draft | int) -> Path:
    """Return the folder holding the draft's report PDF and status file."""
    draft_id = draft if isinstance(draft, int) else draft.id
    path = Path(current_app.config["GENERATED_DIR"]) / "reports" / f"draft-{draft_id}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def fingerprint(draft: Draft) -> str:
    """Return a digest of everything the report shows, which changes when any of it does."""
    comments = db.session.execute(opinions.counted(select(
        func.count(), func.max(Comment.id), func.sum(Comment.cluster_id),
        func.count().filter(Comment.status == "published")), draft)).one()
    decisions = db.session.execute(select(
        func.count(), func.max(Disposition.decided_at), func.max(Disposition.reviewed_at),
        func.sum(Disposition.clause_id)).where(Disposition.draft_id == draft.id)).one()
    version_ids = tuple(db.session.scalars(select(DraftVersion.id).where(
        DraftVersion.draft_id == draft.id).order_by(DraftVersion.id)))
    key = repr((tuple(comments), tuple(decisions), version_ids, draft.title,
                draft.report_finalised_at, draft.opens_at, draft.closes_at))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _write_json(path: Path, data: dict) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False)
    os.replace(temporary, path)


def status(draft: Draft) -> dict:
    """Return the report's status: state (none, queued, running, done, failed), progress,
    step, whether the PDF shows the current data (`current`), and its file name."""
    path = folder(draft) / "status.json"
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        found = {"state": "none", "progress": 0, "step": ""}
    if found.get("state") in ("queued", "running") and \
            time.time() - found.get("heartbeat", 0) > STALE_RUN_SECONDS:
        found["state"] = "failed"
        found["error"] = "stopped"
    pdf = folder(draft) / "report.pdf"
    found["available"] = pdf.exists()
    found["current"] = found["available"] and found.get("fingerprint") == fingerprint(draft)
    return found


#: times a job makes the report again when the data changed while it was being made
ROUNDS = 3


def generate(draft: Draft, *, cluster: bool = True) -> Path:
    """Make the draft's report now, reporting progress in its status file; return the PDF."""
    from drafts import campaigns

    where = folder(draft)
    state = {"state": "running", "progress": 0, "step": "", "started_at": time.time(),
             "pid": os.getpid()}

    def progress(percent: int, step: str) -> None:
        state.update(progress=percent, step=step, heartbeat=time.time())
        _write_json(where / "status.json", state)
        jobs.progress(percent, step)

    try:
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            progress(1, _("Starting"))
            if cluster:
                progress(5, _("Finding campaigns"))
                campaigns.cluster_draft(draft)
                db.session.commit()
        # taken before the data is read, so a change made meanwhile leaves the PDF not current
        rendered = fingerprint(draft)
        data = render_pdf(draft, progress, cluster=False)
    except Exception as error:
        state.update(state="failed", error=str(error)[:500], heartbeat=time.time())
        _write_json(where / "status.json", state)
        raise
    handle, temporary = tempfile.mkstemp(dir=where, suffix=".part")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temporary, where / "report.pdf")
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        state.update(state="done", progress=100, step=_("Done"), heartbeat=time.time(),
                     finished_at=time.time(), fingerprint=rendered, bytes=len(data))
    _write_json(where / "status.json", state)
    return where / "report.pdf"


def start(draft: Draft) -> bool:
    """Make the report in the background (a job); return False if a run is already queued or
    under way (it makes the report again when it ends if the data changed meanwhile)."""
    found = status(draft)
    if found["state"] in ("queued", "running"):
        return False
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        step = _("Waiting to start")
    _write_json(folder(draft) / "status.json",
                {**{k: found[k] for k in ("fingerprint",) if k in found}, "state": "queued",
                 "progress": 0, "step": step, "heartbeat": time.time(), "pid": os.getpid()})
    jobs.enqueue("report.generate", draft_id=draft.id)
    return True


@jobs.job("report.generate")
def generate_job(draft_id: int) -> str:
    """Make a draft's report, again (up to ROUNDS times) while its data changed meanwhile.

    The check comes after the status file says "done": a change committed before that was
    seen here, and one committed after it sees "done" and starts a run of its own."""
    path = ""
    for _round in range(ROUNDS):
        draft = db.session.get(Draft, draft_id)
        if draft is None:
            return path
        path = str(generate(draft))
        db.session.rollback()  # a fresh snapshot for the check
        if status(draft)["current"]:
            break
    return path


def wait(draft: Draft, timeout: float = 120) -> dict:
    """Wait until the draft's report is no longer queued or being made (tests, the CLI);
    return its status."""
    deadline = time.monotonic() + timeout
    while True:
        found = status(draft)
        if found["state"] not in ("queued", "running") or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def refresh(draft: Draft) -> bool:
    """Make the report again in the background if one was made before and is now out of date
    (called after dispositions change); return whether a run was started."""
    found = status(draft)
    if found["state"] == "none" or found["current"]:
        return False
    return start(draft)
