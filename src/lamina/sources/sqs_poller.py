"""SQS pollers: one per enabled event source mapping, on the event loop, calling the SQS engine directly.

A poller runs workers, each processing one batch at a time: it gathers a batch (up to BatchSize, within
MaximumBatchingWindowInSeconds), drops and deletes the messages no filter matches, invokes the function
synchronously through the concurrency-gated runner with SQS's event shape, and deletes what succeeded.
Failures are left to the queue: they become visible again after the visibility timeout and move to the
dead-letter queue after maxReceiveCount (the engine's redrive). A message whose request chain already went
through the function 16 times (its AWSTraceHeader's lineage, invoke/loop_detection.py) is not invoked unless
the function's RecursiveLoop is Allow: it goes to the queue's dead-letter queue at once, or is deleted when
there is none ("Lambda will stop the next invocation and send the event to a Dead-Letter Queue or on-failure
destination, if configured").

How many workers run is AWS's ramp (`scaling.Scaler`): five batches at once when messages arrive, up to 300
more per minute while messages are still waiting (a full batch, or the once-a-second look at the queue),
never more than ScalingConfig.MaximumConcurrency, 1,000, the function's reserved concurrency or the
account's unreserved pool (nor, for a FIFO queue, its number of message groups); throttles and function
errors take concurrency away. A worker whose long poll came back empty retires unless it is the last one,
and a worker above the allowed number retires after its batch. FIFO queues keep per-group order because the
engine never hands out a message of a group that has one in flight.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid
from typing import Any, Protocol

from lamina import json_text
from lamina.clock import Clock
from lamina.errors import LaminaError, Throttled
from lamina.functions.control import FunctionService
from lamina.functions.event_source_mappings import Mapping
from lamina.functions.states import State
from lamina.invoke.executor import CapacityExceeded
from lamina.invoke.loop_detection import LoopDetector
from lamina.invoke.trace_header import fields
from lamina.services.sqs.engine import Received, SqsEngine
from lamina.services.sqs.queue import Queue
from lamina.sources import patterns
from lamina.sources.scaling import Scaler
from lamina.types import Invocation, InvocationResult, VersionSpec

log = logging.getLogger(__name__)

TICK_S = 1.0  # how often a poller looks at its queue to keep scaling while every worker is busy
LONG_POLL_S = 20.0
IDLE_BACKOFF_S = 1.0  # the function or queue is missing: look again this much later
THROTTLE_BACKOFF_S = (0.05, 0.1, 0.2, 0.5, 1.0)


class Runner(Protocol):
    async def invoke(self, spec: VersionSpec, invocation: Invocation) -> InvocationResult: ...


class Ledger(Protocol):
    """What the concurrency ledger (invoke/concurrency.py) tells a poller about the room it has."""

    def reserved(self, function_arn: str) -> int | None: ...

    def unreserved_pool(self, region: str) -> int: ...


def unqualified(function_arn: str) -> str:
    return ":".join(function_arn.split(":")[:7])


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
        parsed = json_text.loads_document(rec["body"])
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
        self,
        mapping: Mapping,
        sqs: SqsEngine,
        functions: FunctionService,
        runner: Runner,
        clock: Clock,
        ledger: Ledger | None = None,
        loops: LoopDetector | None = None,
    ) -> None:
        self.mapping = mapping
        self._loops = loops
        self._sqs = sqs
        self._functions = functions
        self._runner = runner
        self._clock = clock
        self._ledger = ledger
        self._filters = [json.loads(p) for p in mapping.filters or []]
        self.scaler = Scaler(clock, mapping.max_concurrency, mapping.provisioned)
        self._workers: dict[asyncio.Task[None], bool] = {}  # task → waiting (receiving or backing off: cancellable)
        self._ticker: asyncio.Task[None] | None = None
        self._stopping = False
        self.peak = 0  # the most workers at once
        self.stats = {"batches": 0, "invocations": 0, "deleted": 0, "failed": 0, "filtered": 0, "throttled": 0}
        self.stats["looping"] = 0  # stopped by recursive loop detection

    @property
    def workers(self) -> int:
        return len(self._workers)

    def ceiling(self) -> int | None:
        """The function's reserved concurrency, else the account's unreserved pool (None: no ledger). Both
        are lookups: the ledger keeps each region's pool, so a change shows at the next decision."""
        if self._ledger is None:
            return None
        reserved = self._ledger.reserved(unqualified(self.mapping.function_arn))
        return reserved if reserved is not None else self._ledger.unreserved_pool(self.mapping.region)

    def allowed(self) -> int:
        ceiling = self.ceiling()
        if self.mapping.fifo:
            # "For FIFO queues, concurrent invocations are capped at the number of message group IDs
            # (messageGroupId) or the maximum concurrency setting, whichever is lower" (services-sqs-scaling).
            queue = self._sqs.by_arn(self.mapping.source_arn)
            if queue is not None:
                groups = max(1, len(queue.groups))
                ceiling = groups if ceiling is None else min(ceiling, groups)
        return self.scaler.allowed(ceiling)

    def start(self) -> None:
        self._spawn()
        self._ticker = asyncio.get_running_loop().create_task(self._tick())

    def _spawn(self) -> None:
        if self._stopping:
            return
        task = asyncio.get_running_loop().create_task(self._work())
        self._workers[task] = False
        self.peak = max(self.peak, len(self._workers))
        task.add_done_callback(self._done)

    def _fill(self) -> None:
        """Starts workers up to the allowed number of batches."""
        allowed = self.allowed()
        while not self._stopping and len(self._workers) < allowed:
            self._spawn()

    def _done(self, task: asyncio.Task[None]) -> None:
        self._workers.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("SQS poller worker failed", exc_info=task.exception())
            if not self._workers:
                self._spawn()

    async def stop(self) -> None:
        """Stops polling: workers waiting for messages stop now, a batch being invoked finishes."""
        self._stopping = True
        tasks = list(self._workers)
        if self._ticker is not None:
            self._ticker.cancel()
            tasks.append(self._ticker)
        for task, waiting in list(self._workers.items()):
            if waiting:
                task.cancel()
        # gather, not awaiting each under suppress(CancelledError): a stop that is itself cancelled must end.
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _tick(self) -> None:
        """Keeps the ramp going while every worker is busy invoking: once a second, messages still
        waiting in the queue grow the allowed number of batches. A worker that is receiving (or in its
        batching window) will take what is visible, so then there is no backlog to scale for."""
        while not self._stopping:
            await self._clock.sleep(TICK_S)
            queue = self._sqs.by_arn(self.mapping.source_arn)
            if queue is None:
                continue
            busy = not any(self._workers.values())
            if busy and next(iter(queue.candidates(self._clock.time())), None) is not None:
                self.scaler.waiting(self.ceiling())
                self._fill()
            else:
                self.scaler.slack(len(self._workers))

    def _retire(self, me: asyncio.Task[None]) -> bool:
        """Leaves the pool now (so workers retiring together keep the last one)."""
        if len(self._workers) <= 1:
            return False
        del self._workers[me]
        return True

    async def _work(self) -> None:
        me = asyncio.current_task()
        assert me is not None
        while not self._stopping:
            if len(self._workers) > self.allowed() and self._retire(me):
                return  # scaled down (back-off, or a lower ceiling)
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
                retired = self._retire(me)
                self.scaler.slack(len(self._workers))  # the queue is drained: scale down
                if retired:
                    return
                continue
            if len(batch) >= self.mapping.batch_size:
                self.scaler.waiting(self.ceiling())  # a full batch: messages are still waiting
                self._fill()
            else:
                self.scaler.slack(len(self._workers))
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
        if self._loops is not None:
            records = await self._stop_loops(queue, records)
            if not records:
                return
        self.stats["batches"] += 1
        result = await self._invoke(queue, records)
        if result is None:
            return  # throttled throughout: the messages come back after the visibility timeout
        if result.function_error is not None and "ReportBatchItemFailures" not in self.mapping.response_types:
            self.scaler.backed_off()
        ids = [rec["messageId"] for rec in records]
        failed = failed_ids(self.mapping, result, ids)
        done = [handles[i] for i in ids if i not in failed]
        self.stats["failed"] += len(failed)
        if done:
            self.stats["deleted"] += len(done)
            await self._sqs.delete_messages(queue, done)

    async def _stop_loops(self, queue: Queue, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        assert self._loops is not None
        arn = self.mapping.function_arn
        looping = [rec for rec in records if self._loops.looping(arn, rec["attributes"].get("AWSTraceHeader"))]
        if not looping:
            return records
        self.stats["looping"] += len(looping)
        dlq = await self._sqs.dead_letter(queue, [rec["receiptHandle"] for rec in looping])
        for rec in looping:
            where = f"; moved to {dlq}" if dlq else "; deleted (the queue has no dead-letter queue)"
            self._loops.stop(arn, f"SQS message {rec['messageId']} of {queue.arn}{where}")
        stopped = {rec["messageId"] for rec in looping}
        return [rec for rec in records if rec["messageId"] not in stopped]

    async def _invoke(self, queue: Queue, records: list[dict[str, Any]]) -> InvocationResult | None:
        payload = json.dumps({"Records": records}).encode()
        headers = [rec["attributes"].get("AWSTraceHeader") for rec in records]
        trace_id = ""
        for backoff in (*THROTTLE_BACKOFF_S, None):
            target = self._target()
            if target is None:
                return None
            spec, invoked_arn = target
            # The messages' AWSTraceHeader carries their trace on (the first one's, as Lambda continues it).
            trace_id = trace_id or LoopDetector.trace_id(self.mapping.function_arn, headers, spec.tracing_mode)
            invocation = Invocation(
                request_id=str(uuid.uuid4()),
                payload=payload,
                invoked_arn=invoked_arn,
                trace_id=trace_id,
                trace_parent=fields(next((h for h in headers if h), None)).get("Parent", ""),
            )
            try:
                self.stats["invocations"] += 1
                return await self._runner.invoke(spec, invocation)
            except (Throttled, CapacityExceeded):
                self.stats["throttled"] += 1
                self.scaler.backed_off()
                if backoff is None:
                    return None
                me = asyncio.current_task()
                mine = me is not None and me in self._workers
                if mine:
                    assert me is not None
                    self._workers[me] = True  # a stop may cancel the back-off: the batch comes back anyway
                await self._clock.sleep(backoff)
                if mine:
                    assert me is not None
                    self._workers[me] = False
            except Exception:
                log.exception("SQS poller: invoking %s failed", invoked_arn)
                return None
        return None


class SqsPollers:
    """Keeps one poller per enabled mapping (an `EventSourceMappings.on_change` listener)."""

    def __init__(
        self,
        sqs: SqsEngine,
        functions: FunctionService,
        runner: Runner,
        clock: Clock,
        ledger: Ledger | None = None,
        loops: LoopDetector | None = None,
    ) -> None:
        self._sqs = sqs
        self._loops = loops
        self._functions = functions
        self._runner = runner
        self._clock = clock
        # The ConcurrencyGate the app passes as the runner carries the ledger; an explicit one wins.
        self._ledger: Ledger | None = ledger if ledger is not None else getattr(runner, "ledger", None)
        self.pollers: dict[str, SqsPoller] = {}
        self._stopping: set[asyncio.Task[None]] = set()

    def mapping_changed(self, mapping: Mapping | None, uuid: str) -> None:
        if mapping is not None and mapping.state in ("Updating", "Creating", "Enabling"):
            return  # the old configuration keeps running until the change settles
        old = self.pollers.pop(uuid, None)
        if old is not None:
            self._stop_later(old)
        if mapping is not None and mapping.state == "Enabled":
            poller = SqsPoller(
                mapping, self._sqs, self._functions, self._runner, self._clock, self._ledger, self._loops
            )
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
