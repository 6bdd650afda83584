"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from http import HTTPStatus

from flask import Response
from flask import jsonify

from consent_service.api import bp
from consent_service.api import operations as doc
from consent_service.api.response_schemas import HealthSchema
from consent_service.api.response_schemas import ReadySchema
from consent_service.extensions import current_session
from consent_service.infra.database import answer_within
from consent_service.infra.database import database_ready
from consent_service.problems import problem

_health = HealthSchema()
_ready = ReadySchema()
# Readiness answers within about this many seconds, whatever the database does.
READINESS_BUDGET_SECONDS = 2.0


@bp.get("/healthz")
@doc.operation("healthz", "Operations", responses={200: doc.Answer("Alive.", HealthSchema)})
def healthz() -> Response:
    """Liveness: the process answers"""
    # It says nothing about the process's dependencies (that is /readyz) and never touches
    # the database: a database outage must not get the process restarted.
    return jsonify(_health.dump({"status": "ok"}))


@bp.get("/readyz")
@doc.operation(
    "readyz",
    "Operations",
    responses={200: doc.Answer("Ready.", ReadySchema)},
    raises=(HTTPStatus.SERVICE_UNAVAILABLE,),
)
def readyz() -> Response:
    """Readiness: the database answers and has the schema"""
    with answer_within(READINESS_BUDGET_SECONDS):
        failure = database_ready(current_session())
    if failure:
        return problem(503, title="Service Unavailable", detail=f"database not ready: {failure}")
    return jsonify(_ready.dump({"status": "ready"}))
