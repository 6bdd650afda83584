"""Published policy versions, byte-exact: the SHA-256 receipts carry is the hash of this body."""

from __future__ import annotations

import base64
from http import HTTPStatus

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


@bp.get("/v1/policies/<property_key>/<document_key>/<int(min=1, max=2147483647):number>")
@doc.operation(
    "getPolicyVersion",
    "Policies",
    path={
        "property_key": doc.PROPERTY_KEY,
        "document_key": doc.DOCUMENT_KEY,
        "number": doc.PathParam("The version number.", 2),
    },
    parameters=[doc.IF_NONE_MATCH],
    responses={
        200: doc.Answer(
            "The policy text (Markdown).",
            {"type": "string"},
            media_type="text/markdown",
            headers={
                "ETag": doc.ETAG,
                "Cache-Control": doc.CACHE_CONTROL,
                "Access-Control-Allow-Origin": doc.ALLOW_ORIGIN,
                "Repr-Digest": doc.always(
                    doc.described_header(
                        "RFC 9530 digest: `sha-256=:<base64>:`, the receipts' hash."
                    )
                ),
                "X-Policy-Version": doc.always(
                    doc.described_header("The version number.", "integer")
                ),
            },
        ),
        304: doc.NOT_MODIFIED,
    },
    raises=(UnknownPolicy, HTTPStatus.NOT_FOUND),
)
def policy_version(property_key: str, document_key: str, number: int) -> Response:
    """A published policy version, byte-exact

    Receipts carry the SHA-256 of exactly these bytes (also sent as `Repr-Digest`). A
    published version never changes, so it is cached for good.
    """
    version = get_published(current_session(), property_key, document_key, number)
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
