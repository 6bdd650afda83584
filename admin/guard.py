"""What every admin request passes: the session (a server-side record the cookie names: idle
and absolute timeouts, ended by sign-out and by any change to the account), the CSRF token on
every state-changing form, sign-in stages, security headers, and HTML error pages."""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import secrets
from collections.abc import Callable
from collections.abc import Mapping
from http import HTTPStatus
from typing import ParamSpec
from typing import TypeVar

from flask import Response
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask.sansio.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import Forbidden
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError
from werkzeug.exceptions import TooManyRequests

from admin import bp
from admin.sections import Section
from admin.sections import sections_for
from consent_service.errors import RateLimited
from consent_service.errors import status_title
from consent_service.extensions import committed
from consent_service.extensions import current_session
from consent_service.extensions import rate_limiter
from consent_service.extensions import settings
from consent_service.extensions import web_sessions
from consent_service.infra.audit import Actor
from consent_service.infra.audit import record_as
from consent_service.infra.network import truncate_ip
from consent_service.infra.sessions import Ended
from consent_service.infra.sessions import Lifetime
from consent_service.infra.sessions import SessionKind
from consent_service.models import AdminUser
from consent_service.models import WebSession
from consent_service.staff.accounts import Permission
from consent_service.staff.accounts import can
from consent_service.staff.accounts import get_user
from consent_service.web.request_ids import request_id
from consent_service.web.visitor_region import visitor_ip

P = ParamSpec("P")
R = TypeVar("R")

# Stages of a session: the password was right (the second factor is next), the account must
# enrol a second factor first, or fully signed in.
PASSWORD_OK = "password"
MUST_ENROL = "enrol"
SIGNED_IN = "full"
PARTIAL_STAGE = dt.timedelta(minutes=10)
SESSION_ID = "sid"  # the cookie's only claim: which server-side session record is this browser's
PUBLIC_ENDPOINTS = {"admin.sign_in", "admin.static"}
STAGE_ENDPOINTS = {
    PASSWORD_OK: {"admin.second_factor", "admin.sign_out"},
    MUST_ENROL: {"admin.enrol", "admin.sign_out"},
}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_FIELD = "csrf_token"
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
RELAXED_HEADERS = "consent_service.admin.relaxed_headers"  # in the request's environ
ENDED = {
    Ended.ABSOLUTE: "Your session reached its maximum length. Please sign in again.",
    Ended.IDLE: "Your session ended after a period of inactivity. Please sign in again.",
}
SESSION_ENDED = "Your session has ended. Please sign in again."


def current_user() -> AdminUser:
    user: AdminUser = g.admin_user
    return user


def commit_audited(
    action: str,
    *,
    target_type: str,
    target_id: str | None,
    before: Mapping[str, object] | None,
    after: Mapping[str, object] | None,
    message: str,
) -> None:
    """Write the change to the audit log as the signed-in admin, commit both together, and
    say so to the admin on the next page."""
    with committed() as session:
        record_as(
            session,
            actor(),
            action,
            target_type=target_type,
            target_id=target_id,
            before=before,
            after=after,
        )
    flash(message, "success")


def actor() -> Actor:
    user = current_user()
    return Actor(
        name=user.email,
        admin_user_id=user.id,
        network=truncate_ip(visitor_ip()),
        request_id=request_id(),
    )


def csrf_token() -> str:
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def current_stage() -> str | None:
    """How far this browser's sign-in has come (None: not signed in)."""
    record: WebSession | None = g.get("admin_session")
    return record.stage if record is not None else None


def current_session_id() -> str | None:
    record: WebSession | None = g.get("admin_session")
    return record.id if record is not None else None


def admin_lifetime() -> Lifetime:
    limits = settings()
    return Lifetime(
        idle=dt.timedelta(minutes=limits.admin_idle_minutes),
        absolute=dt.timedelta(hours=limits.admin_session_hours),
    )


def start_session(user: AdminUser, stage: str, *, expires_at: dt.datetime | None = None) -> None:
    """A fresh session record (never one carried over from before the password) and a new
    CSRF token; the one this browser had ends. The caller commits."""
    previous: WebSession | None = g.get("admin_session")
    if previous is not None:
        web_sessions().revoke(current_session(), previous.id)
    token, record = web_sessions().start(
        current_session(),
        SessionKind.ADMIN,
        admin_lifetime(),
        expires_at=expires_at,
        admin_user_id=user.id,
        stage=stage,
    )
    g.admin_session = record
    session.clear()
    session.permanent = True  # the cookie lasts the absolute lifetime, not the browser's
    session.update({SESSION_ID: token, CSRF_FIELD: secrets.token_urlsafe(32)})


def advance(user: AdminUser, stage: str) -> None:
    """Move on a stage in a new session record (a token that changes with the privilege, as
    does the CSRF token); the sign-in's absolute end stays. The caller commits."""
    record: WebSession = g.admin_session
    start_session(user, stage, expires_at=record.expires_at)


def end_session(message: str | None = None) -> None:
    """Sign out: the record is revoked, so every copy of the cookie stops working."""
    record: WebSession | None = g.get("admin_session")
    if record is not None:
        with committed() as db_session:
            web_sessions().revoke(db_session, record.id)
    g.admin_session = None
    session.clear()
    if message:
        flash(message, "info")


def check_sign_in_rate() -> None:
    """A small per-IP limit on password and code attempts, on top of the account lock-out."""
    limiter = rate_limiter()
    try:
        limiter.check(f"admin-sign-in:{visitor_ip()}", settings().admin_sign_in_rate_limit)
    except RateLimited as exc:
        raise TooManyRequests(
            "Too many sign-in attempts from your network. Wait a minute and try again.",
            retry_after=exc.retry_after,
        ) from None


def requires(permission: Permission) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Only roles holding ``permission`` reach the view; others get 403."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            if not can(current_user().role, permission):
                raise Forbidden("Your role does not allow this page or action.")
            return view(*args, **kwargs)

        return wrapped

    return decorate


@bp.before_request
def _guard() -> ResponseReturnValue | None:
    endpoint = request.endpoint or ""
    if endpoint == "admin.static":
        return None  # the stylesheet: no session, no cookie
    ended = _load_session()
    if endpoint in PUBLIC_ENDPOINTS:
        _check_csrf()
        return None
    if g.get("admin_user") is None:
        if ended:
            flash(ended, "info")
        return redirect(url_for("admin.sign_in"))
    _check_csrf()
    stage = current_stage()
    if stage in STAGE_ENDPOINTS and endpoint not in STAGE_ENDPOINTS[stage]:
        target = "admin.second_factor" if stage == PASSWORD_OK else "admin.enrol"
        return redirect(url_for(target))
    return None


def _load_session() -> str | None:
    """Put the session's account on ``g``, or end the session and say why."""
    g.admin_user = None
    g.admin_session = None
    token = session.get(SESSION_ID)
    if not isinstance(token, str):
        return None
    records = web_sessions()
    lifetime = admin_lifetime()
    db_session = current_session()
    opened = records.open(db_session, SessionKind.ADMIN, token, lifetime)
    reason = None
    if isinstance(opened, Ended):
        reason = ENDED.get(opened, SESSION_ENDED)
    elif opened.stage != SIGNED_IN and records.now() - opened.created_at > PARTIAL_STAGE:
        with committed():
            records.revoke(db_session, opened.id)
        reason = "Signing in took too long. Please start again."
    else:
        user = get_user(db_session, opened.admin_user_id) if opened.admin_user_id else None
        if user is not None and user.disabled_at is None:
            if records.due(opened):
                with committed():
                    records.touch(db_session, opened, lifetime)
            g.admin_user = user
            g.admin_session = opened
            return None
    session.clear()
    return reason or SESSION_ENDED


def _check_csrf() -> None:
    if request.method not in UNSAFE_METHODS:
        csrf_token()  # forms rendered from here on carry one
        return
    expected = session.get(CSRF_FIELD)
    sent = request.form.get(CSRF_FIELD, "")
    if not isinstance(expected, str) or not hmac.compare_digest(expected, sent):
        raise BadRequest(
            "The form's security token is missing or does not match your session, so nothing "
            "was changed. Go back, reload the page and try again."
        )


@bp.app_context_processor
def _template_helpers() -> dict[str, object]:
    return {
        "admin_csrf_token": csrf_token,
        "admin_user": lambda: g.get("admin_user"),
        "admin_can": lambda name: (
            g.get("admin_user") is not None
            and current_stage() == SIGNED_IN
            and can(g.admin_user.role, Permission(name))
        ),
        "admin_sections": _sections_here,
    }


def _sections_here() -> list[tuple[Section, str, bool]]:
    """The signed-in role's sections with their URLs, and whether this page belongs to each
    (for ``aria-current``); none before the second factor, when only sign-in pages open."""
    user: AdminUser | None = g.get("admin_user")
    if user is None or current_stage() != SIGNED_IN:
        return []
    found = [(s, url_for(s.endpoint)) for s in sections_for(user.role)]
    return [(s, url, request.path.startswith(url)) for s, url in found]


def relax_security_headers(content_security_policy: str, frame_options: str) -> None:
    """For the current response only: another policy than the admin's strict one (the
    banner preview runs the widget's script, in a frame of the admin's own pages)."""
    request.environ[RELAXED_HEADERS] = (content_security_policy, frame_options)


def _is_admin_path(path: str) -> bool:
    prefix = bp.url_prefix or "/admin"
    return path == prefix or path.startswith(prefix + "/")


@bp.after_app_request
def _security_headers(response: Response) -> Response:
    if not _is_admin_path(request.path):
        return response
    policy, frame_options = request.environ.get(RELAXED_HEADERS, (CONTENT_SECURITY_POLICY, "DENY"))
    response.headers["Content-Security-Policy"] = policy
    response.headers["X-Frame-Options"] = frame_options
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if settings().is_production:
        response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return response


def error_page(exc: HTTPException) -> ResponseReturnValue:
    """HTML for every error under /admin/ (the API keeps problem+json)."""
    status = exc.code or 500
    if status == HTTPStatus.UNAUTHORIZED:
        return redirect(url_for("admin.sign_in"))
    if status == HTTPStatus.SERVICE_UNAVAILABLE:
        detail = "The database is not answering; nothing was changed. Try again shortly."
    elif isinstance(exc, InternalServerError) or status >= 500:
        status, detail = 500, "Something went wrong on our side; it has been logged."
    else:
        detail = exc.description or ""
    html = render_template(
        "admin/error.html", status=status, title=status_title(status), detail=detail
    )
    response = Response(html, status=status, mimetype="text/html")
    for name, value in exc.get_headers():
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response


@bp.record_once
def _register_error_pages(state: BlueprintSetupState) -> None:
    app = state.app
    prefix = (state.url_prefix or "/admin").rstrip("/") + "/"
    app.extensions.setdefault("html_error_pages", []).append((prefix, error_page))
