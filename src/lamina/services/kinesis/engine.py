"""Kinesis Data Streams: streams of shards in memory, written through to the store (store/kinesis_sqlite.py).

Invariants:
- A shard owns a contiguous range of the 128-bit hash key space; the ranges of a stream's shards split it
  evenly, as AWS does on CreateStream. A record goes to the shard whose range holds the MD5 of its partition
  key (read as a big-endian integer), or its ExplicitHashKey.
- A record's position `seq` increases in commit order within a stream (so within every shard) and across
  restarts: it is at least the arrival time in microseconds. The wire sequence number is `SEQ_BASE + seq`,
  a 56-digit decimal like AWS's.
- A put is acknowledged only after its store transaction commits (survives kill -9).
- Records older than the retention period (24 h by default) are dropped by a sweeper on the project's clock.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from lamina import periodic
from lamina.clock import Clock
from lamina.services.kinesis.faults import KinesisFault, in_use, invalid, stream_not_found
from lamina.store.kinesis_sqlite import KinesisRecord, KinesisStore

log = logging.getLogger(__name__)

HASH_SPACE = 2**128
SEQ_BASE = 49 * 10**54
DEFAULT_RETENTION_H = 24
MAX_RETENTION_H = 8760
ON_DEMAND_SHARDS = 4
SWEEP_S = 60.0
Document = dict[str, Any]


@dataclass
class Record:
    seq: int
    arrival: float
    partition_key: str
    data: bytes

    @property
    def sequence_number(self) -> str:
        return str(SEQ_BASE + self.seq)


@dataclass
class Shard:
    shard_id: str
    start: int
    end: int
    first_seq: int
    parent: str | None = None
    adjacent: str | None = None
    end_seq: int | None = None  # set when resharding closed the shard: no record after it
    records: list[Record] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)  # records' seq, for bisect

    def after(self, position: int, limit: int) -> list[Record]:
        i = bisect.bisect_right(self.seqs, position)
        return self.records[i : i + limit]

    def remaining_after(self, position: int) -> Record | None:
        i = bisect.bisect_right(self.seqs, position)
        return self.records[i] if i < len(self.records) else None

    def first_at_or_after(self, arrival: float) -> Record | None:
        for rec in self.records:
            if rec.arrival >= arrival:
                return rec
        return None

    def trim(self, before: float) -> None:
        i = 0
        while i < len(self.records) and self.records[i].arrival < before:
            i += 1
        if i:
            del self.records[:i]
            del self.seqs[:i]

    @property
    def open(self) -> bool:
        return self.end_seq is None

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ShardId": self.shard_id}
        if self.parent is not None:
            out["ParentShardId"] = self.parent
        if self.adjacent is not None:
            out["AdjacentParentShardId"] = self.adjacent
        out["HashKeyRange"] = {"StartingHashKey": str(self.start), "EndingHashKey": str(self.end)}
        out["SequenceNumberRange"] = {"StartingSequenceNumber": str(SEQ_BASE + self.first_seq)}
        if self.end_seq is not None:
            out["SequenceNumberRange"]["EndingSequenceNumber"] = str(SEQ_BASE + self.end_seq)
        return out

    def to_doc(self) -> dict[str, Any]:
        return {
            "ShardId": self.shard_id,
            "Start": str(self.start),
            "End": str(self.end),
            "FirstSeq": self.first_seq,
            "Parent": self.parent,
            "Adjacent": self.adjacent,
            "EndSeq": self.end_seq,
        }


@dataclass
class Stream:
    doc: Document  # name, arn, created, mode, retention, tags, encryption, shard ranges
    shards: list[Shard]
    last_seq: int = 0
    # Set (and replaced by a fresh one) on every put: pollers waiting for records wake at once.
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        self.arrived.set()
        self.arrived = asyncio.Event()

    @property
    def name(self) -> str:
        return str(self.doc["StreamName"])

    @property
    def arn(self) -> str:
        return str(self.doc["StreamARN"])

    def shard(self, shard_id: str) -> Shard | None:
        for shard in self.shards:
            if shard.shard_id == shard_id:
                return shard
        return None

    def shard_for(self, hash_key: int) -> Shard:
        for shard in self.shards:
            if shard.open and shard.start <= hash_key <= shard.end:
                return shard
        raise AssertionError("the shards cover the hash key space")


def hash_key(partition_key: str, explicit: str | None) -> int:
    """The 128-bit hash key a record is placed by: its ExplicitHashKey, else the MD5 of its partition key."""
    if explicit is not None:
        value = int(explicit)
        if value >= HASH_SPACE:
            raise invalid(
                f"Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, {HASH_SPACE - 1}]. "
                f"Specified value was {explicit}"
            )
        return value
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big")


def shard_ranges(count: int) -> list[tuple[int, int]]:
    """AWS's even split: shard i starts at i * (2^128 // n); the last one ends at 2^128 - 1."""
    width = HASH_SPACE // count
    return [(i * width, HASH_SPACE - 1 if i == count - 1 else (i + 1) * width - 1) for i in range(count)]


class KinesisEngine:
    def __init__(self, store: KinesisStore, clock: Clock, region: str, account: str) -> None:
        self._store = store
        self._clock = clock
        self.region = region
        self.account = account
        self.streams: dict[str, Stream] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self.swept = 0

    # -- lifecycle ------------------------------------------------------------------------------
    def load(self) -> None:
        for doc in self._store.load_streams():
            self.streams[doc["StreamName"]] = self._build(doc)
        for name, shard_id, seq, arrival, key, data in self._store.load_records():
            stream = self.streams.get(name)
            shard = stream.shard(shard_id) if stream is not None else None
            if stream is None or shard is None:
                continue
            shard.records.append(Record(seq, arrival, key, data))
            shard.seqs.append(seq)
            stream.last_seq = max(stream.last_seq, seq)

    def start(self) -> None:
        self._sweeper = periodic.every(self._clock, SWEEP_S, self.sweep, "kinesis retention sweep failed")

    async def close(self) -> None:
        await periodic.cancel(self._sweeper)
        await self._store.close()

    async def sweep(self) -> None:
        """Drops every record older than its stream's retention period."""
        now = self._clock.time()
        for stream in list(self.streams.values()):
            before = now - stream.doc["RetentionPeriodHours"] * 3600
            for shard in stream.shards:
                kept = len(shard.records)
                shard.trim(before)
                self.swept += kept - len(shard.records)
            await self._store.trim_records(stream.name, before)

    # -- streams --------------------------------------------------------------------------------
    def _build(self, doc: Document) -> Stream:
        shards = [
            Shard(
                s["ShardId"],
                int(s["Start"]),
                int(s["End"]),
                int(s["FirstSeq"]),
                s.get("Parent"),
                s.get("Adjacent"),
                s.get("EndSeq"),
            )
            for s in doc["Shards"]
        ]
        return Stream(doc, shards, max((s.first_seq for s in shards), default=0))

    def arn(self, name: str) -> str:
        return f"arn:aws:kinesis:{self.region}:{self.account}:stream/{name}"

    def find(self, name: str | None, arn: str | None) -> Stream:
        """The stream named by StreamName or StreamARN (either may be given; both must agree)."""
        if arn is not None:
            parts = arn.split(":")
            if len(parts) != 6 or not parts[5].startswith("stream/"):
                raise invalid(f"Invalid StreamARN: {arn}")
            by_arn = parts[5][len("stream/") :]
            if name is not None and name != by_arn:
                raise invalid("StreamARN and StreamName do not refer to the same stream.")
            name = by_arn
            if parts[4] != self.account or parts[3] != self.region:
                raise stream_not_found(name, parts[4])
        if name is None:
            raise invalid("Either StreamName or StreamARN must be provided.")
        stream = self.streams.get(name)
        if stream is None:
            raise stream_not_found(name, self.account)
        return stream

    async def create(self, name: str, shard_count: int | None, mode: str, tags: dict[str, str]) -> Stream:
        if name in self.streams:
            raise in_use(f"Stream {name} under account {self.account} already exists.")
        if shard_count is None:
            if mode != "ON_DEMAND":
                raise invalid("ShardCount is required for PROVISIONED stream mode.")  # Lamina's wording
            shard_count = ON_DEMAND_SHARDS
        now = self._clock.time()
        first = int(now * 1_000_000)
        doc: Document = {
            "StreamName": name,
            "StreamARN": self.arn(name),
            "StreamStatus": "ACTIVE",
            "StreamModeDetails": {"StreamMode": mode},
            "RetentionPeriodHours": DEFAULT_RETENTION_H,
            "StreamCreationTimestamp": now,
            "EncryptionType": "NONE",
            "Tags": dict(tags),
            "Shards": [
                {"ShardId": f"shardId-{i:012d}", "Start": str(lo), "End": str(hi), "FirstSeq": first}
                for i, (lo, hi) in enumerate(shard_ranges(shard_count))
            ],
        }
        await self._store.put_stream(name, doc)
        stream = self._build(doc)
        self.streams[name] = stream
        return stream

    # -- resharding (parents close at the current position; children start after it) -------------------
    def _child(self, stream: Stream, start: int, end: int, parent: str, adjacent: str | None = None) -> Shard:
        shard = Shard(f"shardId-{len(stream.shards):012d}", start, end, stream.last_seq, parent, adjacent)
        stream.shards.append(shard)
        return shard

    def _open(self, stream: Stream, shard_id: str) -> Shard:
        shard = stream.shard(shard_id)
        if shard is None:
            raise KinesisFault(
                "ResourceNotFoundException",
                f"Could not find shard {shard_id} in stream {stream.name} under account {self.account}.",
            )
        if not shard.open:
            raise in_use(f"Shard {shard_id} in stream {stream.name} under account {self.account} has already been "
                         "merged or split, and thus is not eligible for merging or splitting.")  # fmt: skip
        return shard

    async def split(self, stream: Stream, shard_id: str, new_start: int) -> None:
        shard = self._open(stream, shard_id)
        if not shard.start < new_start <= shard.end:
            raise invalid(
                f"NewStartingHashKey {new_start} used in SplitShard() on shard {shard_id} in stream {stream.name} "
                f"under account {self.account} is not both greater than one plus the shard's StartingHashKey "
                f"{shard.start} and less than the shard's EndingHashKey {shard.end}."
            )
        shard.end_seq = stream.last_seq
        self._child(stream, shard.start, new_start - 1, shard_id)
        self._child(stream, new_start, shard.end, shard_id)
        await self._reshaped(stream)

    async def merge(self, stream: Stream, shard_id: str, adjacent_id: str) -> None:
        a, b = self._open(stream, shard_id), self._open(stream, adjacent_id)
        if not (a.end + 1 == b.start or b.end + 1 == a.start):
            raise invalid(f"Shards {shard_id}, {adjacent_id} in stream {stream.name} under account {self.account} "
                          "are not an adjacent pair of shards eligible for merging")  # fmt: skip
        a.end_seq = b.end_seq = stream.last_seq
        self._child(stream, min(a.start, b.start), max(a.end, b.end), shard_id, adjacent_id)
        await self._reshaped(stream)

    async def update_shard_count(self, stream: Stream, target: int) -> int:
        """UNIFORM_SCALING: the open shards close and `target` children split the key space evenly; a child's
        parent is the old shard holding its first hash key, its adjacent parent the one holding its last."""
        old = sorted((s for s in stream.shards if s.open), key=lambda s: s.start)
        for shard in old:
            shard.end_seq = stream.last_seq
        for lo, hi in shard_ranges(target):
            first = next(s for s in old if s.start <= lo <= s.end)
            last = next(s for s in old if s.start <= hi <= s.end)
            self._child(stream, lo, hi, first.shard_id, last.shard_id if last is not first else None)
        await self._reshaped(stream)
        return len(old)

    async def update_mode(self, stream: Stream, mode: str) -> None:
        """ON_DEMAND <-> PROVISIONED: the shards stay as they are (AWS keeps the open shards across a switch);
        what changes is the throughput the limits apply (per stream on demand, per shard provisioned)."""
        stream.doc["StreamModeDetails"] = {"StreamMode": mode}
        await self.save(stream)

    async def _reshaped(self, stream: Stream) -> None:
        stream.doc["Shards"] = [s.to_doc() for s in stream.shards]
        await self.save(stream)
        stream.wake()

    async def save(self, stream: Stream) -> None:
        await self._store.put_stream(stream.name, stream.doc)

    async def delete(self, stream: Stream) -> None:
        self.streams.pop(stream.name, None)
        await self._store.delete_stream(stream.name)

    # -- records --------------------------------------------------------------------------------
    @staticmethod
    def placement(stream: Stream, partition_key: str, explicit: str | None) -> Shard:
        """The open shard a record goes to (InvalidArgumentException for a bad ExplicitHashKey)."""
        return stream.shard_for(hash_key(partition_key, explicit))

    async def put(self, stream: Stream, entries: list[tuple[str, bytes, str | None]]) -> list[tuple[Shard, Record]]:
        """Appends records (partition key, data, explicit hash key) and returns where each went, once
        committed. All hash keys are checked before anything is appended (bad input changes nothing)."""
        placed = [(stream.shard_for(hash_key(key, explicit)), key, data) for key, data, explicit in entries]
        arrival = self._clock.time()
        out: list[tuple[Shard, Record]] = []
        rows: list[KinesisRecord] = []
        for shard, key, data in placed:
            seq = max(stream.last_seq + 1, int(arrival * 1_000_000))
            stream.last_seq = seq
            rec = Record(seq, arrival, key, data)
            shard.records.append(rec)
            shard.seqs.append(seq)
            out.append((shard, rec))
            rows.append((stream.name, shard.shard_id, seq, arrival, key, data))
        try:
            await self._store.put_records(rows)
        except BaseException:
            for shard, rec in out:  # not committed: not accepted
                if rec in shard.records:
                    i = shard.records.index(rec)
                    del shard.records[i]
                    del shard.seqs[i]
            raise
        stream.wake()
        return out

    @staticmethod
    def latest(stream: Stream) -> int:
        """The position after every record committed so far (any later record has a greater seq)."""
        return stream.last_seq
