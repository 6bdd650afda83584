"""``/admin/erasures/``: every erasure request with its status and the deadline the law
gave, for whoever answers to a regulator. People erase themselves on the preferences page;
the service completes it at once, and the shop's own copy is due by the same deadline (the
``subject.erased`` webhook carries it)."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from admin import bp
from admin.guard import requires
from consent_service.extensions import current_session
from consent_service.self_service.erasure import list_requests
from consent_service.staff.accounts import Permission


@bp.get("/erasures/")
@requires(Permission.VIEW)
def erasures() -> ResponseReturnValue:
    return render_template("admin/erasures.html", requests=list_requests(current_session()))
