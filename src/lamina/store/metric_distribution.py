"""The values of one 1-minute metric point (services/cloudwatch), bounded: percentiles without the raw values.

A `Distribution` holds the exact values (value → count) while there are at most `EXACT_LIMIT` distinct ones, so
small series give exact percentiles; past that it turns into a log-bucketed histogram: bucket i counts the values
in (GAMMA^(i-1), GAMMA^i] and stands for 2·GAMMA^i/(GAMMA+1), within 1% of every value it holds (what CloudWatch
promises for its own percentiles). Zero has a bucket of its own. Distributions merge by adding counts (minutes
into periods, buffered samples into stored points), so a point stays a few hundred bytes however many values
land in it.

As on AWS, only non-negative raw values have a distribution: a point with a negative value, or a statistic set
whose minimum and maximum differ, adds to the count but not to the distribution, and a period whose
distribution counts fewer values than its SampleCount has no percentiles.
"""

from __future__ import annotations

import math
import struct

EXACT_LIMIT = 64
GAMMA = 1.02
_LOG_GAMMA = math.log(GAMMA)
_ZERO = -(2**31)  # the bucket of the value 0 (indexes of positive doubles stay within ±40,000)


class Distribution:
    __slots__ = ("counts", "exact")

    def __init__(self, counts: dict[float, float] | None = None, exact: bool = True) -> None:
        self.counts: dict[float, float] = counts if counts is not None else {}
        self.exact = exact

    @classmethod
    def constant(cls, value: float, count: float) -> Distribution:
        return cls({value: count})

    @property
    def count(self) -> float:
        return sum(self.counts.values())

    def add(self, value: float, count: float = 1.0) -> None:
        counts = self.counts
        if self.exact:
            counts[value] = counts.get(value, 0.0) + count
            if len(counts) > EXACT_LIMIT:
                self._to_buckets()
            return
        key = _bucket(value)
        counts[key] = counts.get(key, 0.0) + count

    def merge(self, other: Distribution) -> None:
        if other.exact:
            for value, n in other.counts.items():
                self.add(value, n)
            return
        if self.exact:
            self._to_buckets()
        counts = self.counts
        for key, n in other.counts.items():
            counts[key] = counts.get(key, 0.0) + n

    def copy(self) -> Distribution:
        return Distribution(dict(self.counts), self.exact)

    def _to_buckets(self) -> None:
        buckets: dict[float, float] = {}
        for value, n in self.counts.items():
            key = _bucket(value)
            buckets[key] = buckets.get(key, 0.0) + n
        self.counts, self.exact = buckets, False

    def _sorted_values(self, low: float, high: float) -> list[tuple[float, float]]:
        """(value, count) ascending; bucket values are clamped to the point's true minimum and maximum."""
        if self.exact:
            return sorted(self.counts.items())
        return sorted((min(max(_value(k), low), high), n) for k, n in self.counts.items())

    def statistic(self, kind: str, percent: float, low: float, high: float) -> float:
        """The percentile (kind "p") or the trimmed mean of the values up to it (kind "tm"); `low` and `high` are
        the point's true minimum and maximum (p0 and p100)."""
        values = self._sorted_values(low, high)
        total = sum(n for _, n in values)
        if kind == "p":
            if percent <= 0:
                return low
            if percent >= 100:
                return high
            rank = percent / 100.0 * total  # nearest rank: the first value whose cumulative count reaches it
            seen = 0.0
            for value, n in values:
                seen += n
                if seen >= rank - 1e-9:
                    return value
            return values[-1][0]
        limit = percent / 100.0 * total
        taken = weighted = 0.0
        for value, n in values:
            part = min(n, limit - taken)
            if part <= 0:
                break
            taken += part
            weighted += part * value
        return weighted / taken if taken else values[0][0]

    # -- the stored form (migration 0015): b"E" or b"B", then the keys and the counts as doubles ----------------
    def encode(self) -> bytes:
        n = len(self.counts)
        return (b"E" if self.exact else b"B") + struct.pack(f"<{2 * n}d", *self.counts.keys(), *self.counts.values())

    @classmethod
    def decode(cls, blob: bytes) -> Distribution:
        numbers = struct.unpack(f"<{(len(blob) - 1) // 8}d", blob[1:])
        half = len(numbers) // 2
        return cls(dict(zip(numbers[:half], numbers[half:], strict=True)), blob[:1] == b"E")


def merge_blobs(stored: bytes | None, added: bytes | None) -> bytes | None:
    """The SQLite function the point upsert calls to add a new distribution to the stored one."""
    if stored is None or added is None:
        return stored if added is None else added
    found = Distribution.decode(stored)
    found.merge(Distribution.decode(added))
    return found.encode()


def _bucket(value: float) -> float:
    if value <= 0.0:
        return _ZERO
    return float(math.ceil(math.log(value) / _LOG_GAMMA))


def _value(key: float) -> float:
    if key == _ZERO:
        return 0.0
    return 2.0 * math.exp(key * _LOG_GAMMA) / (GAMMA + 1.0)
