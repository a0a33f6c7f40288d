"""X-Ray's default sampling rule as Lambda applies it to `TracingConfig Active` functions: one traced invocation a
second (the reservoir) plus 5% of the rest (the fixed rate). Lambda's docs: "The sampling rate is 1 request per
second and 5 percent of additional requests"; it cannot be configured per function.

The X-Ray SDK keeps the reservoir per service per host; Lamina keeps it per function (the key the caller passes,
the unqualified function ARN), on the project's clock: the first invocation of a function in each second of
`clock.time()` is sampled, every other one with probability `fixed_rate` (`draw` is injectable for tests).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from lamina.clock import Clock

RESERVOIR_PER_SECOND = 1
FIXED_RATE = 0.05


class DefaultSampling:
    """`sample(function)` → whether this invocation of `function` is traced. Cheap: a dict lookup, one draw."""

    def __init__(self, clock: Clock, fixed_rate: float = FIXED_RATE, draw: Callable[[], float] = random.random):
        self._time = clock.time
        self._fixed_rate = fixed_rate
        self._draw = draw
        self._second: dict[str, int] = {}  # function → the clock second its reservoir was last spent in

    def sample(self, function: str) -> bool:
        now = int(self._time())
        if self._second.get(function) != now:
            self._second[function] = now  # the reservoir: one a second
            return True
        return self._draw() < self._fixed_rate
