"""Public draft pages, commenting, and the staff pages for drafts and moderation."""

from __future__ import annotations

import csv
import io

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import to_utc
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import audit
from app.extensions import account_or_address, db, limiter
from app.mail import send_email
from app.masking import mask_personal_data
from app.models import User, utcnow
from app.permissions import staff_required
from drafts import services, versions
from drafts.forms import (
    COMMENT_STATUS_LABELS,
    CommentForm,
    ConfirmForm,
    DraftEditForm,
    DraftForm,
    ModerationForm,
    StatusForm,
    lines,
)
from drafts.models import Clause, Comment, Draft
from drafts.parser import parse

drafts_blueprint = Blueprint("drafts", __name__, url_prefix="/drafts")
staff_drafts_blueprint = Blueprint("staff_drafts", __name__, url_prefix="/staff")


def _public_draft(slug: str) -> Draft:
    return _visible(services.draft_by_slug(slug))


def _visible(draft: Draft | None) -> Draft:
    """Return the draft if the public (or, before publication, staff) may see it; else 404."""
    if draft is None:
        abort(404)
    if not draft.is_public and not (current_user.is_authenticated and current_user.is_staff):
        abort(404)
    return draft


@drafts_blueprint.app_template_filter("masked")
def masked(text: str) -> str:
    return mask_personal_data(text)


# --- public -------------------------------------------------------------------------------


@drafts_blueprint.route("/")
def index():
    return render_template("drafts/index.html", drafts=services.public_drafts())


@drafts_blueprint.route("/<slug>")
def show(slug: str):
    draft = _public_draft(slug)
    version = draft.current_version
    tree = services.clause_tree(version) if version else []
    versions.add_earlier_counts(tree, version)
    whole = services.published_comments(draft, None, per_page=5)
    return render_template("drafts/show.html", draft=draft, version=version, tree=tree,
                           whole_comments=whole)


@drafts_blueprint.route("/<slug>/clauses/<anchor>")
def clause(slug: str, anchor: str):
    draft = _public_draft(slug)
    unit = services.clause_by_anchor(draft.current_version, anchor)
    if unit is None or not unit.is_commentable:
        abort(404)
    sort = request.args.get("sort", "new")
    page = services.published_comments(draft, unit, sort=sort, cursor=request.args.get("cursor"),
                                       per_page=current_app.config["COMMENTS_PER_PAGE"])
    return render_template("drafts/clause.html", draft=draft, unit=unit,
                           article=services.article_of(unit), page=page, sort=sort,
                           earlier=versions.earlier_comments(unit, draft.current_version,
                                                             per_page=5))


@drafts_blueprint.route("/<slug>/comments")
def draft_comments(slug: str):
    draft = _public_draft(slug)
    sort = request.args.get("sort", "new")
    page = services.published_comments(draft, None, sort=sort, cursor=request.args.get("cursor"),
                                       per_page=current_app.config["COMMENTS_PER_PAGE"])
    return render_template("drafts/clause.html", draft=draft, unit=None, article=None,
                           page=page, sort=sort)


@drafts_blueprint.route("/<slug>/comment", methods=["GET", "POST"])
@limiter.limit("30/minute;300/hour", methods=["POST"])
@limiter.limit("30/minute;300/hour", methods=["POST"], key_func=account_or_address)
def comment(slug: str):
    anchor = request.values.get("clause", "")
    draft, unit = services.draft_with_unit(slug, anchor)
    draft = _visible(draft)
    # A POST keeps what was typed and explains; only a link to a chapter's form is wrong.
    if anchor and (unit is None or (request.method == "GET" and not unit.is_commentable)):
        abort(404)
    user = current_user if current_user.is_authenticated else None
    if user is None and not draft.allow_guests:
        flash(_("Log in to comment on this draft."), "info")
        return redirect(url_for("auth.login", next=request.full_path))
    form = CommentForm()
    form.offer_choices(draft.regions, draft.sectors)
    if request.method == "GET":
        form.submission_key.data = services.new_submission_key()
        if user is not None:
            form.region.data = user.region
            form.sector.data = user.sector
    form.ask(draft.challenge_required, form.submission_key.data)
    if form.validate_on_submit():
        if form.caught:  # a bot filled the hidden field: answer as usual, keep nothing
            return redirect(url_for("drafts.show", slug=slug))
        data = services.CommentInput(
            stance=form.stance.data,
            body=form.body.data,
            submission_key=form.submission_key.data,
            proposed_wording=form.proposed_wording.data or "",
            region=form.region.data or "",
            sector=form.sector.data or "",
            age_band=form.age_band.data or "",
            guest_name=form.guest_name.data or "",
            guest_email=form.guest_email.data or "",
        )
        try:
            new_comment, is_new = _save_comment(draft, unit, data, user)
        except services.CommentError as error:
            _form_error(form, error)
        else:
            # values known before the commit: reading the expired objects after it would cost
            # two queries on the hottest write path (only guests confirm by e-mail)
            if is_new and user is None:
                _send_guest_confirmation(new_comment)
            return redirect(url_for("drafts.submitted", slug=slug, key=data.submission_key))
    return render_template("drafts/comment_form.html", draft=draft, unit=unit, form=form,
                           article=services.article_of(unit) if unit else None)


def _save_comment(draft: Draft, unit: Clause | None, data: services.CommentInput,
                  user: User | None) -> tuple[Comment, bool]:
    """Submit and commit a comment; when a parallel request committed the same key first,
    return its comment (the insert fails at the flush or at the commit, depending on timing)."""
    try:
        comment, is_new = services.submit_comment(
            draft, unit, data, user=user, max_length=current_app.config["COMMENT_MAX_LENGTH"])
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        if not services.is_duplicate_submission(error):
            raise
        return services.comment_by_submission_key(data.submission_key), False
    return comment, is_new


def _form_error(form: CommentForm, error: services.CommentError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, str(error)]
    else:
        form.form_errors.append(str(error))


def _guest_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="guest-comment")


def _send_guest_confirmation(comment: Comment) -> None:
    token = _guest_serializer().dumps(comment.id)
    link = url_for("drafts.confirm_guest", token=token, _external=True)
    send_email(comment.guest_email, _("Confirm your comment"), "emails/confirm_comment.txt",
               comment=comment, link=link)


@drafts_blueprint.route("/<slug>/submitted/<key>")
def submitted(slug: str, key: str):
    draft = _public_draft(slug)
    comment = services.comment_by_submission_key(key)
    if comment is None or comment.draft_id != draft.id:
        abort(404)
    return render_template("drafts/submitted.html", draft=draft, comment=comment)


@drafts_blueprint.route("/confirm/<token>", methods=["GET", "POST"])
def confirm_guest(token: str):
    try:
        comment_id = _guest_serializer().loads(token)
    except BadSignature:
        abort(404)
    comment = db.session.get(Comment, comment_id) or abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.confirm_guest_comment(comment)
        db.session.commit()
        flash(_("Thank you: your comment is confirmed."), "success")
        return redirect(url_for("drafts.show", slug=comment.draft.slug))
    return render_template("drafts/confirm_guest.html", comment=comment, form=form)


@drafts_blueprint.route("/comments/<int:comment_id>/support", methods=["POST"])
@login_required
@limiter.limit("60/minute")
def support(comment_id: int):
    comment = db.session.get(Comment, comment_id) or abort(404)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.toggle_support(comment, current_user)
    except services.CommentError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
    anchor = comment.clause.anchor if comment.clause else None
    if anchor:
        return redirect(url_for("drafts.clause", slug=comment.draft.slug, anchor=anchor)
                        + f"#comment-{comment.id}")
    return redirect(url_for("drafts.draft_comments", slug=comment.draft.slug))


@drafts_blueprint.route("/mine")
@login_required
def my_comments():
    return render_template("drafts/my_comments.html",
                           comments=services.comments_by_author(current_user),
                           status_labels=COMMENT_STATUS_LABELS)


# --- staff --------------------------------------------------------------------------------


@staff_drafts_blueprint.route("/drafts")
@staff_required
def drafts():
    all_drafts = db.session.scalars(select(Draft).order_by(Draft.created_at.desc())).all()
    return render_template("staff/drafts.html", drafts=all_drafts)


def _text_from_form(form: DraftForm) -> tuple[str, str, object] | None:
    """Return (text, filename, parsed) from the upload or the pasted text."""
    upload = form.upload.data
    if upload and getattr(upload, "filename", ""):
        try:
            text, parsed = services.read_upload(upload.filename, upload.read())
        except services.DraftError as error:
            form.upload.errors = [*form.upload.errors, str(error)]
            return None
        return text, upload.filename, parsed
    if form.text.data and form.text.data.strip():
        return form.text.data, "", None
    return "", "", None


def _window(form: DraftForm):
    opens = to_utc(form.opens_at.data).replace(tzinfo=None) if form.opens_at.data else None
    closes = to_utc(form.closes_at.data).replace(tzinfo=None) if form.closes_at.data else None
    return opens, closes


@staff_drafts_blueprint.route("/drafts/new", methods=["GET", "POST"])
@staff_required
def new_draft():
    form = DraftForm()
    if form.validate_on_submit():
        source = _text_from_form(form)
        if source is not None and not source[0].strip():
            form.text.errors = [*form.text.errors, _("Paste the text or upload a file.")]
        elif source is not None:
            text, filename, parsed = source
            opens, closes = _window(form)
            try:
                draft = services.create_draft(
                    form.title.data, text, user=current_user, slug=form.slug.data or None,
                    summary=form.summary.data or "", explanation=form.explanation.data or "",
                    office=form.office.data or "", opens_at=opens, closes_at=closes,
                    moderation=form.moderation.data, allow_guests=form.allow_guests.data,
                    sectors=lines(form.sectors.data), regions=lines(form.regions.data),
                    version_label=form.version_label.data, source_filename=filename,
                    parsed=parsed,
                )
            except services.DraftError as error:
                form.text.errors = [*form.text.errors, str(error)]
            else:
                db.session.commit()
                flash(_("The draft has been saved. Check the structure before publishing."),
                      "success")
                return redirect(url_for("staff_drafts.preview", slug=draft.slug))
    return render_template("staff/draft_form.html", form=form, draft=None)


def _staff_draft(slug: str) -> Draft:
    return services.draft_by_slug(slug) or abort(404)


@staff_drafts_blueprint.route("/drafts/<slug>/edit", methods=["GET", "POST"])
@staff_required
def edit_draft(slug: str):
    draft = _staff_draft(slug)
    # a POST is read from the form alone: a field left out must not fall back to the
    # draft's own value (its sectors are a list, not the text the form holds)
    form = DraftEditForm(obj=draft if request.method == "GET" else None)
    if request.method == "GET":
        form.sectors.data = "\n".join(draft.sectors)
        form.regions.data = "\n".join(draft.regions)
        form.text.data = ""
        form.version_label.data = draft.current_version.label if draft.current_version else ""
        form.opens_at.data = _local(draft.opens_at)
        form.closes_at.data = _local(draft.closes_at)
    if form.validate_on_submit():
        source = _text_from_form(form)
        if source is not None:
            text, filename, parsed = source
            opens, closes = _window(form)
            try:
                services.check_window(opens, closes)
                if form.slug.data and form.slug.data != draft.slug:
                    other = services.draft_by_slug(form.slug.data)
                    if other is not None:
                        raise services.DraftError(
                            _("This URL name is already used by another draft."))
                    draft.slug = form.slug.data
                if text.strip():
                    services.replace_text(draft, text, user=current_user,
                                          source_filename=filename, parsed=parsed)
            except services.DraftError as error:
                form.text.errors = [*form.text.errors, str(error)]
            else:
                draft.title = form.title.data
                draft.summary = form.summary.data or ""
                draft.explanation = form.explanation.data or ""
                draft.office = form.office.data or ""
                draft.opens_at, draft.closes_at = opens, closes
                draft.moderation = form.moderation.data
                draft.allow_guests = form.allow_guests.data
                draft.sectors = lines(form.sectors.data)
                draft.regions = lines(form.regions.data)
                if draft.current_version is not None:
                    draft.current_version.label = form.version_label.data
                audit.record(current_user, "draft.update", draft)
                db.session.commit()
                flash(_("The draft has been saved."), "success")
                return redirect(url_for("staff_drafts.preview", slug=draft.slug))
    return render_template("staff/draft_form.html", form=form, draft=draft)


def _local(value):
    if value is None:
        return None
    from flask_babel import to_user_timezone

    return to_user_timezone(value).replace(tzinfo=None)


@staff_drafts_blueprint.route("/drafts/<slug>")
@staff_required
def preview(slug: str):
    draft = _staff_draft(slug)
    version = draft.current_version
    warnings = parse(version.source_text).warnings if version and version.source_text else []
    tree = services.clause_tree(version) if version else []
    return render_template("staff/draft_preview.html", draft=draft, version=version, tree=tree,
                           warnings=warnings, status_form=StatusForm(),
                           counts=services.status_counts(draft),
                           transitions=services.TRANSITIONS[draft.status])


@staff_drafts_blueprint.route("/drafts/<slug>/status", methods=["POST"])
@staff_required
def change_status(slug: str):
    draft = _staff_draft(slug)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            services.change_status(draft, form.status.data, user=current_user,
                                   reason=form.reason.data or "")
        except services.DraftError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("The draft's status has been changed."), "success")
    return redirect(url_for("staff_drafts.preview", slug=draft.slug))


@staff_drafts_blueprint.route("/drafts/<slug>/moderation")
@staff_required
def moderation(slug: str):
    draft = _staff_draft(slug)
    status = request.args.get("status", "pending")
    if status not in COMMENT_STATUS_LABELS:
        status = "pending"
    page = services.moderation_queue(draft, status, page=request.args.get("page", 1, type=int))
    return render_template("staff/moderation.html", draft=draft, page=page, status=status,
                           counts=services.status_counts(draft), form=ModerationForm(),
                           status_labels=COMMENT_STATUS_LABELS)


@staff_drafts_blueprint.route("/comments/<int:comment_id>/moderate", methods=["POST"])
@staff_required
def moderate(comment_id: int):
    comment = db.session.get(Comment, comment_id) or abort(404)
    form = ModerationForm()
    back = url_for("staff_drafts.moderation", slug=comment.draft.slug,
                   status=request.args.get("status", "pending"))
    if form.validate_on_submit():
        try:
            services.moderate(comment, form.action.data, user=current_user,
                              reason=form.reason.data or "")
        except services.CommentError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Decision saved for comment %(id)d.", id=comment.id), "success")
    else:
        flash(_("The decision could not be saved; reload the page and try again."), "error")
    return redirect(back)


@staff_drafts_blueprint.route("/drafts/<slug>/comments.csv")
@staff_required
def export_comments(slug: str):
    draft = _staff_draft(slug)
    audit.record(current_user, "comments.export", draft, format="csv")
    db.session.commit()
    filename = f"{draft.slug}-comments.csv"
    return Response(stream_with_context(_csv_rows(draft)), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


#: comments read per query while exporting
EXPORT_BATCH = 1000


def _csv_rows(draft: Draft):
    """Yield the CSV in batches read by keyset: no cursor or transaction stays open between
    batches, however slowly the client downloads."""
    from sqlalchemy.orm import joinedload

    header = ["id", "created_at_utc", "status", "clause", "stance", "body", "proposed_wording",
              "author", "region", "sector", "age_band", "support_count", "moderation_reason"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    draft_id, last_id = draft.id, 0
    while True:
        batch = db.session.scalars(
            select(Comment).options(joinedload(Comment.clause), joinedload(Comment.author))
            .where(Comment.draft_id == draft_id, Comment.id > last_id)
            .order_by(Comment.id).limit(EXPORT_BATCH)
        ).all()
        for comment in batch:
            writer.writerow([
                comment.id, comment.created_at.isoformat(timespec="seconds"), comment.status,
                comment.clause.label if comment.clause else "", comment.stance,
                _csv_safe(comment.body), _csv_safe(comment.proposed_wording),
                _csv_safe(comment.display_name), _csv_safe(comment.region),
                _csv_safe(comment.sector), comment.age_band, comment.support_count,
                _csv_safe(comment.moderation_reason),
            ])
        db.session.rollback()
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(batch) < EXPORT_BATCH:
            return
        last_id = batch[-1].id


def _csv_safe(value: str) -> str:
    """Defuse spreadsheet formulas in user text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


@staff_drafts_blueprint.app_context_processor
def _now():
    return {"utcnow": utcnow}
