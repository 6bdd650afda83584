"""``/admin/users/``: accounts and roles (the admin role only); every change is audited."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue

from admin import bp
from admin.guard import actor
from admin.guard import requires
from consent_service.extensions import committed
from consent_service.extensions import current_session
from consent_service.extensions import password_hasher
from consent_service.models import AdminUser
from consent_service.staff.accounts import ROLE_ORDER
from consent_service.staff.accounts import AdminAccountError
from consent_service.staff.accounts import Permission
from consent_service.staff.accounts import change_role
from consent_service.staff.accounts import create_user
from consent_service.staff.accounts import disable_user
from consent_service.staff.accounts import generate_password
from consent_service.staff.accounts import get_user
from consent_service.staff.accounts import list_users
from consent_service.staff.accounts import reset_totp

ROLES = [role.value for role in ROLE_ORDER]


@bp.get("/users/")
@requires(Permission.MANAGE_USERS)
def users() -> ResponseReturnValue:
    return _page(form={})


@bp.post("/users/")
@requires(Permission.MANAGE_USERS)
def create() -> ResponseReturnValue:
    form = {name: request.form.get(name, "").strip() for name in ("email", "name", "role")}
    password = request.form.get("password", "")
    generated = not password
    if generated:
        password = generate_password()
    try:
        with committed() as session:
            user = create_user(
                session,
                actor(),
                email=form["email"],
                role=form["role"],
                password=password,
                name=form["name"],
                hasher=password_hasher(),
            )
    except AdminAccountError as exc:
        return _page(form=form, error=exc.detail), exc.status
    if generated:  # shown this once; the page is never cached (Cache-Control: no-store)
        return render_template("admin/user_created.html", user=user, password=password)
    flash(f"Created {user.email} ({user.role}).", "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<uuid:user_id>/role")
@requires(Permission.MANAGE_USERS)
def set_role(user_id: uuid.UUID) -> ResponseReturnValue:
    user = _user(user_id)
    return _apply(
        lambda: change_role(current_session(), actor(), user, request.form["role"]),
        f"{user.email} is now {request.form.get('role', '')}.",
    )


@bp.post("/users/<uuid:user_id>/disable")
@requires(Permission.MANAGE_USERS)
def disable(user_id: uuid.UUID) -> ResponseReturnValue:
    user = _user(user_id)
    now = dt.datetime.now(dt.UTC)
    return _apply(
        lambda: disable_user(current_session(), actor(), user, now=now),
        f"{user.email} is disabled; their sessions have ended.",
    )


@bp.post("/users/<uuid:user_id>/reset-totp")
@requires(Permission.MANAGE_USERS)
def reset_second_factor(user_id: uuid.UUID) -> ResponseReturnValue:
    user = _user(user_id)
    return _apply(
        lambda: reset_totp(current_session(), actor(), user),
        f"{user.email} will set up a new authenticator app at their next sign-in.",
    )


def _apply(change: Callable[[], object], message: str) -> ResponseReturnValue:
    try:
        with committed():
            change()
    except AdminAccountError as exc:
        return _page(form={}, error=exc.detail), exc.status
    flash(message, "success")
    return redirect(url_for("admin.users"))


def _user(user_id: uuid.UUID) -> AdminUser:
    user = get_user(current_session(), user_id)
    if user is None:
        abort(404, "No admin user has this id.")
    return user


def _page(*, form: dict[str, str], error: str | None = None) -> str:
    return render_template(
        "admin/users.html",
        users=list_users(current_session()),
        roles=ROLES,
        form=form,
        error=error,
    )
