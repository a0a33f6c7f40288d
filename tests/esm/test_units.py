"""Pure rules and the poller in virtual time (ManualClock, a fake runner): no server, no sleeping."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from lamina.clock import ManualClock
from lamina.functions.event_source_mappings import Mapping
from lamina.functions.states import State
from lamina.services.sqs.digests import md5_text
from lamina.services.sqs.engine import NewMessage, SqsEngine
from lamina.sources import patterns
from lamina.sources.sqs_poller import SqsPoller, failed_ids, passes
from lamina.store.documents import SqliteStore
from lamina.store.sqs_sqlite import SqsStore
from lamina.types import Invocation, InvocationResult, VersionSpec

REGION, ACCOUNT = "us-east-1", "000000000000"
FN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f"


def _mapping(**changes: Any) -> Mapping:
    base: dict[str, Any] = dict(
        uuid="u", region=REGION, account=ACCOUNT, source_arn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:q",
        function_arn=FN, batch_size=10, window=0, enabled=True, state="Enabled", last_modified=0.0,
        response_types=["ReportBatchItemFailures"],
    )  # fmt: skip
    base.update(changes)
    return Mapping(**base)


def _result(payload: Any, error: str | None = None) -> InvocationResult:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return InvocationResult(raw, "$LATEST", error)


IDS = ["a", "b", "c"]


@pytest.mark.parametrize(
    ("payload", "failed"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": None}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": "b"}, {"itemIdentifier": "c"}]}, {"b", "c"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, set(IDS)),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, set(IDS)),
        ({"batchItemFailures": [{"itemIdentifier": "unknown"}]}, set(IDS)),
        ({"batchItemFailures": [{"wrongKey": "a"}]}, set(IDS)),
        (b"{not json", set(IDS)),
        (b"", set()),
    ],
)
def test_partial_batch_rules(payload: Any, failed: set[str]) -> None:
    assert failed_ids(_mapping(), _result(payload), IDS) == failed


def test_function_error_fails_everything_and_reports_need_the_response_type() -> None:
    assert failed_ids(_mapping(), _result({"errorMessage": "x"}, "Unhandled"), IDS) == set(IDS)
    without = _mapping(response_types=[])
    assert failed_ids(without, _result({"batchItemFailures": [{"itemIdentifier": "a"}]}), IDS) == set()


@pytest.mark.parametrize("bad", [None, "simple string", '{"eventSource": "aws:sqs"}', '{"eventSource": []}', "[1]"])
def test_invalid_patterns(bad: Any) -> None:
    with pytest.raises(patterns.InvalidPattern):
        patterns.check(bad)


def test_pattern_matchers() -> None:
    event = {"body": {"a": "us-east-1", "n": 5, "tags": ["x", "y"], "nil": None, "ip": "10.0.0.7"}}

    def m(p: dict[str, Any]) -> bool:
        return patterns.matches(patterns.check(json.dumps(p)), event)

    assert m({"body": {"a": [{"prefix": "us-"}]}})
    assert not m({"body": {"a": [{"suffix": "-2"}]}})
    assert m({"body": {"a": [{"equals-ignore-case": "US-EAST-1"}]}})
    assert m({"body": {"n": [{"numeric": [">", 1, "<=", 5]}]}})
    assert not m({"body": {"n": [{"numeric": ["<", 5]}]}})
    assert m({"body": {"tags": ["y"]}})
    assert m({"body": {"nil": [None]}})
    assert m({"body": {"missing": [{"exists": False}]}})
    assert not m({"body": {"a": [{"exists": False}]}})
    assert m({"body": {"a": [{"anything-but": ["eu-west-1"]}]}})
    assert m({"body": {"a": [{"wildcard": "us-*-1"}]}})
    assert m({"body": {"ip": [{"cidr": "10.0.0.0/24"}]}})
    assert m({"body": {"$or": [{"a": ["nope"]}, {"n": [5]}]}})
    assert not m({"body": {"n": ["5"]}})


def test_plain_and_json_bodies() -> None:
    plain = {"body": "this is a test string"}
    js = {"body": json.dumps({"k": "v"})}
    string_filter = [patterns.check(json.dumps({"body": ["this is a test string"]}))]
    json_filter = [patterns.check(json.dumps({"body": {"k": ["v"]}}))]
    assert passes(string_filter, plain) and not passes(json_filter, plain)
    assert passes(json_filter, js) and not passes(string_filter, js)


class FakeRunner:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    async def invoke(self, spec: VersionSpec, invocation: Invocation) -> InvocationResult:
        self.batches.append([r["body"] for r in json.loads(invocation.payload)["Records"]])
        return InvocationResult(b"null", "$LATEST")


def _functions() -> Any:
    config = SimpleNamespace(state=State.ACTIVE)
    spec = SimpleNamespace(tracing_mode="PassThrough")  # what the poller reads of the version's spec
    return SimpleNamespace(
        resolve=lambda *a, **k: object(), invocation_target=lambda ref: config, cached_spec=lambda c: spec
    )


async def _settle() -> None:
    for _ in range(50):
        await asyncio.sleep(0)


def test_batching_window_in_virtual_time(tmp_path: Path) -> None:
    async def main() -> None:
        SqliteStore(tmp_path / "lamina.db", "OFF").close()
        store = SqsStore(tmp_path / "lamina.db", "OFF")
        clock = ManualClock()
        engine = SqsEngine(store, clock)
        queue = await engine.create(REGION, ACCOUNT, "q", {}, {})

        async def send(*bodies: str) -> None:
            await engine.send(
                queue, [NewMessage(b, md5_text(b), {}, None, {"SenderId": ACCOUNT}, None) for b in bodies]
            )

        runner = FakeRunner()
        mapping = _mapping(batch_size=20, window=5, source_arn=queue.arn, response_types=[])
        poller = SqsPoller(mapping, engine, cast(Any, _functions()), runner, clock)
        await send("1", "2", "3")
        poller.start()
        await _settle()
        assert runner.batches == []  # gathering: the window is open
        clock.advance(2)
        await send("4", "5")
        await _settle()
        assert runner.batches == []
        clock.advance(3.1)
        await _settle()
        assert runner.batches == [["1", "2", "3", "4", "5"]]
        await store.delete_messages([])  # the writer is FIFO: the poller's delete has committed before this
        await _settle()  # and memory follows the commit
        assert queue.counts(clock.time()) == (0, 0, 0)  # deleted after success
        await poller.stop()
        await engine.close()
        await store.close()

    asyncio.run(asyncio.wait_for(main(), 10))


class GatedRunner:
    """Holds every invocation until released, counting how many are in flight at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.in_flight = 0
        self.peak = 0
        self.records = 0

    async def invoke(self, spec: VersionSpec, invocation: Invocation) -> InvocationResult:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        await self.release.wait()
        self.in_flight -= 1
        self.records += len(json.loads(invocation.payload)["Records"])
        return InvocationResult(b"null", "$LATEST")


async def _until(check: Any) -> None:
    """Waits for the store's thread (SQLite commits) without advancing the virtual clock."""
    for _ in range(5000):
        if check():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition not reached")


def test_scales_with_depth_up_to_max_concurrency(tmp_path: Path) -> None:
    async def main() -> None:
        SqliteStore(tmp_path / "lamina.db", "OFF").close()
        store = SqsStore(tmp_path / "lamina.db", "OFF")
        clock = ManualClock()
        engine = SqsEngine(store, clock)
        queue = await engine.create(REGION, ACCOUNT, "q", {"VisibilityTimeout": "300"}, {})
        bodies = [str(i) for i in range(100)]
        await engine.send(queue, [NewMessage(b, md5_text(b), {}, None, {"SenderId": ACCOUNT}, None) for b in bodies])
        runner = GatedRunner()
        mapping = _mapping(source_arn=queue.arn, response_types=[], max_concurrency=3)
        poller = SqsPoller(mapping, engine, cast(Any, _functions()), runner, clock)
        poller.start()
        await _settle()
        assert runner.in_flight == 3 and poller.workers == 3  # a backlog: scaled up to MaximumConcurrency
        runner.release.set()
        await _until(lambda: runner.records == 100)
        assert runner.peak == 3
        await _until(lambda: queue.counts(clock.time()) == (0, 0, 0))  # the deletes commit, then memory follows
        await _until(lambda: len(clock._sleepers) >= 4)  # every worker is in its long poll (and the ticker)
        clock.advance(20.1)  # the empty long polls end: workers retire down to one
        await _until(lambda: poller.workers == 1)
        await poller.stop()
        assert poller.workers == 0
        await engine.close()
        await store.close()

    asyncio.run(asyncio.wait_for(main(), 10))
