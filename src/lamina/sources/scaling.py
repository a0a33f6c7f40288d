"""How many batches an SQS event source mapping may process at once: AWS's standard-mode poller scaling,
on the injected clock.

What AWS documents (Lambda developer guide, "Configuring scaling behavior for SQS event source mappings",
https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html, current text): "When messages are
available, Lambda starts processing five batches at a time with five concurrent invocations of your function.
If messages are still available, Lambda increases the number of processes that are reading batches by up to
300 more instances per minute. The maximum number of batches that an event source mapping can process
simultaneously is 1,000. When traffic is low, Lambda scales back the processing to five concurrent batches"
(older versions of the page said 60 per minute). `ScalingConfig.MaximumConcurrency` (2-1000) caps it
("Configuring maximum concurrency for Amazon SQS event sources", same page), and so do the function's
reserved concurrency and the account's unreserved pool: invocations beyond them would only be throttled.

Back-off ("Handling errors for an SQS event source in Lambda", services-sqs-errorhandling.html): on throttles
and on function errors "Lambda gradually backs off, reducing the amount of concurrency allocated to your
Amazon SQS event source mapping", except that with `ReportBatchItemFailures` "Lambda doesn't scale down
message polling when function invocations fail". How much each failure takes away is not documented; here
it is one batch.

Provisioned mode (`ProvisionedPollerConfig`, SQS since 2025): "Each poller can handle up to 1 MB/sec of
throughput and 10 concurrent invokes" (services-sqs-parameters.html), MinimumPollers (SQS default 2) stay
ready and MaximumPollers (default 200) cap it, "enabling 3 times faster scaling" (services-sqs-scaling.html).
Here: MinimumPollers x 10 batches at once from the start, MaximumPollers x 10 at most, 900 more per minute.

`Scaler` is plain arithmetic on a clock: the poller tells it what it saw (`waiting`, `slack`, `backed_off`)
and asks how many batches it may run (`allowed`). Growth is continuous in time while messages wait, so the
ramp does not depend on how often the poller looks.
"""

from __future__ import annotations

from lamina.clock import Clock

INITIAL = 5  # batches at once when messages become available
PER_MINUTE = 300  # more batches per minute while messages are still available
MAX_BATCHES = 1000  # per event source mapping
MIN_BATCHES = 1  # back-off never stops a mapping: one poller keeps polling
INVOKES_PER_POLLER = 10  # provisioned mode
PROVISIONED_SPEEDUP = 3


class Scaler:
    def __init__(
        self, clock: Clock, maximum_concurrency: int | None = None, pollers: tuple[int, int] | None = None
    ) -> None:
        self._clock = clock
        if pollers is None:
            self.maximum = min(maximum_concurrency or MAX_BATCHES, MAX_BATCHES)
            self.initial = min(INITIAL, self.maximum)
            self.per_minute = float(PER_MINUTE)
        else:
            least, most = pollers
            self.maximum = max(least, most) * INVOKES_PER_POLLER
            if maximum_concurrency:
                self.maximum = min(self.maximum, maximum_concurrency)
            self.initial = min(least * INVOKES_PER_POLLER, self.maximum)
            self.per_minute = float(PER_MINUTE * PROVISIONED_SPEEDUP)
        self._level = float(self.initial)
        self._since = clock.monotonic()

    @property
    def level(self) -> float:
        return self._level

    def _cap(self, ceiling: int | None) -> int:
        cap = self.maximum if ceiling is None else min(self.maximum, ceiling)
        return max(MIN_BATCHES, cap)

    def waiting(self, ceiling: int | None = None) -> None:
        """Messages are still available: grow by PER_MINUTE per minute since the last observation."""
        now = self._clock.monotonic()
        grown = self._level + self.per_minute * max(0.0, now - self._since) / 60.0
        self._level = min(grown, float(self._cap(ceiling)))
        self._since = now

    def slack(self, busy: int) -> None:
        """The queue had nothing more to give: stop growing, and come back down towards the batches in
        use (never below the initial five, or MinimumPollers' worth, where the next burst starts)."""
        self._level = max(float(self.initial), min(self._level, float(busy)))
        self._since = self._clock.monotonic()

    def backed_off(self) -> None:
        """A throttled invocation, or a function error without ReportBatchItemFailures."""
        self._level = max(float(MIN_BATCHES), self._level - 1.0)
        self._since = self._clock.monotonic()

    def allowed(self, ceiling: int | None = None) -> int:
        return max(MIN_BATCHES, min(int(self._level), self._cap(ceiling)))
