"""Authorizer results kept for their TTL, as API Gateway caches them (REST authorizerResultTtlInSeconds, HTTP API
AuthorizerResultTtlInSeconds): keyed by the authorizer (its whole configuration, so an update starts afresh)
and the identity source values, timed on the project's clock. What is kept is the authorizer's parsed answer:
the door judges it again for each request, so a cached policy is matched against the method now asked for,
as on AWS.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

from lamina.clock import Clock

CAPACITY = 10_000  # entries; the oldest go first past it


def cache_key(scope: str, authorizer: dict[str, Any], values: list[str]) -> tuple[str, str, tuple[str, ...]]:
    return scope, json.dumps(authorizer, sort_keys=True, default=str), tuple(values)


class AuthorizerCache:
    def __init__(self, clock: Clock, capacity: int = CAPACITY) -> None:
        self._clock = clock
        self._capacity = capacity
        self._entries: OrderedDict[tuple[str, str, tuple[str, ...]], tuple[float, Any]] = OrderedDict()

    def get(self, key: tuple[str, str, tuple[str, ...]]) -> Any | None:
        found = self._entries.get(key)
        if found is None:
            return None
        expires, answer = found
        if self._clock.monotonic() >= expires:
            del self._entries[key]
            return None
        return answer

    def put(self, key: tuple[str, str, tuple[str, ...]], answer: Any, ttl: float) -> None:
        if ttl <= 0:
            return
        self._entries[key] = (self._clock.monotonic() + ttl, answer)
        self._entries.move_to_end(key)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def flush(self, scope: str) -> None:
        """Forget every answer kept for `scope` (an API: FlushStageAuthorizersCache)."""
        for key in [k for k in self._entries if k[0] == scope]:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
