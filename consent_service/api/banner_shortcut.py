"""``GET /v1/banner`` answered before Flask's request cycle when its answer is already made.

The banner is most of a shop's traffic (each page view of each visitor who has not chosen
yet), and a cached banner costs little: choosing among prepared answers (``api.banner``).
Flask's request and response objects, contexts and hooks around that choice cost nine tenths
of it (0.115 ms of CPU per banner in-process, against 0.011 ms answered here). So the app's
WSGI callable is wrapped: a banner request whose answer is ready in this process, from a
property fingerprint that is still fresh, is answered here with the same choice
(``choose_banner``), the same prepared bytes and headers (``Prepared.answer``) and the same
common headers as the view's. Everything else goes to Flask unchanged: another path or
method, a body, a query with escapes or a ``region`` (previews, scans, development
overrides), a request over the size limits (Flask answers the 414 or 431) or with a
malformed ``locale`` (the 422), a fingerprint due for its check against the database, or a
banner not built yet (the view builds it, and the next request is answered here).
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING

from werkzeug.exceptions import HTTPException

from consent_service.api.banner import Answer
from consent_service.api.banner import Prepared
from consent_service.api.banner import choose_banner
from consent_service.api.banner import served_region
from consent_service.banner.configuration import Fingerprint
from consent_service.errors import ConsentServiceError
from consent_service.extensions import banner_cache
from consent_service.extensions import region_resolver
from consent_service.extensions import settings
from consent_service.models.base import utcnow
from consent_service.properties.catalogue import SLUG
from consent_service.web.common_headers import common_headers
from consent_service.web.request_ids import request_id_for
from consent_service.web.request_limits import check_sizes
from consent_service.web.visitor_region import resolved_region

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment
    from flask import Flask

PATH = "/v1/banner"
# Werkzeug's status lines, so an answer reads the same whichever way it was served.
_STATUS_LINES = {status: f"{status.value} {status.phrase.upper()}" for status in HTTPStatus}


def install(app: Flask) -> None:
    """Answer ``app``'s ready banners before its request cycle."""
    app.wsgi_app = BannerShortcut(app, app.wsgi_app)  # type: ignore[method-assign]


class BannerShortcut:
    """The WSGI callable in front of Flask's own (see the module's docstring)."""

    def __init__(self, app: Flask, wsgi_app: WSGIApplication) -> None:
        self._app = app
        self._wsgi_app = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        ready = self._ready(environ) if environ.get("PATH_INFO") == PATH else None
        if ready is None:
            return self._wsgi_app(environ, start_response)
        answer, region_header = ready
        start_response(
            _STATUS_LINES[answer.status],
            [*answer.headers, *region_header, *common_headers(request_id_for(environ))],
        )
        return [answer.body]

    def _ready(self, environ: WSGIEnvironment) -> tuple[Answer, list[tuple[str, str]]] | None:
        """The answer the view would give, if it is made and nothing asks for the view."""
        if environ.get("REQUEST_METHOD") != "GET" or _has_body(environ):
            return None
        asked = _plain_query(environ.get("QUERY_STRING", ""))
        if asked is None or "region" in asked or not SLUG.match(asked.get("property", "")):
            return None
        try:
            check_sizes(environ)
        except HTTPException:
            return None
        app = self._app
        cache = banner_cache.of(app)
        property_key = asked["property"]
        fingerprint: Fingerprint | None = cache.fresh_fingerprint(property_key)
        if fingerprint is None:
            return None
        config, resolver = settings.of(app), region_resolver.of(app)
        located = resolved_region(environ, resolver, config, None)
        try:
            choice = choose_banner(
                property_key,
                fingerprint,
                located,
                asked.get("locale"),
                environ.get("HTTP_ACCEPT_LANGUAGE"),
                today=utcnow().date(),
                settings=config,
                resolver=resolver,
            )
        except ConsentServiceError:  # a malformed ?locale=: the view answers the problem
            return None
        prepared: Prepared | None = cache.built_body(choice.key)
        if prepared is None:
            return None
        answer = prepared.answer(
            environ.get("HTTP_ACCEPT_ENCODING"), environ.get("HTTP_IF_NONE_MATCH")
        )
        return answer, served_region(located)


def _has_body(environ: WSGIEnvironment) -> bool:
    return (
        environ.get("CONTENT_LENGTH", "0") not in ("", "0")
        or "HTTP_TRANSFER_ENCODING" in environ
        or bool(environ.get("CONTENT_TYPE"))
    )


def _plain_query(query: str) -> dict[str, str] | None:
    """The query's first value for each name, as ``request.args.get`` reads it, when nothing
    in it is escaped (``%``, ``+``), beyond ASCII or NUL, as the widget sends it; else None."""
    if not query.isascii() or "%" in query or "+" in query or "\x00" in query:
        return None
    found: dict[str, str] = {}
    for pair in query.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            found.setdefault(name, value)
    return found
