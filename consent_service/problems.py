"""RFC 9457 problem details: the only way errors leave the JSON surfaces.

Handlers are registered on the app (not on blueprints) so routing 404s and 405s are covered
too. Every problem ``type`` is a URL under ``/problems/`` that documents it. Any domain error
is answered from its class's attributes alone (``errors.py``); one that is the service's own
fault is answered as an unexpected error. A database that cannot be reached in time is
answered, whatever the request, as the fail-closed 503 ``database-unavailable``. Under a
server-rendered surface's path prefix (the admin's, the preferences site's), HTTP and domain
errors alike become that surface's HTML error page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import cast

from flask import Flask
from flask import Response
from flask import current_app
from flask import request
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError
from werkzeug.exceptions import ServiceUnavailable
from werkzeug.exceptions import default_exceptions
from werkzeug.urls import iri_to_uri

from consent_service import errors
from consent_service.extensions import settings
from consent_service.web.request_ids import request_id

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger(__name__)
# Seconds a client is asked to wait before asking again when the database is not answering.
DATABASE_RETRY_AFTER = 5


def problem(
    status: int,
    *,
    title: str,
    type_: str = "about:blank",
    detail: str | None = None,
    **extensions: object,
) -> Response:
    body: dict[str, object] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body["instance"] = iri_to_uri(request.path)  # a URI reference, so percent-encoded
    body["request_id"] = request_id()
    body.update(extensions)
    return Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE)


def problem_type_url(code: str) -> str:
    return f"{settings().base_url}/problems/{code}"


def domain_problem(exc: errors.ConsentServiceError) -> Response:
    """``exc`` as problem details. One of status 500 or more is the service's own fault (an
    :class:`~consent_service.errors.InternalError`): it is raised on, so that Flask logs it
    and answers it as any unexpected error, never echoing its detail."""
    status = exc.status
    if isinstance(exc, errors.InternalError):
        raise exc
    extensions: dict[str, object] = {}
    if exc.errors:
        extensions["errors"] = [{"pointer": e.pointer, "detail": e.detail} for e in exc.errors]
    response = problem(
        status, title=exc.title, type_=problem_type_url(exc.code), detail=exc.detail, **extensions
    )
    if status == HTTPStatus.UNAUTHORIZED:
        response.headers["WWW-Authenticate"] = 'Bearer realm="consent-service"'
    if isinstance(exc, errors.RetryLater):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _handle_domain(exc: errors.ConsentServiceError) -> Response:
    render = _html_error_page()
    if render is None or isinstance(exc, errors.InternalError):
        return domain_problem(exc)
    if isinstance(exc, errors.DatabaseUnavailable):
        page: Response = render(
            ServiceUnavailable(description=exc.detail, retry_after=exc.retry_after)
        )
        return page
    page = render(default_exceptions[exc.status](description=exc.detail))
    return page


def _handle_database_unreachable(
    exc: sa_exc.OperationalError | sa_exc.TimeoutError,
) -> Response:
    """The one translation of "the database did not answer in time" (cannot connect, a
    statement cut at its limit, no pooled connection free, a lock not granted): fail closed
    with a 503 that names the cause, never a 500. Logged without the statement's parameters
    (they may hold personal data)."""
    log.warning(
        "database unavailable on %s %s: %s",
        request.method,
        request.path,
        type(getattr(exc, "orig", None) or exc).__name__,
    )
    return _handle_domain(
        errors.DatabaseUnavailable(
            "The database did not answer in time; nothing was read or written.",
            retry_after=DATABASE_RETRY_AFTER,
        )
    )


def _handle_http(exc: HTTPException) -> Response | HTTPException:
    render = _html_error_page()
    if render is not None:
        page: Response = render(exc)
        return page
    status = exc.code or 500
    if isinstance(exc, InternalServerError):
        # Never echo an unexpected error's message: it may carry internals.
        return problem(
            500,
            title=errors.status_title(500),
            detail="An unexpected error occurred; it has been logged.",
        )
    response = problem(status, title=errors.status_title(status), detail=exc.description)
    for name, value in exc.get_headers():
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response


def _html_error_page() -> Callable[[HTTPException], Response] | None:
    """The HTML renderer a server-rendered surface (the admin) registered for this request's
    path prefix, if any."""
    for prefix, render in current_app.extensions.get("html_error_pages", ()):
        if request.path == prefix.rstrip("/") or request.path.startswith(prefix):
            return cast(Callable[[HTTPException], Response], render)
    return None


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(errors.ConsentServiceError, _handle_domain)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(sa_exc.OperationalError, _handle_database_unreachable)
    app.register_error_handler(sa_exc.TimeoutError, _handle_database_unreachable)
