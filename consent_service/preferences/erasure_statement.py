"""The erasure statement's download for the person erased: linked from the page shown right
after erasure, by a token naming that request only (their session ended with the erasure)."""

from __future__ import annotations

import uuid

from flask import request
from werkzeug.wrappers import Response

from consent_service.extensions import current_session
from consent_service.extensions import settings
from consent_service.preferences import bp
from consent_service.preferences.view import attachment
from consent_service.preferences.view import page_locale
from consent_service.preferences.view import render
from consent_service.preferences.view import texts
from consent_service.self_service.erasure_proof import MEDIA_TYPE
from consent_service.self_service.erasure_proof import downloadable_statement
from consent_service.self_service.erasure_proof import statement_filename


@bp.get("/preferences/erasures/<uuid:request_id>/statement.jws")
def preferences_erasure_statement(request_id: uuid.UUID) -> Response:
    found = downloadable_statement(
        current_session(), settings().secret_key, request_id, request.args.get("token", "")
    )
    if found is None or found.statement_jws is None:
        return render("message.html", status=404, heading=texts(page_locale()).not_found)
    return attachment(found.statement_jws, statement_filename(found), MEDIA_TYPE)
