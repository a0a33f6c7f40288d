"""One queue in memory: its messages in send order, and the rules for which of them a receive may take.

Times are wall-clock seconds from the injected clock (they are persisted and shown to users). The queue
never does I/O: the engine (`engine.py`) persists what changes and wakes long pollers.

Invariants: `messages` is ordered by `seq` in a FIFO queue (a standard queue moves a received message to
the back); a message is visible when `visible_at <= now` (a delayed
message has `visible_at` in the future and `receive_count == 0`; an in-flight one has been received).
In a FIFO queue a group with a message in flight (or an earlier message still delayed) yields nothing,
so each group is delivered strictly in order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lamina.services.sqs.attributes import DEFAULTS

DEDUP_WINDOW = 300.0  # seconds a FIFO deduplication id is remembered


@dataclass
class Message:
    id: str
    seq: int
    body: str
    md5_body: str
    attributes: dict[str, dict[str, Any]]  # MessageAttributes as sent (BinaryValue as bytes)
    md5_attributes: str | None
    system: dict[str, str]  # SenderId, SentTimestamp, MessageGroupId, ... (AWS's Attributes)
    sent_at: float
    visible_at: float
    receive_count: int = 0
    first_receive: float | None = None
    received_at: float | None = None  # the newest receive (not stored: after a restart the 12-hour cap is not checked)

    @property
    def group(self) -> str | None:
        return self.system.get("MessageGroupId")

    def frozen(self) -> dict[str, Any]:
        """The parts that never change, for the store."""
        attrs = {
            k: {**v, "BinaryValue": v["BinaryValue"].hex()} if isinstance(v.get("BinaryValue"), bytes) else v
            for k, v in self.attributes.items()
        }
        return {
            "body": self.body,
            "md5_body": self.md5_body,
            "attributes": attrs,
            "md5_attributes": self.md5_attributes,
            "system": self.system,
            "sent_at": self.sent_at,
        }

    @classmethod
    def thaw(
        cls, id: str, seq: int, data: dict[str, Any], visible_at: float, count: int, first: float | None
    ) -> Message:
        attrs = {
            k: {**v, "BinaryValue": bytes.fromhex(v["BinaryValue"])} if "BinaryValue" in v else v
            for k, v in data["attributes"].items()
        }
        return cls(
            id,
            seq,
            data["body"],
            data["md5_body"],
            attrs,
            data["md5_attributes"],
            data["system"],
            data["sent_at"],
            visible_at,
            count,
            first,
        )


@dataclass
class Queue:
    name: str
    account: str
    region: str
    attributes: dict[str, str]
    tags: dict[str, str]
    created: float
    modified: float
    messages: dict[str, Message] = field(default_factory=dict)
    next_seq: int = 1
    dedup: dict[str, tuple[float, Message]] = field(default_factory=dict)  # dedup key → (expiry, message)
    last_purge: float = -1e18
    retention_checked: float = -1e18
    groups: dict[str | None, dict[str, Message]] = field(default_factory=dict)  # FIFO: each group in send order
    group_order: dict[str | None, None] = field(default_factory=dict)  # FIFO: groups, least recently served first

    @property
    def arn(self) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account}:{self.name}"

    @property
    def fifo(self) -> bool:
        return self.attributes.get("FifoQueue") == "true"

    def setting(self, name: str) -> int:
        return int(self.attributes.get(name, DEFAULTS.get(name, "0")))

    @property
    def redrive(self) -> tuple[str, int] | None:
        raw = self.attributes.get("RedrivePolicy")
        if not raw:
            return None
        policy = json.loads(raw)
        return str(policy["deadLetterTargetArn"]), int(policy["maxReceiveCount"])

    def snapshot(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "account": self.account,
            "region": self.region,
            "attributes": self.attributes,
            "tags": self.tags,
            "created": self.created,
            "modified": self.modified,
        }

    # -- membership (the only ways messages enter and leave, so the FIFO group index stays true) ----------
    def add(self, message: Message) -> None:
        self.messages[message.id] = message
        if self.fifo:
            self.groups.setdefault(message.group, {})[message.id] = message
            self.group_order.setdefault(message.group, None)

    def remove(self, message_id: str) -> Message | None:
        message = self.messages.pop(message_id, None)
        if message is not None and self.fifo:
            group = self.groups.get(message.group)
            if group is not None:
                group.pop(message_id, None)
                if not group:
                    del self.groups[message.group]
                    self.group_order.pop(message.group, None)
        return message

    def clear(self) -> None:
        self.messages.clear()
        self.groups.clear()
        self.group_order.clear()

    # -- counting -------------------------------------------------------------------------------
    def counts(self, now: float) -> tuple[int, int, int]:
        """(visible, in flight, delayed)."""
        visible = flight = delayed = 0
        for m in self.messages.values():
            if m.visible_at <= now:
                visible += 1
            elif m.receive_count:
                flight += 1
            else:
                delayed += 1
        return visible, flight, delayed

    def depth(self, now: float) -> tuple[int, int, float | None]:
        """(visible, in flight, when the oldest message was sent): what the AWS/SQS gauges sample, one scan."""
        visible = flight = 0
        oldest: float | None = None
        for m in self.messages.values():
            if m.visible_at <= now:
                visible += 1
            elif m.receive_count:
                flight += 1
            if oldest is None or m.sent_at < oldest:
                oldest = m.sent_at
        return visible, flight, oldest

    def next_change(self, now: float) -> float | None:
        """When the next invisible message becomes visible (a long poll wakes then)."""
        later = [m.visible_at for m in self.messages.values() if m.visible_at > now]
        return min(later) if later else None

    # -- deduplication --------------------------------------------------------------------------
    def duplicate(self, key: str, now: float) -> Message | None:
        found = self.dedup.get(key)
        if found is None:
            return None
        if found[0] <= now:
            del self.dedup[key]
            return None
        return found[1]

    def remember(self, key: str, message: Message, now: float) -> None:
        if len(self.dedup) > 1000:
            self.dedup = {k: v for k, v in self.dedup.items() if v[0] > now}
        self.dedup[key] = (now + DEDUP_WINDOW, message)

    # -- receiving ------------------------------------------------------------------------------
    def expired(self, now: float) -> list[Message]:
        """Messages past the retention period: a full scan, at most once a second per queue (standard
        queues keep received messages at the back, so send order is not age order)."""
        if now - self.retention_checked < 1.0:
            return []
        self.retention_checked = now
        cutoff = now - self.setting("MessageRetentionPeriod")
        return [m for m in self.messages.values() if m.sent_at <= cutoff]

    def candidates(self, now: float) -> Iterator[Message]:
        """Visible messages in the order a receive takes them. FIFO: group by group (least recently served
        first), each group in send order up to its first invisible message, as AWS returns them."""
        if not self.fifo:
            for m in self.messages.values():
                if m.visible_at <= now:
                    yield m
            return
        for group in list(self.group_order):
            for m in self.groups.get(group, {}).values():
                if m.visible_at > now:
                    break  # the rest of the group waits behind its message in flight (or delayed)
                yield m

    def deliver(self, message: Message, now: float, visibility: int) -> None:
        message.receive_count += 1
        if message.first_receive is None:
            message.first_receive = now
        message.visible_at = now + visibility
        message.received_at = now

    def served(self, messages: Iterable[Message]) -> None:
        """After a receive. Standard: the received messages go to the back, so the next receive finds visible
        messages at the front instead of stepping over everything in flight (standard queues promise no
        order). FIFO: the groups served go to the back, as AWS serves groups in turn."""
        if self.fifo:
            for group in dict.fromkeys(m.group for m in messages):
                self.group_order.pop(group, None)
                self.group_order[group] = None
            return
        for m in messages:
            if self.messages.pop(m.id, None) is not None:
                self.messages[m.id] = m
