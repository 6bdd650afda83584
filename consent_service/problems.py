"""RFC 9457 problem details: the only way errors leave the JSON surfaces.

Handlers are registered on the app (not on blueprints) so routing 404s and 405s are covered
too. Every problem ``type`` is a URL under ``/problems/`` that documents it.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus

from flask import Flask
from flask import Response
from flask import current_app
from flask import request
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError
from werkzeug.urls import iri_to_uri

from consent_service import errors
from consent_service.request_ids import request_id

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger(__name__)

STATUS_FOR: dict[type[errors.ConsentServiceError], HTTPStatus] = {
    errors.ValidationFailed: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.UnknownPurpose: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.MalformedRequest: HTTPStatus.BAD_REQUEST,
    errors.UnknownProperty: HTTPStatus.NOT_FOUND,
    errors.UnknownPolicy: HTTPStatus.NOT_FOUND,
    errors.PolicyVersionNotCurrent: HTTPStatus.CONFLICT,
    errors.PublishedVersionImmutable: HTTPStatus.CONFLICT,
    errors.ConcurrentConsentWrite: HTTPStatus.CONFLICT,
    errors.OriginNotAllowed: HTTPStatus.FORBIDDEN,
    errors.InvalidCredentials: HTTPStatus.UNAUTHORIZED,
    errors.InsufficientScope: HTTPStatus.FORBIDDEN,
    errors.SubjectNotAccessible: HTTPStatus.FORBIDDEN,
    errors.InvalidIdentityToken: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.IdentityConflict: HTTPStatus.CONFLICT,
    errors.UnknownApiKey: HTTPStatus.NOT_FOUND,
    errors.UnknownWebhookEndpoint: HTTPStatus.NOT_FOUND,
    errors.RateLimited: HTTPStatus.TOO_MANY_REQUESTS,
    errors.InvalidUnsubscribeLink: HTTPStatus.BAD_REQUEST,
}

# What each problem type means and what a client should do: served at /problems/<code>.
DESCRIPTIONS: dict[str, str] = {
    errors.ValidationFailed.code: "A field is missing, of the wrong type, or not allowed. "
    "`errors[]` lists each one with a JSON Pointer to it. Fix the request; do not retry as is.",
    errors.UnknownPurpose.code: "A decision names a purpose the property does not offer. "
    "Fetch the property's purposes and send decisions for exactly those.",
    errors.MalformedRequest.code: "The body is not valid JSON, or not JSON at all.",
    errors.UnknownProperty.code: "No property has this id. Check the data-property attribute.",
    errors.UnknownPolicy.code: "The policy document or version does not exist or is unpublished.",
    errors.PolicyVersionNotCurrent.code: "The person saw a policy version that is no longer "
    "(or not yet) current. Show the current version and ask again.",
    errors.PublishedVersionImmutable.code: "A published policy version never changes, so the "
    "receipts that cite it stay true. Create a new draft instead.",
    errors.ConcurrentConsentWrite.code: "Two choices for the same person arrived at once. Retry.",
    errors.InvalidCredentials.code: "The request carries no API key, a malformed one, or one "
    "that is unknown or revoked. Send 'Authorization: Bearer csk_...' with a live key.",
    errors.InsufficientScope.code: "The API key is valid but lacks the scope this call needs, "
    "or names another property. Create a key with the scope for the right property.",
    errors.SubjectNotAccessible.code: "The subject id is not one of this property's subjects. "
    "Whether it exists elsewhere is deliberately not said.",
    errors.InvalidIdentityToken.code: "The identity token does not verify with any of the "
    "property's live identity secrets, has expired, or was made for another property. "
    "Nothing was linked. Sign a fresh token on the shop's backend.",
    errors.IdentityConflict.code: "The customer reference, email or browser is already linked "
    "to a different customer. Nothing was changed; customers are never merged implicitly.",
    errors.UnknownApiKey.code: "No API key has this public id.",
    errors.RateLimited.code: "The API key has used up its requests for the current window. "
    "Wait the number of seconds in Retry-After; ask for a higher limit if this is steady load.",
    errors.UnknownWebhookEndpoint.code: "This property has no webhook endpoint with this id.",
    errors.OriginNotAllowed.code: "The page that sent the choice is not on the property's list "
    "of allowed origins. Add the shop's origin (scheme://host[:port]) to the property.",
    errors.InvalidUnsubscribeLink.code: "The unsubscribe link's token is missing, altered or "
    "was not made by this service. Nothing was changed; use the link from the email as it is.",
}


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
    return f"{current_app.extensions['consent_settings'].base_url}/problems/{code}"


def domain_problem(exc: errors.ConsentServiceError) -> Response:
    status = STATUS_FOR.get(type(exc), HTTPStatus.BAD_REQUEST)
    extensions: dict[str, object] = {}
    if exc.errors:
        extensions["errors"] = [{"pointer": e.pointer, "detail": e.detail} for e in exc.errors]
    response = problem(
        status, title=exc.title, type_=problem_type_url(exc.code), detail=exc.detail, **extensions
    )
    if status == HTTPStatus.UNAUTHORIZED:
        response.headers["WWW-Authenticate"] = 'Bearer realm="consent-service"'
    if isinstance(exc, errors.RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _handle_http(exc: HTTPException) -> Response | HTTPException:
    # Server-rendered surfaces (the admin) register an HTML renderer for their path prefix.
    for prefix, render in current_app.extensions.get("html_error_pages", ()):
        if request.path == prefix.rstrip("/") or request.path.startswith(prefix):
            page: Response = render(exc)
            return page
    status = exc.code or 500
    if isinstance(exc, InternalServerError):
        # Never echo an unexpected error's message: it may carry internals.
        return problem(
            500,
            title=HTTPStatus(500).phrase,
            detail="An unexpected error occurred; it has been logged.",
        )
    response = problem(status, title=HTTPStatus(status).phrase, detail=exc.description)
    for name, value in exc.get_headers():
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(errors.ConsentServiceError, domain_problem)
    app.register_error_handler(HTTPException, _handle_http)
