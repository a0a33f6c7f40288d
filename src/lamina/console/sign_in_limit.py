"""A limit on failed console sign-ins, on the project clock: guessing secrets is throttled as AWS throttles.

Failures are counted in a sliding window per access key id and overall (a spray of made-up key ids is capped
too). While either count is at its limit, every sign-in attempt for that key (any key, for the overall count) is
refused with AWS's throttling words before the secret is looked at, so a correct guess is not told apart
either; a success clears its key's count. Counts live in memory: a restart starts them again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

WINDOW = 300.0  # seconds a failure counts against the limits
PER_KEY = 5  # failures of one access key id in the window
OVERALL = 100  # failures of all keys in the window
THROTTLED = "Rate exceeded"  # AWS's ThrottlingException message


class SignInThrottled(Exception):
    message = THROTTLED


class SignInLimit:
    def __init__(
        self, now: Callable[[], float], *, window: float = WINDOW, per_key: int = PER_KEY, overall: int = OVERALL
    ) -> None:
        self._now = now
        self._window = window
        self._per_key = per_key
        self._overall = overall
        self._failures: deque[tuple[float, str]] = deque()  # (when, key id), oldest first
        self._by_key: dict[str, int] = {}

    def check(self, access_key_id: str) -> None:
        """SignInThrottled when this key id, or all keys together, failed too often in the window."""
        self._forget(self._now())
        if len(self._failures) >= self._overall or self._by_key.get(access_key_id, 0) >= self._per_key:
            raise SignInThrottled(THROTTLED)

    def failed(self, access_key_id: str) -> None:
        self._failures.append((self._now(), access_key_id))
        self._by_key[access_key_id] = self._by_key.get(access_key_id, 0) + 1

    def succeeded(self, access_key_id: str) -> None:
        if self._by_key.pop(access_key_id, None):
            self._failures = deque(f for f in self._failures if f[1] != access_key_id)

    def _forget(self, now: float) -> None:
        while self._failures and self._failures[0][0] <= now - self._window:
            _when, key = self._failures.popleft()
            left = self._by_key[key] - 1
            if left:
                self._by_key[key] = left
            else:
                del self._by_key[key]
