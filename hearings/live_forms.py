"""Forms of the live hearing, the record and the report; the live page also sends them over
Socket.IO, and they work as plain forms without JavaScript."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from app.forms import choices
from hearings.live import MAX_EXTENSION_SECONDS, MAX_NOTE_LENGTH
from hearings.record import MAX_TEXT
from hearings.report import MAX_SUGGESTION

#: agenda items offered to the recorder; any other text may be typed
AGENDA_ITEMS = (_l("Opening"), _l("Statement"), _l("Questioning"), _l("Debate"), _l("Closing"))
EXTENSIONS = ((60, _l("1 minute")), (120, _l("2 minutes")), (300, _l("5 minutes")))
OPINION_STANCES = {"support": _l("Support"), "oppose": _l("Oppose"),
                   "suggest": _l("Suggest a change")}


class RecordNoteForm(FlaskForm):
    """A note for the record, tied to the current speaker and agenda item."""

    body = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=MAX_NOTE_LENGTH)])
    clause_lineage_ids = SelectMultipleField(_l("Clauses it refers to"), coerce=int,
                                             validators=[Optional()])


class ObservationForm(FlaskForm):
    """A deputy's own observation, or a question to the chair."""

    kind = RadioField(_l("What is it?"), default="observation", choices=choices((
        ("observation", _l("An observation")), ("question", _l("A question to the chair")))))
    visibility = RadioField(_l("Who may read it?"), default="private", choices=choices((
        ("private", _l("Only me")), ("staff", _l("Me and the hearing staff")))),
        description=_l("Questions to the chair always go to the hearing staff."))
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=MAX_NOTE_LENGTH)])


class EditNoteForm(FlaskForm):
    """A new text for a note, based on the revision the editor saw."""

    body = TextAreaField(_l("New text"), validators=[DataRequired(),
                                                     Length(max=MAX_NOTE_LENGTH)])
    revision = HiddenField(validators=[InputRequired()])


class SpeakerForm(FlaskForm):
    """Give the floor to a speaker under an agenda item."""

    speaker_id = SelectField(_l("Speaker"), validators=[Optional()])
    agenda_item = StringField(_l("Agenda item"), validators=[Length(max=200)],
                              render_kw={"list": "agenda-items", "autocomplete": "off"})


class TimerForm(FlaskForm):
    """Start the speaker's time or extend it."""

    action = HiddenField(validators=[DataRequired()])
    seconds = IntegerField(_l("Extra time in seconds"), default=60, validators=[
        Optional(), NumberRange(min=1, max=MAX_EXTENSION_SECONDS)])


class ConfirmForm(FlaskForm):
    """A step that needs nothing but a click: end the hearing, open the record, sign."""


class CorrectionForm(FlaskForm):
    """A speaker's request to correct the record."""

    note_id = SelectField(_l("Passage of the record"), validators=[Optional()],
                          description=_l("Leave empty if something is missing from the record."))
    text = TextAreaField(_l("What should be corrected, and how"),
                         validators=[DataRequired(), Length(max=MAX_TEXT)])


class DecisionForm(FlaskForm):
    """Staff's decision on a correction request."""

    decision = RadioField(_l("Decision"), validators=[DataRequired()], choices=choices((
        ("accept", _l("Accept and correct the record")), ("reject", _l("Reject")))))
    body = TextAreaField(_l("Corrected text"), validators=[Length(max=MAX_NOTE_LENGTH)])
    revision = HiddenField()
    response = TextAreaField(_l("Answer to the speaker"),
                             description=_l("Required when you reject the request."),
                             validators=[Length(max=MAX_TEXT)])


class SuggestionForm(FlaskForm):
    """The hearing body's suggestion on one question, or overall."""

    #: a question's id, or empty for the overall suggestion; a database integer at most
    question_id = HiddenField(validators=[Optional(), Regexp(r"^[0-9]{1,9}$")])
    body = TextAreaField(_l("Suggestion of the hearing body"),
                         validators=[Length(max=MAX_SUGGESTION)])


class OpinionForm(FlaskForm):
    """An observer's written opinion after the hearing."""

    stance = RadioField(_l("Your view"), validators=[DataRequired()],
                        choices=choices(OPINION_STANCES.items()))
    body = TextAreaField(_l("Your written opinion"),
                         validators=[DataRequired(), Length(max=MAX_TEXT)])
