"""``/problems/<code>``: the documentation each problem ``type`` URL points to."""

from __future__ import annotations

from http import HTTPStatus

from flask import Response
from flask import jsonify
from werkzeug.exceptions import NotFound

from consent_service import errors
from consent_service.api import bp
from consent_service.api import operations as doc
from consent_service.api.response_schemas import ProblemTypeSchema

_schema = ProblemTypeSchema()


@bp.get("/problems/<code>")
@doc.operation(
    "getProblemType",
    "Verification",
    path={
        "code": doc.PathParam(
            "The last segment of a problem's `type` URL.",
            schema={"enum": list(errors.problem_types())},
        )
    },
    responses={200: doc.Answer("The problem type.", ProblemTypeSchema, headers=doc.CACHE_HEADERS)},
    raises=(HTTPStatus.NOT_FOUND,),
)
def problem_type(code: str) -> Response:
    """What a problem type means and what to do about it"""
    kind = errors.problem_types().get(code)
    if kind is None:
        raise NotFound(f"no problem type {code!r}")
    response = jsonify(_schema.dump(kind))
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
