"""Form helpers shared by every module."""

from __future__ import annotations

from collections.abc import Iterable

from babel.support import Translations
from flask import current_app
from flask_babel import get_locale
from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF
from wtforms import Form as WTForm
from wtforms.csrf.core import CSRFTokenField
from wtforms.fields.choices import SelectChoice
from wtforms.fields.simple import HiddenField
from wtforms.i18n import messages_path

#: WTForms' own messages per language, parsed once per process
_WTFORMS_TRANSLATIONS: dict[str, Translations] = {}


def choices(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    """Turn (value, label) pairs into the choice objects WTForms expects."""
    return [SelectChoice(value, label) for value, label in pairs]


def wtforms_translations() -> Translations:
    """Return WTForms' built-in messages in the request's language."""
    locale = str(get_locale())
    translations = _WTFORMS_TRANSLATIONS.get(locale)
    if translations is None:
        translations = Translations.load(messages_path(), [locale], domain="wtforms")
        _WTFORMS_TRANSLATIONS[locale] = translations
    return translations


class _PageTokenField(CSRFTokenField):
    """The CSRF token field, whose token for the page is signed only when it is rendered.

    WTForms signs a new token whenever a form is made; an accepted POST redirects without
    rendering the form, and signing was a twentieth of the server time of a comment.
    """

    def process(self, *args, **kwargs) -> None:
        HiddenField.process(self, *args, **kwargs)

    def _value(self) -> str:
        return self.csrf_impl.generate_csrf_token(self)


class _PageTokenCSRF(_FlaskFormCSRF):
    field_class = _PageTokenField


class Form(FlaskForm):
    """A FlaskForm whose built-in WTForms messages come from a catalogue parsed once, and
    whose CSRF token is signed only when the form is shown.

    Flask-WTF parses the WTForms catalogue file again in every request that makes a form:
    a tenth of the server time of a comment submission.
    """

    class Meta:
        csrf_class = _PageTokenCSRF

        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return wtforms_translations()


class SubForm(WTForm):
    """A form nested in another (FormField): no CSRF token of its own, and WTForms' built-in
    messages in the request's language like the outer form's."""

    class Meta:
        def get_translations(self, form):
            return wtforms_translations()


#: the largest value a database integer column holds (PostgreSQL's `integer`)
MAX_DATABASE_ID = 2**31 - 1


def plain_number(raw: str | None) -> int | None:
    """Return the number written in ASCII digits, or None: `isdigit()` also accepts "²" and
    "١٢", which `int()` refuses or reads, and a number beyond a database integer makes
    PostgreSQL fail the query."""
    raw = (raw or "").strip()
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_DATABASE_ID:
        return None
    return int(raw)
