"""Published policy versions, byte-exact: the SHA-256 receipts carry is the hash of this body."""

from __future__ import annotations

import base64

from flask import Response
from flask import redirect
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue

from consent_service.api import bp
from consent_service.documents.versions import current_version
from consent_service.documents.versions import get_document
from consent_service.documents.versions import get_published
from consent_service.errors import UnknownPolicy
from consent_service.extensions import current_session


@bp.get("/v1/policies/<property_key>/<document_key>/<int(min=1, max=2147483647):number>")
def policy_version(property_key: str, document_key: str, number: int) -> Response:
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
def latest_policy_version(property_key: str, document_key: str) -> ResponseReturnValue:
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
