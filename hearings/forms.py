"""Forms for hearings: the plan, steps, registration, selection and observers."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from app.abuse import Honeypot
from app.forms import SubForm, choices
from hearings.models import Hearing

POSITION_LABELS = {
    "support": _l("Support"),
    "oppose": _l("Oppose"),
    "other": _l("Other"),
}
PROCEDURE_LABELS = {
    "ordinary": _l("Ordinary procedure"),
    "simplified": _l("Simplified procedure (简易程序)"),
}
HEARING_STATUS_LABELS = {
    "planned": _l("Planned"),
    "announced": _l("Announced"),
    "held": _l("Held"),
    "record_review": _l("Record under review"),
    "closed": _l("Closed"),
    "cancelled": _l("Cancelled"),
}
SPEAKER_STATUS_LABELS = {
    "registered": _l("Registered"),
    "selected": _l("Selected"),
    "waitlisted": _l("Waitlisted"),
    "not_selected": _l("Not selected"),
    "withdrawn": _l("Withdrawn"),
}
OBSERVER_STATUS_LABELS = {
    "applied": _l("Applied"),
    "invited": _l("Invited"),
    "accepted": _l("Has a seat"),
    "declined": _l("Declined"),
    "not_admitted": _l("Not admitted"),
    "withdrawn": _l("Withdrawn"),
}
KIND_LABELS = {"person": _l("A person"), "organisation": _l("An organisation")}
STEP_LABELS = {
    "notice": _l("Publish the notice"),
    "selection": _l("Choose the speakers"),
    "speaker_notice": _l("Notify the speakers"),
    "observer_close": _l("Applications to observe close"),
    "observer_notice": _l("Notify the observers"),
    "record_review": _l("Open the record for review"),
    "feedback": _l("Send feedback on adoption"),
}
STEP_ACTION_LABELS = {
    "notice": _l("Publish the notice now"),
    "selection": _l("Confirm the choice of speakers"),
    "speaker_notice": _l("Send the results to the registrants"),
    "observer_notice": _l("Notify the observers"),
    "feedback": _l("Record that feedback was sent"),
}
DEADLINE_STATE_LABELS = {"ok": _l("On time"), "due_soon": _l("Due soon"), "missed": _l("Missed")}
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def lines(text: str | None) -> list[str]:
    """Split a textarea into its non-empty, stripped lines."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class QuestionForm(SubForm):
    """One question to be heard (a sub-form: the outer form carries the CSRF token)."""

    text = TextAreaField(_l("Question"), validators=[Length(max=2000)])
    clauses = StringField(
        _l("Clauses concerned (optional)"), validators=[Length(max=500)],
        description=_l("Anchors separated by spaces or commas, e.g. art-11-p1-i2 art-12."))


class HearingForm(FlaskForm):
    """The work plan of a hearing (第七条)."""

    draft = SelectField(_l("Draft"), choices=[], validate_choice=False)
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    slug = StringField(
        _l("URL name"),
        validators=[Optional(), Length(max=100),
                    Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
                           message=_l("Use lower-case letters, digits and hyphens only."))],
        description=_l("Optional; made from the title when empty."))
    description = TextAreaField(_l("Background and rules of the hearing"),
                                validators=[Length(max=20000)])
    organiser = StringField(_l("Hearing body (听证机构)"), validators=[Length(max=200)])
    place = StringField(_l("Place"), validators=[Length(max=300)])
    online_url = StringField(_l("Online link"), validators=[Optional(), URL(), Length(max=500)])
    starts_at = DateTimeLocalField(_l("Starts"), format=DATETIME_FORMAT,
                                   validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("Ends"), format=DATETIME_FORMAT, validators=[DataRequired()])
    procedure = RadioField(_l("Procedure"), choices=choices(PROCEDURE_LABELS.items()),
                           default="ordinary")
    speaker_seats = IntegerField(_l("Seats for speakers"), default=20,
                                 validators=[InputRequired(), NumberRange(1, 500)])
    public_observer_seats = IntegerField(_l("Seats for public observers"), default=30,
                                         validators=[InputRequired(), NumberRange(0, 5000)])
    deputy_observer_seats = IntegerField(_l("Seats for observing deputies"), default=10,
                                         validators=[InputRequired(), NumberRange(0, 5000)])
    minutes_per_speaker = IntegerField(_l("Minutes per speaker"), default=8,
                                       validators=[InputRequired(), NumberRange(1, 120)])
    public_live = BooleanField(_l("The public may follow the live notes online"), default=True)
    chair = SelectField(_l("Chair (主持人)"), choices=[], validate_choice=False)
    recorder = SelectField(_l("Recorder"), choices=[], validate_choice=False)
    officers = TextAreaField(
        _l("Other hearing officers (听证人)"), validators=[Length(max=5000)],
        description=_l("One per line: name | title, e.g. 李华 | 常委会委员."))
    questions = FieldList(FormField(QuestionForm), min_entries=5)
    main_question = RadioField(_l("Main question"), default="1",
                               description=_l("The selection balances the positions on it."))
    override_reason = TextAreaField(
        _l("Reason for going ahead although a deadline is missed"),
        validators=[Length(max=2000)],
        description=_l("Needed only when a change makes a step already taken late."))

    def setup(self, *, drafts: list, staff: list, questions: int) -> None:
        """Offer the drafts, the staff users and numbered slots for the questions."""
        self.draft.choices = choices([(d.slug, d.title) for d in drafts])
        people = [("", _l("Not chosen yet"))] + [(str(u.id), u.name) for u in staff]
        self.chair.choices = choices(people)
        self.recorder.choices = choices(people)
        while len(self.questions) < questions:
            self.questions.append_entry()
        self.main_question.choices = choices(
            (str(i), _l("Question %(n)d", n=i)) for i in range(1, len(self.questions) + 1))

    def officer_pairs(self) -> list[tuple[str, str]]:
        pairs = []
        for line in lines(self.officers.data):
            name, _sep, title = line.partition("|")
            pairs.append((name.strip(), title.strip()))
        return pairs

    def validate_ends_at(self, field) -> None:
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("The hearing must end after it starts."))

    @staticmethod
    def officers_text(hearing: Hearing) -> str:
        return "\n".join(f"{o.name} | {o.title}" if o.title else o.name
                         for o in hearing.officers if not o.is_chair)


class StepForm(FlaskForm):
    override_reason = TextAreaField(
        _l("Reason for going ahead after the deadline"), validators=[Length(max=2000)],
        description=_l("Only needed when the step is late; it is kept in the audit log."))


class ConfirmForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change state."""


def registration_form(hearing: Hearing, sectors: list[str], regions: list[str],
                      **kwargs) -> FlaskForm:
    """Build the registration form with a position field pair for each question."""

    class RegistrationForm(Honeypot, FlaskForm):
        kind = RadioField(_l("Registering as"), choices=choices(KIND_LABELS.items()),
                          default="person")
        name = StringField(_l("Name (of the person or the organisation)"),
                           validators=[DataRequired(), Length(max=200)])
        representative = StringField(
            _l("Representative"), validators=[Length(max=100)],
            description=_l("For an organisation: who will speak for it."))
        phone = StringField(_l("Contact phone"), validators=[Length(max=40)],
                            description=_l("Never published; used only by the hearing body."))
        email = EmailField(_l("Contact e-mail"),
                           validators=[Optional(), Email(), Length(max=254)],
                           description=_l("Never published; the results are sent here."))
        sector = _choice_field(_l("Sector"), sectors)
        region = _choice_field(_l("Region"), regions)
        expertise = StringField(_l("Expertise or experience (optional)"),
                                validators=[Length(max=300)])
        key_points = TextAreaField(_l("The key points you will make (陈述重点)"),
                                   validators=[DataRequired(), Length(max=5000)])
        statement = FileField(
            _l("Written statement (optional)"),
            description=_l("A PDF or Word (.docx) file. Only you and the hearing body can "
                           "download it."))

    for question in hearing.questions:
        setattr(RegistrationForm, f"stance_{question.id}", RadioField(
            _l("Your position"), choices=choices(POSITION_LABELS.items()),
            validators=[DataRequired(message=_l("Choose your position on this question."))]))
        setattr(RegistrationForm, f"position_text_{question.id}", TextAreaField(
            _l("Your position in a few words (optional)"), validators=[Length(max=2000)]))
    return RegistrationForm(**kwargs)


def _choice_field(label, options: list[str]):
    """A select from the draft's list when staff set one, otherwise free text."""
    if options:
        return SelectField(label, choices=choices([(o, o) for o in options]),
                           validators=[DataRequired()])
    return StringField(label, validators=[DataRequired(), Length(max=100)])


class StatementForm(FlaskForm):
    statement = FileField(_l("Written statement"), validators=[DataRequired()],
                          description=_l("A PDF or Word (.docx) file."))


class InvitedSpeakerForm(FlaskForm):
    """A speaker invited directly by the hearing body: an expert or an organisation."""

    kind = RadioField(_l("Invited"), choices=choices(KIND_LABELS.items()), default="person")
    name = StringField(_l("Name (of the person or the organisation)"),
                       validators=[DataRequired(), Length(max=200)])
    representative = StringField(_l("Representative"), validators=[Length(max=100)])
    is_expert = BooleanField(_l("Expert (speaks after the interested parties)"), default=True)
    sector = StringField(_l("Sector"), validators=[Length(max=100)])
    region = StringField(_l("Region"), validators=[Length(max=100)])
    expertise = StringField(_l("Expertise"), validators=[Length(max=300)])
    stance = RadioField(_l("Position on the main question, if known"),
                        choices=choices([("", _l("Not known"))] + list(POSITION_LABELS.items())),
                        default="", validate_choice=False)
    key_points = TextAreaField(_l("Key points"), validators=[Length(max=5000)])
    phone = StringField(_l("Contact phone"), validators=[Length(max=40)])
    email = EmailField(_l("Contact e-mail"), validators=[Optional(), Email(), Length(max=254)])


class ProposeForm(FlaskForm):
    seats = IntegerField(_l("Seats to fill from the registrants"),
                         validators=[InputRequired(), NumberRange(0, 500)])
    waitlist = IntegerField(_l("Length of the waitlist"),
                            validators=[InputRequired(), NumberRange(0, 500)])


class MoveForm(FlaskForm):
    status = HiddenField(validators=[DataRequired()])


class FilterForm(FlaskForm):
    """The filters on the registrations page (GET, no CSRF)."""

    class Meta:
        csrf = False

    position = SelectField(_l("Position on the main question"), validate_choice=False,
                           choices=choices([("", _l("All"))] + list(POSITION_LABELS.items())))
    sector = SelectField(_l("Sector"), choices=[], validate_choice=False)
    region = SelectField(_l("Region"), choices=[], validate_choice=False)
    status = SelectField(_l("Status"), validate_choice=False,
                         choices=choices([("", _l("All"))] + list(SPEAKER_STATUS_LABELS.items())))

    def offer(self, sectors: list[str], regions: list[str]) -> None:
        self.sector.choices = choices([("", _l("All"))] + [(s, s) for s in sectors])
        self.region.choices = choices([("", _l("All"))] + [(r, r) for r in regions])


class SpeakerSlotForm(SubForm):
    """One speaker's place and time in the running order."""

    registration_id = HiddenField()
    place = IntegerField(_l("Place"), validators=[InputRequired(), NumberRange(1, 500)])
    minutes = IntegerField(_l("Minutes"), validators=[InputRequired(), NumberRange(1, 120)])


class RunningOrderForm(FlaskForm):
    speakers = FieldList(FormField(SpeakerSlotForm))


class ObserveForm(FlaskForm):
    phone = StringField(_l("Contact phone (optional)"), validators=[Length(max=40)],
                        description=_l("Never published."))
    reason = TextAreaField(_l("Why you would like to observe (optional)"),
                           validators=[Length(max=2000)])


class InviteDeputiesForm(FlaskForm):
    group = SelectField(_l("A whole deputy group"), choices=[], validate_choice=False)
    deputies = SelectMultipleField(_l("Or individual deputies"), choices=[],
                                   validate_choice=False, coerce=int)
    embedded = BooleanField(_l("Mark them as embedded deputies (嵌入式参与)"))

    def offer(self, groups: list, deputies: list) -> None:
        self.group.choices = choices([("", _l("None"))] + [(str(g.id), g.name) for g in groups])
        self.deputies.choices = choices([(d.id, d.name) for d in deputies])


class DecideObserverForm(FlaskForm):
    decision = HiddenField(validators=[DataRequired()])
