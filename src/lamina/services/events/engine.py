"""Event buses, rules and targets (documents), and the acceptance of events.

Invariants:
- Every account/region has the bus `default`; it exists without a document (one is written only to keep its
  tags). Custom buses, rules (with their targets inside) are one document each, written before the answer.
- An accepted event is matched against the bus's enabled rules at once; each (rule, target) it reaches becomes
  one delivery document, all of them committed in one transaction before PutEvents answers. `dispatch.py`
  delivers them and deletes each when its target has it (or it went to the dead-letter queue), so an accepted
  event reaches its targets after a crash or kill -9 too (at least once).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lamina.clock import Clock
from lamina.services.events import input_transform
from lamina.sources import patterns
from lamina.store.documents import DocumentStore

BUS_KIND = "events-bus"
RULE_KIND = "events-rule"
DELIVERY_KIND = "events-delivery"
ARCHIVED_KIND = "events-archived"  # archives.py owns these documents; commit() writes them with the deliveries
DEFAULT_BUS = "default"
DEFAULT_RETRY_ATTEMPTS = 185  # AWS's RetryPolicy defaults
DEFAULT_EVENT_AGE = 86_400


def iso_time(epoch: float) -> str:
    """Event `time` as AWS writes it: `2024-04-26T08:43:27Z` (seconds)."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bus_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:events:{region}:{account}:event-bus/{name}"


def rule_arn(region: str, account: str, bus: str, name: str) -> str:
    path = name if bus == DEFAULT_BUS else f"{bus}/{name}"
    return f"arn:aws:events:{region}:{account}:rule/{path}"


@dataclass
class Bus:
    name: str
    arn: str
    region: str
    account: str
    created: float
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    dead_letter: dict[str, Any] | None = None
    policy: str | None = None  # the resource policy PutPermission builds (JSON text)
    kms_key: str | None = None  # a customer managed key's identifier, None for an AWS owned key
    modified: float | None = None  # LastModifiedTime once UpdateEventBus changed it, else the creation's

    def to_doc(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "name": self.name,
            "arn": self.arn,
            "region": self.region,
            "account": self.account,
            "created": self.created,
            "description": self.description,
            "tags": self.tags,
            "dead_letter": self.dead_letter,
            "kms_key": self.kms_key,
            "modified": self.modified,
        }

    @staticmethod
    def from_doc(doc: dict[str, Any]) -> Bus:
        return Bus(
            doc["name"],
            doc["arn"],
            doc["region"],
            doc["account"],
            float(doc["created"]),
            doc.get("description"),
            dict(doc.get("tags") or {}),
            doc.get("dead_letter"),
            doc.get("policy"),
            doc.get("kms_key"),
            doc.get("modified"),
        )


@dataclass
class Rule:
    name: str
    arn: str
    bus: str  # the bus's name
    region: str
    account: str
    state: str = "ENABLED"
    event_pattern: str | None = None
    schedule: str | None = None
    description: str | None = None
    role_arn: str | None = None
    managed_by: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    targets: list[dict[str, Any]] = field(default_factory=list)
    created: float = 0.0
    _parsed: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def pattern(self) -> dict[str, Any] | None:
        if self._parsed is None and self.event_pattern is not None:
            self._parsed = patterns.check(self.event_pattern)
        return self._parsed

    @property
    def bus_arn(self) -> str:
        return bus_arn(self.region, self.account, self.bus)

    def to_doc(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "arn": self.arn,
            "bus": self.bus,
            "region": self.region,
            "account": self.account,
            "state": self.state,
            "event_pattern": self.event_pattern,
            "schedule": self.schedule,
            "description": self.description,
            "role_arn": self.role_arn,
            "managed_by": self.managed_by,
            "tags": self.tags,
            "targets": self.targets,
            "created": self.created,
        }

    @staticmethod
    def from_doc(doc: dict[str, Any]) -> Rule:
        fields = {k: v for k, v in doc.items() if k in Rule.__dataclass_fields__ and not k.startswith("_")}
        return Rule(**fields)


@dataclass(frozen=True)
class Accepted:
    """One PutEvents entry: its event id, or AWS's per-entry error."""

    event_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None


class EventsEngine:
    def __init__(self, store: DocumentStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self.buses: dict[str, Bus] = {}  # by ARN (custom buses, and default buses that carry tags)
        self.rules: dict[str, Rule] = {}  # by ARN
        self.pending: dict[str, dict[str, Any]] = {}  # delivery key → document, for dispatch.py
        self._listeners: list[Callable[[], None]] = []
        self._rule_listeners: list[Callable[[str], None]] = []
        # The archived-event documents an event makes on a bus (archives.py sets it) and who hears of them.
        self.archiver: Callable[[Bus, dict[str, Any]], list[tuple[str, dict[str, Any]]]] = lambda bus, event: []
        self._archived_listeners: list[Callable[[list[tuple[str, dict[str, Any]]]], None]] = []

    def load(self) -> None:
        for doc in self._store.load(BUS_KIND).values():
            bus = Bus.from_doc(doc)
            self.buses[bus.arn] = bus
        for doc in self._store.load(RULE_KIND).values():
            rule = Rule.from_doc(doc)
            self.rules[rule.arn] = rule
        self.pending = self._store.load(DELIVERY_KIND)

    def on_rule_change(self, listener: Callable[[str], None]) -> None:
        """Called with a rule's ARN after it was stored or deleted (rule_schedules.py plans its fires)."""
        self._rule_listeners.append(listener)

    def _rule_changed(self, arn: str) -> None:
        for listener in self._rule_listeners:
            listener(arn)

    def on_archived(self, listener: Callable[[list[tuple[str, dict[str, Any]]]], None]) -> None:
        """Called with the archived-event documents after commit() wrote them."""
        self._archived_listeners.append(listener)

    def on_deliveries(self, listener: Callable[[], None]) -> None:
        """Called after new deliveries are committed (the dispatcher wakes up)."""
        self._listeners.append(listener)

    # -- buses ----------------------------------------------------------------------------------
    def bus(self, region: str, account: str, name: str) -> Bus | None:
        arn = bus_arn(region, account, name)
        found = self.buses.get(arn)
        if found is None and name == DEFAULT_BUS:
            return Bus(DEFAULT_BUS, arn, region, account, 0.0)
        return found

    def bus_by_arn(self, arn: str) -> Bus | None:
        parts = arn.split(":")
        if len(parts) < 6 or not parts[5].startswith("event-bus/"):
            return None
        return self.bus(parts[3], parts[4], parts[5].split("/", 1)[1])

    def buses_in(self, region: str, account: str) -> list[Bus]:
        out = [b for b in self.buses.values() if b.region == region and b.account == account]
        if not any(b.name == DEFAULT_BUS for b in out):
            out.append(Bus(DEFAULT_BUS, bus_arn(region, account, DEFAULT_BUS), region, account, 0.0))
        return sorted(out, key=lambda b: b.name)

    def save_bus(self, bus: Bus) -> None:
        self._store.put(BUS_KIND, bus.arn, bus.to_doc())
        self.buses[bus.arn] = bus

    def delete_bus(self, bus: Bus) -> None:
        with self._store.transaction():
            for rule in self.rules_of(bus):
                self._store.delete(RULE_KIND, rule.arn)
            self._store.delete(BUS_KIND, bus.arn)
        for rule in self.rules_of(bus):
            del self.rules[rule.arn]
            self._rule_changed(rule.arn)
        self.buses.pop(bus.arn, None)

    # -- rules ----------------------------------------------------------------------------------
    def rules_of(self, bus: Bus) -> list[Rule]:
        return sorted(
            (
                r
                for r in self.rules.values()
                if r.bus == bus.name and r.region == bus.region and r.account == bus.account
            ),
            key=lambda r: r.name,
        )

    def save_rule(self, rule: Rule) -> None:
        self._store.put(RULE_KIND, rule.arn, rule.to_doc())
        self.rules[rule.arn] = rule
        self._rule_changed(rule.arn)

    def delete_rule(self, rule: Rule) -> None:
        self._store.delete(RULE_KIND, rule.arn)
        self.rules.pop(rule.arn, None)
        self._rule_changed(rule.arn)

    # -- events ---------------------------------------------------------------------------------
    def new_event(
        self,
        region: str,
        account: str,
        source: str,
        detail_type: str,
        detail: Any,
        resources: list[str],
        time: float | None = None,
    ) -> dict[str, Any]:
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": source,
            "account": account,
            "time": iso_time(time if time is not None else self._clock.time()),
            "region": region,
            "resources": list(resources),
            "detail": detail,
        }

    def route(
        self, bus: Bus, event: dict[str, Any], hops: int = 0, rules: set[str] | None = None
    ) -> list[tuple[str, dict[str, Any]]]:
        """The deliveries `event` makes on `bus`: (key, document) for each target of each matching rule (of the
        rules whose ARNs are in `rules`, when given: a replay's FilterArns)."""
        flat = patterns.flatten(event)
        now = self._clock.time()
        out = []
        for rule in self.rules_of(bus):
            if (rules is not None and rule.arn not in rules) or rule.managed_by is not None:
                continue  # a managed rule (an archive's) is its manager's work, not a delivery
            try:
                pattern = rule.pattern
            except patterns.InvalidPattern:  # stored by an older, laxer Lamina: it matches nothing
                continue
            if rule.state == "DISABLED" or pattern is None or not patterns.matches_flat(pattern, flat):
                continue
            for target in rule.targets:
                out.append(self.delivery(rule, target, event, now, hops))
        return out

    def delivery(
        self, rule: Rule, target: dict[str, Any], event: dict[str, Any], now: float, hops: int = 0
    ) -> tuple[str, dict[str, Any]]:
        body = input_transform.target_input(target, event, rule.arn, rule.name, iso_time(now))
        doc = {
            "rule_arn": rule.arn,
            "target": target,
            "event": event,
            "body": body,
            "attempt": 0,
            "accepted": now,
            "due": now,
            "hops": hops,
        }
        return uuid.uuid4().hex, doc

    def archive(self, bus: Bus, event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """The archived-event documents `event` makes on `bus`, for commit()."""
        return self.archiver(bus, event)

    def commit(
        self,
        deliveries: list[tuple[str, dict[str, Any]]],
        done: str | None = None,
        archived: list[tuple[str, dict[str, Any]]] | None = None,
    ) -> None:
        """Writes new deliveries and archived events (and deletes the delivery that produced them, for a bus-to-bus
        hop) in one transaction, then wakes the dispatcher."""
        if not deliveries and done is None and not archived:
            return
        with self._store.transaction():
            for key, doc in deliveries:
                self._store.put(DELIVERY_KIND, key, doc)
            for key, doc in archived or ():
                self._store.put(ARCHIVED_KIND, key, doc)
            if done is not None:
                self._store.delete(DELIVERY_KIND, done)
        if archived:
            for heard in self._archived_listeners:
                heard(archived)
        if done is not None:
            self.pending.pop(done, None)
        for key, doc in deliveries:
            self.pending[key] = doc
        for listener in self._listeners:
            listener()

    def finish(self, key: str) -> None:
        self._store.delete(DELIVERY_KIND, key)
        self.pending.pop(key, None)

    def reschedule(self, key: str, doc: dict[str, Any]) -> None:
        self._store.put(DELIVERY_KIND, key, doc)
        self.pending[key] = doc

    def scheduled_rules(self) -> list[Rule]:
        """The rules with a ScheduleExpression, for the scheduler (lamina.schedules) to fire."""
        return sorted((r for r in self.rules.values() if r.schedule), key=lambda r: r.arn)

    def fire(self, rule: Rule, when: float) -> dict[str, Any] | None:
        """One firing of a schedule rule (spec/events.md §4, the recorded test_events_schedule messages): a
        "Scheduled Event" from `aws.events` naming the rule, delivered to each of its targets (no pattern
        applies). Committed before it returns; None when the rule is disabled."""
        if rule.state == "DISABLED":
            return None
        event = self.new_event(rule.region, rule.account, "aws.events", "Scheduled Event", {}, [rule.arn], when)
        now = self._clock.time()
        self.commit([self.delivery(rule, target, event, now) for target in rule.targets])
        return event

    def now(self) -> float:
        return self._clock.time()

    def put_on_bus(self, arn: str, source: str, detail_type: str, detail: Any, resources: list[str]) -> bool:
        """An event from another service (Lambda's async destinations): False when the bus does not exist."""
        bus = self.bus_by_arn(arn)
        if bus is None:
            return False
        event = self.new_event(bus.region, bus.account, source, detail_type, detail, resources)
        self.commit(self.route(bus, event), archived=self.archive(bus, event))
        return True


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
