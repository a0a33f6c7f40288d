"""In-process harness for async invocation in virtual time: a real FunctionService on an in-memory store, the
in-memory event queue, a scripted runner in place of the sandbox executor, and a ManualClock.

`advance(seconds)` moves virtual time and lets every due attempt run to completion; no test sleeps.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lamina.clock import ManualClock
from lamina.config import Settings
from lamina.functions.control import FunctionService
from lamina.functions.event_invoke_config import EventInvokeConfigs
from lamina.functions.names import FunctionRef
from lamina.invoke.async_invoker import AsyncInvoker
from lamina.invoke.destinations import Delivery, Destinations
from lamina.invoke.destinations.unavailable import SERVICES, UnavailableTarget
from lamina.invoke.event_queue import EventQueue, MemoryEventQueue
from lamina.store.blobs import BlobStore
from lamina.store.documents import MemoryStore
from lamina.types import Invocation, InvocationResult, VersionSpec
from tests.conftest import make_zip
from tests.server import ROLE

REGION = "us-east-1"
ACCOUNT = "000000000000"
Behaviour = Callable[[Invocation], "InvocationResult | Exception"]


def arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def ok(invocation: Invocation) -> InvocationResult:
    return InvocationResult(json.dumps({"echo": json.loads(invocation.payload)}).encode(), "$LATEST")


def error_document(invocation: Invocation, message: str = "intentional failure") -> InvocationResult:
    doc = {"errorMessage": message, "errorType": "Exception", "requestId": invocation.request_id, "stackTrace": []}
    return InvocationResult(json.dumps(doc).encode(), "$LATEST", function_error="Unhandled")


@dataclass
class Call:
    function: str
    invocation: Invocation
    at: float


@dataclass
class ScriptedRunner:
    """Stands in for the executor: per function, a behaviour returning a result or an exception to raise."""

    clock: ManualClock
    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    gate: asyncio.Event | None = None  # when set, invocations wait for it (a function "in flight")

    async def invoke(self, spec: VersionSpec, invocation: Invocation) -> InvocationResult:
        self.calls.append(Call(spec.function_name, invocation, self.clock.time()))
        if self.gate is not None:
            await self.gate.wait()
        outcome = self.behaviours.get(spec.function_name, ok)(invocation)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def of(self, function: str) -> list[Call]:
        return [c for c in self.calls if c.function == function]


class RecordingTarget:
    """A fake SQS/SNS target: keeps what it was given."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []

    async def deliver(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)


class World:
    def __init__(self, tmp: Path, queue: EventQueue | None = None) -> None:
        self.clock = ManualClock()
        settings = Settings(data_dir=tmp)
        self.store = MemoryStore()
        self.functions = FunctionService(settings, self.store, BlobStore(tmp / "blobs"), self.clock)
        self.configs = EventInvokeConfigs(self.store, self.functions, self.clock)
        self.runner = ScriptedRunner(self.clock)
        self.queue = queue or MemoryEventQueue()
        self.destinations = Destinations({s: UnavailableTarget(s) for s in SERVICES})
        self.invoker = AsyncInvoker(
            self.queue, self.functions, self.configs, self.runner, self.clock, self.destinations, concurrency=8
        )
        self.functions.on_change(self.configs.function_changed)
        self.functions.on_change(self.invoker.function_changed)

    async def start(self) -> None:
        await self.functions.start()
        self.invoker.start()

    async def close(self) -> None:
        await self.invoker.close()
        self.functions.close()

    async def create(self, name: str, **params: Any) -> FunctionRef:
        ref = self.functions.resolve(name, REGION, ACCOUNT)
        args = {"Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler", "Code": {"ZipFile": make_zip()}}
        await self.functions.create(ref, {**args, **params})
        await asyncio.sleep(0)  # Pending → Active (state_transition_delay 0)
        return ref

    async def submit(self, name: str, event: Any, request_id: str) -> None:
        ref = self.functions.resolve(name, REGION, ACCOUNT)
        await self.invoker.submit(ref, json.dumps(event).encode(), request_id)
        await self.invoker.wait_idle()

    async def advance(self, seconds: float) -> None:
        """Virtual time moves in 1-second steps, each followed by every attempt that became due."""
        whole = int(seconds)
        for _ in range(whole):
            self.clock.advance(1.0)
            await self.invoker.wait_idle()
        if seconds - whole:
            self.clock.advance(seconds - whole)
            await self.invoker.wait_idle()

    def records(self, destination: str) -> list[dict[str, Any]]:
        """What a Lambda destination function received: the payloads of its invocations."""
        return [json.loads(c.invocation.payload) for c in self.runner.of(destination)]


def run(coro_fn: Callable[[World], Any], tmp: Path, queue: EventQueue | None = None) -> None:
    async def main() -> None:
        world = World(tmp, queue)
        await world.start()
        try:
            await coro_fn(world)
        finally:
            await world.close()

    asyncio.run(asyncio.wait_for(main(), 30))
