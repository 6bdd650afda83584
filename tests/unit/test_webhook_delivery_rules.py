"""How answers are read, when attempts are retried, and which targets are refused."""

from __future__ import annotations

import datetime as dt
import ipaddress
import random

import pytest

from consent_service.messaging.http_transport import HttpTransport
from consent_service.messaging.outbox import MAX_ATTEMPTS
from consent_service.messaging.outbox import SCHEDULE
from consent_service.messaging.outbox import Verdict
from consent_service.messaging.outbox import retry_delay
from consent_service.messaging.webhooks import HttpAnswer
from consent_service.messaging.webhooks import TransportError
from consent_service.messaging.webhooks import is_public_address
from consent_service.messaging.webhooks import parse_retry_after
from consent_service.messaging.webhooks import read_answer
from consent_service.messaging.webhooks import url_problems

NOW = dt.datetime(2026, 5, 2, 10, 0, tzinfo=dt.UTC)


def test_the_schedule_is_the_specs_ten_attempts() -> None:
    assert MAX_ATTEMPTS == 10
    assert [int(s.total_seconds()) for s in SCHEDULE] == [
        0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400,
    ]  # fmt: skip


@pytest.mark.parametrize("attempts_made", range(1, 10))
def test_each_retry_waits_its_step_give_or_take_twenty_percent(attempts_made: int) -> None:
    step = SCHEDULE[attempts_made]
    delays = [retry_delay(attempts_made, rng=random.Random(seed)) for seed in range(50)]
    assert all(step * 0.8 <= d <= step * 1.2 for d in delays)
    assert len(set(delays)) > 1  # jittered


def test_a_longer_retry_after_wins_over_the_schedule() -> None:
    assert retry_delay(1, dt.timedelta(minutes=2)) == dt.timedelta(minutes=2)


def test_a_retry_after_is_honoured_for_at_most_a_day() -> None:
    assert retry_delay(1, dt.timedelta(days=30)) == dt.timedelta(days=1)


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_any_2xx_is_delivered(status: int) -> None:
    assert read_answer(HttpAnswer(status), NOW).verdict is Verdict.DELIVERED


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_failure(status: int) -> None:
    outcome = read_answer(HttpAnswer(status), NOW)
    assert outcome.verdict is Verdict.RETRY
    assert "not followed" in (outcome.error or "")


def test_410_means_the_endpoint_is_gone() -> None:
    assert read_answer(HttpAnswer(410), NOW).verdict is Verdict.GONE


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_answers_carry_their_retry_after(status: int) -> None:
    outcome = read_answer(HttpAnswer(status, "120"), NOW)
    assert outcome.verdict is Verdict.RETRY
    assert outcome.retry_after == dt.timedelta(seconds=120)


def test_retry_after_is_ignored_on_an_ordinary_error() -> None:
    assert read_answer(HttpAnswer(500, "120"), NOW).retry_after is None


def test_retry_after_may_be_an_http_date() -> None:
    value = "Sat, 02 May 2026 10:05:00 GMT"
    assert parse_retry_after(value, NOW) == dt.timedelta(minutes=5)


def test_an_unreadable_retry_after_is_ignored() -> None:
    assert parse_retry_after("soon", NOW) is None


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "::1",
     "fe80::1", "fc00::1", "::ffff:127.0.0.1", "0.0.0.0", "224.0.0.1"],
)  # fmt: skip
def test_non_public_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::1111"])
def test_public_addresses_are_public(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("http://hooks.example.com/x", "https"),
        ("ftp://hooks.example.com/x", "https"),
        ("https:///nohost", "host"),
        ("https://user:pw@hooks.example.com/", "credentials"),
        ("https://hooks.example.com/#frag", "fragment"),
        ("https://hooks.example.com:99999/", "port"),
        ("https://127.0.0.1/hook", "public"),
        ("https://localhost/hook", "public"),
        ("https://metadata.internal/", "public"),
        ("https://[::1]/hook", "public"),
        ("https://hooks.example.com/a b", "spaces"),
    ],
)
def test_unsafe_urls_are_refused_with_a_pointer_to_url(url: str, detail: str) -> None:
    problems = url_problems(url, allow_private_networks=False)
    assert [p.pointer for p in problems] == ["/url"]
    assert detail in problems[0].detail


def test_a_public_https_url_is_fine() -> None:
    assert url_problems("https://hooks.example.com/consent?t=1", allow_private_networks=False) == []


def test_development_allows_http_to_loopback() -> None:
    assert url_problems("http://127.0.0.1:8080/hook", allow_private_networks=True) == []


def test_the_transport_refuses_a_name_that_resolves_to_a_private_address() -> None:
    transport = HttpTransport(
        allow_private_networks=False, resolve=lambda host, port: ["93.184.215.14", "10.0.0.5"]
    )
    with pytest.raises(TransportError, match="private"):
        transport("https://rebinding.example/hook", b"{}", {})


def test_the_transport_refuses_plain_http_in_production() -> None:
    transport = HttpTransport(allow_private_networks=False)
    with pytest.raises(TransportError, match="https"):
        transport("http://hooks.example.com/hook", b"{}", {})
