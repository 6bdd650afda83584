"""``/admin/``: what the signed-in role may do: the same sections as the navigation."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from admin import bp
from admin.guard import requires
from consent_service.staff.accounts import Permission


@bp.get("/")
@requires(Permission.VIEW)
def home() -> ResponseReturnValue:
    return render_template("admin/home.html")
