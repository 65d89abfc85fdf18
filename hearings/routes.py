"""Hearing pages: the public notice and registration, and the staff pages that run a hearing."""

from __future__ import annotations

import re

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_datetime, ngettext, to_user_timezone, to_utc
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from app.charts import Chart
from app.extensions import db, limiter
from app.models import DeputyGroup, User
from app.permissions import staff_required
from drafts.models import Draft
from hearings import ical, services
from hearings.forms import (
    DEADLINE_STATE_LABELS,
    HEARING_STATUS_LABELS,
    KIND_LABELS,
    OBSERVER_STATUS_LABELS,
    POSITION_LABELS,
    PROCEDURE_LABELS,
    SPEAKER_STATUS_LABELS,
    STEP_ACTION_LABELS,
    STEP_LABELS,
    ConfirmForm,
    DecideObserverForm,
    FilterForm,
    HearingForm,
    InviteDeputiesForm,
    InvitedSpeakerForm,
    MoveForm,
    ObserveForm,
    ProposeForm,
    RunningOrderForm,
    StatementForm,
    StepForm,
    registration_form,
)
from hearings.models import POSITIONS, Hearing, ObserverRegistration, SpeakerRegistration

hearings_blueprint = Blueprint("hearings", __name__, url_prefix="/hearings")
staff_hearings_blueprint = Blueprint("staff_hearings", __name__, url_prefix="/staff/hearings")


@hearings_blueprint.app_context_processor
def _hearing_helpers() -> dict:
    return {
        "position_labels": POSITION_LABELS,
        "procedure_labels": PROCEDURE_LABELS,
        "hearing_status_labels": HEARING_STATUS_LABELS,
        "speaker_status_labels": SPEAKER_STATUS_LABELS,
        "observer_status_labels": OBSERVER_STATUS_LABELS,
        "step_labels": STEP_LABELS,
        "step_action_labels": STEP_ACTION_LABELS,
        "deadline_state_labels": DEADLINE_STATE_LABELS,
        "speaker_kind_labels": KIND_LABELS,
        "selection_reason": lambda r: services.explain(r, POSITION_LABELS),
    }


def _form_error(form: FlaskForm, error: services.HearingError) -> None:
    """Show a service error next to the field it concerns, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, str(error)]
    else:
        form.form_errors.append(str(error))


def _utc(value):
    return to_utc(value).replace(tzinfo=None) if value else None


def _local(value):
    return to_user_timezone(value).replace(tzinfo=None) if value else None


# --- public -------------------------------------------------------------------------------


def _published(slug: str) -> Hearing:
    """Load a hearing whose notice is published (staff may preview any)."""
    hearing = services.hearing_by_slug(slug) or abort(404)
    staff = current_user.is_authenticated and current_user.is_staff
    if hearing.notice_published_at is None and not staff:
        abort(404)
    return hearing


@hearings_blueprint.route("/")
def index():
    return render_template("hearings/index.html", hearings=services.public_hearings())


@hearings_blueprint.route("/<slug>")
def notice(slug: str):
    hearing = _published(slug)
    question = services.main_question(hearing)
    speakers = (services.running_order(hearing) if hearing.speakers_selected_at else [])
    registration = observer = None
    if current_user.is_authenticated:
        registration = services.registration_of(hearing, current_user)
        observer = services.observer_of(hearing, current_user)
    return render_template(
        "hearings/notice.html", hearing=hearing, main=question, speakers=speakers,
        stance_on=services.stance_on, clauses=services.question_clauses,
        registration_refusal=services.registration_refusal(hearing),
        observer_refusal=services.observer_refusal(hearing),
        registration_closes=services.registration_closes_at(hearing),
        observer_closes=services.observer_closes_at(hearing),
        observer_notice=services.due(hearing, "observer_notice"),
        registration=registration, observer=observer)


@hearings_blueprint.route("/<slug>/calendar.ics")
def calendar(slug: str):
    hearing = _published(slug)
    body = ical.hearing_calendar(hearing, url_for("hearings.notice", slug=slug, _external=True),
                                 host=request.host)
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="{hearing.slug}.ics"'})


def _registration_input(form, hearing: Hearing) -> services.RegistrationInput:
    return services.RegistrationInput(
        kind=form.kind.data, name=form.name.data or "",
        representative=form.representative.data or "", phone=form.phone.data or "",
        email=form.email.data or "", sector=form.sector.data or "",
        region=form.region.data or "", expertise=form.expertise.data or "",
        key_points=form.key_points.data or "",
        positions=[services.PositionInput(q.id, form[f"stance_{q.id}"].data or "",
                                          form[f"position_text_{q.id}"].data or "")
                   for q in hearing.questions])


def _upload(field) -> services.Upload | None:
    storage = field.data
    if storage is None or not getattr(storage, "filename", ""):
        return None
    return services.Upload(storage.filename, storage.read())


@hearings_blueprint.route("/<slug>/register", methods=["GET", "POST"])
@login_required
@limiter.limit("20/minute", methods=["POST"])
def register(slug: str):
    hearing = _published(slug)
    registration = services.registration_of(hearing, current_user)
    if registration is not None and registration.status == "withdrawn":
        registration = None
    refusal = (services.edit_refusal(registration) if registration
               else services.registration_refusal(hearing))
    form = registration_form(hearing, hearing.draft.sectors, hearing.draft.regions)
    if request.method == "GET":
        _fill_registration_form(form, registration, hearing)
    if refusal is None and form.validate_on_submit():
        if form.caught:  # a bot filled the hidden field: answer as usual, keep nothing
            return redirect(url_for("hearings.notice", slug=hearing.slug))
        data = _registration_input(form, hearing)
        try:
            if registration is None:
                registration, mails = services.register_speaker(
                    hearing, current_user, data, _upload(form.statement))
            else:
                services.update_registration(registration, data, _upload(form.statement))
                mails = []
        except services.HearingError as error:
            db.session.rollback()
            _form_error(form, error)
        else:
            db.session.commit()
            services.deliver(mails)
            flash(_("Your registration has been saved.") if not mails else
                  _("Thank you for registering. A confirmation has been sent to you."), "success")
            return redirect(url_for("hearings.my_registration", slug=hearing.slug))
    return render_template("hearings/register.html", hearing=hearing, form=form,
                           registration=registration, refusal=refusal)


def _fill_registration_form(form, registration: SpeakerRegistration | None,
                            hearing: Hearing) -> None:
    if registration is None:
        form.name.data = current_user.name
        form.email.data = current_user.email
        form.sector.data = current_user.sector or form.sector.data
        form.region.data = current_user.region or form.region.data
        return
    for name in ("kind", "name", "representative", "phone", "email", "sector", "region",
                 "expertise", "key_points"):
        form[name].data = getattr(registration, name)
    for position in registration.positions:
        if f"stance_{position.question_id}" in form:
            form[f"stance_{position.question_id}"].data = position.stance
            form[f"position_text_{position.question_id}"].data = position.text


def _own_registration(slug: str) -> SpeakerRegistration:
    hearing = _published(slug)
    return services.registration_of(hearing, current_user) or abort(404)


@hearings_blueprint.route("/<slug>/registration")
@login_required
def my_registration(slug: str):
    registration = _own_registration(slug)
    return render_template("hearings/my_registration.html", hearing=registration.hearing,
                           registration=registration, stance_on=services.stance_on,
                           edit_refusal=services.edit_refusal(registration),
                           withdraw_refusal=services.withdraw_refusal(registration),
                           statement_form=StatementForm(), form=ConfirmForm())


@hearings_blueprint.route("/<slug>/registration/withdraw", methods=["POST"])
@login_required
def withdraw(slug: str):
    registration = _own_registration(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        mails = services.withdraw(registration, by=current_user)
    except services.HearingError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        services.deliver(mails)
        flash(_("Your registration has been withdrawn."), "success")
    return redirect(url_for("hearings.my_registration", slug=slug))


@hearings_blueprint.route("/<slug>/registration/statement", methods=["POST"])
@login_required
def upload_statement(slug: str):
    registration = _own_registration(slug)
    form = StatementForm()
    upload = _upload(form.statement) if form.validate_on_submit() else None
    if registration.status == "withdrawn" or services.withdraw_refusal(registration):
        flash(_("A statement can no longer be added to this registration."), "error")
    elif upload is None:
        flash(_("Choose a PDF or Word (.docx) file."), "error")
    else:
        try:
            services.store_statement(registration, upload)
        except services.HearingError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Your written statement has been saved."), "success")
    return redirect(url_for("hearings.my_registration", slug=slug))


@hearings_blueprint.route("/registrations/<int:registration_id>/statement")
@login_required
def statement(registration_id: int):
    registration = db.session.get(SpeakerRegistration, registration_id) or abort(404)
    if not services.can_see_registration(current_user, registration):
        abort(403)
    path = services.statement_file(registration) or abort(404)
    kind = path.suffix.lstrip(".")
    return send_file(path, mimetype=services.STATEMENT_TYPES[kind], as_attachment=True,
                     download_name=registration.statement_filename, max_age=0)


@hearings_blueprint.route("/<slug>/observe", methods=["GET", "POST"])
@login_required
def observe(slug: str):
    hearing = _published(slug)
    observer = services.observer_of(hearing, current_user)
    form = ObserveForm()
    refusal = services.observer_refusal(hearing)
    if refusal is None and form.validate_on_submit():
        try:
            services.apply_to_observe(hearing, current_user, phone=form.phone.data or "",
                                      reason=form.reason.data or "")
        except services.HearingError as error:
            _form_error(form, error)
        else:
            db.session.commit()
            flash(_("Your application to observe has been received. You will be told by "
                    "%(date)s whether you have a seat.",
                    date=_format_date(services.due(hearing, "observer_notice"))), "success")
            return redirect(url_for("hearings.mine"))
    return render_template("hearings/observe.html", hearing=hearing, form=form,
                           observer=observer, refusal=refusal)


def _format_date(value) -> str:
    return format_datetime(value, "short")


def _own_observer(slug: str) -> ObserverRegistration:
    hearing = _published(slug)
    return services.observer_of(hearing, current_user) or abort(404)


@hearings_blueprint.route("/<slug>/observe/withdraw", methods=["POST"])
@login_required
def withdraw_observer(slug: str):
    observer = _own_observer(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.withdraw_observer(observer, user=current_user)
    except services.HearingError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Done: your seat or application has been given up."), "success")
    return redirect(url_for("hearings.mine"))


@hearings_blueprint.route("/<slug>/invitation", methods=["POST"])
@login_required
def answer_invitation(slug: str):
    observer = _own_observer(slug)
    form = DecideObserverForm()
    if not form.validate_on_submit() or form.decision.data not in ("accept", "decline"):
        abort(400)
    try:
        services.answer_invitation(observer, form.decision.data == "accept")
    except services.HearingError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Thank you: your answer has been recorded."), "success")
    return redirect(url_for("hearings.mine"))


@hearings_blueprint.route("/mine")
@login_required
def mine():
    speaking, observing = services.my_hearings(current_user)
    return render_template("hearings/mine.html", speaking=speaking, observing=observing,
                           form=DecideObserverForm(), confirm_form=ConfirmForm())


# --- staff: the plan and its deadlines -------------------------------------------------


def _staff_hearing(slug: str) -> Hearing:
    return services.hearing_by_slug(slug) or abort(404)


@staff_hearings_blueprint.route("/")
@staff_required
def dashboard():
    rows = []
    for hearing in services.staff_hearings():
        items = services.hearing_deadlines(hearing)
        rows.append((hearing, services.deadlines.next_deadline(items),
                     services.deadlines.warnings(items)))
    return render_template("hearings/staff_dashboard.html", rows=rows)


def _staff_users() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role.in_(("staff", "admin")),
                                                      User.active.is_(True))
                                   .order_by(User.name)))


def _plan(form: HearingForm) -> services.HearingInput:
    questions = []
    for index, entry in enumerate(form.questions.entries, start=1):
        anchors = [a for a in re.split(r"[\s,，、]+", entry.form.clauses.data or "") if a]
        questions.append(services.QuestionInput(
            entry.form.text.data or "", anchors, str(index) == form.main_question.data))
    staff = {str(u.id): u for u in _staff_users()}
    return services.HearingInput(
        title=form.title.data, slug=form.slug.data or "",
        starts_at=_utc(form.starts_at.data), ends_at=_utc(form.ends_at.data),
        questions=questions, description=form.description.data or "",
        organiser=form.organiser.data or "", place=form.place.data or "",
        online_url=form.online_url.data or "", procedure=form.procedure.data,
        speaker_seats=form.speaker_seats.data,
        public_observer_seats=form.public_observer_seats.data,
        deputy_observer_seats=form.deputy_observer_seats.data,
        minutes_per_speaker=form.minutes_per_speaker.data, public_live=form.public_live.data,
        chair=staff.get(form.chair.data or ""), recorder=staff.get(form.recorder.data or ""),
        officers=form.officer_pairs())


def _drafts() -> list[Draft]:
    return list(db.session.scalars(select(Draft).order_by(Draft.created_at.desc())))


@staff_hearings_blueprint.route("/new", methods=["GET", "POST"])
@staff_required
def new():
    form = HearingForm()
    form.setup(drafts=_drafts(), staff=_staff_users(), questions=5)
    if request.method == "GET":
        form.draft.data = request.args.get("draft", "")
    if form.validate_on_submit():
        draft = db.session.scalar(select(Draft).where(Draft.slug == form.draft.data))
        if draft is None:
            form.draft.errors = [*form.draft.errors, _("Choose a draft.")]
        else:
            try:
                hearing = services.create_hearing(draft, _plan(form), user=current_user)
            except services.HearingError as error:
                db.session.rollback()
                _form_error(form, error)
            else:
                db.session.commit()
                flash(_("The hearing has been created. Publish the notice when the plan is "
                        "decided."), "success")
                return redirect(url_for("staff_hearings.show", slug=hearing.slug))
    return render_template("hearings/staff_form.html", form=form, hearing=None)


@staff_hearings_blueprint.route("/<slug>/edit", methods=["GET", "POST"])
@staff_required
def edit(slug: str):
    hearing = _staff_hearing(slug)
    form = HearingForm(obj=hearing if request.method == "GET" else None)
    if request.method == "GET":
        for _i in range(len(form.questions.entries)):
            form.questions.pop_entry()
        for question in hearing.questions:
            form.questions.append_entry({
                "text": question.text,
                "clauses": " ".join(services.question_anchors(hearing, question))})
        form.starts_at.data = _local(hearing.starts_at)
        form.ends_at.data = _local(hearing.ends_at)
        form.chair.data = str(hearing.chair_id or "")
        form.recorder.data = str(hearing.recorder_id or "")
        form.officers.data = HearingForm.officers_text(hearing)
        main = services.main_question(hearing)
        form.main_question.data = str(main.position) if main else "1"
    form.setup(drafts=[hearing.draft], staff=_staff_users(),
               questions=len(hearing.questions) + 2)
    form.draft.data = hearing.draft.slug
    if form.validate_on_submit():
        try:
            services.update_hearing(hearing, _plan(form), user=current_user,
                                    override_reason=form.override_reason.data or "")
        except services.HearingError as error:
            db.session.rollback()
            _form_error(form, error)
        else:
            db.session.commit()
            flash(_("The hearing has been saved."), "success")
            return redirect(url_for("staff_hearings.show", slug=hearing.slug))
    return render_template("hearings/staff_form.html", form=form, hearing=hearing)


@staff_hearings_blueprint.route("/<slug>")
@staff_required
def show(slug: str):
    hearing = _staff_hearing(slug)
    return render_template(
        "hearings/staff_show.html", hearing=hearing,
        deadlines=services.hearing_deadlines(hearing), staff_steps=services.STAFF_STEPS,
        overrides=services.overrides(hearing), step_form=StepForm(),
        counts=services.registration_counts(hearing), anchors=services.question_anchors,
        observers=services.observers(hearing))


@staff_hearings_blueprint.route("/<slug>/steps/<step>", methods=["POST"])
@staff_required
def take_step(slug: str, step: str):
    hearing = _staff_hearing(slug)
    if step not in services.STAFF_STEPS:
        abort(404)
    form = StepForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        mails = services.take_step(hearing, step, user=current_user,
                                   override_reason=form.override_reason.data or "")
    except services.HearingError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        services.deliver(mails)
        flash(_("Done: %(step)s.", step=STEP_LABELS[step]) + " " + ngettext(
            "%(num)d e-mail sent.", "%(num)d e-mails sent.", len(mails)), "success")
    return redirect(url_for("staff_hearings.show", slug=slug) + "#deadlines")


# --- staff: registrations and selection ---------------------------------------------------


def _position_charts(hearing: Hearing) -> list[Chart]:
    """Chart the registrants' positions on each question: registered beside selected."""
    charts = []
    for number, found in enumerate(services.positions_by_question(hearing), start=1):
        rows = [(str(POSITION_LABELS[p]), found.registered[p], found.selected[p])
                for p in POSITIONS]
        if found.registered[""]:
            rows.append((_("no position stated"), found.registered[""], found.selected[""]))
        charts.append(Chart(_("Question %(number)d: %(text)s", number=number,
                              text=found.question.text), rows,
                            (_("Registered"), _("Selected"))))
    return charts


@staff_hearings_blueprint.route("/<slug>/registrations")
@staff_required
def registrations(slug: str):
    hearing = _staff_hearing(slug)
    counts = services.registration_counts(hearing)
    filters = FilterForm(request.args)
    filters.offer(sorted(counts.sector), sorted(counts.region))
    rows = services.filter_registrations(
        hearing, position=filters.position.data or "", sector=filters.sector.data or "",
        region=filters.region.data or "", status=filters.status.data or "")
    seats = services.default_seats(hearing)
    propose = ProposeForm(formdata=None, seats=seats, waitlist=(seats + 1) // 2)
    return render_template("hearings/staff_registrations.html", hearing=hearing, rows=rows,
                           counts=counts, filters=filters, propose=propose, move_form=MoveForm(),
                           main=services.main_question(hearing), stance_on=services.stance_on,
                           position_charts=_position_charts(hearing))


@staff_hearings_blueprint.route("/<slug>/selection/propose", methods=["POST"])
@staff_required
def propose(slug: str):
    hearing = _staff_hearing(slug)
    form = ProposeForm()
    if not form.validate_on_submit():
        flash(_("Give the number of seats and the length of the waitlist."), "error")
        return redirect(url_for("staff_hearings.registrations", slug=slug))
    try:
        outcomes = services.propose_selection(hearing, form.seats.data, form.waitlist.data,
                                              user=current_user)
    except services.HearingError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        selected = sum(1 for o in outcomes if o.status == "selected")
        flash(_("Proposal made: %(selected)d selected out of %(total)d registrants. Check it, "
                "adjust by hand if needed, then confirm.", selected=selected,
                total=len(outcomes)), "success")
    return redirect(url_for("staff_hearings.registrations", slug=slug))


def _staff_registration(slug: str, registration_id: int) -> SpeakerRegistration:
    hearing = _staff_hearing(slug)
    registration = db.session.get(SpeakerRegistration, registration_id)
    if registration is None or registration.hearing_id != hearing.id:
        abort(404)
    return registration


@staff_hearings_blueprint.route("/<slug>/registrations/<int:registration_id>")
@staff_required
def registration(slug: str, registration_id: int):
    registration = _staff_registration(slug, registration_id)
    return render_template("hearings/staff_registration.html", hearing=registration.hearing,
                           registration=registration, form=ConfirmForm())


@staff_hearings_blueprint.route("/<slug>/registrations/<int:registration_id>/move",
                                methods=["POST"])
@staff_required
def move(slug: str, registration_id: int):
    registration = _staff_registration(slug, registration_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.move(registration, form.status.data, user=current_user)
    except services.HearingError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("%(name)s: %(status)s.", name=registration.name,
                status=SPEAKER_STATUS_LABELS[registration.status]), "success")
    target = request.form.get("next")
    return redirect(target if _safe_next(target)
                    else url_for("staff_hearings.registrations", slug=slug))


def _safe_next(target: str | None) -> bool:
    return bool(target) and target.startswith("/") and not target.startswith(("//", "/\\"))


@staff_hearings_blueprint.route("/<slug>/registrations/<int:registration_id>/withdraw",
                                methods=["POST"])
@staff_required
def staff_withdraw(slug: str, registration_id: int):
    registration = _staff_registration(slug, registration_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        mails = services.withdraw(registration, by=current_user)
    except services.HearingError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        services.deliver(mails)
        flash(_("The registration has been withdrawn."), "success")
    return redirect(url_for("staff_hearings.registrations", slug=slug))


@staff_hearings_blueprint.route("/<slug>/invited", methods=["GET", "POST"])
@staff_required
def invite_speaker(slug: str):
    hearing = _staff_hearing(slug)
    form = InvitedSpeakerForm()
    if form.validate_on_submit():
        main = services.main_question(hearing)
        positions = ([services.PositionInput(main.id, form.stance.data)]
                     if main is not None and form.stance.data else [])
        data = services.RegistrationInput(
            kind=form.kind.data, name=form.name.data,
            representative=form.representative.data or "", phone=form.phone.data or "",
            email=form.email.data or "", sector=form.sector.data or "",
            region=form.region.data or "", expertise=form.expertise.data or "",
            key_points=form.key_points.data or "", positions=positions,
            is_expert=form.is_expert.data)
        try:
            services.add_invited_speaker(hearing, data, user=current_user)
        except services.HearingError as error:
            db.session.rollback()
            _form_error(form, error)
        else:
            db.session.commit()
            flash(_("The invited speaker has been added."), "success")
            return redirect(url_for("staff_hearings.registrations", slug=slug))
    return render_template("hearings/staff_invite_speaker.html", hearing=hearing, form=form)


@staff_hearings_blueprint.route("/<slug>/order", methods=["GET", "POST"])
@staff_required
def running_order(slug: str):
    hearing = _staff_hearing(slug)
    speakers = services.running_order(hearing)
    form = RunningOrderForm()
    if request.method == "GET":
        for index, speaker in enumerate(speakers, start=1):
            form.speakers.append_entry({
                "registration_id": speaker.id, "place": speaker.speaking_order or index,
                "minutes": speaker.speaking_minutes or hearing.minutes_per_speaker})
    if form.validate_on_submit():
        try:
            order = {int(entry.form.registration_id.data): (entry.form.place.data,
                                                            entry.form.minutes.data)
                     for entry in form.speakers.entries}
        except (TypeError, ValueError):
            abort(400)
        try:
            services.set_running_order(hearing, order, user=current_user)
        except services.HearingError as error:
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(_("The running order has been saved."), "success")
            return redirect(url_for("staff_hearings.running_order", slug=slug))
    by_id = {str(s.id): s for s in speakers}
    return render_template("hearings/staff_order.html", hearing=hearing, form=form, by_id=by_id,
                           stance_on=services.stance_on, main=services.main_question(hearing))


# --- staff: observers ---------------------------------------------------------------------


@staff_hearings_blueprint.route("/<slug>/observers")
@staff_required
def observers(slug: str):
    hearing = _staff_hearing(slug)
    invite = InviteDeputiesForm()
    invite.offer(list(db.session.scalars(select(DeputyGroup).order_by(DeputyGroup.name))),
                 list(db.session.scalars(select(User).where(User.role == "deputy",
                                                            User.active.is_(True))
                                         .order_by(User.name))))
    return render_template("hearings/staff_observers.html", hearing=hearing,
                           observers=services.observers(hearing), invite=invite,
                           decide_form=DecideObserverForm(), confirm_form=ConfirmForm())


@staff_hearings_blueprint.route("/<slug>/observers/invite", methods=["POST"])
@staff_required
def invite_deputies(slug: str):
    hearing = _staff_hearing(slug)
    form = InviteDeputiesForm()
    form.offer([], [])
    if not form.validate_on_submit():
        abort(400)
    deputies = list(db.session.scalars(select(User).where(User.id.in_(form.deputies.data or []))))
    if form.group.data:
        deputies += services.deputies_of_group(int(form.group.data))
    mails = services.invite_deputies(hearing, list({d.id: d for d in deputies}.values()),
                                     user=current_user, embedded=form.embedded.data)
    db.session.commit()
    services.deliver(mails)
    flash(_("%(n)d deputies invited.", n=len(mails)), "success")
    return redirect(url_for("staff_hearings.observers", slug=slug))


def _staff_observer(slug: str, observer_id: int) -> ObserverRegistration:
    hearing = _staff_hearing(slug)
    observer = db.session.get(ObserverRegistration, observer_id)
    if observer is None or observer.hearing_id != hearing.id:
        abort(404)
    return observer


@staff_hearings_blueprint.route("/<slug>/observers/<int:observer_id>/decide", methods=["POST"])
@staff_required
def decide_observer(slug: str, observer_id: int):
    observer = _staff_observer(slug, observer_id)
    form = DecideObserverForm()
    if not form.validate_on_submit():
        abort(400)
    if form.decision.data not in ("admit", "reject", "embed", "unembed"):
        abort(400)
    try:
        if form.decision.data in ("embed", "unembed"):
            services.set_embedded(observer, form.decision.data == "embed", user=current_user)
            mails = []
        else:
            mails = services.decide_observer(observer, form.decision.data == "admit",
                                             user=current_user)
    except services.HearingError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        services.deliver(mails)
        flash(_("Saved."), "success")
    return redirect(url_for("staff_hearings.observers", slug=slug))


@staff_hearings_blueprint.route("/<slug>/observers/admit", methods=["POST"])
@staff_required
def admit_observers(slug: str):
    hearing = _staff_hearing(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    mails = services.admit_in_order(hearing, user=current_user)
    db.session.commit()
    services.deliver(mails)
    flash(_("Applicants admitted in order of application while seats remained."), "success")
    return redirect(url_for("staff_hearings.observers", slug=slug))
