"""AWS's SQS poller scaling in virtual time (ManualClock, a gated fake runner): five batches when messages
arrive, up to 300 more per minute while messages wait, never above MaximumConcurrency, 1,000, the reserved
concurrency or the unreserved pool; back to five once the queue is drained; throttles take concurrency away."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import pytest

from lamina.clock import ManualClock
from lamina.errors import Throttled
from lamina.invoke.concurrency import ConcurrencyGate, ConcurrencyLedger
from lamina.services.sqs.digests import md5_text
from lamina.services.sqs.engine import NewMessage, SqsEngine
from lamina.services.sqs.queue import Queue
from lamina.sources.scaling import Scaler
from lamina.sources.sqs_poller import SqsPoller, SqsPollers
from lamina.store.documents import SqliteStore
from lamina.store.sqs_sqlite import SqsStore
from lamina.types import Invocation, InvocationResult, VersionSpec
from tests.esm.test_units import ACCOUNT, REGION, GatedRunner, _functions, _mapping, _settle, _until


class Env:
    def __init__(self, tmp_path: Path) -> None:
        SqliteStore(tmp_path / "lamina.db", "OFF").close()
        self.store = SqsStore(tmp_path / "lamina.db", "OFF")
        self.clock = ManualClock()
        self.engine = SqsEngine(self.store, self.clock)

    async def queue(self, count: int) -> Queue:
        queue = await self.engine.create(REGION, ACCOUNT, "q", {"VisibilityTimeout": "900"}, {})
        await self.send(queue, count)
        return queue

    async def send(self, queue: Queue, count: int) -> None:
        bodies = [str(i) for i in range(count)]
        await self.engine.send(
            queue, [NewMessage(b, md5_text(b), {}, None, {"SenderId": ACCOUNT}, None) for b in bodies]
        )

    def poller(self, queue: Queue, runner: Any, ledger: Any = None, **mapping: Any) -> SqsPoller:
        """A started poller of `queue`, one message per batch, no partial batch responses."""
        fields: dict[str, Any] = {"batch_size": 1, "response_types": [], **mapping}
        poller = SqsPoller(
            _mapping(source_arn=queue.arn, **fields), self.engine, cast(Any, _functions()), runner, self.clock, ledger
        )
        poller.start()
        return poller

    async def close(self) -> None:
        await self.engine.close()
        await self.store.close()


class FakeLedger:
    def __init__(self, reserved: int | None = None, pool: int = 1000) -> None:
        self._reserved = reserved
        self._pool = pool
        self.asked: list[str] = []

    def reserved(self, function_arn: str) -> int | None:
        self.asked.append(function_arn)
        return self._reserved

    def unreserved_pool(self, region: str) -> int:
        return self._pool


def test_scaler_arithmetic() -> None:
    clock = ManualClock()
    scaler = Scaler(clock)
    assert scaler.allowed() == 5
    clock.advance(12)
    scaler.waiting()
    assert scaler.allowed() == 65  # 300 per minute: 60 more in 12 s
    assert scaler.allowed(ceiling=40) == 40
    scaler.slack(busy=30)
    assert scaler.allowed() == 30  # the queue ran dry: back towards the batches in use
    clock.advance(600)
    scaler.slack(busy=0)
    assert scaler.allowed() == 5  # never below five, where the next burst starts
    scaler.backed_off()
    assert scaler.allowed() == 4
    assert Scaler(clock, maximum_concurrency=2).allowed() == 2
    clock.advance(3600)
    capped = Scaler(clock)
    capped.waiting()
    assert capped.allowed() == 5  # no time has passed while messages waited
    clock.advance(3600)
    capped.waiting()
    assert capped.allowed() == 1000  # AWS's per-mapping maximum
    provisioned = Scaler(clock, pollers=(2, 200))  # provisioned mode: 10 invokes per poller, 3x faster
    assert provisioned.allowed() == 20
    clock.advance(12)
    provisioned.waiting()
    assert provisioned.allowed() == 200
    clock.advance(3600)
    provisioned.waiting()
    assert provisioned.allowed() == 2000


def test_concurrency_over_virtual_minutes(tmp_path: Path) -> None:
    """1,100 messages, BatchSize 1, every invocation held: the batches in flight are the concurrency."""

    async def main() -> None:
        env = Env(tmp_path)
        queue = await env.queue(1100)
        runner = GatedRunner()
        poller = env.poller(queue, runner)
        await _until(lambda: runner.in_flight == 5)
        await _settle()
        seen = {0.0: runner.in_flight}
        elapsed = 0.0
        for minute, expected in ((0.5, 155), (1, 305), (2, 605), (3, 905), (4, 1000), (5, 1000)):
            env.clock.advance(minute * 60 - elapsed)
            elapsed = minute * 60
            await _until(lambda n=expected: runner.in_flight >= n)
            await _settle()
            seen[float(minute)] = runner.in_flight
        assert seen == {0.0: 5, 0.5: 155, 1.0: 305, 2.0: 605, 3.0: 905, 4.0: 1000, 5.0: 1000}
        assert poller.peak == 1000

        runner.release.set()  # everything finishes; the drained queue scales the poller down
        await _until(lambda: runner.records == 1100)
        await _until(lambda: len(env.clock._sleepers) >= poller.workers + 1)  # long polls and the ticker
        env.clock.advance(20.1)
        await _until(lambda: poller.workers == 1)
        assert poller.allowed() == 5

        runner.release.clear()  # the next burst starts at five again, not at a thousand
        runner.peak = 0
        await env.send(queue, 100)
        await _until(lambda: runner.in_flight == 5)
        await _settle()
        assert runner.in_flight == 5 and poller.workers == 5
        runner.release.set()
        await _until(lambda: runner.records == 1200)
        await poller.stop()
        await env.close()

    asyncio.run(asyncio.wait_for(main(), 60))


@pytest.mark.parametrize(
    ("max_concurrency", "ledger", "start", "after_a_minute"),
    [
        (50, None, 5, 50),  # ScalingConfig.MaximumConcurrency
        (2, None, 2, 2),  # its minimum
        (None, FakeLedger(reserved=20), 5, 20),  # the function's reserved concurrency
        (None, FakeLedger(reserved=3), 3, 3),
        (None, FakeLedger(pool=30), 5, 30),  # the account's unreserved pool
        (40, FakeLedger(reserved=100, pool=10), 5, 40),  # a reservation is the function's own
    ],
)
def test_ceilings(
    tmp_path: Path, max_concurrency: int | None, ledger: FakeLedger | None, start: int, after_a_minute: int
) -> None:
    async def main() -> None:
        env = Env(tmp_path)
        queue = await env.queue(200)
        runner = GatedRunner()
        live = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f:live"
        poller = env.poller(queue, runner, ledger, max_concurrency=max_concurrency, function_arn=live)
        await _until(lambda: runner.in_flight == start)
        await _settle()
        assert runner.in_flight == start
        env.clock.advance(60)
        await _until(lambda: runner.in_flight == after_a_minute)
        await _settle()
        assert runner.in_flight == after_a_minute and runner.peak == after_a_minute
        if ledger is not None:
            assert set(ledger.asked) == {f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f"}  # unqualified
        runner.release.set()
        await _until(lambda: runner.records == 200)
        await poller.stop()
        await env.close()

    asyncio.run(asyncio.wait_for(main(), 30))


class ThrottledRunner:
    def __init__(self) -> None:
        self.calls = 0

    async def invoke(self, spec: VersionSpec, invocation: Invocation) -> InvocationResult:
        self.calls += 1
        raise Throttled("Rate Exceeded.", Reason="ReservedFunctionConcurrentInvocationLimitExceeded", Type="User")


def test_throttles_hold_the_ramp_back(tmp_path: Path) -> None:
    """A function that only throttles: a backlog that would have grown to 305 batches in a minute keeps the
    mapping at a handful, each throttle taking one batch of concurrency away."""

    async def main() -> None:
        env = Env(tmp_path)
        queue = await env.queue(500)
        runner = ThrottledRunner()
        poller = env.poller(queue, runner)
        await _until(lambda: runner.calls >= 1)
        allowed = []
        for _ in range(120):  # a minute of throttle retries and back-off, in virtual time
            env.clock.advance(0.5)
            await _settle()
            allowed.append(poller.allowed())
        assert max(allowed) <= 10 and poller.peak <= 10
        assert poller.stats["throttled"] == runner.calls > 60
        await poller.stop()
        await env.close()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_pollers_read_the_ledger_of_the_concurrency_gate() -> None:
    """The app hands SqsPollers the ConcurrencyGate as its runner; the gate's ledger is where the reserved
    concurrency and the unreserved pool come from."""
    ledger = ConcurrencyLedger(50)
    ledger.set_reserved(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:g", 7)
    gate = ConcurrencyGate(cast(Any, None), ledger)
    pollers = SqsPollers(cast(Any, None), cast(Any, None), gate, ManualClock())
    reserved = SqsPoller(
        _mapping(function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:g:3"), cast(Any, None), cast(Any, None),
        gate, ManualClock(), pollers._ledger,
    )  # fmt: skip
    assert reserved.ceiling() == 7
    unreserved = SqsPoller(_mapping(), cast(Any, None), cast(Any, None), gate, ManualClock(), pollers._ledger)
    assert unreserved.ceiling() == 43  # 50 less the other function's reservation


def test_fifo_concurrency_is_capped_by_message_groups(tmp_path: Path) -> None:
    async def main() -> None:
        env = Env(tmp_path)
        queue = await env.engine.create(
            REGION, ACCOUNT, "q.fifo", {"FifoQueue": "true", "VisibilityTimeout": "900"}, {}
        )
        messages = [
            NewMessage(str(i), md5_text(str(i)), {}, None, {"SenderId": ACCOUNT, "MessageGroupId": g}, None, group=g)
            for i, g in ((i, f"g{i % 3}") for i in range(60))
        ]
        for m in messages:
            await env.engine.send(queue, [m])
        runner = GatedRunner()
        poller = env.poller(queue, runner, max_concurrency=10)
        await _until(lambda: runner.in_flight == 3)
        env.clock.advance(60)
        await _settle()
        assert runner.in_flight == 3 and poller.allowed() == 3  # three groups, MaximumConcurrency 10
        runner.release.set()
        await _until(lambda: runner.records == 60)
        await poller.stop()
        await env.close()

    asyncio.run(asyncio.wait_for(main(), 30))
