"""Stream pollers (Kinesis, DynamoDB Streams): one per enabled stream mapping, one task per shard, reading
through the `StreamSource` interface (sources/stream_source.py) and never a service engine.

Per shard, batch after batch (spec/events.md §5):
- read up to BatchSize records after the checkpoint (waiting up to MaximumBatchingWindowInSeconds to fill it);
- skip records no filter matches, and send records older than MaximumRecordAgeInSeconds to the on-failure
  destination (condition RecordAgeExceeded);
- split the batch into ParallelizationFactor lanes by a hash of the partition key (so records of one key stay
  in order, in one lane) and process the lanes concurrently;
- a lane is invoked until it succeeds; on a function error it is bisected (BisectBatchOnFunctionError; a split
  does not count as a retry), with ReportBatchItemFailures retried from the lowest failed sequence number,
  and after MaximumRetryAttempts retries (or once its oldest record is too old) its records go to the
  on-failure destination with AWS's failure record and the shard moves on;
- then the checkpoint is committed (durably: a restart resumes after it; at-least-once).
The mapping's LastProcessingResult follows each invocation ("OK", or PROBLEM after a function error); it is
written to the store only when it changes (a hot loop: most batches leave it as it was), so a restart shows it.
Retries back off on the project's clock, so tests run them in virtual time.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from lamina.clock import Clock
from lamina.errors import LaminaError, Throttled
from lamina.functions.control import FunctionService
from lamina.functions.event_source_mappings import Mapping
from lamina.functions.states import State
from lamina.invoke.executor import CapacityExceeded
from lamina.invoke.trace_header import for_invocation
from lamina.sources import patterns
from lamina.sources.sqs_poller import Runner
from lamina.sources.stream_source import Checkpoints, StreamItem, StreamSource
from lamina.types import Invocation, InvocationResult, VersionSpec

log = logging.getLogger(__name__)

POLL_S = 1.0  # an empty shard is looked at again this much later (AWS polls each shard once a second)
IDLE_S = 1.0  # the function or the stream is missing
RETRY_BACKOFF_S = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
# LastProcessingResult after a batch the function failed (AWS's wording, as its CLI reference shows it).
PROBLEM = "PROBLEM: Function call failed"

# deliver(target ARN, body, request id): sends an on-failure record to an SQS queue or SNS topic
Deliver = Callable[[str, bytes, str], Awaitable[None]]


@dataclass
class Outcome:
    invocations: int
    result: InvocationResult | None


def _iso(t: float) -> str:
    return (
        datetime.datetime.fromtimestamp(t, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(t * 1000) % 1000:03d}Z"
    )


def lane_of(key: str, lanes: int) -> int:
    if lanes <= 1:
        return 0
    return int.from_bytes(hashlib.md5(key.encode()).digest()[:4], "big") % lanes


def failed_from(mapping: Mapping, result: InvocationResult, items: list[StreamItem]) -> int | None:
    """The index of the first record to retry from (None: the batch succeeded). A function error fails the
    whole batch; a partial batch response fails from its lowest listed sequence number, and an identifier
    that is empty, null or not in the batch fails the whole batch (the recorded AWS scenarios)."""
    if result.function_error is not None:
        return 0
    if "ReportBatchItemFailures" not in mapping.response_types:
        return None
    try:
        response = json.loads(result.payload) if result.payload.strip() else None
    except (ValueError, UnicodeDecodeError):
        return 0
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures")
    if not failures:
        return None
    if not isinstance(failures, list):
        return 0
    index = {item.sequence_number: i for i, item in enumerate(items)}
    lowest = len(items)
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in index:
            return 0
        lowest = min(lowest, index[identifier])
    return lowest


def _state(result: InvocationResult) -> dict[str, Any]:
    """The `state` a tumbling-window invocation answered ({} when it answered none)."""
    try:
        answer = json.loads(result.payload) if result.payload.strip() else None
    except (ValueError, UnicodeDecodeError):
        return {}
    state = answer.get("state") if isinstance(answer, dict) else None
    return state if isinstance(state, dict) else {}


class StreamPoller:
    def __init__(
        self,
        mapping: Mapping,
        source: StreamSource,
        checkpoints: Checkpoints,
        positions: dict[tuple[str, str], int],
        functions: FunctionService,
        runner: Runner,
        deliver: Deliver,
        clock: Clock,
        results: dict[str, str] | None = None,
    ) -> None:
        self.mapping = mapping
        # mapping uuid → LastProcessingResult as AWS reports it ("OK", "PROBLEM: Function call failed"), shared with
        # the pollers' owner so it outlives a poller replaced by an update; what it holds has been stored.
        self.results = results if results is not None else {}
        self._source = source
        self._checkpoints = checkpoints
        self.positions = positions  # (mapping uuid, shard) → checkpoint, shared with the pollers' owner
        self._functions = functions
        self._runner = runner
        self._deliver = deliver
        self._clock = clock
        self._filters = [json.loads(p) for p in mapping.filters or []]
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._stopping = False
        self._window: dict[str, tuple[float, dict[str, Any]]] = {}  # per shard: open window start, its state
        self.iterator_age_ms: dict[str, int] = {}  # per shard: how old the last record read was when read
        # Told (function ARN, ms from the batch's last record's arrival to its invoke): AWS/Lambda IteratorAge.
        self.on_batch_age: Callable[[str, float], None] | None = None
        self.stats = {"batches": 0, "invocations": 0, "records": 0, "filtered": 0, "failed": 0, "expired": 0}

    def start(self) -> None:
        self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def stop(self) -> None:
        self._stopping = True
        tasks = list(self._tasks.values())
        if self._watcher is not None:
            tasks.append(self._watcher)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _watch(self) -> None:
        """Starts a task for every shard of the stream (and for new ones when they appear)."""
        # The shards there when a new mapping starts begin at its StartingPosition; any later one (made by
        # resharding, or found after a restart) from its beginning.
        fresh = not any(k[0] == self.mapping.uuid for k in self.positions)
        while not self._stopping:
            for shard in self._source.shards(self.mapping.source_arn) or []:
                if shard not in self._tasks:
                    self._tasks[shard] = asyncio.get_running_loop().create_task(self._shard(shard, fresh))
            fresh = False
            await self._clock.sleep(POLL_S * 10)

    async def _shard(self, shard: str, fresh: bool) -> None:
        key = (self.mapping.uuid, shard)
        m = self.mapping
        if key not in self.positions:
            if not fresh:
                position = -1
            else:
                kind = m.starting_position or "LATEST"
                position = self._source.start(m.source_arn, shard, kind, m.starting_timestamp)
            await self._checkpoints.checkpoint(m.uuid, shard, position)
            self.positions[key] = position
        # Parents before children: a split or merged shard's records are all handed over before its children's.
        while not self._stopping and not all(
            self._source.finished(m.source_arn, p, self.positions.get((m.uuid, p), -1))
            for p in self._source.parents(m.source_arn, shard)
        ):
            await self._clock.sleep(POLL_S)
        while not self._stopping:
            if self._source.finished(m.source_arn, shard, self.positions[key]):
                return  # a closed shard read to its end
            waiter = self._source.waiter(m.source_arn)  # taken before reading: a put in between still wakes us
            try:
                moved = await self._once(shard)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("stream poller %s shard %s failed", m.uuid, shard)
                moved = False
            if not moved:
                if m.tumbling > 0:
                    await self._close_due_windows(shard)
                await self._idle(waiter)

    async def _idle(self, waiter: asyncio.Event | None) -> None:
        """Until records arrive (when the source can tell), at most POLL_S on the project's clock."""
        if waiter is None:
            await self._clock.sleep(POLL_S)
            return
        tasks = [asyncio.ensure_future(self._clock.sleep(POLL_S)), asyncio.ensure_future(waiter.wait())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()

    def _target(self) -> tuple[VersionSpec, str, str] | None:
        try:
            ref = self._functions.resolve(self.mapping.function_arn, self.mapping.region, self.mapping.account)
            config = self._functions.invocation_target(ref)
        except LaminaError:
            return None
        if config.state != State.ACTIVE:
            return None
        return self._functions.cached_spec(config), self.mapping.function_arn, config.role

    async def _read(self, shard: str, after: int, role: str) -> list[StreamItem]:
        m = self.mapping
        items = self._source.read(m.source_arn, shard, after, m.batch_size, role)
        if items and len(items) < m.batch_size and m.window > 0:
            await self._clock.sleep(m.window)
            items = self._source.read(m.source_arn, shard, after, m.batch_size, role)
        return items

    async def _once(self, shard: str) -> bool:
        """One batch of the shard; False when there was nothing to do."""
        m = self.mapping
        target = self._target()
        if target is None:
            await self._clock.sleep(IDLE_S)
            return False
        after = self.positions[(m.uuid, shard)]
        items = await self._read(shard, after, target[2])
        if not items:
            self.iterator_age_ms[shard] = 0
            return False
        now = self._clock.time()
        last = items[-1].position
        self.iterator_age_ms[shard] = max(0, int((now - items[-1].arrival) * 1000))
        if m.max_record_age >= 0:
            expired = [i for i in items if now - i.arrival > m.max_record_age]
            if expired:
                self.stats["expired"] += len(expired)
                await self._fail(shard, expired, "RecordAgeExceeded", 0, None)
            items = [i for i in items if now - i.arrival <= m.max_record_age]
        chosen = [i for i in items if self._passes(i)]
        self.stats["filtered"] += len(items) - len(chosen)
        if chosen and m.tumbling > 0:
            self.stats["batches"] += 1
            await self._windows(shard, chosen)
        elif chosen:
            self.stats["batches"] += 1
            lanes: dict[int, list[StreamItem]] = {}
            for item in chosen:
                lanes.setdefault(lane_of(item.key, m.parallelization), []).append(item)
            await asyncio.gather(*(self._lane(shard, lane) for lane in lanes.values()))
        position = max(last, after)
        await self._checkpoints.checkpoint(m.uuid, shard, position)
        self.positions[(m.uuid, shard)] = position
        return True

    # -- tumbling windows (spec/events.md §5) ---------------------------------------------------------
    async def _windows(self, shard: str, items: list[StreamItem]) -> None:
        """Records are invoked window by window (windows of TumblingWindowInSeconds by arrival time) with the
        state the function returned last in that window; a window's end brings a final invoke."""
        size = self.mapping.tumbling
        groups: dict[float, list[StreamItem]] = {}
        for item in items:
            groups.setdefault(item.arrival // size * size, []).append(item)
        for start, group in sorted(groups.items()):
            current = self._window.get(shard)
            if current is not None and current[0] != start:
                await self._close_window(shard)
            state = self._window.get(shard, (start, {}))[1]
            result = await self._lane(shard, group, self._window_fields(shard, start, state, final=False))
            self._window[shard] = (start, _state(result) if result is not None else state)

    async def _close_window(self, shard: str) -> None:
        current = self._window.pop(shard, None)
        if current is not None:
            await self._lane(shard, [], self._window_fields(shard, current[0], current[1], final=True))

    async def _close_due_windows(self, shard: str) -> None:
        current = self._window.get(shard)
        if current is not None and self._clock.time() >= current[0] + self.mapping.tumbling:
            await self._close_window(shard)

    def _window_fields(self, shard: str, start: float, state: dict[str, Any], final: bool) -> dict[str, Any]:
        def iso(t: float) -> str:
            return datetime.datetime.fromtimestamp(t, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        return {
            "window": {"start": iso(start), "end": iso(start + self.mapping.tumbling)},
            "state": state,
            "shardId": shard,
            "eventSourceARN": self.mapping.source_arn,
            "isFinalInvokeForWindow": final,
            "isWindowTerminatedEarly": False,
        }

    def _passes(self, item: StreamItem) -> bool:
        if not self._filters:
            return True
        subject = dict(item.record)
        if "kinesis" in subject:
            subject.update(subject["kinesis"])
            subject["data"] = item.data
        return any(patterns.matches(f, subject) for f in self._filters)

    async def _lane(
        self, shard: str, items: list[StreamItem], extra: dict[str, Any] | None = None
    ) -> InvocationResult | None:
        """Invokes `items` until they succeed (answers the result), are bisected, or go to the on-failure
        destination (answers None)."""
        m = self.mapping
        attempts = 0
        while (items or extra) and not self._stopping:
            outcome = await self._invoke(items, extra)
            attempts += outcome.invocations
            result = outcome.result
            if result is None:
                await self._clock.sleep(IDLE_S)  # the function is gone or throttled throughout: try again
                continue
            start = failed_from(m, result, items)
            await self._report(PROBLEM if result.function_error is not None else "OK")
            if start is None:
                self.stats["records"] += len(items)
                return result
            if result.function_error is not None and m.bisect and len(items) > 1 and extra is None:
                half = len(items) // 2
                await self._lane(shard, items[:half])
                await self._lane(shard, items[half:])
                return None
            self.stats["records"] += start
            items = items[start:]
            retries = attempts - 1
            too_old = bool(items) and m.max_record_age >= 0 and self._clock.time() - items[0].arrival > m.max_record_age
            if too_old or (m.max_retries >= 0 and retries >= m.max_retries):
                condition = "RecordAgeExceeded" if too_old else "RetryAttemptsExhausted"
                self.stats["failed"] += len(items)
                if items:
                    await self._fail(shard, items, condition, attempts, result)
                return None
            await self._clock.sleep(RETRY_BACKOFF_S[min(retries, len(RETRY_BACKOFF_S) - 1)])
        return None

    async def _report(self, result: str) -> None:
        """The LastProcessingResult after an invocation: stored only when it changes, and shown (self.results) once
        stored, so what GetEventSourceMapping answers survives kill -9."""
        uuid = self.mapping.uuid
        if self.results.get(uuid) == result:
            return
        try:
            await self._checkpoints.record_result(uuid, result)
        except Exception:  # a result that could not be stored must not fail (and so repeat) the batch
            log.exception("stream poller %s: storing LastProcessingResult failed", uuid)
        finally:  # also when stopped meanwhile: the write was queued and commits (a replacing poller shows it)
            self.results[uuid] = result

    async def _invoke(self, items: list[StreamItem], extra: dict[str, Any] | None = None) -> Outcome:
        payload = json.dumps({"Records": [i.record for i in items], **(extra or {})}).encode()
        count = 0
        for backoff in (*RETRY_BACKOFF_S, None):
            target = self._target()
            if target is None:
                return Outcome(count, None)
            spec, invoked_arn, _ = target
            invocation = Invocation(
                request_id=str(uuid.uuid4()),
                payload=payload,
                invoked_arn=invoked_arn,
                trace_id=for_invocation(spec.tracing_mode, None, spec.function_arn)[0],
            )
            if self.on_batch_age is not None and items:
                self.on_batch_age(invoked_arn, max(0.0, (self._clock.time() - items[-1].arrival) * 1000.0))
            try:
                self.stats["invocations"] += 1
                count += 1
                return Outcome(count, await self._runner.invoke(spec, invocation))
            except (Throttled, CapacityExceeded):
                count -= 1  # a throttle is not an attempt
                if backoff is None:
                    return Outcome(count, None)
                await self._clock.sleep(backoff)
            except Exception:
                log.exception("stream poller: invoking %s failed", invoked_arn)
                return Outcome(count, None)
        return Outcome(count, None)

    async def _fail(
        self, shard: str, items: list[StreamItem], condition: str, attempts: int, result: InvocationResult | None
    ) -> None:
        """AWS's failure record (the recorded KinesisBatchInfo / DDBStreamBatchInfo shape) to OnFailure."""
        m = self.mapping
        if not m.on_failure:
            return
        request_id = str(uuid.uuid4())
        body: dict[str, Any] = {
            "requestContext": {
                "requestId": request_id,
                "functionArn": m.function_arn,
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": result.executed_version if result is not None else "$LATEST",
                "functionError": (result.function_error or "") if result is not None else "",
            },
            "version": "1.0",
            "timestamp": _iso(self._clock.time()),
            self._source.batch_info_key: {
                "shardId": shard,
                "startSequenceNumber": items[0].sequence_number,
                "endSequenceNumber": items[-1].sequence_number,
                "approximateArrivalOfFirstRecord": _iso(items[0].arrival),
                "approximateArrivalOfLastRecord": _iso(items[-1].arrival),
                "batchSize": len(items),
                "streamArn": m.source_arn,
            },
        }
        try:
            await self._deliver(m.on_failure, json.dumps(body).encode(), request_id)
        except Exception:
            log.exception("stream poller %s: on-failure delivery to %s failed", m.uuid, m.on_failure)


class StreamPollers:
    """Keeps one poller per enabled stream mapping (an `EventSourceMappings.on_change` listener)."""

    def __init__(
        self,
        sources: Callable[[str], StreamSource | None],
        checkpoints: Checkpoints,
        functions: FunctionService,
        runner: Runner,
        deliver: Deliver,
        clock: Clock,
    ) -> None:
        self._sources = sources
        self._checkpoints = checkpoints
        self._functions = functions
        self._runner = runner
        self._deliver = deliver
        self._clock = clock
        self.positions = checkpoints.load_checkpoints()
        # LastProcessingResult per mapping, once it processed a batch (stored: a restart starts from what it was)
        self.results: dict[str, str] = checkpoints.load_results()
        self.pollers: dict[str, StreamPoller] = {}
        self._stopping: set[asyncio.Task[None]] = set()
        self.on_batch_age: Callable[[str, float], None] | None = None  # given to each poller (IteratorAge)

    def mapping_changed(self, mapping: Mapping | None, uuid: str) -> None:
        if mapping is not None and not mapping.stream:
            return
        if mapping is not None and mapping.state in ("Updating", "Creating", "Enabling"):
            return
        old = self.pollers.pop(uuid, None)
        if (mapping is None or mapping.state != "Enabled") and old is not None:
            self._later(old.stop())
        if mapping is None:
            self.results.pop(uuid, None)
            for key in [k for k in self.positions if k[0] == uuid]:
                del self.positions[key]
            self._later(self._checkpoints.forget_checkpoints(uuid))
            return
        source = self._sources(mapping.source_arn)
        if mapping.state == "Enabled" and source is not None:
            poller = StreamPoller(
                mapping,
                source,
                self._checkpoints,
                self.positions,
                self._functions,
                self._runner,
                self._deliver,
                self._clock,
                self.results,
            )
            poller.on_batch_age = self.on_batch_age
            self.pollers[uuid] = poller

            async def swap() -> None:
                """One poller per shard at a time: the new configuration starts once the old poller stopped."""
                if old is not None:
                    await old.stop()
                if self.pollers.get(uuid) is poller:
                    poller.start()

            self._later(swap())
        elif old is not None and mapping.state == "Enabled":
            self._later(old.stop())

    def _later(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            await work

        task = asyncio.get_running_loop().create_task(run())
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    def last_result(self, uuid: str) -> str | None:
        """The mapping's LastProcessingResult, None before its first batch ("No records processed")."""
        return self.results.get(uuid)

    def iterator_ages(self) -> dict[str, int]:
        """IteratorAge (ms) per mapping: the largest over its shards, as CloudWatch reports it."""
        return {u: max(p.iterator_age_ms.values(), default=0) for u, p in self.pollers.items()}

    async def close(self) -> None:
        pollers = list(self.pollers.values())
        self.pollers.clear()
        await asyncio.gather(*(p.stop() for p in pollers), *self._stopping, return_exceptions=True)
