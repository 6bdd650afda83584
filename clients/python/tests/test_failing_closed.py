"""Failing closed against everything that is not a working service: each answer is "not
allowed", with the reason, and nothing raises except ``check``."""

from __future__ import annotations

from client_fakes import FakeService
from client_fakes import SilentServer
from client_fakes import assert_fails_closed
from client_fakes import closed_port_url

from consent_client import ConsentClient

API_KEY = "ck_test_key"


def test_a_service_that_is_down_means_not_allowed():
    with ConsentClient(closed_port_url(), API_KEY) as client:
        assert_fails_closed(client, "cannot talk to")


def test_a_service_that_never_answers_means_not_allowed_after_the_timeout():
    silent = SilentServer()
    try:
        with ConsentClient(silent.url, API_KEY, timeout=0.2) as client:
            assert_fails_closed(client, "within 0.2 s")
    finally:
        silent.stop()


def test_a_server_error_means_not_allowed():
    broken = FakeService(lambda seen: (500, {"title": "Internal Server Error", "status": 500}))
    try:
        with ConsentClient(broken.url, API_KEY) as client:
            assert_fails_closed(client, "HTTP 500")
    finally:
        broken.stop()


def test_a_body_that_is_not_json_means_not_allowed():
    garbled = FakeService(lambda seen: (200, b'{"allowed": true, "reason": "gran'))
    try:
        with ConsentClient(garbled.url, API_KEY) as client:
            assert_fails_closed(client, "not JSON")
    finally:
        garbled.stop()
