"""Signing in: email and password, then the second factor (or enrolling one), and out."""

from __future__ import annotations

import datetime as dt

from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue

from admin import bp
from admin.guard import MUST_ENROL
from admin.guard import PASSWORD_OK
from admin.guard import SIGNED_IN
from admin.guard import actor
from admin.guard import advance
from admin.guard import check_sign_in_rate
from admin.guard import current_session_id
from admin.guard import current_stage
from admin.guard import current_user
from admin.guard import end_session
from admin.guard import start_session
from consent_service.extensions import current_session
from consent_service.extensions import db
from consent_service.extensions import password_hasher
from consent_service.extensions import vault
from consent_service.infra.pii import UndecryptableData
from consent_service.infra.pii import Vault
from consent_service.models import AdminUser
from consent_service.staff.accounts import SIGN_IN_FAILED
from consent_service.staff.accounts import SignInFailed
from consent_service.staff.accounts import authenticate
from consent_service.staff.accounts import can_sign_in
from consent_service.staff.accounts import complete_sign_in
from consent_service.staff.accounts import confirm_enrolment
from consent_service.staff.accounts import enrolment_for
from consent_service.staff.accounts import needs_enrolment
from consent_service.staff.accounts import new_enrolment
from consent_service.staff.accounts import verify_totp

WRONG_CODE = "That code is not right, or it was used already. Wait for the next one."


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    if g.admin_user is not None and current_stage() == SIGNED_IN:
        return redirect(url_for("admin.home"))
    if request.method == "GET":
        return render_template("admin/sign_in.html", email="")
    check_sign_in_rate()
    email = request.form.get("email", "").strip()
    now = _now()
    try:
        user = authenticate(
            current_session(),
            email,
            request.form.get("password", ""),
            now=now,
            hasher=password_hasher(),
        )
    except SignInFailed:
        db.session.commit()  # the failed attempt counts (and may lock the account)
        return render_template("admin/sign_in.html", email=email, error=SIGN_IN_FAILED), 200
    if user.totp_enrolled_at is not None:
        start_session(user, PASSWORD_OK)
        db.session.commit()
        return redirect(url_for("admin.second_factor"))
    if needs_enrolment(user):
        start_session(user, MUST_ENROL)
        db.session.commit()
        return redirect(url_for("admin.enrol"))
    complete_sign_in(user, now=now)
    start_session(user, SIGNED_IN)
    db.session.commit()
    return redirect(url_for("admin.home"))


@bp.route("/sign-in/code", methods=["GET", "POST"])
def second_factor() -> ResponseReturnValue:
    if current_stage() != PASSWORD_OK:
        return redirect(url_for("admin.home"))
    if request.method == "GET":
        return render_template("admin/totp.html")
    check_sign_in_rate()
    user = current_user()
    now = _now()
    accepted = verify_totp(current_session(), _vault(), user, request.form.get("code", ""), now=now)
    if not accepted:
        db.session.commit()  # the failure counts
        if not can_sign_in(user, now=now):
            end_session(SIGN_IN_FAILED)
            return redirect(url_for("admin.sign_in"))
        return render_template("admin/totp.html", error=WRONG_CODE), 200
    complete_sign_in(user, now=now)
    advance(user, SIGNED_IN)
    db.session.commit()
    return redirect(url_for("admin.home"))


@bp.route("/enrol", methods=["GET", "POST"])
def enrol() -> ResponseReturnValue:
    """Set up (or replace) the second factor: a QR code and the secret to type in by hand,
    confirmed with a code from the app. The pending secret rides in the session, encrypted."""
    user = current_user()
    stage = current_stage()
    if stage == SIGNED_IN and "pending_totp" not in session:
        return redirect(url_for("admin.account"))
    secret = _pending_secret(user)
    if secret is None:
        enrolment = new_enrolment(user)
        session["pending_totp"] = _vault().cipher.encrypt(
            enrolment.secret, context=_pending_context(user)
        )
    else:
        enrolment = enrolment_for(user, secret)
    if request.method == "GET":
        return render_template("admin/enrol.html", enrolment=enrolment)
    now = _now()
    confirmed = confirm_enrolment(
        current_session(),
        _vault(),
        actor(),
        user,
        enrolment.secret,
        request.form.get("code", ""),
        now=now,
        keep_session=current_session_id(),
    )
    if not confirmed:
        db.session.commit()  # the failure counts
        return render_template("admin/enrol.html", enrolment=enrolment, error=WRONG_CODE), 200
    if stage == MUST_ENROL:
        complete_sign_in(user, now=now)
    advance(user, SIGNED_IN)  # a new session (without the pending secret)
    db.session.commit()
    flash("Two-step sign-in is set up. Keep the authenticator app with you.", "success")
    return redirect(url_for("admin.home"))


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    end_session("You are signed out.")
    return redirect(url_for("admin.sign_in"))


def start_re_enrolment(user: AdminUser) -> None:
    """From the account page: a new secret to enrol; the old one works until confirmed."""
    enrolment = new_enrolment(user)
    session["pending_totp"] = _vault().cipher.encrypt(
        enrolment.secret, context=_pending_context(user)
    )


def _pending_secret(user: AdminUser) -> str | None:
    sealed = session.get("pending_totp")
    if not isinstance(sealed, bytes):
        return None
    try:
        return _vault().cipher.decrypt(sealed, context=_pending_context(user))
    except UndecryptableData:
        return None


def _pending_context(user: AdminUser) -> str:
    return f"admin-totp-pending:{user.id}:{current_session_id()}"


def _vault() -> Vault:
    return vault()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
