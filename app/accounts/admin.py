"""Administrators manage users and deputy groups."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, or_, select

from app import audit, privacy
from app.accounts.forms import DeputyGroupForm, UserAdminForm
from app.extensions import db
from app.forms import choices
from app.models import DeputyGroup, User
from app.permissions import admin_required

admin_blueprint = Blueprint("admin", __name__, url_prefix="/admin")

USERS_PER_PAGE = 50


@admin_blueprint.route("/users")
@admin_required
def users():
    query = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    stmt = select(User).order_by(User.id)
    if query:
        like = f"%{query}%"
        stmt = stmt.where(or_(User.name.ilike(like), User.email.ilike(like)))
    if role:
        stmt = stmt.where(User.role == role)
    page = db.paginate(stmt, per_page=USERS_PER_PAGE, error_out=False)
    return render_template("admin/users.html", page=page, q=query, role=role)


def _account_facts(user: User) -> dict:
    """Return what an administrator can change about an account's rights, for the audit log."""
    return {"role": user.role, "active": user.active, "deputy_level": user.deputy_level,
            "deputy_group_id": user.deputy_group_id}


@admin_blueprint.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def edit_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UserAdminForm(obj=user)
    groups = db.session.scalars(select(DeputyGroup).order_by(DeputyGroup.name)).all()
    form.deputy_group_id.choices = choices([(0, _("— none —"))] + [(g.id, g.name) for g in groups])
    if request.method == "GET":
        form.deputy_group_id.data = user.deputy_group_id or 0
        form.deputy_level.data = user.deputy_level or ""
    if form.validate_on_submit():
        if user.id == current_user.id and form.role.data != "admin":
            form.role.errors.append(_("You cannot take away your own administrator role."))
        elif user.id == current_user.id and not form.active.data:
            form.active.errors.append(_("You cannot deactivate your own account."))
        else:
            before = _account_facts(user)
            user.name = form.name.data
            user.role = form.role.data
            user.active = form.active.data
            is_deputy = user.role == "deputy"
            user.deputy_level = (form.deputy_level.data or "city") if is_deputy else None
            user.deputy_group_id = (form.deputy_group_id.data or None) if is_deputy else None
            audit.record(current_user, "user.update", user, before=before,
                         after=_account_facts(user))
            db.session.commit()
            flash(_("The account has been saved."), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_edit.html", form=form, user=user)


@admin_blueprint.route("/deputy-groups")
@admin_required
def deputy_groups():
    counts = dict(
        db.session.execute(
            select(User.deputy_group_id, func.count()).group_by(User.deputy_group_id)
        ).all()
    )
    groups = db.session.scalars(select(DeputyGroup).order_by(DeputyGroup.name)).all()
    return render_template("admin/deputy_groups.html", groups=groups, counts=counts)


@admin_blueprint.route("/deputy-groups/new", methods=["GET", "POST"])
@admin_blueprint.route("/deputy-groups/<int:group_id>", methods=["GET", "POST"])
@admin_required
def edit_deputy_group(group_id: int | None = None):
    group = db.session.get(DeputyGroup, group_id) or abort(404) if group_id else DeputyGroup()
    form = DeputyGroupForm(obj=group)
    if form.validate_on_submit():
        clash = db.session.scalar(
            select(DeputyGroup).where(DeputyGroup.name == form.name.data.strip(),
                                      DeputyGroup.id != (group.id or 0))
        )
        if clash is not None:
            form.name.errors.append(_("A deputy group with this name already exists."))
        else:
            group.name = form.name.data.strip()
            group.description = form.description.data or ""
            db.session.add(group)
            db.session.flush()
            audit.record(current_user, "deputy_group.save", group, name=group.name)
            db.session.commit()
            flash(_("The deputy group has been saved."), "success")
            return redirect(url_for("admin.deputy_groups"))
    return render_template("admin/deputy_group_edit.html", form=form, group=group)


#: how the export log names each kind of export
EXPORT_LABELS = {
    "comments.export": _l("Comments (CSV)"),
    "opinions.export": _l("Opinions with dispositions and contact data"),
    "registrations.export": _l("Hearing registration list"),
    "personal_data.download": _l("Own data, downloaded by its holder"),
}
EXPORT_KINDS = {"speakers": _l("speakers"), "observers": _l("observers")}


@admin_blueprint.route("/personal-data-exports")
@admin_required
def personal_exports():
    page = privacy.personal_exports(page=request.args.get("page", 1, type=int))
    return render_template("accounts/exports.html", page=page, labels=EXPORT_LABELS,
                           kinds=EXPORT_KINDS, subjects=privacy.export_subjects(page.items))


def init_app(app) -> None:
    """Register the blueprint."""
    app.register_blueprint(admin_blueprint)
