"""Delivers committed events to rule targets, with the target's RetryPolicy and DeadLetterConfig.

Target kinds, by the service in the target ARN:
- `lambda`: an asynchronous invoke as `events.amazonaws.com` (the function's resource policy must allow it for
  the rule's ARN), entering Lambda's durable async queue, so the function's own retries and destinations apply;
- `sqs`, `sns`: through the same small `Target` interfaces async destinations use (invoke/destinations/);
- `events`: another bus; the event is routed there as if put on it (its deliveries replace this one in one
  transaction).

Failures (EventBridge User Guide "Event retry policy and using dead-letter queues"): a target that does not
exist (RESOURCE_NOT_FOUND) or does not allow EventBridge (NO_PERMISSIONS) is not retried; any other failure is
retried with exponential back-off on the project clock until MaximumRetryAttempts (default 185) or
MaximumEventAgeInSeconds (default 24 h) runs out. Then the event goes to the target's dead-letter queue (an SQS
queue) with the attributes RULE_ARN, TARGET_ARN, ERROR_CODE and ERROR_MESSAGE, or, without one, is logged at
ERROR with its whole body and counted. A delivery is deleted only once its target (or the DLQ) has it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from lamina.clock import Clock
from lamina.invoke.destinations import Delivery, Target, TargetUnavailable, service_of
from lamina.services.events.engine import DEFAULT_EVENT_AGE, DEFAULT_RETRY_ATTEMPTS, EventsEngine

log = logging.getLogger(__name__)

PolicyCheck = Callable[[str, str | None, str], bool]  # (function ARN, qualifier, rule ARN) → allowed
MAX_HOPS = 5  # bus-to-bus forwarding stops here (a loop of buses must not spin forever)
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 300.0
CONCURRENCY = 32  # deliveries in flight at once


class NoPermission(Exception):
    pass


def _function(arn: str) -> tuple[str, str | None]:
    parts = arn.split(":")
    if len(parts) >= 8:
        return ":".join(parts[:7]), parts[7]
    return arn, None


# (queue or topic ARN, rule ARN) → why events.amazonaws.com may not deliver there (its policy), None when it may
ResourceCheck = Callable[[str, str], str | None]


class Dispatcher:
    def __init__(
        self,
        engine: EventsEngine,
        targets: dict[str, Target],
        clock: Clock,
        lambda_allowed: PolicyCheck | None = None,
        resource_allowed: ResourceCheck | None = None,
    ) -> None:
        self._resource_allowed = resource_allowed
        self._engine = engine
        self._targets = dict(targets)
        self._clock = clock
        self._lambda_allowed = lambda_allowed
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.delivered: Counter[str] = Counter()
        self.retried: Counter[str] = Counter()
        self.dead_lettered: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()
        self._running: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        engine.on_deliveries(self._wake.set)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        self._closed = True
        self._wake.set()
        for task in [t for t in (self._task, *self._tasks) if t is not None]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _run(self) -> None:
        """Starts due deliveries, up to CONCURRENCY at once, and sleeps until the next one is due or a new
        one is committed."""
        while not self._closed:
            self._wake.clear()
            now = self._clock.time()
            free = CONCURRENCY - len(self._running)
            due = sorted(
                ((k, d) for k, d in self._engine.pending.items() if d["due"] <= now and k not in self._running),
                key=lambda item: item[1]["due"],
            )[: max(free, 0)]
            for key, doc in due:
                self._running.add(key)
                task = asyncio.get_running_loop().create_task(self._attempt(key, doc))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            waiting = [d["due"] for k, d in self._engine.pending.items() if k not in self._running]
            wait = min(waiting) - now if waiting else 3600.0
            if len(self._running) >= CONCURRENCY:
                wait = 3600.0  # every slot is busy: the next to finish wakes the loop
            if wait <= 0 and len(self._running) < CONCURRENCY:
                await asyncio.sleep(0)
                continue
            sleeper = asyncio.ensure_future(self._clock.sleep(max(wait, 0.001)))
            waker = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                waker.cancel()

    async def _attempt(self, key: str, doc: dict[str, Any]) -> None:
        try:
            await self._deliver(key, doc)
        except Exception:
            log.exception("EventBridge delivery %s failed unexpectedly; it stays queued, tried again in 1 s", key)
            if key in self._engine.pending:  # in memory only: the stored document is unchanged
                self._engine.pending[key] = {**doc, "due": self._clock.time() + 1.0}
        finally:
            self._running.discard(key)
            self._wake.set()

    async def _deliver(self, key: str, doc: dict[str, Any]) -> None:
        target = doc["target"]
        arn = str(target["Arn"])
        service = service_of(arn)
        try:
            if service == "events":
                self._forward(key, doc, arn)
                self.delivered[service] += 1
                return
            if service == "lambda" and self._lambda_allowed is not None:
                function, qualifier = _function(arn)
                if not self._lambda_allowed(function, qualifier, doc["rule_arn"]):
                    raise NoPermission(
                        f"the resource policy of {arn} does not allow events.amazonaws.com to invoke it from "
                        f"{doc['rule_arn']} (lambda add-permission --principal events.amazonaws.com --source-arn …)"
                    )
            if service in ("sqs", "sns") and self._resource_allowed is not None:
                refused = self._resource_allowed(arn, doc["rule_arn"])
                if refused is not None:
                    raise NoPermission(refused)
            sink = self._targets.get(service)
            if sink is None:
                raise TargetUnavailable(f"EventBridge targets of service {service!r} are not served by Lamina")
            group = (target.get("SqsParameters") or {}).get("MessageGroupId")
            event_id = doc["event"]["id"]
            delivery = Delivery(arn, doc["body"].encode(), "EventBridge", doc["rule_arn"], event_id, {}, group)
            await sink.deliver(delivery)
        except TargetUnavailable as exc:
            await self._give_up(key, doc, "RESOURCE_NOT_FOUND", str(exc))
        except NoPermission as exc:
            await self._give_up(key, doc, "NO_PERMISSIONS", str(exc))
        except Exception as exc:
            await self._retry(key, doc, exc)
        else:
            self._engine.finish(key)
            self.delivered[service] += 1

    def _forward(self, key: str, doc: dict[str, Any], arn: str) -> None:
        parts = arn.split(":")
        bus = self._engine.bus(parts[3], parts[4], parts[5].split("/", 1)[-1]) if len(parts) > 5 else None
        if bus is None:
            raise TargetUnavailable(f"event bus {arn} does not exist")
        hops = int(doc.get("hops", 0)) + 1
        deliveries = self._engine.route(bus, doc["event"], hops) if hops <= MAX_HOPS else []
        if hops > MAX_HOPS:
            self.dropped["events"] += 1
            log.error("event %s went through %d buses (a loop?); not forwarded to %s", doc["event"]["id"], hops, arn)
        archived = self._engine.archive(bus, doc["event"]) if hops <= MAX_HOPS else []
        self._engine.commit(deliveries, done=key, archived=archived)

    async def _retry(self, key: str, doc: dict[str, Any], exc: Exception) -> None:
        policy = doc["target"].get("RetryPolicy") or {}
        attempts = int(policy.get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS))
        max_age = int(policy.get("MaximumEventAgeInSeconds", DEFAULT_EVENT_AGE))
        now = self._clock.time()
        attempt = int(doc["attempt"]) + 1
        delay = min(BACKOFF_FIRST_S * 2 ** (attempt - 1), BACKOFF_MAX_S)
        if attempt > attempts or now + delay - float(doc["accepted"]) > max_age:
            await self._give_up(key, doc, "SDK_CLIENT_ERROR", str(exc))
            return
        self.retried[service_of(str(doc["target"]["Arn"]))] += 1
        self._engine.reschedule(key, {**doc, "attempt": attempt, "due": now + delay})

    async def _give_up(self, key: str, doc: dict[str, Any], code: str, message: str) -> None:
        target = doc["target"]
        service = service_of(str(target["Arn"]))
        dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
        body = json.dumps(doc["event"])
        if dlq:
            attributes = {
                "RULE_ARN": ("String", doc["rule_arn"]),
                "TARGET_ARN": ("String", str(target["Arn"])),
                "ERROR_CODE": ("String", code),
                "ERROR_MESSAGE": ("String", message[:1024]),
            }
            sink = self._targets.get(service_of(dlq))
            try:
                if sink is None:
                    raise TargetUnavailable(f"dead-letter queue {dlq} is not an SQS queue")
                await sink.deliver(
                    Delivery(dlq, body.encode(), "DeadLetter", doc["rule_arn"], doc["event"]["id"], attributes)
                )
            except Exception as exc:
                log.error(
                    "EventBridge could not move event %s to its dead-letter queue %s: %s", doc["event"]["id"], dlq, exc
                )
            else:
                self.dead_lettered[service] += 1
                self._engine.finish(key)
                return
        self.dropped[service] += 1
        log.error(
            "EventBridge could not deliver event %s of rule %s to %s (%s: %s); the event was: %s",
            doc["event"]["id"],
            doc["rule_arn"],
            target["Arn"],
            code,
            message,
            body,
        )
        self._engine.finish(key)
