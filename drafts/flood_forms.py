"""Forms of the staff page against floods of comments."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from app.forms import MAX_DATABASE_ID, choices


class FloodForm(FlaskForm):
    """The selection (read from the query string to preview it) and the decision on it."""

    status = SelectField(_l("Comments"), choices=choices([
        ("pending", _l("Waiting for moderation")), ("published", _l("Published"))]),
        default="pending")
    text = StringField(_l("Containing the text"), validators=[Length(max=200)],
                       description=_l("At least 4 characters, e.g. a sentence the copies share."))
    cluster = IntegerField(_l("From the campaign"),
                           validators=[Optional(), NumberRange(min=1, max=MAX_DATABASE_ID)])
    origin = StringField(_l("From the address"), validators=[
        Optional(), Regexp(r"^[0-9a-f]{16}$", message=_l("Choose an address from the list."))])
    since = DateTimeLocalField(_l("Received from"), validators=[Optional()],
                               format="%Y-%m-%dT%H:%M")
    until = DateTimeLocalField(_l("Received before"), validators=[Optional()],
                               format="%Y-%m-%dT%H:%M")
    action = SelectField(_l("Decision"), choices=choices([
        ("hide", _l("Hide")), ("reject", _l("Reject as spam"))]), default="hide")
    reason = StringField(_l("Reason"), validators=[Length(max=500)])


class ChallengeForm(FlaskForm):
    required = HiddenField(validators=[DataRequired(), Regexp(r"^[01]$")])
