"""CORS for the endpoints the widget calls from shops' pages: only origins a property lists."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response
from flask import request

from consent_service.errors import ConsentServiceError
from consent_service.errors import OriginNotAllowed
from consent_service.extensions import current_session
from consent_service.problems import domain_problem
from consent_service.properties.lookup import any_property_allows


def allow_origin(response: Response, origin: str) -> None:
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers.add("Vary", "Origin")


def preflight(method: str, what: str) -> Response:
    """Answer a preflight for ``method`` if some property lists the Origin (the request
    itself is checked against its own property again)."""
    origin = request.headers.get("Origin", "")
    if not origin or not any_property_allows(current_session(), origin):
        raise OriginNotAllowed(f"{origin or 'a request without Origin'} may not {what}")
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
    """``respond(origin)``; a refusal is still explained to the shop's page, if some
    property lists its origin at all (otherwise the browser hides the problem from it)."""
    origin = request.headers.get("Origin")
    try:
        return respond(origin)
    except ConsentServiceError as exc:
        response = domain_problem(exc)
        if origin and any_property_allows(current_session(), origin):
            allow_origin(response, origin)
        return response
