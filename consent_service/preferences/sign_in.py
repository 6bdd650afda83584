"""Getting into the preferences page: the widget's visitor link, the emailed magic link
(asked for with an email address, confirmed with a button so that mail scanners opening the
link cannot use it up), the link in policy-change emails, and signing out."""

from __future__ import annotations

from typing import Any

from flask import redirect
from flask import request
from flask import url_for
from werkzeug.wrappers import Response

from consent_service.errors import RateLimited
from consent_service.errors import UnknownProperty
from consent_service.extensions import committed
from consent_service.extensions import current_session
from consent_service.extensions import db
from consent_service.extensions import rate_limiter
from consent_service.extensions import settings
from consent_service.extensions import vault
from consent_service.infra.pii import is_plausible_email
from consent_service.infra.pii import normalise_email
from consent_service.models import Property
from consent_service.models.base import utcnow
from consent_service.preferences import bp
from consent_service.preferences.session import csrf_ok
from consent_service.preferences.session import current_access
from consent_service.preferences.session import end_session
from consent_service.preferences.session import start_session
from consent_service.preferences.view import chosen_locale
from consent_service.preferences.view import page_locale
from consent_service.preferences.view import render
from consent_service.preferences.view import texts
from consent_service.properties.lookup import get_property
from consent_service.self_service.access import Access
from consent_service.self_service.access import SignInRefused
from consent_service.self_service.access import check_magic_link
from consent_service.self_service.access import request_magic_link
from consent_service.self_service.access import sign_in_visitor
from consent_service.self_service.access import sign_in_with_magic_link
from consent_service.self_service.access import sign_in_with_notice_link
from consent_service.web.visitor_region import visitor_ip

HOME = "preferences.preferences_home"


def property_for_sign_in() -> Property | None:
    """The shop a sign-in form is for: ``?property=``, or the only one there is."""
    key = request.values.get("property")
    session = current_session()
    if key:
        try:
            return get_property(session, key)
        except UnknownProperty:
            return None
    found = session.scalars(db.select(Property).limit(2)).all()
    return found[0] if len(found) == 1 else None


def sign_in_page(
    *, status: int = 200, notices: list[tuple[str, str]] | None = None, **context: Any
) -> Response:
    prop = property_for_sign_in()
    return render(
        "sign_in.html",
        status=status,
        notices=notices or [],
        property_key=prop.key if prop else None,
        property_name=prop.name if prop else None,
        **context,
    )


def signed_in(access: Access) -> Response:
    """Into the page, with the token out of the address bar (and of the history)."""
    response = redirect(url_for(HOME, lang=chosen_locale()), code=303)
    start_session(response, access)
    db.session.commit()
    return response


def refused(problem: SignInRefused) -> Response:
    t = texts(page_locale())
    status = 410 if problem.problem.value in ("expired", "used", "erased") else 400
    return sign_in_page(status=status, notices=[("error", t[f"link_{problem.problem.value}"])])


@bp.get("/preferences/visit")
def preferences_visit() -> Response:
    try:
        access = sign_in_visitor(
            current_session(), settings().secret_key, request.args.get("token", ""), utcnow()
        )
    except SignInRefused as exc:
        return refused(exc)
    return signed_in(access)


@bp.get("/preferences/sign-in")
def preferences_confirm_sign_in() -> Response:
    """Changes nothing (a GET): shows the button that uses the link."""
    token = request.args.get("token", "")
    try:
        check_magic_link(current_session(), settings().secret_key, token, utcnow())
    except SignInRefused as exc:
        return refused(exc)
    return render("confirm_sign_in.html", token=token, property_name=None)


@bp.post("/preferences/sign-in")
def preferences_sign_in() -> Response:
    if not csrf_ok():
        return sign_in_page(status=400, notices=[("error", texts(page_locale()).csrf)])
    try:
        access = sign_in_with_magic_link(
            current_session(), settings().secret_key, request.form.get("token", ""), utcnow()
        )
    except SignInRefused as exc:
        db.session.commit()  # nothing was claimed; ends the transaction
        return refused(exc)
    return signed_in(access)


def notice_link_sign_in(token: str) -> Response:
    try:
        access = sign_in_with_notice_link(current_session(), settings().secret_key, token, utcnow())
    except SignInRefused as exc:
        return refused(exc)
    return signed_in(access)


@bp.post("/preferences/link")
def preferences_request_link() -> Response:
    t = texts(page_locale())
    if not csrf_ok():
        return sign_in_page(status=400, notices=[("error", t.csrf)])
    prop = property_for_sign_in()
    if prop is None:
        return sign_in_page(status=404)
    email = normalise_email(request.form.get("email", ""))
    if not is_plausible_email(email):
        return sign_in_page(status=422, email_error=t.bad_email, email=email)
    limiter = rate_limiter()
    try:
        limiter.check(f"magic-link-ip:{visitor_ip()}", settings().magic_link_rate_limit_ip)
        # Keyed by the address's blind index: counted whether or not it is a customer's.
        limiter.check(
            f"magic-link-address:{vault().email_index(prop.id, email)}",
            settings().magic_link_rate_limit_address,
        )
    except RateLimited as exc:
        response = sign_in_page(
            status=429,
            notices=[("error", t.rate_limited.format(minutes=max(1, exc.retry_after // 60)))],
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    with committed() as session:
        request_magic_link(session, vault(), prop.id, email, locale=page_locale(), now=utcnow())
    # The same words whether or not the address is known.
    return sign_in_page(notices=[("info", t.link_sent.format(email=email, name=prop.name))])


@bp.post("/preferences/sign-out")
def preferences_sign_out() -> Response:
    access = current_access()
    prop = current_session().get(Property, access.property_id) if access else None
    response = redirect(
        url_for(HOME, property=prop.key if prop else None, lang=chosen_locale()), code=303
    )
    if csrf_ok():
        end_session(response)
    return response
