"""Version pages: the versions of a draft, the comparison of any two (page, PDF, .docx), the
comments on the earlier wording of a clause, and the staff pages that add versions and
correct how two versions pair up."""

from __future__ import annotations

import os
import threading

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.forms import plain_number
from app.permissions import staff_required
from drafts import alignment, exports, services, versions
from drafts.comparison import Comparison
from drafts.forms import ConfirmForm
from drafts.models import AlignmentOverride, Draft, DraftVersion
from drafts.routes import _text_from_form
from drafts.version_forms import CHANGE_LABELS, PairingForm, VersionForm

versions_blueprint = Blueprint("versions", __name__, url_prefix="/drafts")
staff_versions_blueprint = Blueprint("staff_versions", __name__, url_prefix="/staff/drafts")


def _is_staff() -> bool:
    return bool(current_user.is_authenticated and current_user.is_staff)


def _draft(slug: str) -> Draft:
    draft = services.draft_by_slug(slug)
    if draft is None or not (draft.is_public or _is_staff()):
        abort(404)
    return draft


def _sequence(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    number = plain_number(raw)
    if number is None:
        abort(400)
    return number


def pick_versions(available: list[DraftVersion], current_id: int | None
                  ) -> tuple[DraftVersion, DraftVersion] | None:
    """Return the (from, to) versions named by the query string, by sequence number.

    Without `to`, the current version (else the latest); without `from`, the one before
    `to`.  A version that does not exist or is not visible is a 404; None when there is
    nothing to compare.
    """
    by_sequence = {v.sequence: v for v in available}
    wanted_new, wanted_old = _sequence("to"), _sequence("from")
    if wanted_new is not None:
        new = by_sequence.get(wanted_new) or abort(404)
    else:
        new = next((v for v in available if v.id == current_id), None) or (
            available[-1] if available else None)
    if wanted_old is not None:
        old = by_sequence.get(wanted_old) or abort(404)
    else:
        earlier = [v for v in available if new is not None and v.sequence < new.sequence]
        old = earlier[-1] if earlier else None
    if old is None or new is None:
        return None
    if old.id == new.id:
        abort(400)
    return old, new


def _comparison_context(draft: Draft, available: list[DraftVersion]) -> dict:
    """Everything the comparison page, its exports and the staff page share."""
    picked = pick_versions(available, draft.current_version_id)
    only_changed = request.args.get("changed") == "1"
    context: dict = {"draft": draft, "versions": available, "old": None, "new": None,
                     "comparison": None, "rows": [], "only_changed": only_changed,
                     "view": "redline" if request.args.get("view") == "redline" else "table",
                     "status_labels": CHANGE_LABELS}
    if picked is not None:
        old, new = picked
        result: Comparison = versions.compare(old, new)
        context |= {"old": old, "new": new, "comparison": result,
                    "rows": result.changed_rows if only_changed else result.rows}
        context["args"] = _args(context)
    return context


def _args(context: dict) -> dict:
    """The query string that reproduces this comparison."""
    args = {"from": context["old"].sequence, "to": context["new"].sequence}
    if context["only_changed"]:
        args["changed"] = 1
    return args


# --- public -------------------------------------------------------------------------------


@versions_blueprint.route("/<slug>/versions")
def index(slug: str):
    draft = _draft(slug)
    available = versions.versions_of(draft, public=not _is_staff())
    return render_template("drafts/versions.html", draft=draft, versions=available)


@versions_blueprint.route("/<slug>/compare")
def compare(slug: str):
    draft = _draft(slug)
    context = _comparison_context(draft, versions.versions_of(draft, public=not _is_staff()))
    return render_template("drafts/compare.html", compare_endpoint=request.endpoint,
                           **context)


@versions_blueprint.route("/<slug>/compare.pdf")
def compare_pdf(slug: str):
    draft = _draft(slug)
    context = _comparison_context(draft, versions.versions_of(draft, public=not _is_staff()))
    if context["comparison"] is None:
        abort(404)
    path = exports.comparison_pdf(context["draft"], context["old"], context["new"],
                                  context["comparison"], only_changed=context["only_changed"])
    return send_file(path, mimetype="application/pdf", download_name=_filename(context, "pdf"))


@versions_blueprint.route("/<slug>/compare.docx")
def compare_docx(slug: str):
    draft = _draft(slug)
    context = _comparison_context(draft, versions.versions_of(draft, public=not _is_staff()))
    if context["comparison"] is None:
        abort(404)
    data = exports.comparison_docx(context["draft"], context["old"], context["new"],
                                   context["comparison"], only_changed=context["only_changed"])
    return send_file(data, download_name=_filename(context, "docx"),
                     mimetype="application/vnd.openxmlformats-officedocument"
                              ".wordprocessingml.document")


def _filename(context: dict, suffix: str) -> str:
    return (f"{context['draft'].slug}-v{context['old'].sequence}-v{context['new'].sequence}"
            f".{suffix}")


@versions_blueprint.route("/<slug>/clauses/<anchor>/earlier")
def earlier(slug: str, anchor: str):
    draft = _draft(slug)
    version = draft.current_version
    unit = services.clause_by_anchor(version, anchor) if version else None
    if unit is None or not unit.is_commentable:
        abort(404)
    found = versions.earlier_comments(unit, version, cursor=request.args.get("cursor"),
                                      per_page=current_app.config["COMMENTS_PER_PAGE"])
    if found is None:
        abort(404)
    return render_template("drafts/versions_earlier_page.html", draft=draft, unit=unit,
                           earlier=found)


# --- staff --------------------------------------------------------------------------------


def _staff_draft(slug: str) -> Draft:
    return services.draft_by_slug(slug) or abort(404)


@staff_versions_blueprint.route("/<slug>/versions")
@staff_required
def staff_index(slug: str):
    draft = _staff_draft(slug)
    return render_template("staff/versions.html", draft=draft,
                           versions=versions.versions_of(draft, public=False),
                           form=ConfirmForm())


@staff_versions_blueprint.route("/<slug>/versions/new", methods=["GET", "POST"])
@staff_required
def new_version(slug: str):
    draft = _staff_draft(slug)
    form = VersionForm()
    if form.validate_on_submit():
        source = _text_from_form(form)
        if source is not None and not source[0].strip():
            form.text.errors = [*form.text.errors, _("Paste the text or upload a file.")]
        elif source is not None:
            text, filename, parsed = source
            try:
                version = versions.add_version(
                    draft, text, label=form.label.data, note=form.note.data or "",
                    user=current_user, make_current=form.make_current.data,
                    source_filename=filename, parsed=parsed)
            except services.DraftError as error:
                form.text.errors = [*form.text.errors, str(error)]
            else:
                db.session.commit()
                flash(_("Version %(n)d (%(label)s) has been added. Check how it pairs with the "
                        "version before it.", n=version.sequence, label=version.label),
                      "success")
                return redirect(url_for("staff_versions.staff_compare", slug=draft.slug,
                                        to=version.sequence))
    return render_template("staff/version_form.html", draft=draft, form=form,
                           labels=versions.VERSION_LABELS)


@staff_versions_blueprint.route("/<slug>/versions/<int:sequence>/current", methods=["POST"])
@staff_required
def set_current(slug: str, sequence: int):
    draft = _staff_draft(slug)
    version = next((v for v in draft.versions if v.sequence == sequence), None) or abort(404)
    if ConfirmForm().validate_on_submit():
        versions.set_current(draft, version, user=current_user)
        db.session.commit()
        flash(_("Version %(n)d is now the current version.", n=sequence), "success")
    return redirect(url_for("staff_versions.staff_index", slug=draft.slug))


def _pairing_form(context: dict) -> PairingForm:
    form = PairingForm()
    pairs = context["comparison"].alignment.pairs
    old = sorted({(r.index, r.anchor, r.label, r.text) for p in pairs for r in p.old})
    new = sorted({(r.index, r.anchor, r.label, r.text) for p in pairs for r in p.new})
    form.offer([(anchor, _excerpt(label, text)) for _i, anchor, label, text in old],
               [(anchor, _excerpt(label, text)) for _i, anchor, label, text in new])
    return form


def _excerpt(label: str, text: str) -> str:
    first = text.split("\n", 1)[0]
    return f"{label}　{first[:24]}{'…' if len(first) > 24 else ''}"


@staff_versions_blueprint.route("/<slug>/compare")
@staff_required
def staff_compare(slug: str):
    draft = _staff_draft(slug)
    context = _comparison_context(draft, versions.versions_of(draft, public=False))
    form = overrides = labels = None
    if context["comparison"] is not None:
        form = _pairing_form(context)
        pairs = context["comparison"].alignment.pairs
        labels = {"old": {r.anchor: r.label for p in pairs for r in p.old},
                  "new": {r.anchor: r.label for p in pairs for r in p.new}}
        fix = request.args.get("fix", type=int)
        rows = context["comparison"].rows
        if fix is not None and 1 <= fix <= len(rows):
            form.old.data = [r.anchor for r in rows[fix - 1].pair.old]
            form.new.data = [r.anchor for r in rows[fix - 1].pair.new]
        overrides = versions.overrides_for(context["old"], context["new"])
    return render_template("staff/version_compare.html", compare_endpoint=request.endpoint,
                           form=form, overrides=overrides, labels=labels,
                           remove_form=ConfirmForm(), **context)


@staff_versions_blueprint.route("/<slug>/compare/pairing", methods=["POST"])
@staff_required
def correct_pairing(slug: str):
    draft = _staff_draft(slug)
    context = _comparison_context(draft, versions.versions_of(draft, public=False))
    if context["comparison"] is None:
        abort(404)
    form = _pairing_form(context)
    if form.validate_on_submit():
        try:
            versions.correct_pairing(context["old"], context["new"], form.old.data or [],
                                     form.new.data or [], user=current_user)
        except services.DraftError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("The pairing has been corrected and will be used from now on."), "success")
    else:
        flash(_("The correction could not be saved; reload the page and try again."), "error")
    return redirect(url_for("staff_versions.staff_compare", slug=draft.slug,
                            **context["args"]))


@staff_versions_blueprint.route("/<slug>/pairings/<int:override_id>/remove", methods=["POST"])
@staff_required
def remove_pairing(slug: str, override_id: int):
    draft = _staff_draft(slug)
    override = db.session.get(AlignmentOverride, override_id)
    if override is None or override.draft_id != draft.id:
        abort(404)
    old = db.session.get(DraftVersion, override.old_version_id)
    new = db.session.get(DraftVersion, override.new_version_id)
    if ConfirmForm().validate_on_submit():
        versions.remove_correction(override, user=current_user)
        db.session.commit()
        flash(_("The correction has been removed."), "success")
    return redirect(url_for("staff_versions.staff_compare", slug=draft.slug,
                            **{"from": old.sequence, "to": new.sequence}))


# --- set-up -------------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Register the blueprints and the alignment cache; warm the word segmenter when serving.

    jieba's dictionary takes about a second to load (several on a busy machine).  Tests and
    `minyi` commands never pay it unless they diff; a server loads it in the background as it
    starts, so that the first comparison a reader asks for does not wait for it.
    """
    app.register_blueprint(versions_blueprint)
    app.register_blueprint(staff_versions_blueprint)
    app.extensions["minyi_alignment_cache"] = versions.AlignmentCache(
        versions.ALIGNMENT_CACHE_SIZE)
    if not app.testing and os.environ.get("FLASK_RUN_FROM_CLI") != "true":
        threading.Thread(target=alignment.load_words, name="jieba-warm", daemon=True).start()
