"""The preferences page's own session: a cookie scoped to ``/preferences``, separate from the
admin's, holding only the token of a server-side session record (idle and absolute timeouts,
ended by sign-out and erasure: ``self_service.access``), and the CSRF token every form carries
(bound to the session, or to a pre-session cookie on the sign-in form)."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Collection

from flask import g
from flask import request
from itsdangerous import BadData
from itsdangerous import URLSafeSerializer
from werkzeug.wrappers import Response

from consent_service.extensions import committed
from consent_service.extensions import current_session
from consent_service.extensions import settings
from consent_service.extensions import web_sessions
from consent_service.preferences import bp
from consent_service.self_service.access import PREFERENCES_SESSION
from consent_service.self_service.access import SESSION_LIFETIME
from consent_service.self_service.access import Access
from consent_service.self_service.access import open_session
from consent_service.self_service.access import start_session as start_access_session

COOKIE = "consent_preferences"
PRE_SESSION_COOKIE = "consent_preferences_form"
COOKIE_PATH = "/preferences"
CSRF_FIELD = "csrf_token"
CSRF_SALT = "consent-service/preferences-csrf/v1"
REOPTIN_SALT = "consent-service/preferences-reoptin/v1"
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


@bp.before_request
def _forget_the_last_requests_access() -> None:
    """``g`` outlives a request where an app context was already pushed (tests, commands)."""
    g.pop("preferences_access", None)
    g.pop("preferences_session_id", None)
    g.pop("preferences_locale", None)


def current_access() -> Access | None:
    """The signed-in person of this request, or None. A visit is recorded (and committed) at
    most once a minute: views ask this before they change anything."""
    if "preferences_access" not in g:
        g.preferences_access = None
        token = request.cookies.get(COOKIE)
        opened = open_session(current_session(), web_sessions(), token) if token else None
        if opened is not None:
            record, g.preferences_access = opened
            g.preferences_session_id = record.id
            if web_sessions().due(record):
                with committed() as session:
                    web_sessions().touch(session, record, PREFERENCES_SESSION)
    access: Access | None = g.preferences_access
    return access


def start_session(response: Response, access: Access) -> None:
    """A new session for ``access`` (the caller commits); its token becomes the cookie."""
    token, g.preferences_access = start_access_session(current_session(), web_sessions(), access)
    _set_cookie(response, COOKIE, token)


def end_session(response: Response) -> None:
    """Sign out: the record is revoked, so a copy of the cookie opens nothing either."""
    session_id = g.get("preferences_session_id")
    if session_id is not None:
        with committed() as session:
            web_sessions().revoke(session, session_id)
    g.preferences_access = None
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
        return str(serializer.dumps(_signed_in_as(access)))
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


def _signed_in_as(access: Access) -> list[str | int]:
    who = (access.identity_id or access.visitor_id).hex  # type: ignore[union-attr]
    return [who, int(access.signed_in_at.timestamp())]


# --- Opting back in (11 CCR §7028) -----------------------------------------------------------


def reoptin_token(access: Access, chosen: Collection[str]) -> str:
    """The confirmation step's hidden field: it confirms exactly the choices the person was
    asked about, in this session, so no other form or changed choice can claim it."""
    serializer = URLSafeSerializer(settings().secret_key, salt=REOPTIN_SALT)
    return str(serializer.dumps([*_signed_in_as(access), sorted(chosen)]))


def reoptin_token_ok(access: Access, sent: str, chosen: Collection[str]) -> bool:
    return hmac.compare_digest(sent, reoptin_token(access, chosen))


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
