"""Pages for the live hearing (observers, the recorder's console, the chair's screen), the
record's review, corrections and signatures, the report, the PDFs and observers' written
opinions. Every live form works without JavaScript; static/js/live.js sends the same forms
over Socket.IO and keeps the page current."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app.extensions import db, socketio
from app.forms import plain_number
from app.models import User
from drafts.models import Clause
from hearings import live, pdf, record, report
from hearings.live_forms import (
    AGENDA_ITEMS,
    EXTENSIONS,
    OPINION_STANCES,
    ConfirmForm,
    CorrectionForm,
    DecisionForm,
    EditNoteForm,
    ObservationForm,
    OpinionForm,
    RecordNoteForm,
    SpeakerForm,
    SuggestionForm,
    TimerForm,
)
from hearings.models import Hearing, HearingEvent, RecordCorrection
from hearings.sockets import HearingNamespace, broadcast

live_blueprint = Blueprint("hearing_live", __name__, url_prefix="/hearings")


def init_app(app: Flask) -> None:
    """Register the live pages and the `/hearings` Socket.IO namespace."""
    app.register_blueprint(live_blueprint)
    app.jinja_env.filters["speaker_label"] = live.speaker_label
    app.jinja_env.filters["clock"] = clock
    socketio.on_namespace(HearingNamespace())


def clock(seconds: float) -> str:
    """Format a number of seconds as m:ss, the way a timer shows it."""
    whole = int(abs(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def _user() -> User | None:
    return current_user if current_user.is_authenticated else None


def _hearing(slug: str) -> Hearing:
    hearing = db.session.scalar(select(Hearing).where(Hearing.slug == slug))
    if hearing is None:
        abort(404)
    return hearing


def _deny() -> None:
    abort(403 if current_user.is_authenticated else 401)


def _observable(slug: str) -> Hearing:
    hearing = _hearing(slug)
    if not live.can_observe(_user(), hearing):
        _deny()
    return hearing


def _recordable(slug: str) -> Hearing:
    hearing = _hearing(slug)
    if not live.can_record(_user(), hearing):
        _deny()
    return hearing


def _clause_choices(hearing: Hearing) -> list[tuple[int, str]]:
    """Return the articles of the hearing's version as (lineage id, label) pairs."""
    articles = db.session.scalars(select(Clause).where(
        Clause.version_id == hearing.version_id, Clause.kind == "article",
        Clause.lineage_id.is_not(None)).order_by(Clause.position))
    return [(a.lineage_id, f"{a.label} {a.heading}".strip()) for a in articles]


def _speaker_form(hearing: Hearing) -> SpeakerForm:
    form = SpeakerForm()
    form.speaker_id.choices = [("", _("Nobody (agenda item only)"))] + [
        (str(s.id), f"{s.speaking_order or ''} {live.speaker_label(s)}".strip())
        for s in live.running_order(hearing)]
    return form


def _done(hearing: Hearing, events: list[HearingEvent], message: str, anchor: str = ""):
    """Commit a change made through a plain form, broadcast it, and go back to the page."""
    db.session.commit()
    broadcast(*events)
    flash(message, "success")
    return redirect(url_for("hearing_live.live_page", slug=hearing.slug, _anchor=anchor or None))


def _refused(hearing: Hearing, error: Exception):
    db.session.rollback()
    flash(str(error), "error")
    return redirect(url_for("hearing_live.live_page", slug=hearing.slug))


# --- the live hearing ----------------------------------------------------------------------


@live_blueprint.route("/<slug>/live")
def live_page(slug: str):
    hearing = _observable(slug)
    user = _user()
    # After the hearing the record changes only through corrections: no forms to write.
    is_live = hearing.status in live.LIVE_STATUSES
    can_record = is_live and live.can_record(user, hearing)
    note_form = RecordNoteForm()
    note_form.clause_lineage_ids.choices = _clause_choices(hearing)
    return render_template(
        "hearings/live.html", hearing=hearing, notes=live.visible_notes(hearing, user),
        state=live.live_state(hearing), can_record=can_record,
        is_deputy=is_live and live.is_deputy_observer(user, hearing),
        may_hand_in_opinion=record.may_hand_in_opinion(user, hearing),
        record_readable=record.can_read_record(user, hearing), is_live=is_live,
        note_form=note_form, observation_form=ObservationForm(),
        speaker_form=_speaker_form(hearing), agenda_items=AGENDA_ITEMS, extensions=EXTENSIONS,
        clause_labels=dict(_clause_choices(hearing)),
        can_edit=lambda note: is_live and live.can_edit_note(user, note))


@live_blueprint.route("/<slug>/chair")
def chair_screen(slug: str):
    hearing = _recordable(slug)
    questions = [n for n in live.visible_notes(hearing, _user()) if n.kind == "question"]
    return render_template(
        "hearings/live_chair.html", hearing=hearing, state=live.live_state(hearing),
        speakers=live.running_order(hearing), questions=questions,
        speaker_form=_speaker_form(hearing), extensions=EXTENSIONS, agenda_items=AGENDA_ITEMS)


@live_blueprint.route("/<slug>/live/notes", methods=["POST"])
@login_required
def post_note(slug: str):
    hearing = _observable(slug)
    form: RecordNoteForm | ObservationForm
    if request.form.get("kind", "record") == "record":
        form = RecordNoteForm()
        form.clause_lineage_ids.choices = _clause_choices(hearing)
    else:
        form = ObservationForm()
    if not form.validate_on_submit():
        return _refused(hearing, ValueError(_("Write the note first.")))
    if isinstance(form, RecordNoteForm):
        kind, visibility, clauses = "record", "public", form.clause_lineage_ids.data or []
    else:
        kind, clauses = form.kind.data, []
        visibility = "staff" if kind == "question" else form.visibility.data
    try:
        note, event = live.post_note(hearing, current_user, form.body.data, kind=kind,
                                     visibility=visibility, clause_lineage_ids=clauses)
    except live.LiveError as error:
        return _refused(hearing, error)
    return _done(hearing, [event], _("The note is saved."), f"note-{note.id}")


@live_blueprint.route("/<slug>/live/notes/<int:note_id>", methods=["POST"])
@login_required
def edit_note(slug: str, note_id: int):
    hearing = _observable(slug)
    note = live.note_by_id(hearing, note_id) or abort(404)
    if not live.can_edit_note(current_user, note):
        abort(403)
    form = EditNoteForm()
    revision = plain_number(form.revision.data)
    if not form.validate_on_submit() or revision is None:
        return _refused(hearing, ValueError(_("Write the new text.")))
    try:
        event = live.edit_note(note, current_user, form.body.data,
                               base_revision=revision)
    except live.LiveError as error:
        return _refused(hearing, error)
    return _done(hearing, [event], _("The note is changed."), f"note-{note.id}")


@live_blueprint.route("/<slug>/live/speaker", methods=["POST"])
def change_speaker(slug: str):
    hearing = _recordable(slug)
    form = _speaker_form(hearing)
    if not form.validate_on_submit():
        return _refused(hearing, ValueError(_("Choose a speaker of this hearing.")))
    try:
        event = live.change_speaker(hearing, current_user, form.speaker_id.data or None,
                                    form.agenda_item.data or "")
    except live.LiveError as error:
        return _refused(hearing, error)
    return _done(hearing, [event], _("The floor has changed."))


@live_blueprint.route("/<slug>/live/timer", methods=["POST"])
def timer(slug: str):
    hearing = _recordable(slug)
    form = TimerForm()
    if not form.validate_on_submit() or form.action.data not in ("start", "extend"):
        return _refused(hearing, ValueError(_("Extend by a number of seconds.")))
    try:
        if form.action.data == "start":
            event = live.start_timer(hearing, current_user)
        else:
            event = live.extend_timer(hearing, current_user, form.seconds.data)
    except live.LiveError as error:
        return _refused(hearing, error)
    return _done(hearing, [event], _("The timer is set."))


@live_blueprint.route("/<slug>/live/end", methods=["POST"])
def end(slug: str):
    hearing = _recordable(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        event = live.end_hearing(hearing, current_user)
    except live.LiveError as error:
        return _refused(hearing, error)
    db.session.commit()
    broadcast(event)
    flash(_("The hearing has ended. Open the record for the speakers' review when it is ready."),
          "success")
    return redirect(url_for("hearing_live.record_page", slug=hearing.slug))


# --- the record -------------------------------------------------------------------------------


def _readable(slug: str) -> Hearing:
    hearing = _hearing(slug)
    if not record.can_read_record(_user(), hearing):
        _deny()
    return hearing


@live_blueprint.route("/<slug>/record")
def record_page(slug: str):
    hearing = _readable(slug)
    user = _user()
    notes = record.record_notes(hearing)
    is_staff = live.is_hearing_staff(user, hearing)
    correction_form = CorrectionForm()
    correction_form.note_id.choices = [("", _("(something is missing)"))] + [
        (str(n.id), f"{format_datetime(n.created_at, 'HH:mm')} {n.body[:40]}") for n in notes]
    mine = record.corrections(hearing, user) if record.speaker_of(user, hearing) else []
    return render_template(
        "hearings/record.html", hearing=hearing, sections=record.record_sections(notes),
        notes_by_id={n.id: n for n in notes}, is_staff=is_staff,
        review_open=record.is_review_open(hearing),
        review_closes_at=record.review_closes_at(hearing),
        is_speaker=record.speaker_of(user, hearing) is not None,
        correction_form=correction_form, my_corrections=mine,
        corrections=record.corrections(hearing) if is_staff else [],
        signoffs=record.signoffs(hearing), my_roles=record.roles_of(user, hearing),
        pending=record.pending_corrections(hearing))


@live_blueprint.route("/<slug>/record/open", methods=["POST"])
def open_record(slug: str):
    hearing = _recordable(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        filed = record.open_record(hearing, current_user)
    except record.RecordError as error:
        flash(str(error), "error")
        return redirect(url_for("hearing_live.record_page", slug=slug))
    db.session.commit()
    flash(_("The record is open for the speakers' review until %(date)s. %(n)d statements were "
            "added to the draft's opinions.",
            date=record.review_closes_at(hearing).strftime("%Y-%m-%d"), n=len(filed)), "success")
    return redirect(url_for("hearing_live.record_page", slug=slug))


@live_blueprint.route("/<slug>/record/corrections", methods=["POST"])
@login_required
def request_correction(slug: str):
    hearing = _readable(slug)
    form = CorrectionForm()
    form.note_id.choices = [("", "")] + [(str(n.id), "") for n in record.record_notes(hearing)]
    if not form.validate_on_submit():
        flash(_("Say what should be corrected."), "error")
        return redirect(url_for("hearing_live.record_page", slug=slug, _anchor="correction"))
    try:
        record.request_correction(hearing, current_user, form.text.data,
                                  note_id=int(form.note_id.data) if form.note_id.data else None)
    except record.RecordError as error:
        flash(str(error), "error")
        return redirect(url_for("hearing_live.record_page", slug=slug, _anchor="correction"))
    db.session.commit()
    flash(_("Your request is sent. Staff will answer it before the record is signed."),
          "success")
    return redirect(url_for("hearing_live.record_page", slug=slug, _anchor="my-corrections"))


@live_blueprint.route("/<slug>/record/corrections/<int:correction_id>", methods=["POST"])
def decide_correction(slug: str, correction_id: int):
    hearing = _recordable(slug)
    correction = db.session.get(RecordCorrection, correction_id)
    if correction is None or correction.hearing_id != hearing.id:
        abort(404)
    form = DecisionForm()
    back = redirect(url_for("hearing_live.record_page", slug=slug,
                            _anchor=f"correction-{correction.id}"))
    if not form.validate_on_submit():
        flash(_("Choose whether to accept or reject the request."), "error")
        return back
    try:
        events = record.decide_correction(
            correction, current_user, accept=form.decision.data == "accept",
            response=form.response.data or "", body=form.body.data or "",
            base_revision=plain_number(form.revision.data))
    except record.RecordError as error:
        db.session.rollback()
        flash(str(error), "error")
        return back
    db.session.commit()
    broadcast(*events)
    flash(_("The decision is recorded."), "success")
    return back


@live_blueprint.route("/<slug>/record/sign", methods=["POST"])
@login_required
def sign(slug: str):
    hearing = _readable(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        record.sign_off(hearing, current_user, request.form.get("role", ""))
    except record.RecordError as error:
        flash(str(error), "error")
        return redirect(url_for("hearing_live.record_page", slug=slug, _anchor="signatures"))
    db.session.commit()
    flash(_("You have signed the record."), "success")
    return redirect(url_for("hearing_live.record_page", slug=slug, _anchor="signatures"))


@live_blueprint.route("/<slug>/record.pdf")
def record_pdf(slug: str):
    hearing = _readable(slug)
    return send_file(pdf.record_pdf(hearing), mimetype="application/pdf",
                     download_name=f"{hearing.slug}-record.pdf")


# --- the report -------------------------------------------------------------------------------


@live_blueprint.route("/<slug>/report", methods=["GET", "POST"])
def report_page(slug: str):
    hearing = _recordable(slug)
    form = SuggestionForm()
    if form.validate_on_submit():
        question_id = int(form.question_id.data) if form.question_id.data else None
        try:
            report.set_suggestion(hearing, current_user, question_id, form.body.data or "")
        except record.RecordError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("The suggestion is saved."), "success")
        return redirect(url_for("hearing_live.report_page", slug=slug,
                                _anchor=f"suggestion-{question_id or 'overall'}"))
    return render_template("hearings/record_report.html", hearing=hearing,
                           report=report.build_report(hearing),
                           position_labels=report.POSITION_LABELS,
                           stance_counts=report.stance_counts)


@live_blueprint.route("/<slug>/report.pdf")
def report_pdf(slug: str):
    hearing = _recordable(slug)
    return send_file(pdf.report_pdf(hearing), mimetype="application/pdf",
                     download_name=f"{hearing.slug}-report.pdf")


# --- observers' written opinions --------------------------------------------------------------


@live_blueprint.route("/<slug>/opinion", methods=["GET", "POST"])
@login_required
def opinion(slug: str):
    hearing = _hearing(slug)
    if not record.may_hand_in_opinion(current_user, hearing):
        abort(403)
    existing = record.written_opinion(hearing, current_user)
    form = OpinionForm()
    if existing is None and form.validate_on_submit():
        try:
            record.hand_in_opinion(hearing, current_user, form.stance.data, form.body.data)
        except record.RecordError as error:
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Thank you. Your written opinion is with the hearing body; you will be told "
                    "what became of it."), "success")
            return redirect(url_for("hearing_live.opinion", slug=slug))
    return render_template("hearings/record_opinion.html", hearing=hearing, form=form,
                           existing=existing, stances=OPINION_STANCES)
