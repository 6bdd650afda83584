"""The per-process banner cache: fresh within its TTL, never older than it."""

from __future__ import annotations

from consent_service.banner.cache import BannerCache
from tests.support import MonotonicClock


def test_a_fingerprint_is_reused_within_the_ttl():
    clock, loads = MonotonicClock(), []
    cache: BannerCache[int, bytes] = BannerCache(ttl=2, clock=clock)
    cache.fingerprint("shop", lambda: loads.append(1) or 1)
    clock.now += 1.9
    cache.fingerprint("shop", lambda: loads.append(2) or 2)
    assert loads == [1]


def test_a_fingerprint_is_reloaded_once_the_ttl_has_passed():
    clock = MonotonicClock()
    cache: BannerCache[int, bytes] = BannerCache(ttl=2, clock=clock)
    cache.fingerprint("shop", lambda: 1)
    clock.now += 2
    assert cache.fingerprint("shop", lambda: 2) == 2


def test_a_banner_is_built_once_per_key():
    built = []
    cache: BannerCache[int, bytes] = BannerCache(ttl=2)
    for _ in range(3):
        cache.body(("shop", 1, "en"), lambda: built.append(1) or b"{}")
    assert built == [1]


def test_a_new_fingerprint_builds_a_new_banner():
    cache: BannerCache[int, bytes] = BannerCache(ttl=2)
    cache.body(("shop", 1, "en"), lambda: b"old")
    assert cache.body(("shop", 2, "en"), lambda: b"new") == b"new"


def test_the_cache_stays_bounded():
    cache: BannerCache[int, bytes] = BannerCache(ttl=2, max_entries=10)
    for version in range(25):
        cache.body(("shop", version, "en"), lambda: b"{}")
    assert len(cache._bodies) <= 10


def test_a_fresh_fingerprint_is_seen_without_a_load_and_a_stale_one_is_not():
    clock = MonotonicClock()
    cache: BannerCache[int, bytes] = BannerCache(ttl=2, clock=clock)
    assert cache.fresh_fingerprint("shop") is None
    cache.fingerprint("shop", lambda: 1)
    clock.now += 1.9
    assert cache.fresh_fingerprint("shop") == 1
    clock.now += 0.1
    assert cache.fresh_fingerprint("shop") is None


def test_no_fingerprint_is_fresh_when_nothing_is_cached():
    cache: BannerCache[int, bytes] = BannerCache(ttl=0)
    cache.fingerprint("shop", lambda: 1)
    assert cache.fresh_fingerprint("shop") is None


def test_a_banner_is_seen_once_built_and_not_before():
    cache: BannerCache[int, bytes] = BannerCache(ttl=2)
    assert cache.built_body(("shop", 1, "en")) is None
    cache.body(("shop", 1, "en"), lambda: b"{}")
    assert cache.built_body(("shop", 1, "en")) == b"{}"
