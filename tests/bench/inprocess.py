"""In-process WSGI throughput: no sockets, so only the application's own cost is measured."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable

from flask import Flask
from flask import jsonify
from flask import request
from werkzeug.test import EnvironBuilder

from tests.support import demo_consent


def bare_app() -> Flask:
    """The baseline: a Flask endpoint that reads the same JSON body and answers JSON."""
    app = Flask("bare")

    @app.post("/v1/consents")
    def echo():
        body = request.get_json()
        return jsonify(ok=True, fields=len(body)), 201

    @app.get("/v1/banner")
    def static_json():
        return jsonify(property=request.args["property"], ok=True)

    @app.get("/v1/decisions")
    def echo_query():
        return jsonify(subject=request.args["subject"], purpose=request.args["purpose"], ok=True)

    return app


def consent_bodies(count: int) -> list[bytes]:
    """Distinct first-time visitors: the common case on a shop (a banner choice per visitor)."""
    return [json.dumps(demo_consent()).encode() for _ in range(count)]


def get_rate(app: Callable, path: str, count: int) -> float:
    """Requests per second for ``count`` GETs of ``path`` (with query) through ``app``."""
    environ_template = EnvironBuilder(path=path).get_environ()
    statuses: list[str] = []

    def start_response(status: str, headers: list, exc_info: object = None) -> None:
        statuses.append(status)

    started = time.perf_counter()
    for _ in range(count):
        b"".join(app(dict(environ_template), start_response))
    elapsed = time.perf_counter() - started
    if any(not s.startswith("200") for s in statuses):
        raise RuntimeError(f"GET {path} failed: {statuses[0]}")
    return count / elapsed


def post_rate(app: Callable, bodies: list[bytes], *, expect: int = 201) -> float:
    """Requests per second for POSTing each body once through ``app``'s WSGI callable."""
    template = EnvironBuilder(
        path="/v1/consents", method="POST", content_type="application/json"
    ).get_environ()
    statuses: list[str] = []
    failures: list[bytes] = []

    def start_response(status: str, headers: list, exc_info: object = None) -> None:
        statuses.append(status)

    started = time.perf_counter()
    for body in bodies:
        environ = dict(template, CONTENT_LENGTH=str(len(body)))
        environ["wsgi.input"] = io.BytesIO(body)
        chunks = b"".join(app(environ, start_response))
        if not statuses[-1].startswith(str(expect)):
            failures.append(chunks)
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed, e.g. {failures[0][:300]!r}")
    return len(bodies) / elapsed
