"""Role checks for routes: load, then authorise, then process."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import abort
from flask_login import current_user

F = TypeVar("F", bound=Callable)


def require_role(*roles: str) -> None:
    """Abort with 401 for anonymous users and 403 for users without one of the roles."""
    if not current_user.is_authenticated:
        abort(401)
    if not current_user.has_role(*roles):
        abort(403)


def role_required(*roles: str) -> Callable[[F], F]:
    """Decorate a view so only users holding one of the roles reach it."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args, **kwargs):
            require_role(*roles)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


staff_required = role_required("staff")
admin_required = role_required("admin")
