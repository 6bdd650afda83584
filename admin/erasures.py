"""``/admin/erasures/``: every erasure request with its status and the deadline the law
gave, for whoever answers to a regulator, and each one's signed statement to download. People
erase themselves on the preferences page; the service completes it at once, and the shop's
own copy is due by the same deadline (the ``subject.erased`` webhook carries it)."""

from __future__ import annotations

import uuid

from flask import abort
from flask import render_template
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from admin import bp
from admin.guard import requires
from consent_service.extensions import current_session
from consent_service.models import ErasureRequest
from consent_service.self_service.erasure import list_requests
from consent_service.self_service.erasure_proof import MEDIA_TYPE
from consent_service.self_service.erasure_proof import statement_filename
from consent_service.staff.accounts import Permission


@bp.get("/erasures/")
@requires(Permission.VIEW)
def erasures() -> ResponseReturnValue:
    return render_template("admin/erasures.html", requests=list_requests(current_session()))


@bp.get("/erasures/<uuid:request_id>/statement.jws")
@requires(Permission.VIEW)
def erasure_statement(request_id: uuid.UUID) -> ResponseReturnValue:
    found = current_session().get(ErasureRequest, request_id)
    if found is None or found.statement_jws is None:
        abort(404)
    response = Response(found.statement_jws, content_type=MEDIA_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{statement_filename(found)}"'
    return response
