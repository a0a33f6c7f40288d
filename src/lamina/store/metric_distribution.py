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
import operator
import struct
from bisect import bisect_left
from itertools import accumulate

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

    def statistic(self, kind: str, percent: float, low: float, high: float) -> float:
        """The percentile (kind "p") or the trimmed mean of the values up to it (kind "tm"); `low` and `high` are
        the point's true minimum and maximum (p0 and p100)."""
        merged = MergedDistribution()
        merged.add(self)
        return merged.statistic(kind, percent, low, high)

    # -- the stored form (migration 0015): b"E" or b"B", then the keys and the counts as doubles ----------------
    def encode(self) -> bytes:
        n = len(self.counts)
        return (b"E" if self.exact else b"B") + struct.pack(f"<{2 * n}d", *self.counts.keys(), *self.counts.values())

    @classmethod
    def decode(cls, blob: bytes) -> Distribution:
        numbers = struct.unpack(f"<{(len(blob) - 1) // 8}d", blob[1:])
        half = len(numbers) // 2
        return cls(dict(zip(numbers[:half], numbers[half:], strict=True)), blob[:1] == b"E")


class MergedDistribution:
    """Distributions read for one period, merged without a dict update per bucket: their keys and counts are
    only concatenated (C-level list extends), then sorted and summed once when a statistic is asked for, so a
    percentile over 14 days of minutes costs a sort rather than ~20 Python operations per stored bucket. Exact
    values stay exact while every part is exact; otherwise the exact parts are bucketed too."""

    __slots__ = ("bucket_counts", "bucket_keys", "exact_counts", "exact_keys")

    def __init__(self) -> None:
        self.exact_keys: list[float] = []
        self.exact_counts: list[float] = []
        self.bucket_keys: list[float] = []
        self.bucket_counts: list[float] = []

    def add_blob(self, blob: bytes) -> None:
        numbers = struct.unpack(f"<{(len(blob) - 1) // 8}d", blob[1:])
        half = len(numbers) // 2
        if blob[:1] == b"E":
            self.exact_keys.extend(numbers[:half])
            self.exact_counts.extend(numbers[half:])
        else:
            self.bucket_keys.extend(numbers[:half])
            self.bucket_counts.extend(numbers[half:])

    def add(self, d: Distribution) -> None:
        keys, counts = (self.exact_keys, self.exact_counts) if d.exact else (self.bucket_keys, self.bucket_counts)
        keys.extend(d.counts.keys())
        counts.extend(d.counts.values())

    def merge(self, other: MergedDistribution) -> None:
        self.exact_keys.extend(other.exact_keys)
        self.exact_counts.extend(other.exact_counts)
        self.bucket_keys.extend(other.bucket_keys)
        self.bucket_counts.extend(other.bucket_counts)

    def copy(self) -> MergedDistribution:
        found = MergedDistribution()
        found.merge(self)
        return found

    @property
    def count(self) -> float:
        return math.fsum(self.exact_counts) + math.fsum(self.bucket_counts)

    def statistic(self, kind: str, percent: float, low: float, high: float) -> float:
        """The percentile (kind "p", nearest rank) or the trimmed mean of the values up to it (kind "tm");
        `low` and `high` are the period's true minimum and maximum (p0 and p100; bucket values are clamped to
        them)."""
        exact = not self.bucket_keys
        if exact:
            pairs = sorted(zip(self.exact_keys, self.exact_counts, strict=True))
        else:
            keys = [*self.bucket_keys, *map(_bucket, self.exact_keys)]
            pairs = sorted(zip(keys, [*self.bucket_counts, *self.exact_counts], strict=True))
        if not pairs:
            return low
        cumulative = list(accumulate(n for _, n in pairs))
        total = cumulative[-1]

        def value(i: int) -> float:
            key = pairs[i][0]
            return key if exact else min(max(_value(key), low), high)

        rank = percent / 100.0 * total
        at = min(bisect_left(cumulative, rank - 1e-9 * max(1.0, total)), len(pairs) - 1)
        if kind == "p":
            if percent <= 0:
                return low
            if percent >= 100:
                return high
            return value(at)
        if rank <= 0:
            return value(0)
        values = [value(i) for i in range(at + 1)]
        weighted = math.fsum(map(operator.mul, values[:-1], (n for _, n in pairs[:at])))
        before = cumulative[at - 1] if at else 0.0
        weighted += (min(rank, cumulative[at]) - before) * values[-1]
        return weighted / min(rank, total)


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
