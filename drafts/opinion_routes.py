"""Pages for compiling opinions: the staff workspace, dispositions and their review, offline
opinions, the report; the deputies' suggestion form; the public feedback page and exports;
the feedback e-mail setting and the link that stops those e-mails."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale, to_utc
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db, limiter
from app.forms import plain_number
from app.permissions import role_required, staff_required
from drafts import campaigns, feedback, opinions, report, services, versions
from drafts.display import FragmentCache, concentration
from drafts.models import Clause, Comment, Draft, OpinionCluster
from drafts.opinion_forms import (
    BulkForm,
    ConfirmForm,
    DispositionForm,
    FeedbackSettingForm,
    FilterForm,
    OfflineOpinionForm,
    ReviewForm,
    ReviewSettingForm,
    SuggestionForm,
    clause_choices,
)

opinions_blueprint = Blueprint("opinions", __name__, url_prefix="/drafts")
staff_opinions_blueprint = Blueprint("staff_opinions", __name__, url_prefix="/staff")
#: rendered public feedback pages each application keeps
FEEDBACK_CACHE_SIZE = 16
WORKSPACE_PAGE = 100


def _public_draft(slug: str) -> Draft:
    draft = services.draft_by_slug(slug)
    if draft is None or not draft.is_public:
        abort(404)
    return draft


def _staff_draft(slug: str) -> Draft:
    return services.draft_by_slug(slug) or abort(404)


def _clause(draft: Draft, value: str | None) -> Clause | None:
    """Return the clause of the draft a form chose by id, or None for the draft as a whole."""
    if not value:
        return None
    number = plain_number(value)
    clause = db.session.get(Clause, number) if number is not None else None
    if clause is None or clause.version.draft_id != draft.id:
        abort(400)
    return clause


def _form_error(form, error: opinions.OpinionError) -> None:
    target = getattr(form, error.field, None) if error.field else None
    if target is not None:
        target.errors = [*target.errors, str(error)]
    else:
        form.form_errors.append(str(error))


# --- public: feedback on adoption -----------------------------------------------------------


@opinions_blueprint.route("/<slug>/feedback", endpoint="feedback")
def feedback_on_adoption(slug: str):
    draft = _public_draft(slug)
    key = (draft.id, report.fingerprint(draft), str(get_locale()), request.script_root)
    cache: FragmentCache = current_app.extensions["minyi_feedback_cache"]
    body = cache.get_or_render(key, lambda: render_template(
        "opinions/_feedback_body.html", draft=draft, data=report.build(draft),
        outcome_labels=opinions.OUTCOME_LABELS))
    found = report.status(draft)
    return render_template("opinions/feedback.html", draft=draft, body=body,
                           report_available=draft.report_finalised_at is not None
                           and found["current"])


@opinions_blueprint.route("/<slug>/statistics", endpoint="statistics")
def comment_statistics(slug: str):
    draft = _public_draft(slug)
    version = draft.current_version
    tree = services.clause_tree(version) if version else []
    versions.add_earlier_counts(tree, version)
    return render_template("opinions/statistics.html", draft=draft, version=version,
                           charts=concentration(tree))


@opinions_blueprint.route("/<slug>/feedback/opinions.<fmt>")
def public_export(slug: str, fmt: str):
    draft = _public_draft(slug)
    return _export(draft, fmt, personal=False)


@opinions_blueprint.route("/<slug>/feedback/report.pdf")
def public_report(slug: str):
    draft = _public_draft(slug)
    found = report.status(draft)
    if draft.report_finalised_at is None or not found["current"]:
        abort(404)
    return send_file(report.folder(draft) / "report.pdf", mimetype="application/pdf",
                     download_name=f"{draft.slug}-adopted-opinions.pdf")


def _export(draft: Draft, fmt: str, *, personal: bool) -> Response:
    if fmt == "csv":
        body, mimetype = report.export_csv(draft, personal=personal), "text/csv; charset=utf-8"
    elif fmt == "json":
        body, mimetype = report.export_json(draft, personal=personal), "application/json"
    else:
        abort(404)
    suffix = "opinions-staff" if personal else "opinions"
    return Response(stream_with_context(body), mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename={draft.slug}-{suffix}.{fmt}"})


# --- deputies' suggestions ------------------------------------------------------------------


@opinions_blueprint.route("/<slug>/suggest", methods=["GET", "POST"])
@role_required("deputy")
@limiter.limit("30/minute", methods=["POST"])
def suggest(slug: str):
    draft = _public_draft(slug)
    if not opinions.may_suggest(current_user, draft):
        abort(403)
    form = SuggestionForm()
    form.clause.choices = clause_choices(draft.current_version,
                                         blank=_("The draft as a whole"))
    if request.method == "GET":
        form.submission_key.data = services.new_submission_key()
        anchor = request.args.get("clause", "")
        unit = services.clause_by_anchor(draft.current_version, anchor) if anchor else None
        form.clause.data = str(unit.id) if unit is not None else ""
    if form.validate_on_submit():
        try:
            comment, _new = opinions.submit_deputy_suggestion(
                draft, _clause(draft, form.clause.data), user=current_user,
                stance=form.stance.data, body=form.body.data,
                proposed_wording=form.proposed_wording.data or "",
                submission_key=form.submission_key.data)
        except opinions.OpinionError as error:
            _form_error(form, error)
        else:
            db.session.commit()
            flash(_("Your suggestion has been sent. Staff will answer it; the answer appears "
                    "under My comments."), "success")
            return redirect(url_for("drafts.my_comments") + f"#comment-{comment.id}")
    return render_template("opinions/suggest.html", draft=draft, form=form)


# --- feedback e-mails -----------------------------------------------------------------------


@opinions_blueprint.route("/mine/feedback-emails", methods=["POST"])
@login_required
def feedback_setting():
    form = FeedbackSettingForm()
    if form.validate_on_submit():
        feedback.set_feedback_emails(current_user, bool(form.feedback_emails.data))
        db.session.commit()
        flash(_("Your e-mail setting has been saved."), "success")
    return redirect(url_for("drafts.my_comments"))


@opinions_blueprint.route("/feedback/stop/<token>", methods=["GET", "POST"])
def opt_out(token: str):
    # A GET only asks: mail scanners open links, and must not unsubscribe anyone.
    form = ConfirmForm()
    done = None
    if form.validate_on_submit():
        done = feedback.opt_out(token)
        if done is None:
            abort(404)
        db.session.commit()
    return render_template("opinions/opt_out.html", form=form, done=done is not None)


# --- staff: the workspace -------------------------------------------------------------------


@staff_opinions_blueprint.route("/drafts/<slug>/opinions")
@staff_required
def workspace(slug: str):
    draft = _staff_draft(slug)
    places = opinions.ClausePlaces(draft)
    filters = FilterForm(request.args)
    filters.offer(places.articles(), opinions.topics(draft), draft.review_required)
    page = opinions.workspace(draft, filters.filters(), page=request.args.get("page", 1, type=int),
                              per_page=WORKSPACE_PAGE, places=places)
    bulk = BulkForm()
    bulk.clause.choices = clause_choices(places.newest, blank=_("None"))
    bulk.back.data = request.full_path
    return render_template(
        "opinions/workspace.html", draft=draft, filters=filters, page=page, bulk=bulk,
        totals=opinions.totals(draft), places=places, review_form=ReviewSettingForm(
            review_required=draft.review_required), confirm=ConfirmForm(),
        outcome_labels=opinions.OUTCOME_LABELS, source_labels=opinions.SOURCE_LABELS,
        review_labels=opinions.REVIEW_LABELS, report_status=report.status(draft),
        pages_args={k: v for k, v in request.args.items() if k not in ("page", "slug")})


def _back(draft: Draft, value: str | None) -> str:
    """Return the workspace page a form came from, refusing anything else."""
    home = url_for("staff_opinions.workspace", slug=draft.slug)
    if value:
        parts = urlsplit(value)
        if not parts.scheme and not parts.netloc and parts.path == home:
            return value
    return home


@staff_opinions_blueprint.route("/drafts/<slug>/opinions/bulk", methods=["POST"])
@staff_required
def bulk(slug: str):
    draft = _staff_draft(slug)
    form = BulkForm()
    back = _back(draft, form.back.data)
    if not form.validate_on_submit():
        flash(_("The action could not be carried out; reload the page and try again."),
              "error")
        return redirect(back)
    chosen = opinions.selected_comments(draft, form.ids.data or [],
                                        whole_clusters=bool(form.whole_clusters.data))
    if not chosen:
        flash(_("Select at least one opinion."), "error")
        return redirect(back)
    try:
        if form.action.data == "decide":
            changed = opinions.decide(draft, chosen, form.outcome.data or "",
                                      form.reason.data or "", _clause(draft, form.clause.data),
                                      user=current_user)
            message = _("Disposition saved for %(n)d opinions.", n=len(changed))
        elif form.action.data == "topic":
            opinions.set_topic(chosen, form.topic.data or "", user=current_user)
            message = _("Topic saved for %(n)d opinions.", n=len(chosen))
        elif form.action.data in ("approve", "return"):
            decisions = [c.disposition for c in chosen if c.disposition is not None]
            done = opinions.review(decisions, form.action.data == "approve",
                                   form.note.data or "", user=current_user)
            message = _("%(n)d decisions reviewed.", n=done)
        else:
            abort(400)
    except opinions.OpinionError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(back)
    db.session.commit()
    report.refresh(draft)
    flash(message, "success")
    return redirect(back)


@staff_opinions_blueprint.route("/opinions/<int:comment_id>", methods=["GET", "POST"])
@staff_required
def opinion(comment_id: int):
    comment = db.session.get(Comment, comment_id) or abort(404)
    draft = comment.draft
    if comment.status not in opinions.COUNTED_STATUSES:
        abort(404)
    places = opinions.ClausePlaces(draft)
    form = DispositionForm(prefix="d")
    form.clause.choices = clause_choices(places.newest, blank=_("None"))
    decision = comment.disposition
    if request.method == "GET":
        if decision is not None:
            form.outcome.data = decision.outcome
            form.reason.data = decision.reason
            form.clause.data = str(decision.clause_id or "")
        else:
            unit = places.unit(comment.clause_id)
            form.clause.data = str(unit.id) if unit is not None else ""
    if form.validate_on_submit():
        chosen = opinions.selected_comments(draft, [comment.id],
                                            whole_clusters=bool(form.whole_clusters.data))
        try:
            changed = opinions.decide(draft, chosen, form.outcome.data, form.reason.data or "",
                                      _clause(draft, form.clause.data), user=current_user,
                                      cluster_id=comment.cluster_id
                                      if form.whole_clusters.data else None)
        except opinions.OpinionError as error:
            _form_error(form, error)
        else:
            db.session.commit()
            report.refresh(draft)
            flash(_("Disposition saved for %(n)d opinions.", n=len(changed)), "success")
            return redirect(url_for("staff_opinions.opinion", comment_id=comment.id))
    return render_template(
        "opinions/opinion.html", draft=draft, comment=comment, form=form,
        review=ReviewForm(prefix="r"), places=places,
        history=opinions.disposition_history(comment),
        cluster=db.session.get(OpinionCluster, comment.cluster_id) if comment.cluster_id
        else None, outcome_labels=opinions.OUTCOME_LABELS,
        source_labels=opinions.SOURCE_LABELS, review_labels=opinions.REVIEW_LABELS)


@staff_opinions_blueprint.route("/opinions/<int:comment_id>/review", methods=["POST"])
@staff_required
def review(comment_id: int):
    comment = db.session.get(Comment, comment_id) or abort(404)
    form = ReviewForm(prefix="r")
    if form.validate_on_submit() and comment.disposition is not None:
        try:
            opinions.review([comment.disposition], form.approve.data == "yes",
                            form.note.data or "", user=current_user)
        except opinions.OpinionError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            report.refresh(comment.draft)
            flash(_("Review saved."), "success")
    else:
        flash(_("Choose whether to approve the decision."), "error")
    return redirect(url_for("staff_opinions.opinion", comment_id=comment.id))


@staff_opinions_blueprint.route("/drafts/<slug>/opinions/campaigns/<int:cluster_id>")
@staff_required
def campaign(slug: str, cluster_id: int):
    draft = _staff_draft(slug)
    cluster = db.session.get(OpinionCluster, cluster_id)
    if cluster is None or cluster.draft_id != draft.id:
        abort(404)
    members = db.session.scalars(
        select(Comment).options(joinedload(Comment.disposition), joinedload(Comment.clause),
                                joinedload(Comment.author))
        .where(Comment.cluster_id == cluster.id).order_by(Comment.id)).unique().all()
    return render_template("opinions/campaign.html", draft=draft, cluster=cluster,
                           members=members, outcome_labels=opinions.OUTCOME_LABELS,
                           source_labels=opinions.SOURCE_LABELS)


@staff_opinions_blueprint.route("/drafts/<slug>/opinions/new", methods=["GET", "POST"])
@staff_required
def new_offline(slug: str):
    draft = _staff_draft(slug)
    form = OfflineOpinionForm()
    form.clause.choices = clause_choices(draft.current_version,
                                         blank=_("The draft as a whole"))
    if request.method == "GET":
        form.submission_key.data = services.new_submission_key()
    if form.validate_on_submit():
        received = None
        if form.received_at.data:
            from datetime import datetime, time

            received = to_utc(datetime.combine(form.received_at.data, time(12))).replace(
                tzinfo=None)
        data = opinions.OfflineOpinion(
            source=form.source.data, stance=form.stance.data, body=form.body.data,
            submission_key=form.submission_key.data, source_detail=form.source_detail.data or "",
            received_at=received, proposed_wording=form.proposed_wording.data or "",
            name=form.name.data or "", email=form.email.data or "",
            region=form.region.data or "", sector=form.sector.data or "")
        try:
            comment, _new = opinions.record_offline_opinion(
                draft, _clause(draft, form.clause.data), data, user=current_user)
        except opinions.OpinionError as error:
            _form_error(form, error)
        else:
            db.session.commit()
            flash(_("The opinion has been recorded as no. %(id)d.", id=comment.id), "success")
            return redirect(url_for("staff_opinions.new_offline", slug=draft.slug))
    return render_template("opinions/offline_form.html", draft=draft, form=form)


@staff_opinions_blueprint.route("/drafts/<slug>/opinions/campaigns", methods=["POST"])
@staff_required
def find_campaigns(slug: str):
    draft = _staff_draft(slug)
    if ConfirmForm().validate_on_submit():
        result = campaigns.cluster_draft(draft, user=current_user)
        db.session.commit()
        flash(_("%(campaigns)d campaigns found, holding %(n)d opinions.",
                campaigns=result.campaigns, n=result.in_campaigns), "success")
    return redirect(url_for("staff_opinions.workspace", slug=draft.slug))


@staff_opinions_blueprint.route("/drafts/<slug>/opinions/review-setting", methods=["POST"])
@staff_required
def review_setting(slug: str):
    draft = _staff_draft(slug)
    form = ReviewSettingForm()
    if form.validate_on_submit():
        opinions.set_review_required(draft, bool(form.review_required.data), user=current_user)
        db.session.commit()
        flash(_("The review setting has been saved."), "success")
    return redirect(url_for("staff_opinions.workspace", slug=draft.slug))


@staff_opinions_blueprint.route("/drafts/<slug>/opinions/send-feedback", methods=["POST"])
@staff_required
def send_feedback(slug: str):
    draft = _staff_draft(slug)
    if ConfirmForm().validate_on_submit():
        run = feedback.send_feedback(draft)
        db.session.commit()
        flash(_("%(emails)d e-mails sent about %(decisions)d decisions.", emails=run.emails,
                decisions=run.decisions), "success")
    return redirect(url_for("staff_opinions.workspace", slug=draft.slug))


@staff_opinions_blueprint.route("/drafts/<slug>/opinions.<fmt>")
@staff_required
def staff_export(slug: str, fmt: str):
    draft = _staff_draft(slug)
    if fmt not in ("csv", "json"):
        abort(404)
    report.record_export(current_user, draft, fmt, personal=True)
    db.session.commit()
    return _export(draft, fmt, personal=True)


# --- staff: the report ----------------------------------------------------------------------


@staff_opinions_blueprint.route("/drafts/<slug>/report")
@staff_required
def report_page(slug: str):
    draft = _staff_draft(slug)
    return render_template("opinions/report.html", draft=draft, status=report.status(draft),
                           totals=opinions.totals(draft), confirm=ConfirmForm())


@staff_opinions_blueprint.route("/drafts/<slug>/report/status.json")
@staff_required
def report_status(slug: str):
    draft = _staff_draft(slug)
    found = report.status(draft)
    return jsonify({key: found.get(key) for key in
                    ("state", "progress", "step", "current", "available", "error")})


@staff_opinions_blueprint.route("/drafts/<slug>/report/generate", methods=["POST"])
@staff_required
def generate_report(slug: str):
    draft = _staff_draft(slug)
    if ConfirmForm().validate_on_submit():
        report.start(draft)
        flash(_("The report is being generated."), "success")
    return redirect(url_for("staff_opinions.report_page", slug=draft.slug))


@staff_opinions_blueprint.route("/drafts/<slug>/report/finalise", methods=["POST"])
@staff_required
def finalise_report(slug: str):
    draft = _staff_draft(slug)
    if ConfirmForm().validate_on_submit():
        try:
            if request.form.get("reopen"):
                opinions.reopen_report(draft, user=current_user)
            else:
                opinions.finalise_report(draft, user=current_user)
        except opinions.OpinionError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            report.start(draft)
            flash(_("The report's status has been changed; it is being generated again."),
                  "success")
    return redirect(url_for("staff_opinions.report_page", slug=draft.slug))


@staff_opinions_blueprint.route("/drafts/<slug>/report.pdf")
@staff_required
def download_report(slug: str):
    draft = _staff_draft(slug)
    path = report.folder(draft) / "report.pdf"
    if not path.exists():
        abort(404)
    return send_file(path, mimetype="application/pdf",
                     download_name=f"{draft.slug}-adopted-opinions.pdf")


def init_app(app: Flask) -> None:
    """Register the blueprints, the cache of public feedback pages and template helpers."""
    app.extensions["minyi_feedback_cache"] = FragmentCache(FEEDBACK_CACHE_SIZE)
    app.register_blueprint(opinions_blueprint)
    app.register_blueprint(staff_opinions_blueprint)

    @app.context_processor
    def _opinion_helpers() -> dict:
        # for the "My comments" page, which the drafts blueprint renders, and the charts of
        # the workspace and of the cached feedback page
        return {"opinion_outcome_labels": opinions.OUTCOME_LABELS,
                "opinion_source_labels": opinions.SOURCE_LABELS,
                "opinion_charts": report.opinion_charts,
                "feedback_setting_form": FeedbackSettingForm}
