"""Published policy versions, byte-exact: the SHA-256 receipts carry is the hash of this body."""

from __future__ import annotations

import base64
from http import HTTPStatus
from typing import Any

from flask import Response
from flask import redirect
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue

from consent_service.api import bp
from consent_service.api import operations as doc
from consent_service.documents.versions import current_version
from consent_service.documents.versions import get_document
from consent_service.documents.versions import get_published
from consent_service.errors import UnknownPolicy
from consent_service.extensions import current_session
from consent_service.models import PolicyVersion

_NUMBER = "int(min=1, max=2147483647)"
_TEXT_HEADERS = {
    "ETag": doc.ETAG,
    "Cache-Control": doc.CACHE_CONTROL,
    "Access-Control-Allow-Origin": doc.ALLOW_ORIGIN,
    "Vary": doc.VARY,
    "Repr-Digest": doc.always(
        doc.described_header("RFC 9530 digest: `sha-256=:<base64>:`, the receipts' hash.")
    ),
    "X-Policy-Version": doc.always(doc.described_header("The version number.", "integer")),
}


def _text_answer(headers: dict[str, dict[str, Any]]) -> doc.Answer:
    return doc.Answer(
        "The policy text (Markdown).",
        {"type": "string"},
        media_type="text/markdown",
        headers=headers,
    )


_VERSION_PATH = {
    "property_key": doc.PROPERTY_KEY,
    "document_key": doc.DOCUMENT_KEY,
    "number": doc.PathParam("The version number.", 2),
}


@bp.get(f"/v1/policies/<property_key>/<document_key>/<{_NUMBER}:number>")
@doc.operation(
    "getPolicyVersion",
    "Policies",
    path=_VERSION_PATH,
    parameters=[doc.IF_NONE_MATCH],
    responses={
        200: _text_answer(_TEXT_HEADERS),
        303: doc.Answer(
            "The client prefers `text/html` to `text/markdown` (a browser following a link): "
            "the rendered page of this version.",
            headers={
                "Location": doc.header("Location", required=True),
                "Cache-Control": doc.CACHE_CONTROL,
                "Vary": doc.VARY,
            },
        ),
        304: doc.NOT_MODIFIED,
    },
    raises=(UnknownPolicy, HTTPStatus.NOT_FOUND),
)
def policy_version(property_key: str, document_key: str, number: int) -> ResponseReturnValue:
    """A published policy version, byte-exact

    Receipts carry the SHA-256 of exactly these bytes (also sent as `Repr-Digest`), and this
    URL as `policy.url`. A client that prefers `text/html` to `text/markdown` (a person's
    browser; `*/*` and no `Accept` get the bytes) is sent to the rendered page instead; the
    `.md` URL gives the bytes to every client. A published version never changes, so it is
    cached for good.
    """
    version = get_published(current_session(), property_key, document_key, number)
    accept = request.accept_mimetypes
    if accept["text/html"] > accept["text/markdown"]:
        page = url_for(
            "preferences.policy_page",
            property_key=property_key,
            document_key=document_key,
            number=version.number,
        )
        response = redirect(page, code=303)
        response.headers["Cache-Control"] = "public, max-age=86400"
        response.vary.add("Accept")
        return response
    response = _text(version)
    response.vary.add("Accept")
    return response


@bp.get(f"/v1/policies/<property_key>/<document_key>/<{_NUMBER}:number>.md")
@doc.operation(
    "getPolicyVersionText",
    "Policies",
    path=_VERSION_PATH,
    parameters=[doc.IF_NONE_MATCH],
    responses={
        200: _text_answer({k: v for k, v in _TEXT_HEADERS.items() if k != "Vary"}),
        304: doc.NOT_MODIFIED,
    },
    raises=(UnknownPolicy, HTTPStatus.NOT_FOUND),
)
def policy_version_text(property_key: str, document_key: str, number: int) -> Response:
    """A published policy version, byte-exact, whatever the client accepts

    The same bytes as `getPolicyVersion`, for a link a person follows in a browser (the
    rendered page links here as "the exact text").
    """
    return _text(get_published(current_session(), property_key, document_key, number))


def _text(version: PolicyVersion) -> Response:
    """The version's exact bytes (or 304), with the headers that let anyone check them."""
    etag = version.sha256
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(
            version.body.encode("utf-8"), content_type="text/markdown; charset=utf-8"
        )
        digest = base64.b64encode(bytes.fromhex(version.sha256)).decode()
        response.headers["Repr-Digest"] = f"sha-256=:{digest}:"  # RFC 9530
    response.set_etag(etag)
    # A published version never changes, so caches may keep it for good.
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["X-Policy-Version"] = str(version.number)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/v1/policies/<property_key>/<document_key>/latest")
@doc.operation(
    "getLatestPolicyVersion",
    "Policies",
    path={"property_key": doc.PROPERTY_KEY, "document_key": doc.DOCUMENT_KEY},
    responses={
        302: doc.Answer(
            "The version in effect now (`no-cache`: this moves on publication).",
            headers={
                "Location": doc.header("Location", required=True),
                "Cache-Control": doc.CACHE_CONTROL,
            },
        )
    },
    raises=(UnknownPolicy,),
)
def latest_policy_version(property_key: str, document_key: str) -> ResponseReturnValue:
    """Redirect to the version in effect"""
    document = get_document(current_session(), property_key, document_key)
    version = current_version(current_session(), document.id)
    if version is None:
        raise UnknownPolicy(f"{document_key!r} of {property_key!r} has no version in effect yet")
    target = url_for(
        ".policy_version",
        property_key=property_key,
        document_key=document_key,
        number=version.number,
    )
    response = redirect(target, code=302)
    # "Latest" moves the moment a version is published: caches must ask every time.
    response.headers["Cache-Control"] = "no-cache"
    return response
