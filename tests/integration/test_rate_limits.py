"""Each API key has its own rate limit; beyond it, 429 with Retry-After. Limits live in
memory in the embedded mode and in Redis when several processes share them."""

from __future__ import annotations

import os
import socket
import uuid

import pytest

from consent_service.extensions import db
from consent_service.integrations.api_keys import create_api_key
from tests.support import make_settings
from tests.support import shut_down
from tests.support import started_on_fresh_database

LOOKUP = {"subject": "customer:c-1", "purpose": "marketing"}
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def test_a_key_beyond_its_limit_gets_429_with_retry_after(client, api_key):
    headers = api_key("consent:read", rate_limit="2/minute")
    statuses = [
        client.get("/v1/decisions", query_string=LOOKUP, headers=headers).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    limited = client.get("/v1/decisions", query_string=LOOKUP, headers=headers)
    assert limited.mimetype == "application/problem+json"
    assert 0 < int(limited.headers["Retry-After"]) <= 60


def test_one_keys_limit_does_not_hold_back_another_key(client, api_key):
    busy = api_key("consent:read", rate_limit="1/minute")
    other = api_key("consent:read", rate_limit="1/minute")
    client.get("/v1/decisions", query_string=LOOKUP, headers=busy)
    assert client.get("/v1/decisions", query_string=LOOKUP, headers=busy).status_code == 429
    assert client.get("/v1/decisions", query_string=LOOKUP, headers=other).status_code == 200


def test_a_request_with_a_bad_key_is_refused_before_it_counts_against_anyone(client, api_key):
    headers = api_key("consent:read", rate_limit="1/minute")
    for _ in range(3):
        client.get("/v1/decisions", query_string=LOOKUP, headers={"Authorization": "Bearer x"})
    assert client.get("/v1/decisions", query_string=LOOKUP, headers=headers).status_code == 200


def redis_reachable() -> bool:
    host, port = REDIS_URL.split("//")[1].split("/")[0].split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_limited_apps(tmp_path):
    """Two app processes' worth of state (two apps) sharing one database and one Redis."""
    if not redis_reachable():
        if os.environ.get("CI"):
            pytest.fail(f"CI must test Redis rate limits, but {REDIS_URL} is not reachable")
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    settings = make_settings(
        tmp_path, f"sqlite:///{tmp_path / 'limits.db'}", rate_limit_storage=REDIS_URL
    )
    first = started_on_fresh_database(settings)
    from consent_service import create_app

    second = create_app(settings)
    yield first, second
    shut_down(first)
    shut_down(second)


def test_limits_kept_in_redis_are_shared_by_every_process(redis_limited_apps):
    first, second = redis_limited_apps
    with first.app_context():
        issued = create_api_key(
            db.session(),
            "demo-shop",
            name=f"redis-{uuid.uuid4()}",
            scopes=["consent:read"],
            rate_limit="2/minute",
        )
        db.session.commit()
    headers = {"Authorization": f"Bearer {issued.plaintext}"}
    statuses = [
        app.test_client().get("/v1/decisions", query_string=LOOKUP, headers=headers).status_code
        for app in (first, second, first, second)
    ]
    assert statuses == [200, 200, 429, 429]
