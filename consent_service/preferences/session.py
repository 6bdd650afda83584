"""The preferences page's own session: a signed cookie scoped to ``/preferences``, separate
from the admin's, with idle and absolute timeouts (``self_service_access``), and the CSRF
token every form carries (bound to the session, or to a pre-session cookie on the sign-in
form)."""

from __future__ import annotations

import hmac
import secrets

from flask import g
from flask import request
from itsdangerous import BadData
from itsdangerous import URLSafeSerializer
from werkzeug.wrappers import Response

from consent_service.extensions import current_session
from consent_service.extensions import settings
from consent_service.models.base import utcnow
from consent_service.self_service.access import SESSION_LIFETIME
from consent_service.self_service.access import Access
from consent_service.self_service.access import access_from_session
from consent_service.self_service.access import session_token

COOKIE = "consent_preferences"
PRE_SESSION_COOKIE = "consent_preferences_form"
COOKIE_PATH = "/preferences"
CSRF_FIELD = "csrf_token"
CSRF_SALT = "consent-service/preferences-csrf/v1"
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "style-src 'self'",
        "script-src 'self'",
        "connect-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)


def current_access() -> Access | None:
    """The signed-in person of this request, or None."""
    if "preferences_access" not in g:
        token = request.cookies.get(COOKIE)
        g.preferences_access = (
            access_from_session(current_session(), settings().secret_key, token, utcnow())
            if token
            else None
        )
    access: Access | None = g.preferences_access
    return access


def start_session(response: Response, access: Access) -> None:
    g.preferences_access = access
    _set_cookie(response, COOKIE, session_token(settings().secret_key, access, utcnow()))


def refresh_session(response: Response) -> None:
    """Slide the idle timeout: the same access, re-signed now."""
    access = g.get("preferences_access")
    if access is not None and not g.get("preferences_signed_out"):
        _set_cookie(response, COOKIE, session_token(settings().secret_key, access, utcnow()))


def end_session(response: Response) -> None:
    g.preferences_access = None
    g.preferences_signed_out = True
    response.delete_cookie(COOKIE, path=COOKIE_PATH)


def _set_cookie(response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path=COOKIE_PATH,
        secure=settings().is_production,
        httponly=True,
        samesite="Lax",
    )


# --- CSRF ------------------------------------------------------------------------------------


def csrf_token() -> str:
    """For the signed-in forms: derived from the session, so it needs no storage; before
    sign-in: a random value also set as a cookie (double submit)."""
    access = current_access()
    serializer = URLSafeSerializer(settings().secret_key, salt=CSRF_SALT)
    if access is not None:
        who = (access.identity_id or access.visitor_id).hex  # type: ignore[union-attr]
        return str(serializer.dumps([who, int(access.signed_in_at.timestamp())]))
    if "preferences_form_nonce" not in g:
        g.preferences_form_nonce = request.cookies.get(PRE_SESSION_COOKIE) or (
            secrets.token_urlsafe(16)
        )
    return str(serializer.dumps(["form", g.preferences_form_nonce]))


def csrf_ok() -> bool:
    sent = request.form.get(CSRF_FIELD, "")
    if not sent:
        return False
    try:
        URLSafeSerializer(settings().secret_key, salt=CSRF_SALT).loads(sent)
    except BadData:
        return False
    if current_access() is None and not request.cookies.get(PRE_SESSION_COOKIE):
        return False
    return hmac.compare_digest(sent, csrf_token())


def keep_form_nonce(response: Response) -> None:
    nonce = g.get("preferences_form_nonce")
    if nonce and request.cookies.get(PRE_SESSION_COOKIE) != nonce:
        _set_cookie(response, PRE_SESSION_COOKIE, nonce)


def page_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = "no-store"
    # Sign-in URLs carry tokens: never leak them to another site. (Not "no-referrer": with
    # it browsers send "Origin: null" on the page's own forms.)
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    return response
