"""``/problems/<code>``: the documentation each problem ``type`` URL points to."""

from __future__ import annotations

from flask import Response
from flask import jsonify
from werkzeug.exceptions import NotFound

from consent_service import errors
from consent_service.api import bp


@bp.get("/problems/<code>")
def problem_type(code: str) -> Response:
    kind = errors.problem_types().get(code)
    if kind is None:
        raise NotFound(f"no problem type {code!r}")
    response = jsonify(type=code, title=kind.title, description=kind.description)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
