"""SQS pollers: one per enabled event source mapping, on the event loop, calling the SQS engine directly.

A poller runs 1..N workers (N = ScalingConfig.MaximumConcurrency, else `DEFAULT_MAX_WORKERS`). Each worker
gathers a batch (up to BatchSize, within MaximumBatchingWindowInSeconds), drops and deletes the messages no
filter matches, invokes the function synchronously through the concurrency-gated runner with SQS's event
shape, and deletes what succeeded. Failures are left to the queue: they become visible again after the
visibility timeout and move to the dead-letter queue after maxReceiveCount (the engine's redrive).

Scaling with depth: a worker that received a full batch starts another worker (up to N); a worker whose
long poll came back empty retires unless it is the last one. FIFO queues keep per-group order because the
engine never hands out a message of a group that has one in flight.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import uuid
from typing import Any, Protocol

from lamina.clock import Clock
from lamina.errors import LaminaError, Throttled
from lamina.functions.control import FunctionService
from lamina.functions.event_source_mappings import Mapping
from lamina.functions.states import State
from lamina.invoke.executor import CapacityExceeded
from lamina.services.sqs.engine import Received, SqsEngine
from lamina.services.sqs.queue import Queue
from lamina.sources import patterns
from lamina.types import Invocation, InvocationResult, VersionSpec

log = logging.getLogger(__name__)

DEFAULT_MAX_WORKERS = 5
LONG_POLL_S = 20.0
IDLE_BACKOFF_S = 1.0  # the function or queue is missing: look again this much later
THROTTLE_BACKOFF_S = (0.05, 0.1, 0.2, 0.5, 1.0)


class Runner(Protocol):
    async def invoke(self, spec: VersionSpec, invocation: Invocation) -> InvocationResult: ...


def record(received: Received, queue: Queue) -> dict[str, Any]:
    """One message as Lambda hands it to the function (spec/events.md §2)."""
    m = received.message
    attributes = {"ApproximateReceiveCount": str(m.receive_count)}
    for key in ("SentTimestamp", "SequenceNumber", "MessageGroupId", "SenderId", "MessageDeduplicationId"):
        if key in m.system:
            attributes[key] = m.system[key]
    for key, value in m.system.items():
        if key not in attributes and key != "DeadLetterQueueSourceArn":
            attributes[key] = value
    if m.first_receive is not None:
        attributes["ApproximateFirstReceiveTimestamp"] = str(int(m.first_receive * 1000))
    message_attributes: dict[str, Any] = {}
    for name, attr in m.attributes.items():
        out: dict[str, Any] = {}
        if attr.get("StringValue") is not None:
            out["stringValue"] = attr["StringValue"]
        if attr.get("BinaryValue") is not None:
            raw = attr["BinaryValue"]
            out["binaryValue"] = base64.b64encode(raw if isinstance(raw, bytes) else bytes(raw)).decode()
        out["stringListValues"] = list(attr.get("StringListValues") or [])
        out["binaryListValues"] = [base64.b64encode(b).decode() for b in attr.get("BinaryListValues") or []]
        out["dataType"] = attr.get("DataType")
        message_attributes[name] = out
    return {
        "messageId": m.id,
        "receiptHandle": received.receipt_handle,
        "body": m.body,
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfMessageAttributes": m.md5_attributes,
        "md5OfBody": m.md5_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue.arn,
        "awsRegion": queue.region,
    }


def passes(filters: list[dict[str, Any]], rec: dict[str, Any]) -> bool:
    """Filters are OR-ed; a JSON body is matched as JSON, any other body as the plain string."""
    if not filters:
        return True
    subject = dict(rec)
    try:
        parsed = json.loads(rec["body"])
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        subject["body"] = parsed
    return any(patterns.matches(f, subject) for f in filters)


def failed_ids(mapping: Mapping, result: InvocationResult, ids: list[str]) -> set[str]:
    """Which messages of the batch failed. The all-or-nothing rules of partial batch responses: an
    unparsable response or an itemIdentifier that is empty, null, missing or not in the batch fails
    everything; a raised exception fails everything."""
    everything = set(ids)
    if result.function_error is not None:
        return everything
    if "ReportBatchItemFailures" not in mapping.response_types:
        return set()
    payload = result.payload.strip()
    if not payload:
        return set()
    try:
        response = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return everything
    if not isinstance(response, dict):
        return set()
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return everything
    out: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in everything:
            return everything
        out.add(identifier)
    return out


class SqsPoller:
    def __init__(
        self, mapping: Mapping, sqs: SqsEngine, functions: FunctionService, runner: Runner, clock: Clock
    ) -> None:
        self.mapping = mapping
        self._sqs = sqs
        self._functions = functions
        self._runner = runner
        self._clock = clock
        self._filters = [json.loads(p) for p in mapping.filters or []]
        self._max_workers = mapping.max_concurrency or DEFAULT_MAX_WORKERS
        self._workers: dict[asyncio.Task[None], bool] = {}  # task → receiving (cancellable)
        self._stopping = False
        self.stats = {"batches": 0, "invocations": 0, "deleted": 0, "failed": 0, "filtered": 0}

    @property
    def workers(self) -> int:
        return len(self._workers)

    def start(self) -> None:
        self._spawn()

    def _spawn(self) -> None:
        if self._stopping or len(self._workers) >= self._max_workers:
            return
        task = asyncio.get_running_loop().create_task(self._work())
        self._workers[task] = False
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._workers.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("SQS poller worker failed", exc_info=task.exception())
            if not self._workers:
                self._spawn()

    async def stop(self) -> None:
        """Stops polling: workers waiting for messages stop now, a batch being invoked finishes."""
        self._stopping = True
        for task, receiving in list(self._workers.items()):
            if receiving:
                task.cancel()
        for task in list(self._workers):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _work(self) -> None:
        me = asyncio.current_task()
        assert me is not None
        while not self._stopping:
            queue = self._sqs.by_arn(self.mapping.source_arn)
            target = self._target()
            if queue is None or target is None:
                self._workers[me] = True
                await self._clock.sleep(IDLE_BACKOFF_S)
                self._workers[me] = False
                continue
            self._workers[me] = True
            batch = await self._gather(queue)
            self._workers[me] = False
            if self._stopping and not batch:
                return
            if not batch:
                if len(self._workers) > 1:
                    del self._workers[me]  # now, so workers retiring together keep the last one
                    return  # the queue is drained: scale down
                continue
            if len(batch) >= min(self.mapping.batch_size, 10):
                self._spawn()  # a full batch: there may be more, scale up
            await self._process(queue, batch)

    def _target(self) -> tuple[VersionSpec, str] | None:
        try:
            ref = self._functions.resolve(self.mapping.function_arn, self.mapping.region, self.mapping.account)
            config = self._functions.invocation_target(ref)
        except LaminaError:
            return None
        if config.state != State.ACTIVE:
            return None
        return self._functions.cached_spec(config), self.mapping.function_arn

    async def _gather(self, queue: Queue) -> list[Received]:
        size = self.mapping.batch_size
        got = await self._sqs.receive(queue, size, None, LONG_POLL_S)
        if not got or self.mapping.window <= 0 or len(got) >= size:
            return got
        deadline = self._clock.monotonic() + self.mapping.window
        while len(got) < size and not self._stopping:
            remaining = deadline - self._clock.monotonic()
            if remaining <= 0:
                break
            more = await self._sqs.receive(queue, size - len(got), None, remaining)
            got.extend(more)
        return got

    async def _process(self, queue: Queue, batch: list[Received]) -> None:
        records = [record(r, queue) for r in batch]
        handles = {r.message.id: r.receipt_handle for r in batch}
        if self._filters:
            dropped = [rec for rec in records if not passes(self._filters, rec)]
            if dropped:
                self.stats["filtered"] += len(dropped)
                await self._sqs.delete_messages(queue, [rec["receiptHandle"] for rec in dropped])
                records = [rec for rec in records if passes(self._filters, rec)]
            if not records:
                return
        self.stats["batches"] += 1
        result = await self._invoke(queue, records)
        if result is None:
            return  # throttled throughout: the messages come back after the visibility timeout
        ids = [rec["messageId"] for rec in records]
        failed = failed_ids(self.mapping, result, ids)
        done = [handles[i] for i in ids if i not in failed]
        self.stats["failed"] += len(failed)
        if done:
            self.stats["deleted"] += len(done)
            await self._sqs.delete_messages(queue, done)

    async def _invoke(self, queue: Queue, records: list[dict[str, Any]]) -> InvocationResult | None:
        payload = json.dumps({"Records": records}).encode()
        for backoff in (*THROTTLE_BACKOFF_S, None):
            target = self._target()
            if target is None:
                return None
            spec, invoked_arn = target
            invocation = Invocation(request_id=str(uuid.uuid4()), payload=payload, invoked_arn=invoked_arn)
            try:
                self.stats["invocations"] += 1
                return await self._runner.invoke(spec, invocation)
            except (Throttled, CapacityExceeded):
                if backoff is None:
                    return None
                await self._clock.sleep(backoff)
            except Exception:
                log.exception("SQS poller: invoking %s failed", invoked_arn)
                return None
        return None


class SqsPollers:
    """Keeps one poller per enabled mapping (an `EventSourceMappings.on_change` listener)."""

    def __init__(self, sqs: SqsEngine, functions: FunctionService, runner: Runner, clock: Clock) -> None:
        self._sqs = sqs
        self._functions = functions
        self._runner = runner
        self._clock = clock
        self.pollers: dict[str, SqsPoller] = {}
        self._stopping: set[asyncio.Task[None]] = set()

    def mapping_changed(self, mapping: Mapping | None, uuid: str) -> None:
        if mapping is not None and mapping.state in ("Updating", "Creating", "Enabling"):
            return  # the old configuration keeps running until the change settles
        old = self.pollers.pop(uuid, None)
        if old is not None:
            self._stop_later(old)
        if mapping is not None and mapping.state == "Enabled":
            poller = SqsPoller(mapping, self._sqs, self._functions, self._runner, self._clock)
            self.pollers[uuid] = poller
            poller.start()

    def _stop_later(self, poller: SqsPoller) -> None:
        task = asyncio.get_running_loop().create_task(poller.stop())
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    async def close(self) -> None:
        pollers = list(self.pollers.values())
        self.pollers.clear()
        await asyncio.gather(*(p.stop() for p in pollers), *self._stopping, return_exceptions=True)
