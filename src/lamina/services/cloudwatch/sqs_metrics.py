"""The AWS/SQS namespace, per QueueName, from the SQS engine's own events.

The engine calls `sent`/`received`/`deleted` after each committed change (the `QueueMetrics` protocol of
services/sqs/engine.py, wired in app.py): they only add to per-minute counters in memory, turned into points by
`produce` before each flush. The levels (ApproximateNumberOfMessagesVisible/NotVisible,
ApproximateAgeOfOldestMessage) are read through the `depths` callable (a scan of every queue) once a minute and
before a metric read (again only after a send, receive or delete, or a second later); a queue with no messages
reports 0 messages visible and in flight and no age.

Metrics and units (AWS's SQS metrics page): NumberOfMessagesSent, NumberOfMessagesReceived,
NumberOfMessagesDeleted, NumberOfEmptyReceives (Count), SentMessageSize (Bytes),
ApproximateNumberOfMessagesVisible, ApproximateNumberOfMessagesNotVisible (Count), ApproximateAgeOfOldestMessage
(Seconds).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from lamina.clock import Clock
from lamina.services.cloudwatch.engine import MetricsEngine, Sample
from lamina.store.metric_distribution import Distribution

NAMESPACE = "AWS/SQS"
READ_SAMPLE_SECONDS = 1.0  # reads in a burst with no SQS activity between them share one scan of the queues

# name, visible, in flight, when the oldest message was sent (None: no message)
Depth = tuple[str, int, int, float | None]


class _Counts:
    __slots__ = ("deleted", "empty", "received", "sent", "size_max", "size_min", "size_sum", "sizes")

    def __init__(self) -> None:
        self.sent = self.received = self.deleted = self.empty = 0
        self.size_sum = 0
        self.size_min = 1 << 62
        self.size_max = 0
        self.sizes = Distribution()


class SqsMetrics:
    def __init__(self, engine: MetricsEngine, clock: Clock, depths: Callable[[float], Iterable[Depth]]) -> None:
        self.engine = engine
        self.clock = clock
        self._depths = depths
        self._counts: dict[tuple[str, int], _Counts] = {}
        self._sampled_minute = -1
        self._sampled_at = float("-inf")
        self._changed = True  # a send, receive or delete since the levels were last read
        self.enabled = True  # off (--lambda-metrics off): no levels are read either
        engine.add_producer(self.produce)
        engine.add_sampler(self.sample_for_read)

    # -- the SQS hot path (cheap) ----------------------------------------------------------------------
    def _of(self, queue: str) -> _Counts:
        self._changed = True
        key = (queue, int(self.clock.time() // 60))
        c = self._counts.get(key)
        if c is None:
            c = self._counts[key] = _Counts()
        return c

    def sent(self, queue: str, sizes: Sequence[int]) -> None:
        if not sizes:
            return
        c = self._of(queue)
        c.sent += len(sizes)
        for size in sizes:
            c.size_sum += size
            c.size_min = min(c.size_min, size)
            c.size_max = max(c.size_max, size)
            c.sizes.add(float(size))

    def received(self, queue: str, count: int) -> None:
        c = self._of(queue)
        if count:
            c.received += count
        else:
            c.empty += 1

    def deleted(self, queue: str, count: int) -> None:
        self._of(queue).deleted += count

    # -- into the metric store -------------------------------------------------------------------------
    def sample(self) -> None:
        """The queues' levels now, one gauge point each."""
        if not self.enabled:
            return
        now = self._sampled_at = self.clock.time()
        self._changed = False
        record = self.engine.record
        for name, visible, flight, oldest in self._depths(now):
            dims = (("QueueName", name),)
            record(NAMESPACE, "ApproximateNumberOfMessagesVisible", dims, "Count", Sample.gauge(visible), now)
            record(NAMESPACE, "ApproximateNumberOfMessagesNotVisible", dims, "Count", Sample.gauge(flight), now)
            if oldest is not None:
                age = float(int(max(0.0, now - oldest)))
                record(NAMESPACE, "ApproximateAgeOfOldestMessage", dims, "Seconds", Sample.gauge(age), now)

    def sample_for_read(self) -> None:
        if self._changed or self.clock.time() - self._sampled_at >= READ_SAMPLE_SECONDS:
            self.sample()

    def produce(self) -> None:
        minute = int(self.clock.time() // 60)
        if minute != self._sampled_minute:  # once a minute, as AWS reports the levels
            self._sampled_minute = minute
            self.sample()
        if not self._counts:
            return
        counts, self._counts = self._counts, {}
        record = self.engine.record
        for (name, at), c in counts.items():
            when = at * 60.0
            dims = (("QueueName", name),)
            for metric, n in (
                ("NumberOfMessagesSent", c.sent),
                ("NumberOfMessagesReceived", c.received),
                ("NumberOfMessagesDeleted", c.deleted),
                ("NumberOfEmptyReceives", c.empty),
            ):
                if n:
                    record(NAMESPACE, metric, dims, "Count", Sample.events(n), when)
            if c.sent:
                sizes = Sample(c.sent, c.size_sum, c.size_min, c.size_max, c.sizes)
                record(NAMESPACE, "SentMessageSize", dims, "Bytes", sizes, when)
