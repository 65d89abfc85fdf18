"""Language and time-zone selection, and template helpers for dates."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from babel import Locale
from flask import Flask, current_app, request
from flask_babel import format_datetime, get_locale
from flask_login import current_user

LANGUAGE_COOKIE = "minyi_lang"


def select_locale() -> Locale:
    """Pick the language: ?lang=, then the user's choice, then the cookie, then the default."""
    return _locale(_language())


@cache
def _locale(language: str) -> Locale:
    # parsed once per process: Flask-Babel would parse the code again in every request
    return Locale.parse(language)


def _language() -> str:
    """Return the code of the language picked for this request."""
    languages = current_app.config["LANGUAGES"]
    if not request:
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    candidate = request.args.get("lang")
    if candidate in languages:
        return candidate
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    candidate = request.cookies.get(LANGUAGE_COOKIE)
    if candidate in languages:
        return candidate
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    """Show every time in the configured time zone."""
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def html_lang() -> str:
    """Return the BCP 47 tag for the <html lang> attribute."""
    return "zh-Hans" if str(get_locale()).startswith("zh") else "en"


def datetime_filter(value: datetime | None, fmt: str = "medium") -> str:
    """Format a naive-UTC timestamp in the configured time zone."""
    if value is None:
        return ""
    return format_datetime(value, fmt)


def init_app(app: Flask) -> None:
    """Register template helpers."""
    app.jinja_env.filters["datetime"] = datetime_filter
    app.jinja_env.globals["html_lang"] = html_lang
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
