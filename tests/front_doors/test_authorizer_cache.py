"""The authorizer result cache on a manual clock: kept for the TTL, gone after it, bounded, keyed by config."""

from __future__ import annotations

from lamina.clock import ManualClock
from lamina.front_doors.authorizer_cache import AuthorizerCache, cache_key


def test_results_last_their_ttl_on_the_clock() -> None:
    clock = ManualClock()
    cache = AuthorizerCache(clock)
    key = cache_key("api", {"id": "a1", "ttl": 300}, ["token"])
    cache.put(key, {"allow": True}, 300)
    clock.advance(299.9)
    assert cache.get(key) == {"allow": True}
    clock.advance(0.1)
    assert cache.get(key) is None
    assert len(cache) == 0


def test_a_zero_ttl_keeps_nothing_and_keys_differ_by_config_and_identity() -> None:
    cache = AuthorizerCache(ManualClock())
    cache.put(cache_key("api", {"id": "a1"}, ["t"]), 1, 0)
    assert len(cache) == 0
    cache.put(cache_key("api", {"id": "a1"}, ["t"]), 1, 60)
    assert cache.get(cache_key("api", {"id": "a1", "changed": True}, ["t"])) is None
    assert cache.get(cache_key("api", {"id": "a1"}, ["u"])) is None
    assert cache.get(cache_key("other", {"id": "a1"}, ["t"])) is None
    assert cache.get(cache_key("api", {"id": "a1"}, ["t"])) == 1


def test_the_oldest_entries_go_past_the_capacity() -> None:
    cache = AuthorizerCache(ManualClock(), capacity=2)
    for n in range(3):
        cache.put(cache_key("api", {}, [str(n)]), n, 60)
    assert cache.get(cache_key("api", {}, ["0"])) is None
    assert [cache.get(cache_key("api", {}, [str(n)])) for n in (1, 2)] == [1, 2]


def test_flush_forgets_one_scope_only() -> None:
    cache = AuthorizerCache(ManualClock())
    cache.put(cache_key("api-1", {}, ["t"]), 1, 60)
    cache.put(cache_key("api-2", {}, ["t"]), 2, 60)
    cache.flush("api-1")
    assert cache.get(cache_key("api-1", {}, ["t"])) is None
    assert cache.get(cache_key("api-2", {}, ["t"])) == 2
