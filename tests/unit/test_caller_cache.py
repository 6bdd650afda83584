"""The per-process cache of verified API keys, and its ration of last-used writes."""

from __future__ import annotations

import uuid

from consent_service.integrations.api_keys import Caller
from consent_service.integrations.api_keys import CallerCache
from tests.support import MonotonicClock

CALLER = Caller(uuid.uuid4(), "abcdef123456", 1, "demo-shop", frozenset(), None, None)


def test_a_verified_key_is_trusted_within_the_ttl_and_checked_again_after():
    clock, loads = MonotonicClock(), []
    cache = CallerCache(ttl=2, clock=clock)

    def load() -> Caller:
        loads.append(1)
        return CALLER

    cache.caller("csk_token", load)
    clock.now += 1.9
    cache.caller("csk_token", load)
    clock.now += 0.1
    cache.caller("csk_token", load)
    assert loads == [1, 1]


def test_forgetting_makes_the_next_call_check_the_key_again():
    loads = []
    cache = CallerCache(ttl=60)
    cache.caller("csk_token", lambda: loads.append(1) or CALLER)
    cache.forget()
    cache.caller("csk_token", lambda: loads.append(1) or CALLER)
    assert loads == [1, 1]


def test_last_used_is_recorded_at_most_once_a_minute_per_key():
    clock = MonotonicClock()
    cache = CallerCache(ttl=0, clock=clock)
    assert cache.due_for_last_used(CALLER) is True
    clock.now += 59
    assert cache.due_for_last_used(CALLER) is False
    clock.now += 1
    assert cache.due_for_last_used(CALLER) is True
