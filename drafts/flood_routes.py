"""The staff page against floods of comments: switch the question before commenting on or
off, and hide or reject at once what one text, campaign or address sent."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import to_utc
from flask_login import current_user

from app.extensions import db
from app.permissions import staff_required
from drafts import floods, services
from drafts.flood_forms import ChallengeForm, FloodForm
from drafts.models import Draft

flood_blueprint = Blueprint("floods", __name__, url_prefix="/staff")


def _draft(slug: str) -> Draft:
    return services.draft_by_slug(slug) or abort(404)


def _utc(value):
    return to_utc(value).replace(tzinfo=None) if value else None


def _selection(form: FloodForm) -> floods.Selection:
    return floods.Selection(status=form.status.data or "pending", text=form.text.data or "",
                            cluster_id=form.cluster.data or None, origin=form.origin.data or "",
                            since=_utc(form.since.data), until=_utc(form.until.data))


def _form_error(form: FloodForm, error: floods.FloodError) -> None:
    target = getattr(form, error.field, None) if error.field else None
    if target is not None:
        target.errors = [*target.errors, str(error)]
    else:
        form.form_errors.append(str(error))


@flood_blueprint.route("/drafts/<slug>/floods", methods=["GET", "POST"])
@staff_required
def floods_page(slug: str):
    draft = _draft(slug)
    form = FloodForm(request.args, meta={"csrf": False}) if request.method == "GET" \
        else FloodForm()
    selection, matched, shown = None, 0, []
    valid = form.validate() if request.method == "GET" else form.validate_on_submit()
    if valid:
        selection = _selection(form)
        if request.method == "POST":
            try:
                done = floods.moderate_flood(draft, selection, form.action.data,
                                             form.reason.data or "", user=current_user)
            except floods.FloodError as error:
                db.session.rollback()
                _form_error(form, error)
            else:
                db.session.commit()
                flash(_("%(n)d comments were hidden.", n=done) if form.action.data == "hide"
                      else _("%(n)d comments were rejected.", n=done), "success")
                return redirect(url_for("floods.floods_page", slug=draft.slug,
                                        status=selection.status))
        if not selection.is_empty:
            try:
                floods.check(selection)
            except floods.FloodError as error:
                _form_error(form, error)
            else:
                matched = floods.count(draft, selection)
                shown = floods.sample(draft, selection)
    status = form.status.data if form.status.data in floods.FLOOD_STATUSES else "pending"
    since, until = _utc(form.since.data), _utc(form.until.data)
    return render_template(
        "staff/floods.html", draft=draft, form=form, matched=matched, shown=shown,
        selection=selection, challenge_form=ChallengeForm(),
        origins=floods.busiest_origins(draft, status, since, until),
        campaigns=floods.largest_campaigns(draft, status, since, until))


@flood_blueprint.route("/drafts/<slug>/challenge", methods=["POST"])
@staff_required
def challenge(slug: str):
    draft = _draft(slug)
    form = ChallengeForm()
    if form.validate_on_submit():
        floods.set_challenge(draft, form.required.data == "1", user=current_user)
        db.session.commit()
        flash(_("Commenters now answer a question before sending.") if draft.challenge_required
              else _("Commenters no longer answer a question."), "success")
    return redirect(url_for("floods.floods_page", slug=draft.slug))


def init_app(app: Flask) -> None:
    """Register the blueprint."""
    app.register_blueprint(flood_blueprint)
