"""Account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from app.forms import choices
from app.models import DEPUTY_LEVELS, ROLES


def role_choices() -> list[tuple[str, str]]:
    labels = {
        "public": _l("Member of the public"),
        "deputy": _l("Deputy"),
        "staff": _l("Legislative staff"),
        "admin": _l("Administrator"),
    }
    return choices((role, labels[role]) for role in ROLES)


def deputy_level_choices() -> list[tuple[str, str]]:
    labels = {
        "national": _l("National"),
        "region": _l("Provincial / regional"),
        "city": _l("City"),
        "county": _l("County"),
        "township": _l("Township"),
    }
    return choices([("", _l("— none —"))] + [(level, labels[level]) for level in DEPUTY_LEVELS])


class RegisterForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=128)])
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Stay logged in"))


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=8, max=128)]
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), choices=choices([("zh", "中文"), ("en", "English")]))


class UserAdminForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    role = SelectField(_l("Role"), choices=role_choices)
    deputy_level = SelectField(_l("Deputy level"), choices=deputy_level_choices)
    deputy_group_id = SelectField(_l("Deputy group"), coerce=int, validators=[Optional()])
    active = BooleanField(_l("Account active"))


class DeputyGroupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)])


class DownloadDataForm(FlaskForm):
    format = SelectField(_l("Format"), choices=choices([
        ("json", _l("JSON document")),
        ("zip", _l("ZIP archive with the JSON document and your written statements")),
    ]))


class DeleteAccountForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired(
        message=_l("Enter your password to confirm."))])
    confirm = BooleanField(
        _l("I understand that my account and personal data will be erased and that this "
           "cannot be undone."),
        validators=[DataRequired(message=_l("Tick the box to confirm."))])
