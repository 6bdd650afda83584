"""``/problems/<code>``: the documentation each problem ``type`` URL points to."""

from __future__ import annotations

from flask import Response
from flask import jsonify
from werkzeug.exceptions import NotFound

from consent_service import errors
from consent_service.api import bp
from consent_service.problems import DESCRIPTIONS


def _titles() -> dict[str, str]:
    found: dict[str, str] = {}
    pending: list[type[errors.ConsentServiceError]] = [errors.ConsentServiceError]
    while pending:
        cls = pending.pop()
        found[cls.code] = cls.title
        pending.extend(cls.__subclasses__())
    return found


@bp.get("/problems/<code>")
def problem_type(code: str) -> Response:
    description = DESCRIPTIONS.get(code)
    if description is None:
        raise NotFound(f"no problem type {code!r}")
    response = jsonify(type=code, title=_titles()[code], description=description)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
