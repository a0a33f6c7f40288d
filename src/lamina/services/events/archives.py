"""EventBridge archives and replays.

Invariants:
- An archive belongs to one bus and keeps the events accepted on it that match its pattern (every event when it
  has none), except replayed ones: AWS's archive rule requires `replay-name` to be absent. Archived events are
  documents written in the same transaction as the event's deliveries (EventsEngine.commit), so an accepted
  event is in its archives as surely as it reaches its targets.
- Retention (`RetentionDays`, 0 = forever) is applied by a sweep on the project's clock.
- Each archive has its managed rule on its bus, as AWS shows it: `Events-Archive-<name>`, ManagedBy
  `prod.vhs.events.aws.internal`, the archive's pattern plus `replay-name` absent, one target (the archive).
  Users cannot change it (ManagedRuleException); DeleteRule with Force removes it and disables the archive,
  as on AWS. The rule is shown, not routed: archiving is the archiver's work (EventsEngine.route skips it).
- SizeBytes counts each archived event as the compact UTF-8 JSON of the whole event (envelope included).
- A replay re-sends the archived events whose time falls in [EventStartTime, EventEndTime) to the rules of its
  destination bus (the archive's own bus; `FilterArns` narrows the rules), each event carrying `replay-name`.
  It runs in the background, STARTING → RUNNING → COMPLETED (or CANCELLING → CANCELLED), and its progress is a
  document: a replay interrupted by a restart resumes after the last event time it committed (at least once).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from lamina import periodic
from lamina.clock import Clock
from lamina.services.events.engine import Bus, EventsEngine, Rule, rule_arn
from lamina.sources import patterns
from lamina.store.documents import DocumentStore

log = logging.getLogger(__name__)

ARCHIVE_KIND = "events-archive"
ARCHIVED_KIND = "events-archived"
REPLAY_KIND = "events-replay"
SWEEP_SECONDS = 3600.0  # how often retention is applied
REPLAY_BATCH = 100  # events committed per step of a replay
_NOT_REPLAYED = {"replay-name": [{"exists": False}]}
MANAGED_BY = "prod.vhs.events.aws.internal"  # what AWS's ListRules/DescribeRule show for an archive's rule
RULE_PREFIX = "Events-Archive-"
FORCED_REASON = "Managed rule for the archive was forcefully deleted."


def archive_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:events:{region}:{account}:archive/{name}"


def replay_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:events:{region}:{account}:replay/{name}"


def event_time(event: dict[str, Any]) -> float:
    """An event's `time` (AWS's `2024-04-26T08:43:27Z`) as epoch seconds."""
    return datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00")).timestamp()


def event_size(event: dict[str, Any]) -> int:
    """What an archived event counts towards SizeBytes: the whole event as compact UTF-8 JSON."""
    return len(json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode())


def managed_rule(archive: Archive, bus_name: str) -> Rule:
    """The archive's rule on its bus, as AWS lists it."""
    name = RULE_PREFIX + archive.name
    pattern = {**(json.loads(archive.event_pattern) if archive.event_pattern else {}), **_NOT_REPLAYED}
    arn = rule_arn(archive.region, archive.account, bus_name, name)
    template = (
        f'{{"archive-arn": "{archive.arn}", "event": <aws.events.event.json>, '
        '"ingestion-time": <aws.events.event.ingestion-time>}'
    )
    target = {"Id": name, "Arn": f"arn:aws:events:{archive.region}:::",
              "InputTransformer": {"InputPathsMap": {}, "InputTemplate": template}}  # fmt: skip
    return Rule(name, arn, bus_name, archive.region, archive.account, "ENABLED",
                json.dumps(pattern, separators=(",", ":")), managed_by=MANAGED_BY, targets=[target],
                created=archive.created)  # fmt: skip


@dataclass
class Archive:
    name: str
    arn: str
    region: str
    account: str
    source_arn: str  # the bus's ARN
    created: float
    event_pattern: str | None = None
    description: str | None = None
    retention_days: int = 0
    state: str = "ENABLED"
    state_reason: str | None = None
    event_count: int = 0
    size_bytes: int = 0
    _parsed: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def matches(self, flat: Any) -> bool:
        if self.state != "ENABLED":
            return False
        if self._parsed is None:
            pattern = patterns.check(self.event_pattern) if self.event_pattern else {}
            self._parsed = {**pattern, **_NOT_REPLAYED}
        return patterns.matches_flat(self._parsed, flat)

    def to_doc(self) -> dict[str, Any]:
        doc = asdict(self)
        doc.pop("_parsed")
        doc.pop("event_count")
        doc.pop("size_bytes")
        return doc

    @staticmethod
    def from_doc(doc: dict[str, Any]) -> Archive:
        return Archive(**{k: v for k, v in doc.items() if k in Archive.__dataclass_fields__ and k[0] != "_"})


@dataclass
class Replay:
    name: str
    arn: str
    region: str
    account: str
    archive_arn: str
    destination: dict[str, Any]
    event_start: float
    event_end: float
    started: float
    description: str | None = None
    state: str = "STARTING"
    state_reason: str | None = None
    last_replayed: float | None = None
    ended: float | None = None

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_doc(doc: dict[str, Any]) -> Replay:
        return Replay(**{k: v for k, v in doc.items() if k in Replay.__dataclass_fields__})


class Archives:
    def __init__(self, engine: EventsEngine, store: DocumentStore, clock: Clock) -> None:
        self._engine = engine
        self._store = store
        self._clock = clock
        self.archives: dict[str, Archive] = {}  # by ARN
        self.events: dict[str, dict[str, tuple[float, dict[str, Any]]]] = {}  # archive ARN → key → (time, event)
        self.replays: dict[str, Replay] = {}  # by ARN
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._sweeper: asyncio.Task[None] | None = None
        engine.archiver = self.archive
        engine.on_archived(self._archived)
        engine.on_rule_change(self._rule_changed)

    def load(self) -> None:
        for doc in self._store.load(ARCHIVE_KIND).values():
            archive = Archive.from_doc(doc)
            self.archives[archive.arn] = archive
            self.events[archive.arn] = {}
        self._archived(list(self._store.load(ARCHIVED_KIND).items()))
        for doc in self._store.load(REPLAY_KIND).values():
            replay = Replay.from_doc(doc)
            self.replays[replay.arn] = replay

    def _bus_name(self, archive: Archive) -> str | None:
        bus = self._engine.bus_by_arn(archive.source_arn)
        return None if bus is None else bus.name

    def _rule_arn(self, archive: Archive) -> str | None:
        bus = self._bus_name(archive)
        return None if bus is None else rule_arn(archive.region, archive.account, bus, RULE_PREFIX + archive.name)

    def _rule_changed(self, arn: str) -> None:
        """A managed rule deleted (DeleteRule with Force, or its bus deleted) disables its archive, as on AWS."""
        if arn in self._engine.rules or not arn.rsplit("/", 1)[-1].startswith(RULE_PREFIX):
            return
        for archive in list(self.archives.values()):
            if archive.state == "ENABLED" and self._rule_arn(archive) in (arn, None):
                archive.state = "DISABLED"
                archive.state_reason = FORCED_REASON
                self.save(archive, rule=False)

    def start(self) -> None:
        for archive in self.archives.values():  # archives made before Lamina showed their rule get it now
            if archive.state == "ENABLED" and self._rule_arn(archive) not in self._engine.rules:
                self._save_rule(archive)
        self._sweeper = periodic.every(
            self._clock, SWEEP_SECONDS, self.sweep, "the EventBridge archive retention sweep failed"
        )
        for replay in self.replays.values():
            if replay.state == "CANCELLING":
                self._finish(replay, "CANCELLED")
            elif replay.state in ("STARTING", "RUNNING"):
                self._launch(replay)

    async def close(self) -> None:
        for task in [t for t in (self._sweeper, *self._tasks.values()) if t is not None]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # -- archives -------------------------------------------------------------------------------
    def of_bus(self, bus: Bus) -> list[Archive]:
        return [a for a in self.archives.values() if a.source_arn == bus.arn]

    def save(self, archive: Archive, rule: bool = True) -> None:
        """Stores the archive and (unless told not to) its managed rule, together."""
        with self._store.transaction():
            self._store.put(ARCHIVE_KIND, archive.arn, archive.to_doc())
            if rule and archive.state == "ENABLED":
                self._save_rule(archive)
        self.archives[archive.arn] = archive
        self.events.setdefault(archive.arn, {})

    def _save_rule(self, archive: Archive) -> None:
        bus = self._bus_name(archive)
        if bus is not None:
            self._engine.save_rule(managed_rule(archive, bus))

    def delete(self, archive: Archive) -> None:
        arn = self._rule_arn(archive)
        rule = self._engine.rules.get(arn) if arn else None
        self.archives.pop(archive.arn, None)
        with self._store.transaction():
            self._store.delete(ARCHIVE_KIND, archive.arn)
            for key in self.events.get(archive.arn, {}):
                self._store.delete(ARCHIVED_KIND, key)
            if rule is not None and rule.managed_by == MANAGED_BY:
                self._engine.delete_rule(rule)
        self.events.pop(archive.arn, None)

    def archive(self, bus: Bus, event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """The archived-event documents `event` makes on `bus` (written by EventsEngine.commit)."""
        archives = [a for a in self.archives.values() if a.source_arn == bus.arn]
        if not archives:
            return []
        flat = patterns.flatten(event)
        when = event_time(event)
        return [
            (f"{a.arn}|{when:017.3f}|{uuid.uuid4().hex}", {"archive": a.arn, "time": when, "event": event})
            for a in archives
            if a.matches(flat)
        ]

    def _archived(self, entries: list[tuple[str, dict[str, Any]]]) -> None:
        for key, doc in entries:
            archive = self.archives.get(doc["archive"])
            if archive is None:
                continue
            self.events.setdefault(archive.arn, {})[key] = (float(doc["time"]), doc["event"])
            archive.event_count += 1
            archive.size_bytes += event_size(doc["event"])

    def sweep(self) -> int:
        """Deletes the archived events older than their archive's retention; returns how many."""
        now = self._clock.time()
        expired: list[tuple[Archive, str]] = []
        for archive in self.archives.values():
            if archive.retention_days <= 0:
                continue
            horizon = now - archive.retention_days * 86_400
            expired.extend((archive, k) for k, (t, _) in self.events.get(archive.arn, {}).items() if t < horizon)
        if not expired:
            return 0
        with self._store.transaction():
            for _, key in expired:
                self._store.delete(ARCHIVED_KIND, key)
        for archive, key in expired:
            _, event = self.events[archive.arn].pop(key)
            archive.event_count -= 1
            archive.size_bytes -= event_size(event)
        return len(expired)

    # -- replays --------------------------------------------------------------------------------
    def start_replay(self, replay: Replay) -> None:
        self._store.put(REPLAY_KIND, replay.arn, replay.to_doc())
        self.replays[replay.arn] = replay
        self._launch(replay)

    def cancel(self, replay: Replay) -> None:
        replay.state = "CANCELLING"
        self._store.put(REPLAY_KIND, replay.arn, replay.to_doc())
        if replay.arn not in self._tasks:
            self._finish(replay, "CANCELLED")

    def _launch(self, replay: Replay) -> None:
        task = asyncio.get_running_loop().create_task(self._run(replay))
        self._tasks[replay.arn] = task
        task.add_done_callback(lambda _: self._tasks.pop(replay.arn, None))

    def _finish(self, replay: Replay, state: str, reason: str | None = None) -> None:
        replay.state = state
        replay.state_reason = reason
        replay.ended = self._clock.time()
        self._store.put(REPLAY_KIND, replay.arn, replay.to_doc())

    async def _run(self, replay: Replay) -> None:
        await asyncio.sleep(0)  # StartReplay answers STARTING first
        try:
            if replay.state == "CANCELLING":
                self._finish(replay, "CANCELLED")
                return
            replay.state = "RUNNING"
            self._store.put(REPLAY_KIND, replay.arn, replay.to_doc())
            bus = self._engine.bus_by_arn(str(replay.destination.get("Arn", "")))
            stored = self.events.get(replay.archive_arn, {})
            after = replay.last_replayed
            todo = sorted(
                (t, key, event)
                for key, (t, event) in stored.items()
                if replay.event_start <= t < replay.event_end and (after is None or t > after)
            )
            only = set(replay.destination.get("FilterArns") or [])
            for start in range(0, len(todo), REPLAY_BATCH):
                if replay.state == "CANCELLING":
                    self._finish(replay, "CANCELLED")
                    return
                batch = todo[start : start + REPLAY_BATCH]
                deliveries: list[tuple[str, dict[str, Any]]] = []
                for _, _, event in batch:
                    if bus is not None:
                        deliveries.extend(self._engine.route(bus, replayed(event, replay.name), rules=only or None))
                replay.last_replayed = batch[-1][0]
                with self._store.transaction():  # the deliveries and the progress that covers them, at once
                    self._store.put(REPLAY_KIND, replay.arn, replay.to_doc())
                    self._engine.commit(deliveries)
                await asyncio.sleep(0)
            self._finish(replay, "CANCELLED" if replay.state == "CANCELLING" else "COMPLETED")
        except Exception as exc:  # a replay that cannot go on says why, as AWS's FAILED state does
            log.exception("replay %s failed", replay.name)
            self._finish(replay, "FAILED", str(exc))


def replayed(event: dict[str, Any], name: str) -> dict[str, Any]:
    """The event as a replay delivers it: `replay-name` after `region`, where AWS places it."""
    out: dict[str, Any] = {}
    for key, value in event.items():
        out[key] = value
        if key == "region":
            out["replay-name"] = name
    out.setdefault("replay-name", name)
    return out
