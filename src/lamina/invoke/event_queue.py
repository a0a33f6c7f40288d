"""The durable async event queue: its vocabulary, the lifecycle of a queued event, the interface every
backend implements, and the in-memory fake that unit tests use.

    put(events)        durable when it returns: the caller answers 202 only afterwards
    lease(now, n, s)   up to n due events, each invisible to other pollers for s seconds
    reschedule(event)  back to QUEUED with its new attempt counts, due at `event.next_at`
    complete(id)       the outcome was handled (destinations included): the row is gone
    drop_function(key) the function was deleted: its events are dropped, as AWS drops them

Invariants: an event leaves the queue only through `complete` or `drop_function`, so a crash at any point
redelivers it (at least once, never lost); a lease is the only claim on an event, and an expired lease makes
it visible again (the PostgreSQL backend reads the same rows with `FOR UPDATE SKIP LOCKED`). The SQLite
backend is `lamina.store.event_queue_sqlite`.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol


class EventState(enum.StrEnum):
    """Lifecycle of one accepted async event. DONE and DROPPED are terminal: the row no longer exists."""

    QUEUED = "QUEUED"  # waiting until next_at
    LEASED = "LEASED"  # a poller is running an attempt or handling its outcome
    DONE = "DONE"  # outcome handled (success, or failure routed to its destinations)
    DROPPED = "DROPPED"  # its function was deleted


TRANSITIONS: dict[EventState, frozenset[EventState]] = {
    EventState.QUEUED: frozenset({EventState.LEASED, EventState.DROPPED}),
    EventState.LEASED: frozenset({EventState.QUEUED, EventState.DONE, EventState.DROPPED}),
    EventState.DONE: frozenset(),
    EventState.DROPPED: frozenset(),
}


def check_transition(current: EventState, target: EventState) -> None:
    if target not in TRANSITIONS[current]:
        raise ValueError(f"async event cannot go from {current} to {target}")


@dataclass(frozen=True)
class QueuedEvent:
    """One accepted Event invocation. `request_id` is the same on every attempt (§3: retries by Lambda reuse
    it); `attempts` counts function invocations (approximateInvokeCount), `throttles` the attempts refused for
    capacity. `last_response` is the JSON of the last function response, for an EventAgeExceeded record."""

    id: str
    function_key: str  # "region/name": what a function delete drops
    invoked_arn: str  # as invoked: qualified when a qualifier was given
    request_id: str
    payload: bytes
    enqueued_at: float  # wall-clock seconds: the event's age survives restarts
    next_at: float
    attempts: int = 0
    throttles: int = 0
    state: EventState = EventState.QUEUED
    last_response: str | None = None
    trace_header: str | None = None  # the request chain it came with (an SNS notification): loop detection


class EventQueue(Protocol):
    async def put(self, events: Sequence[QueuedEvent]) -> None: ...
    async def lease(self, now: float, limit: int, lease_s: float) -> list[QueuedEvent]: ...
    async def reschedule(self, event: QueuedEvent) -> None: ...
    async def complete(self, event_id: str) -> None: ...
    async def drop_function(self, function_key: str) -> int: ...
    async def next_due(self) -> float | None:
        """The earliest `next_at` of a queued event (or lease expiry of a leased one), None when empty."""

    async def count(self) -> int: ...
    async def close(self) -> None: ...


class MemoryEventQueue:
    """The in-memory fake: the same semantics as the SQLite queue, nothing durable. `puts` counts batches."""

    def __init__(self) -> None:
        self.events: dict[str, QueuedEvent] = {}
        self._leases: dict[str, float] = {}
        self.puts = 0

    async def put(self, events: Sequence[QueuedEvent]) -> None:
        self.puts += 1
        for event in events:
            self.events[event.id] = replace(event, state=EventState.QUEUED)

    async def lease(self, now: float, limit: int, lease_s: float) -> list[QueuedEvent]:
        due = sorted(
            (e for e in self.events.values() if e.next_at <= now and self._available(e, now)),
            key=lambda e: e.next_at,
        )[:limit]
        out = []
        for event in due:
            leased = replace(event, state=EventState.LEASED)
            self.events[event.id] = leased
            self._leases[event.id] = now + lease_s
            out.append(leased)
        return out

    def _available(self, event: QueuedEvent, now: float) -> bool:
        return event.state is EventState.QUEUED or self._leases.get(event.id, 0.0) < now

    async def reschedule(self, event: QueuedEvent) -> None:
        current = self.events.get(event.id)
        if current is None:
            return  # dropped meanwhile
        check_transition(current.state, EventState.QUEUED)
        self.events[event.id] = replace(event, state=EventState.QUEUED)
        self._leases.pop(event.id, None)

    async def complete(self, event_id: str) -> None:
        current = self.events.pop(event_id, None)
        if current is not None:
            check_transition(current.state, EventState.DONE)
        self._leases.pop(event_id, None)

    async def drop_function(self, function_key: str) -> int:
        gone = [k for k, e in self.events.items() if e.function_key == function_key]
        for key in gone:
            del self.events[key]
            self._leases.pop(key, None)
        return len(gone)

    async def next_due(self) -> float | None:
        times = [
            self._leases[e.id] if e.state is EventState.LEASED else e.next_at
            for e in self.events.values()
            if e.state is EventState.QUEUED or e.id in self._leases
        ]
        return min(times) if times else None

    async def count(self) -> int:
        return len(self.events)

    async def close(self) -> None:
        pass
