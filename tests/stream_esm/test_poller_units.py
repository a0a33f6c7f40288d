"""The stream poller in virtual time (ManualClock, fakes for the source, runner and function service):
record age while retrying, MaximumRetryAttempts, partial batch responses, checkpoints, LastProcessingResult."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

from lamina.clock import ManualClock
from lamina.functions.event_source_mappings import Mapping
from lamina.functions.states import State
from lamina.sources.stream_poller import PROBLEM, StreamPoller, StreamPollers
from lamina.sources.stream_source import StreamItem
from lamina.types import Invocation, InvocationResult

ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/s"


class Source:
    batch_info_key = "KinesisBatchInfo"

    def __init__(self, clock: ManualClock, count: int) -> None:
        self.items = [StreamItem(i, str(1000 + i), clock.time(), "k", {"n": i}) for i in range(count)]

    def exists(self, arn: str) -> bool:
        return True

    def shards(self, arn: str) -> list[str]:
        return ["shardId-000000000000"]

    def parents(self, arn: str, shard: str) -> list[str]:
        return []

    def finished(self, arn: str, shard: str, position: int) -> bool:
        return False

    def start(self, arn: str, shard: str, kind: str, timestamp: float | None) -> int:
        return -1

    def read(self, arn: str, shard: str, after: int, limit: int, role: str) -> list[StreamItem]:
        return [i for i in self.items if i.position > after][:limit]

    def waiter(self, arn: str) -> asyncio.Event | None:
        return None

    def latest_arrival(self, arn: str, shard: str) -> float | None:
        return None


class Checkpoints:
    def __init__(self, results: dict[str, str] | None = None) -> None:
        self.saved: dict[tuple[str, str], int] = {}
        self.results = dict(results or {})
        self.result_writes: list[tuple[str, str]] = []  # every record_result call, in order

    def load_checkpoints(self) -> dict[tuple[str, str], int]:
        return dict(self.saved)

    async def checkpoint(self, mapping_uuid: str, shard_id: str, position: int) -> None:
        self.saved[(mapping_uuid, shard_id)] = position

    def load_results(self) -> dict[str, str]:
        return dict(self.results)

    async def record_result(self, mapping_uuid: str, result: str) -> None:
        self.results[mapping_uuid] = result
        self.result_writes.append((mapping_uuid, result))

    async def forget_checkpoints(self, mapping_uuid: str) -> None:
        pass


@dataclass
class Config:
    state: State = State.ACTIVE
    role: str = "arn:aws:iam::000000000000:role/r"


class Functions:
    def resolve(self, *args: Any) -> str:
        return "ref"

    def invocation_target(self, ref: Any) -> Config:
        return Config()

    def cached_spec(self, config: Any) -> Any:
        # what the poller reads of the version's spec
        return SimpleNamespace(
            tracing_mode="PassThrough", function_arn="arn:aws:lambda:us-east-1:000000000000:function:f"
        )


class Runner:
    """Answers each invocation with the next of `answers` (the last one repeats)."""

    def __init__(self, *answers: InvocationResult) -> None:
        self.answers = list(answers)
        self.batches: list[list[int]] = []
        self.events: list[dict[str, Any]] = []

    async def invoke(self, spec: Any, invocation: Invocation) -> InvocationResult:
        event = json.loads(invocation.payload)
        self.events.append(event)
        self.batches.append([r["n"] for r in event["Records"]])
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


FAIL = InvocationResult(b'{"errorMessage":"x"}', "$LATEST", "Unhandled")
OK = InvocationResult(b"null", "$LATEST")


def _mapping(**settings: Any) -> Mapping:
    base: dict[str, Any] = dict(
        uuid="u", region="us-east-1", account="000000000000", source_arn=ARN,
        function_arn="arn:aws:lambda:us-east-1:000000000000:function:f", batch_size=10, window=0, enabled=True,
        state="Enabled", last_modified=0.0, starting_position="TRIM_HORIZON",
    )  # fmt: skip
    base.update(settings)
    return Mapping(**base)


async def _run(
    mapping: Mapping, runner: Runner, count: int, steps: int, step_s: float, checkpoints: Checkpoints | None = None
) -> tuple[Any, ...]:
    clock = ManualClock()
    source, checkpoints = Source(clock, count), checkpoints or Checkpoints()
    failures: list[dict[str, Any]] = []

    async def deliver(arn: str, body: bytes, request_id: str) -> None:
        failures.append(json.loads(body))

    results = checkpoints.load_results()
    poller = StreamPoller(mapping, source, checkpoints, {}, cast(Any, Functions()), runner, deliver, clock, results)
    poller.start()
    for _ in range(steps):
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        clock.advance(step_s)
    for _ in range(20):
        await asyncio.sleep(0)
    await poller.stop()
    return failures, checkpoints.saved, poller


def test_retries_exhausted_then_the_shard_moves_on() -> None:
    mapping = _mapping(max_retries=2, on_failure="arn:aws:sqs:us-east-1:000000000000:q")
    runner = Runner(FAIL, FAIL, FAIL, OK)
    failures, saved, _ = asyncio.run(_run(mapping, runner, 3, 200, 0.1))
    assert runner.batches[:3] == [[0, 1, 2]] * 3  # first attempt + 2 retries
    (failure,) = failures
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert failure["KinesisBatchInfo"]["batchSize"] == 3
    assert saved[("u", "shardId-000000000000")] == 2


def test_record_age_ends_retries() -> None:
    mapping = _mapping(max_record_age=60, on_failure="arn:aws:sqs:us-east-1:000000000000:q")
    runner = Runner(FAIL)
    failures, saved, _ = asyncio.run(_run(mapping, runner, 2, 400, 0.5))  # 200 virtual seconds
    (failure,) = failures
    assert failure["requestContext"]["condition"] == "RecordAgeExceeded"
    assert saved[("u", "shardId-000000000000")] == 1
    assert len(runner.batches) < 60  # retries back off; then the shard moves on


def test_partial_batch_retries_from_the_lowest_failure() -> None:
    mapping = _mapping(response_types=["ReportBatchItemFailures"])
    partial = InvocationResult(json.dumps({"batchItemFailures": [{"itemIdentifier": "1003"}]}).encode(), "$LATEST")
    runner = Runner(partial, OK)
    _, saved, _ = asyncio.run(_run(mapping, runner, 6, 50, 0.1))
    assert runner.batches[:2] == [[0, 1, 2, 3, 4, 5], [3, 4, 5]]
    assert saved[("u", "shardId-000000000000")] == 5


def test_bad_item_identifier_fails_the_whole_batch() -> None:
    mapping = _mapping(response_types=["ReportBatchItemFailures"], max_retries=0)
    bad = InvocationResult(json.dumps({"batchItemFailures": [{"itemIdentifier": ""}]}).encode(), "$LATEST")
    runner = Runner(bad)
    _, _, poller = asyncio.run(_run(mapping, runner, 4, 20, 0.1))
    assert runner.batches[0] == [0, 1, 2, 3]
    assert poller.stats["failed"] == 4


def test_tumbling_window_carries_state_and_ends_with_a_final_invoke() -> None:
    mapping = _mapping(tumbling=30, batch_size=2)
    counted = InvocationResult(json.dumps({"state": {"count": 2}}).encode(), "$LATEST")
    runner = Runner(counted)
    _, saved, _ = asyncio.run(_run(mapping, runner, 4, 400, 0.1))  # 40 virtual seconds
    events = runner.events
    assert [e["Records"] and [r["n"] for r in e["Records"]] for e in events[:2]] == [[0, 1], [2, 3]]
    assert events[0]["state"] == {} and events[1]["state"] == {"count": 2}
    assert [e["isFinalInvokeForWindow"] for e in events[:3]] == [False, False, True]
    final = events[2]
    assert final["Records"] == [] and final["state"] == {"count": 2}
    assert final["shardId"] == "shardId-000000000000" and final["eventSourceARN"] == ARN
    assert set(final["window"]) == {"start", "end"}
    assert saved[("u", "shardId-000000000000")] == 3


def test_last_processing_result_is_stored_only_when_it_changes() -> None:
    mapping = _mapping(max_retries=1, batch_size=2)
    runner = Runner(FAIL, FAIL, OK, OK, FAIL, OK)  # [0, 1] fails twice; [2, 3], [4, 5] ok; [6, 7] fails once
    checkpoints = Checkpoints()
    _, saved, poller = asyncio.run(_run(mapping, runner, 8, 100, 0.1, checkpoints))
    assert runner.batches == [[0, 1], [0, 1], [2, 3], [4, 5], [6, 7], [6, 7]]
    assert saved[("u", "shardId-000000000000")] == 7
    # 6 invocations, 4 changes: the repeated PROBLEM and the repeated OK are not written again
    assert checkpoints.result_writes == [("u", PROBLEM), ("u", "OK"), ("u", PROBLEM), ("u", "OK")]
    assert poller.results == {"u": "OK"}


def test_a_stored_result_is_shown_at_start_and_not_written_again() -> None:
    checkpoints = Checkpoints({"u": PROBLEM})
    clock = ManualClock()

    async def deliver(arn: str, body: bytes, request_id: str) -> None:
        pass

    pollers = StreamPollers(lambda arn: None, checkpoints, cast(Any, Functions()), Runner(OK), deliver, clock)
    assert pollers.last_result("u") == PROBLEM  # before any batch: what was stored before the restart
    assert pollers.last_result("other") is None  # "No records processed"
    checkpoints = Checkpoints({"u": "OK"})
    runner = Runner(OK)
    asyncio.run(_run(_mapping(batch_size=2), runner, 4, 50, 0.1, checkpoints))
    assert runner.batches == [[0, 1], [2, 3]]
    assert checkpoints.result_writes == []
