"""Account operations callable without a request."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from app.extensions import db
from app.models import DEPUTY_LEVELS, ROLES, DeputyGroup, User

RESET_MAX_AGE = 2 * 3600


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message is for the user."""


def find_user_by_email(email: str) -> User | None:
    """Return the user with this e-mail address, ignoring case."""
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(
    email: str,
    password: str,
    name: str,
    role: str = "public",
    deputy_level: str | None = None,
    deputy_group: DeputyGroup | None = None,
) -> User:
    """Create an account; raise AccountError if the e-mail is taken or the role unknown."""
    from flask_babel import gettext as _

    if role not in ROLES:
        raise AccountError(_("Unknown role."))
    if deputy_level is not None and deputy_level not in DEPUTY_LEVELS:
        raise AccountError(_("Unknown deputy level."))
    if find_user_by_email(email) is not None:
        raise AccountError(_("An account with this e-mail address already exists."))
    user = User(email=email.strip().lower(), name=name.strip(), role=role)
    user.set_password(password)
    if role == "deputy":
        user.deputy_level = deputy_level or "city"
        user.deputy_group = deputy_group
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with these credentials, or None."""
    user = find_user_by_email(email)
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def reset_token(user: User) -> str:
    """Return a token that resets this user's password until the password changes."""
    return _serializer().dumps({"id": user.id, "h": user.password_hash[-12:]})


def user_for_reset_token(token: str) -> User | None:
    """Return the user a valid, unused, unexpired reset token belongs to."""
    try:
        data = _serializer().loads(token, max_age=RESET_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    user = db.session.get(User, data.get("id"))
    if user is None or user.password_hash[-12:] != data.get("h"):
        return None
    return user
