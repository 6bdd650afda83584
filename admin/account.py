"""``/admin/account/``: one's own password and authenticator app."""

from __future__ import annotations

from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue

from admin import bp
from admin.auth import start_re_enrolment
from admin.guard import actor
from admin.guard import current_session_id
from admin.guard import current_user
from admin.guard import requires
from consent_service.extensions import committed
from consent_service.extensions import password_hasher
from consent_service.staff.accounts import AdminAccountError
from consent_service.staff.accounts import Permission
from consent_service.staff.accounts import change_own_password


@bp.get("/account/")
@requires(Permission.VIEW)
def account() -> ResponseReturnValue:
    return render_template("admin/account.html", user=current_user())


@bp.post("/account/password")
@requires(Permission.VIEW)
def change_password() -> ResponseReturnValue:
    user = current_user()
    new = request.form.get("new_password", "")
    if new != request.form.get("confirm_password", ""):
        error = "The new password and its confirmation differ."
        return render_template("admin/account.html", user=user, error=error), 422
    try:
        with committed() as session:
            change_own_password(
                session,
                actor(),
                user,
                request.form.get("current_password", ""),
                new,
                hasher=password_hasher(),
                keep_session=current_session_id(),  # this session carries on
            )
    except AdminAccountError as exc:
        return render_template("admin/account.html", user=user, error=exc.detail), exc.status
    flash("Your password is changed. Other sessions of your account have ended.", "success")
    return redirect(url_for("admin.account"))


@bp.post("/account/totp")
@requires(Permission.VIEW)
def re_enrol() -> ResponseReturnValue:
    start_re_enrolment(current_user())
    return redirect(url_for("admin.enrol"))
