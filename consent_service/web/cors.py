"""The one origin and CORS policy for the endpoints the widget calls from shops' pages.

- A page may act for a property only from an origin the property lists, or from this
  service's own pages (``check_page_origin``; no ``Origin`` header: not a browser).
- A preflight is answered for an origin some property lists (``preflight``).
- An answer is readable by the page that asked once its request passed the check; a refusal
  only if some property lists the page's origin at all (``answer_page``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Collection

from flask import Response
from flask import request

from consent_service.errors import ConsentServiceError
from consent_service.errors import OriginNotAllowed
from consent_service.extensions import current_session
from consent_service.extensions import settings
from consent_service.problems import domain_problem
from consent_service.properties.lookup import any_property_allows
from consent_service.properties.lookup import check_origin

log = logging.getLogger(__name__)


def check_page_origin(
    origin: str | None, allowed_origins: Collection[str], property_key: str
) -> None:
    """Raise OriginNotAllowed unless a page at ``origin`` may act for the property."""
    base_url = settings().base_url
    check_origin(origin, allowed_origins, property_key, base_url=base_url)


def _allow_origin(response: Response, origin: str) -> None:
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers.add("Vary", "Origin")


def preflight(method: str, what: str) -> Response:
    """Answer a preflight for ``method`` if some property lists the Origin (the request
    itself is checked against its own property again)."""
    origin = request.headers.get("Origin", "")
    if not origin:
        raise OriginNotAllowed(f"a request without Origin may not {what}")
    if not any_property_allows(current_session(), origin):
        refusal = OriginNotAllowed(
            f'{origin} is not an allowed origin of any property: add it to "Allowed origins" '
            f"of the property at {settings().base_url.rstrip('/')}/admin/properties"
        )
        log.warning("refused a page: %s", refusal.detail)
        raise refusal
    response = Response(status=204)
    response.headers.update(
        {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": method,
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
        }
    )
    return response


def answer_page(respond: Callable[[str | None], Response]) -> Response:
    """``respond(origin)`` (which checks the origin against the property it acts for),
    readable by that page; a refusal is still explained to the shop's page if some property
    lists its origin at all (otherwise the browser hides the problem from it)."""
    origin = request.headers.get("Origin")
    try:
        response = respond(origin)
    except ConsentServiceError as exc:
        if isinstance(exc, OriginNotAllowed):
            log.warning("refused a page: %s", exc.detail)
        response = domain_problem(exc)
        if not (origin and any_property_allows(current_session(), origin)):
            return response
    if origin:
        _allow_origin(response, origin)
    return response
