"""Register, log in and out, reset a password, choose a language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
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

from app import privacy
from app.accounts import privacy_cli, services
from app.accounts.forms import (
    DeleteAccountForm,
    DownloadDataForm,
    LanguageForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from app.extensions import db, limiter, login_manager
from app.i18n import LANGUAGE_COOKIE
from app.mail import send_email
from app.models import User, utcnow

auth_blueprint = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    # a deactivated or deleted account is logged out everywhere, not only where it was closed
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


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
    return render_template("accounts/account.html", download_form=DownloadDataForm(),
                           refusal=privacy.deletion_refusal(current_user))


@auth_blueprint.route("/account/data", methods=["POST"])
@login_required
@limiter.limit("10/hour")
def download_data():
    form = DownloadDataForm()
    if not form.validate_on_submit():
        flash(_("The download could not be started; reload the page and try again."), "error")
        return redirect(url_for("auth.account"))
    stamp = utcnow().strftime("%Y%m%d")
    privacy.record_download(current_user, form.format.data)
    if form.format.data == "zip":
        body, mimetype = privacy.data_zip(current_user).getvalue(), "application/zip"
    else:
        body, mimetype = privacy.data_json(current_user), "application/json"
    db.session.commit()
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=minyi-data-{stamp}.{form.format.data}",
        "Cache-Control": "no-store"})


@auth_blueprint.route("/account/delete", methods=["GET", "POST"])
@login_required
@limiter.limit("10/hour", methods=["POST"])
def delete_account():
    refusal = privacy.deletion_refusal(current_user)
    form = DeleteAccountForm()
    if refusal is None and form.validate_on_submit():
        try:
            deletion = privacy.delete_account(current_user._get_current_object(),
                                              form.password.data)
        except privacy.PrivacyError as error:
            db.session.rollback()
            target = getattr(form, error.field, None) if error.field else None
            (target.errors if target is not None else form.form_errors).append(str(error))
        else:
            db.session.commit()
            privacy.remove_files(deletion)
            logout_user()
            session.clear()
            flash(_("Your account has been deleted. Your comments stay, without your name."),
                  "success")
            return redirect(url_for("core.index"))
    return render_template("accounts/delete.html", form=form, refusal=refusal)


def init_app(app) -> None:
    """Register the blueprint and the privacy commands."""
    app.register_blueprint(auth_blueprint)
    privacy_cli.init_app(app)
