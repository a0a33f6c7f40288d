"""Kinesis's throughput limits, measured on the project clock (so tests run them in virtual time).

AWS's quotas (Kinesis Data Streams quotas and limits):
- writes, per shard of a provisioned stream: 1 MiB/s (data plus partition key) and 1,000 records/s;
- writes to an on-demand stream: its write capacity, shared by its shards; a new on-demand stream starts at
  4 MiB/s and 4,000 records/s, so one hot partition key may use all of it;
- GetRecords, per shard: 5 calls/s and 2 MiB/s. A call may return up to 10 MiB; the calls after it are
  refused until the shard's read rate is back under 2 MiB/s (AWS: "within the next 5 seconds").

Writes and calls are counted in windows of one second of the clock (aligned to whole seconds); the bytes read
are a debt that drains at 2 MiB/s, refused while one second's worth or more is owed. Over a limit, PutRecord
and GetRecords answer ProvisionedThroughputExceededException and PutRecords fails the records that do not fit
(ErrorCode/ErrorMessage per record) while the others are stored. `enabled=False` (`lamina serve
--kinesis-limits off`) admits everything, for benchmarks that measure Lamina rather than AWS's quotas.
"""

from __future__ import annotations

from dataclasses import dataclass

from lamina.clock import Clock
from lamina.services.kinesis.faults import KinesisFault

MIB = 1024 * 1024
SHARD_WRITE_BYTES = 1 * MIB
SHARD_WRITE_RECORDS = 1000
ON_DEMAND_WRITE_BYTES = 4 * MIB
ON_DEMAND_WRITE_RECORDS = 4000
READ_CALLS = 5
READ_BYTES = 2 * MIB
MAX_READ_BYTES = 10 * MIB  # one GetRecords answers at most this much


@dataclass
class _Window:
    second: int = -1
    count: int = 0
    size: int = 0


@dataclass
class _Reads:
    calls: _Window
    debt: float = 0.0
    at: float = 0.0


def write_exceeded(shard_id: str, stream: str, account: str) -> str:
    return f"Rate exceeded for shard {shard_id} in stream {stream} under account {account}."


def read_exceeded(shard_id: str, stream: str, account: str) -> KinesisFault:
    """AWS's wording, as real GetRecords errors quote it ("Rate exceeded for Shard - 123456789012/name/shardId-...")."""
    message = f"Rate exceeded for Shard - {account}/{stream}/{shard_id}"
    return KinesisFault("ProvisionedThroughputExceededException", message)


class Throughput:
    def __init__(self, clock: Clock, enabled: bool = True) -> None:
        self._clock = clock
        self.enabled = enabled
        self._writes: dict[tuple[str, str], _Window] = {}
        self._reads: dict[tuple[str, str], _Reads] = {}

    def _window(self, window: _Window) -> _Window:
        second = int(self._clock.time())
        if window.second != second:
            window.second, window.count, window.size = second, 0, 0
        return window

    def admit_write(self, stream: str, shard_id: str, on_demand: bool, size: int) -> bool:
        """Whether one record of `size` bytes fits this second (and counts it when it does)."""
        if not self.enabled:
            return True
        key = (stream, "*" if on_demand else shard_id)
        window = self._window(self._writes.setdefault(key, _Window()))
        records, limit = (ON_DEMAND_WRITE_RECORDS, ON_DEMAND_WRITE_BYTES) if on_demand else (
            SHARD_WRITE_RECORDS, SHARD_WRITE_BYTES)  # fmt: skip
        if window.count + 1 > records or window.size + size > limit:
            return False
        window.count += 1
        window.size += size
        return True

    def admit_read(self, stream: str, shard_id: str) -> bool:
        """Whether a GetRecords call on the shard may run now (and counts it when it may)."""
        if not self.enabled:
            return True
        reads = self._reads.setdefault((stream, shard_id), _Reads(_Window()))
        now = self._clock.time()
        reads.debt = max(0.0, reads.debt - (now - reads.at) * READ_BYTES)
        reads.at = now
        window = self._window(reads.calls)
        if window.count >= READ_CALLS or reads.debt >= READ_BYTES:
            return False
        window.count += 1
        return True

    def charge_read(self, stream: str, shard_id: str, size: int) -> None:
        if self.enabled:
            self._reads[(stream, shard_id)].debt += size

    def forget(self, stream: str) -> None:
        """A deleted stream's counters (a new stream of the same name starts afresh)."""
        for table in (self._writes, self._reads):
            for key in [k for k in table if k[0] == stream]:
                del table[key]
