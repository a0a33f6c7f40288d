"""The one interface stream pollers read through (Kinesis and DynamoDB Streams implement it beside their engines).

A position is an integer per shard: reading "after" a position returns the records whose position is greater,
in shard order. Checkpoints store positions, so a restart resumes exactly after the last finished batch.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class StreamItem:
    position: int
    sequence_number: str
    arrival: float  # epoch seconds
    key: str  # the partition key (Kinesis) or the item's key (DynamoDB): order is kept per key
    record: dict[str, Any]  # the record as the function gets it (spec/events.md §5)
    data: Any = None  # what a filter's `data` pattern is matched against (Kinesis: the decoded JSON data)


class StreamSource(Protocol):
    batch_info_key: str  # KinesisBatchInfo / DDBStreamBatchInfo, in on-failure records

    def exists(self, arn: str) -> bool: ...

    def shards(self, arn: str) -> list[str] | None:
        """The stream's shard ids; None when the stream is gone."""
        ...

    def parents(self, arn: str, shard: str) -> list[str]:
        """The shards this one was split or merged from: they are read to their end before it."""
        ...

    def finished(self, arn: str, shard: str, position: int) -> bool:
        """Whether the shard is closed (resharded) and nothing is left after `position`."""
        ...

    def start(self, arn: str, shard: str, kind: str, timestamp: float | None) -> int:
        """The position before the first record a new mapping reads (TRIM_HORIZON, LATEST, AT_TIMESTAMP)."""
        ...

    def read(self, arn: str, shard: str, after: int, limit: int, role: str) -> list[StreamItem]: ...

    def waiter(self, arn: str) -> asyncio.Event | None:
        """An event set when records next arrive (None: the source cannot tell; the poller polls)."""
        ...

    def latest_arrival(self, arn: str, shard: str) -> float | None:
        """When the newest record of the shard arrived (None: no record)."""
        ...


class Checkpoints(Protocol):
    """What the pollers keep durably per mapping: a position per shard, and the mapping's LastProcessingResult."""

    def load_checkpoints(self) -> dict[tuple[str, str], int]: ...

    async def checkpoint(self, mapping_uuid: str, shard_id: str, position: int) -> None: ...

    def load_results(self) -> dict[str, str]: ...

    async def record_result(self, mapping_uuid: str, result: str) -> None: ...

    async def forget_checkpoints(self, mapping_uuid: str) -> None:
        """Forgets the mapping's positions and its result (it was deleted)."""
        ...
