"""The limits on a request hold over real HTTP, as gunicorn serves the app with this
repository's ``gunicorn.conf.py``: a body sent in chunks is measured against
``CONSENT_MAX_BODY_BYTES`` (413, not cut short and accepted), and an oversized URL or header
gets the service's problem+json, up to where gunicorn itself refuses the request."""

from __future__ import annotations

import http.client
import json
import runpy
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from consent_service.web import request_limits
from tests.bench.http_load import served
from tests.support import demo_consent
from tests.support import make_settings
from tests.support import own_database_url
from tests.support import settings_environment
from tests.support import shut_down
from tests.support import started_on_fresh_database

pytestmark = pytest.mark.slow  # a gunicorn process of its own
PROBLEM = "application/problem+json"
LIMIT = 16 * 1024
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, sa.Engine]]:
    instance = tmp_path_factory.mktemp("served-limits")
    settings = make_settings(instance, own_database_url(instance, "served_limits"))
    shut_down(started_on_fresh_database(settings))  # migrated, with the demo shop
    env = {**settings_environment(settings), "CONSENT_MAX_BODY_BYTES": str(LIMIT)}
    engine = sa.create_engine(settings.database_url)
    with served("wsgi:app", env) as port:
        yield port, engine
    engine.dispose()


def _receipts(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(sa.text("SELECT count(*) FROM consent_receipts"))


def _exchange(port: int, method: str, path: str, **request: object):
    """One request on its own connection: (the response, its body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, **request)  # type: ignore[arg-type]
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def _post_chunked(port: int, body: bytes, chunk: int = 1000):
    pieces = [body[i : i + chunk] for i in range(0, len(body), chunk)]
    headers = {"Content-Type": "application/json"}
    return _exchange(
        port, "POST", "/v1/consents", body=iter(pieces), headers=headers, encode_chunked=True
    )


def test_a_chunked_body_beyond_the_limit_is_413_and_records_nothing(server):
    port, engine = server
    before = _receipts(engine)
    body = json.dumps(demo_consent()).encode()
    padded = body + b" " * (LIMIT + 1 - len(body))  # whitespace: valid JSON however cut
    response, _ = _post_chunked(port, padded)
    assert response.status == 413
    assert response.getheader("Content-Type") == PROBLEM
    assert _receipts(engine) == before


def test_a_chunked_body_at_the_limit_is_read_whole(server):
    port, engine = server
    before = _receipts(engine)
    body = json.dumps(demo_consent()).encode()
    response, answer = _post_chunked(port, body + b" " * (LIMIT - len(body)))
    assert response.status == 201, answer
    assert _receipts(engine) == before + 1


def _get(port: int, path: str, headers: dict[str, str] | None = None):
    return _exchange(port, "GET", path, headers=headers or {})


def test_a_url_beyond_the_service_s_limit_is_a_414_problem(server):
    response, body = _get(server[0], "/v1/banner?property=demo-shop&x=" + "a" * 5000)
    assert response.status == 414
    assert response.getheader("Content-Type") == PROBLEM
    assert json.loads(body)["status"] == 414


def test_a_header_beyond_the_service_s_limit_is_a_431_problem(server):
    response, body = _get(server[0], "/healthz", {"X-Padding": "a" * 9000})
    assert response.status == 431
    assert response.getheader("Content-Type") == PROBLEM
    assert "X-Padding" in json.loads(body)["detail"]


def test_beyond_gunicorn_s_own_limits_gunicorn_answers(server):
    response, _ = _get(server[0], "/healthz?x=" + "a" * 9000)
    assert response.status == 414  # gunicorn's page: it refuses before the app runs


def test_gunicorn_s_limits_sit_above_the_service_s():
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["limit_request_line"] > request_limits.MAX_URL_BYTES + len("GET  HTTP/1.1")
    assert config["limit_request_field_size"] > request_limits.MAX_HEADER_FIELD_BYTES
