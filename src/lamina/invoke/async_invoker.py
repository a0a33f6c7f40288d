"""Asynchronous invocation: accept into the durable queue, poll it, run each event through the same execution
path as a sync Invoke, and act on the outcome with Lambda's rules (spec invoke-and-runtime.md §3).

    await invoker.submit(ref, payload, request_id)   # returns once the event is committed: then answer 202
    invoker.start() / await invoker.close()

One dispatcher task leases due events while attempt slots are free (`concurrency`, the executor's
environment count) and runs one task per event: resolve the function and its event invoke config, apply
`retry_policy`, invoke, then reschedule or route the outcome (`destinations`) and complete the event.

Invariants: an event is completed only after its outcome was delivered (a Lambda destination is itself a
durable enqueue), so a crash anywhere redelivers it: at least once, never lost. Every attempt uses the
event's request id. A deleted function's events are dropped, queued or in flight, as AWS drops them. Time
comes from the injected clock only: retries run in virtual time in tests. An event whose request chain
already went through its function 16 times (an SNS notification a function published, `loop_detection`) is
not invoked unless the function's RecursiveLoop is Allow: it goes to the on-failure destination or
dead-letter queue, if configured ("Lambda will stop the next invocation and send the event to a Dead-Letter
Queue or on-failure destination, if configured").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from lamina.clock import Clock
from lamina.errors import InvalidParameter, NotFound, Throttled
from lamina.functions.control import FunctionService
from lamina.functions.event_invoke_config import EventInvokeConfigs
from lamina.functions.names import FunctionRef, parse_function
from lamina.functions.record import FunctionConfig
from lamina.invoke import retry_policy
from lamina.invoke.destinations import Delivery, Destinations, TargetUnavailable
from lamina.invoke.destinations.lambda_function import LambdaFunctionTarget
from lamina.invoke.destinations.record import Response, dead_letter_attributes, destination_record
from lamina.invoke.destinations.unavailable import SERVICES, UnavailableTarget
from lamina.invoke.event_queue import EventQueue, QueuedEvent
from lamina.invoke.executor import CapacityExceeded
from lamina.invoke.loop_detection import LoopDetector
from lamina.invoke.retry_policy import Condition, Outcome
from lamina.invoke.trace_header import fields
from lamina.store.disk_space import DiskSpace
from lamina.types import LATEST, Invocation, InvocationResult, VersionSpec

log = logging.getLogger(__name__)

LEASE_S = 960.0  # longer than the longest function timeout (900 s): an attempt never outlives its lease


class Runner(Protocol):
    async def invoke(self, spec: VersionSpec, invocation: Invocation) -> InvocationResult: ...


RECURSION_STOPPED = json.dumps(
    {
        "errorType": "RecursiveInvocationException",
        "errorMessage": "Lambda has detected your function being invoked in a recursive loop with other AWS "
        "resources and stopped your function's invocation.",
    }
)


def _ref(invoked_arn: str) -> FunctionRef:
    parts = invoked_arn.split(":")
    return parse_function(invoked_arn, parts[3], parts[4])


class AsyncInvoker:
    def __init__(
        self,
        queue: EventQueue,
        functions: FunctionService,
        configs: EventInvokeConfigs,
        runner: Runner,
        clock: Clock,
        destinations: Destinations | None = None,
        concurrency: int = 32,
        space: DiskSpace | None = None,
        loops: LoopDetector | None = None,
    ) -> None:
        self.queue = queue
        self._loops = loops
        self._space = space
        self._functions = functions
        self._configs = configs
        self._runner = runner
        self._clock = clock
        self.destinations = destinations or Destinations({service: UnavailableTarget(service) for service in SERVICES})
        self.destinations.register("lambda", LambdaFunctionTarget(self.submit_arn))
        self._limit = concurrency
        self._inflight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._dispatcher: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._closed = False
        self.paused = False
        self.stats: Counter[str] = Counter()
        # Told (function name, "received" | "dropped" | "dead_letter_error" | "destination_failure") of each event
        # accepted, of each that ends without a successful invocation, and of each outcome that could not be
        # delivered (AWS/Lambda AsyncEventsReceived/Dropped, DeadLetterErrors, DestinationDeliveryFailures).
        self.on_event: Callable[[str, str], None] | None = None
        # Told (function name, ms since the event was queued) at each invocation attempt (AsyncEventAge).
        self.on_attempt: Callable[[str, float], None] | None = None

    # -- intake ---------------------------------------------------------------------------------
    async def submit(self, ref: FunctionRef, payload: bytes, request_id: str, trace_header: str | None = None) -> None:
        """Commits one event; the caller answers 202 only after this returns. `trace_header`: the request chain
        the event belongs to (an SNS notification published by a function), for loop detection."""
        now = self._clock.time()
        event = QueuedEvent(
            id=uuid.uuid4().hex,
            function_key=f"{ref.region}/{ref.name}",
            invoked_arn=ref.qualified_arn if ref.qualifier else ref.arn,
            request_id=request_id,
            payload=payload,
            enqueued_at=now,
            next_at=now,
            trace_header=trace_header or None,
        )
        space = self._space
        if space is not None:
            space.check_growth()
        try:
            await self.queue.put([event])
        except Exception as exc:
            full = space.failed(exc) if space is not None else None
            if full is not None:
                raise full from exc
            raise
        self.stats["accepted"] += 1
        if self.on_event is not None:
            self.on_event(ref.name, "received")
        self._wake.set()

    async def submit_arn(self, function_arn: str, payload: bytes, trace_header: str | None = None) -> None:
        """An async invoke by ARN (a Lambda destination): the target must exist and be invocable."""
        try:
            ref = _ref(function_arn)
            self._functions.config(ref)
        except (NotFound, InvalidParameter, IndexError) as exc:
            raise TargetUnavailable(f"function {function_arn} does not exist") from exc
        await self.submit(ref, payload, str(uuid.uuid4()), trace_header)

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        self._dispatcher = asyncio.get_running_loop().create_task(self._dispatch())

    async def close(self) -> None:
        """Stops polling and abandons attempts in flight: their events stay leased in the store and are
        redelivered on the next start."""
        self._closed = True
        self._wake.set()
        tasks = [t for t in (self._dispatcher, *self._inflight, *self._background) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def function_changed(self, config: FunctionConfig | None, arn: str) -> None:
        """`FunctionService.on_change` listener: a deleted function's queued events are dropped."""
        if config is not None:
            return
        *_, region, _account, _kind, name = arn.split(":")
        task = asyncio.get_running_loop().create_task(self._drop(f"{region}/{name}"))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _drop(self, function_key: str) -> None:
        dropped = await self.queue.drop_function(function_key)
        if dropped:
            self.stats["dropped"] += dropped
            log.info("function %s deleted: %d queued async events dropped", function_key, dropped)

    def pause(self, paused: bool) -> None:
        """Holds (or releases) polling: events keep being accepted and stay queued. For operators and for
        measuring intake apart from draining (bench/async_bench.py)."""
        self.paused = paused
        self._wake.set()

    @property
    def busy(self) -> int:
        return len(self._inflight)

    async def wait_idle(self) -> None:
        """Returns once no attempt runs and nothing is due (tests and benchmarks; never on a request path)."""
        spins = 0
        while True:
            due = await self.queue.next_due()
            if not self._inflight and not self._background and (due is None or due > self._clock.time()):
                return
            spins += 1
            await asyncio.sleep(0 if spins < 1000 else 0.001)

    # -- polling --------------------------------------------------------------------------------
    async def _dispatch(self) -> None:
        while not self._closed:
            self._wake.clear()
            timeout: float | None = None
            free = 0 if self.paused else self._limit - len(self._inflight)
            if free > 0:
                try:
                    events = await self.queue.lease(self._clock.time(), free, LEASE_S)
                    if len(events) < free:
                        due = await self.queue.next_due()
                        timeout = None if due is None else max(due - self._clock.time(), 0.0)
                except Exception:
                    log.exception("async event queue unavailable; retrying in 1 s")
                    events, timeout = [], 1.0
                for event in events:
                    task = asyncio.get_running_loop().create_task(self._attempt(event))
                    self._inflight.add(task)
                    task.add_done_callback(self._finished)
                if len(events) == free:
                    continue
            await self._sleep_or_wake(timeout)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wake.set()

    async def _sleep_or_wake(self, timeout: float | None) -> None:
        if self._wake.is_set():
            return
        waiters: list[asyncio.Task[object]] = [asyncio.ensure_future(self._wake.wait())]
        if timeout is not None:
            waiters.append(asyncio.ensure_future(self._clock.sleep(timeout)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    # -- one attempt ----------------------------------------------------------------------------
    async def _attempt(self, event: QueuedEvent) -> None:
        try:
            await self._handle(event)
        except asyncio.CancelledError:
            raise
        except Exception:
            # A bug or a store failure: the event stays leased and is redelivered when the lease ends.
            log.exception("async event %s (request %s) failed; it will be redelivered", event.id, event.request_id)

    def _lookup(self, event: QueuedEvent) -> tuple[FunctionRef, FunctionConfig] | None:
        try:
            ref = _ref(event.invoked_arn)
            return ref, self._functions.invocation_target(ref)
        except (NotFound, InvalidParameter):
            return None

    async def _handle(self, event: QueuedEvent) -> None:
        found = self._lookup(event)
        if found is None:
            await self._drop_event(event)
            return
        ref, config = found
        if self._loops is not None and self._loops.looping(event.invoked_arn, event.trace_header):
            self._loops.stop(event.invoked_arn, f"async event {event.request_id}")
            self.stats["recursion_stopped"] += 1
            stopped = Response(400, config.version, None, RECURSION_STOPPED)
            await self._finish(event, ref, config, Condition.RETRIES_EXHAUSTED, stopped)
            return
        invoke_config = self._configs.lookup(ref.region, ref.name, ref.qualifier)
        settings = invoke_config.retry_settings if invoke_config else retry_policy.RetrySettings()
        now = self._clock.time()
        reserved = self._functions.entry(ref).reserved_concurrency
        skip = retry_policy.before_attempt(settings, event.enqueued_at, now, reserved)
        if skip is not None:
            if skip is Condition.RETRIES_EXHAUSTED:
                self.stats["throttled"] += 1  # reserved concurrency 0: every attempt would be throttled
            await self._finish(event, ref, config, skip, self._last_response(event, config, 429))
            return

        spec = self._spec(config)
        attempts, throttles = event.attempts, event.throttles
        response: Response | None = None
        trace_id = LoopDetector.trace_id(event.invoked_arn, (event.trace_header,), spec.tracing_mode)
        trace_parent = fields(event.trace_header).get("Parent", "")
        if self.on_attempt is not None:
            self.on_attempt(ref.name, max(0.0, (now - event.enqueued_at) * 1000.0))
        try:
            result = await self._runner.invoke(
                spec,
                Invocation(
                    event.request_id, event.payload, event.invoked_arn, trace_id=trace_id, trace_parent=trace_parent
                ),
            )
        except (CapacityExceeded, Throttled):  # no environment slot, or no concurrency lease
            outcome, throttles = Outcome.THROTTLED, throttles + 1
            self.stats["throttled"] += 1
        except Exception:
            log.exception("async attempt of %s (request %s) failed in Lamina", event.invoked_arn, event.request_id)
            outcome, throttles = Outcome.SYSTEM_ERROR, throttles + 1
        else:
            attempts += 1
            outcome = Outcome.FUNCTION_ERROR if result.function_error else Outcome.SUCCESS
            response = Response(
                200, result.executed_version, result.function_error, result.payload.decode("utf-8", "replace")
            )
        if self._lookup(event) is None:  # deleted while it ran
            await self._drop_event(event)
            return

        now = self._clock.time()
        decision = retry_policy.after_attempt(settings, outcome, event.enqueued_at, now, attempts, throttles)
        last = response.to_json() if response is not None else event.last_response
        if decision.retry_at is not None:
            self.stats["retried"] += 1
            await self.queue.reschedule(
                replace(event, next_at=decision.retry_at, attempts=attempts, throttles=throttles, last_response=last)
            )
            return
        assert decision.condition is not None
        if response is None:
            status = 429 if outcome is Outcome.THROTTLED else 500
            response = self._last_response(replace(event, last_response=last), config, status)
        await self._finish(
            replace(event, attempts=attempts, throttles=throttles), ref, config, decision.condition, response, trace_id
        )

    def _spec(self, config: FunctionConfig) -> VersionSpec:
        return self._functions.cached_spec(config)

    @staticmethod
    def _last_response(event: QueuedEvent, config: FunctionConfig, status: int) -> Response:
        if event.last_response is not None:
            return Response.from_json(event.last_response)
        return Response(status, config.version)

    async def _drop_event(self, event: QueuedEvent) -> None:
        self.stats["dropped"] += 1
        if self.on_event is not None:
            self.on_event(event.function_key.partition("/")[2], "dropped")
        log.info("async event %s for deleted function %s dropped", event.request_id, event.invoked_arn)
        await self.queue.complete(event.id)

    # -- outcomes -------------------------------------------------------------------------------
    async def _finish(
        self,
        event: QueuedEvent,
        ref: FunctionRef,
        config: FunctionConfig,
        condition: Condition,
        response: Response,
        trace_id: str = "",
    ) -> None:
        """Routes the final outcome, then completes the event (so a crash in between delivers it again). The
        destinations get the last attempt's trace (`trace_id`) without its recursion lineage."""
        trace = trace_id.split(";Lineage=", 1)[0] or None
        invoke_config = self._configs.lookup(ref.region, ref.name, ref.qualifier)
        function_arn = ref.qualified_arn if ref.qualifier else f"{ref.arn}:{LATEST}"
        record = destination_record(
            now=self._clock.time(),
            request_id=event.request_id,
            function_arn=function_arn,
            condition=condition.value,
            invoke_count=event.attempts,
            request_payload=event.payload,
            response=response,
        )
        body = json.dumps(record, separators=(",", ":")).encode()
        if condition is Condition.SUCCESS:
            self.stats["succeeded"] += 1
            if invoke_config and invoke_config.on_success:
                delivered = await self.destinations.deliver(
                    Delivery(
                        invoke_config.on_success, body, "OnSuccess", function_arn, event.request_id, trace_header=trace
                    )
                )
                if not delivered and self.on_event is not None:
                    self.on_event(ref.name, "destination_failure")
        else:
            self.stats[condition.value] += 1
            if self.on_event is not None:
                self.on_event(ref.name, "dropped")
            routed = False
            if invoke_config and invoke_config.on_failure:
                routed = True
                delivered = await self.destinations.deliver(
                    Delivery(
                        invoke_config.on_failure, body, "OnFailure", function_arn, event.request_id, trace_header=trace
                    )
                )
                if not delivered and self.on_event is not None:
                    self.on_event(ref.name, "destination_failure")
            if config.dead_letter_target:
                routed = True
                attributes = dead_letter_attributes(event.request_id, response)
                delivered = await self.destinations.deliver(
                    Delivery(
                        config.dead_letter_target,
                        event.payload,
                        "DeadLetter",
                        function_arn,
                        event.request_id,
                        attributes,
                        trace_header=trace,
                    )
                )
                if not delivered and self.on_event is not None:
                    self.on_event(ref.name, "dead_letter_error")
            if not routed:
                log.warning(
                    "async event %s for %s discarded (%s) with no destination",
                    event.request_id,
                    function_arn,
                    condition,
                )
        await self.queue.complete(event.id)
