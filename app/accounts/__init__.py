"""Register, log in and out, reset a password, choose a language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.accounts import services
from app.accounts.forms import (
    LanguageForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from app.extensions import db, limiter, login_manager
from app.i18n import LANGUAGE_COOKIE
from app.mail import send_email
from app.models import User

auth_blueprint = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


login_manager.login_view = "auth.login"
login_manager.login_message = None


def _safe_next(default: str) -> str:
    """Return the `next` target if it stays on this site."""
    target = request.args.get("next") or request.form.get("next") or ""
    parts = urlsplit(target)
    # browsers read a backslash as "/" and drop tabs and newlines: "/\host" leaves the site
    if (target.startswith("/") and not target.startswith("//") and not parts.netloc
            and not any(char in target for char in "\\\t\r\n")):
        return target
    return default


@auth_blueprint.route("/register", methods=["GET", "POST"])
@limiter.limit("10/hour", methods=["POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(form.email.data, form.password.data, form.name.data)
        except services.AccountError as error:
            form.email.errors.append(str(error))
        else:
            db.session.commit()
            session.clear()
            login_user(user)
            flash(_("Welcome! Your account has been created."), "success")
            return redirect(_safe_next(url_for("core.index")))
    return render_template("auth/register.html", form=form)


@auth_blueprint.route("/login", methods=["GET", "POST"])
@limiter.limit("20/minute", methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("Wrong e-mail address or password."))
        else:
            target = _safe_next(url_for("core.index"))
            session.clear()  # a new session on login: nothing set before survives
            login_user(user, remember=form.remember.data)
            return redirect(target)
    return render_template("auth/login.html", form=form)


@auth_blueprint.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("core.index"))


@auth_blueprint.route("/reset", methods=["GET", "POST"])
@limiter.limit("5/hour", methods=["POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = services.find_user_by_email(form.email.data)
        if user is not None and user.active:
            link = url_for("auth.reset_password", token=services.reset_token(user), _external=True)
            send_email(user.email, _("Reset your Minyi password"), "emails/reset_password.txt",
                       user=user, link=link)
        flash(_("If an account exists for that address, we have sent it a link to reset the "
                "password."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form)


@auth_blueprint.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    user = services.user_for_reset_token(token)
    if user is None:
        flash(_("This link is invalid or has expired. Ask for a new one."), "error")
        return redirect(url_for("auth.reset_request"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        user.set_password(form.password.data)
        db.session.commit()
        flash(_("Your password has been changed. You can log in now."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)


@auth_blueprint.route("/language", methods=["POST"])
def set_language():
    form = LanguageForm()
    target = _safe_next(url_for("core.index"))
    if not form.validate_on_submit():
        return redirect(target)
    response = redirect(target)
    response.set_cookie(LANGUAGE_COOKIE, form.language.data, max_age=365 * 24 * 3600,
                        samesite="Lax", httponly=True,
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    if current_user.is_authenticated:
        current_user.locale = form.language.data
        db.session.commit()
    return response


@auth_blueprint.route("/account")
@login_required
def account():
    return redirect(url_for("drafts.my_comments"))


def init_app(app) -> None:
    """Register the blueprint."""
    app.register_blueprint(auth_blueprint)
