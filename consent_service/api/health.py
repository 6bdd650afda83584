"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from flask import Response
from flask import jsonify

from consent_service.api import bp
from consent_service.extensions import current_session
from consent_service.infra.database import database_ready
from consent_service.problems import problem


@bp.get("/healthz")
def healthz() -> Response:
    """The process answers; says nothing about its dependencies."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Response:
    """Ready to serve: the database answers and has the schema."""
    failure = database_ready(current_session())
    if failure:
        return problem(503, title="Service Unavailable", detail=f"database not ready: {failure}")
    return jsonify(status="ready")
