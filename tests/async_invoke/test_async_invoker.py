"""Async invocation rules in virtual time (spec invoke-and-runtime.md §3): retries, spacing, request ids, event
age, throttles, reserved concurrency 0, destination records, the DLQ message, unavailable targets, deletes."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from lamina.invoke.event_queue import QueuedEvent
from lamina.invoke.executor import CapacityExceeded
from lamina.types import Invocation
from tests.async_invoke.harness import ACCOUNT, REGION, RecordingTarget, World, arn, error_document, ok, run

T0 = 1_700_000_000.0
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def failing(invocation: Invocation) -> Any:
    return error_document(invocation)


async def with_destinations(world: World, name: str, **settings: Any) -> None:
    await world.create(name)
    await world.create("dest")
    ref = world.functions.resolve(name, REGION, ACCOUNT)
    world.configs.put(
        ref,
        {
            **settings,
            "DestinationConfig": {"OnSuccess": {"Destination": arn("dest")}, "OnFailure": {"Destination": arn("dest")}},
        },
    )


def test_function_errors_retried_twice_a_minute_then_two_apart_with_one_request_id(tmp_path: Path) -> None:
    async def scenario(world: World) -> None:
        await with_destinations(world, "src")
        world.runner.behaviours["src"] = failing
        await world.submit("src", {"n": 1}, "req-1")
        assert [c.at - T0 for c in world.runner.of("src")] == [0.0]
        await world.advance(59)
        assert len(world.runner.of("src")) == 1
        await world.advance(1)
        await world.advance(119)
        assert [c.at - T0 for c in world.runner.of("src")] == [0.0, 60.0]
        await world.advance(1)
        calls = world.runner.of("src")
        assert [c.at - T0 for c in calls] == [0.0, 60.0, 180.0]
        assert {c.invocation.request_id for c in calls} == {"req-1"}
        await world.advance(600)
        assert len(world.runner.of("src")) == 3  # no fourth attempt
        [record] = world.records("dest")
        assert record["requestContext"] == {
            "requestId": "req-1",
            "functionArn": arn("src") + ":$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        }
        assert await world.queue.count() == 0

    run(scenario, tmp_path)


def test_maximum_retry_attempts_zero_means_one_attempt(tmp_path: Path) -> None:
    async def scenario(world: World) -> None:
        await with_destinations(world, "src", MaximumRetryAttempts=0)
        world.runner.behaviours["src"] = failing
        await world.submit("src", {"raise_error": 1}, "req-0")
        await world.advance(300)
        assert len(world.runner.of("src")) == 1
        [record] = world.records("dest")
        # The recorded TestLambdaDestinationSqs::test_assess_lambda_destination_invocation[payload1] body.
        assert set(record) == {
            "version",
            "timestamp",
            "requestContext",
            "requestPayload",
            "responseContext",
            "responsePayload",
        }
        assert record["version"] == "1.0"
        assert TIMESTAMP.match(record["timestamp"])
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["requestContext"]["approximateInvokeCount"] == 1
        assert record["requestPayload"] == {"raise_error": 1}
        assert record["responseContext"] == {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        }
        assert record["responsePayload"] == {
            "errorMessage": "intentional failure",
            "errorType": "Exception",
            "requestId": "req-0",
            "stackTrace": [],
        }

    run(scenario, tmp_path)


def test_success_record_has_no_function_error(tmp_path: Path) -> None:
    async def scenario(world: World) -> None:
        await with_destinations(world, "src")
        await world.submit("src", {}, "req-ok")
        [record] = world.records("dest")
        assert list(record) == [
            "version",
            "timestamp",
            "requestContext",
            "requestPayload",
            "responseContext",
            "responsePayload",
        ]
        assert record["requestContext"] == {
            "requestId": "req-ok",
            "functionArn": arn("src") + ":$LATEST",
            "condition": "Success",
            "approximateInvokeCount": 1,
        }
        assert record["requestPayload"] == {}
        assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
        assert record["responsePayload"] == {"echo": {}}
        # The destination's own invocation is a new async event with its own request id.
        assert world.runner.of("dest")[0].invocation.request_id != "req-ok"

    run(scenario, tmp_path)


def test_event_age_exceeded_after_a_failed_attempt(tmp_path: Path) -> None:
    async def scenario(world: World) -> None:
        await with_destinations(world, "src", MaximumEventAgeInSeconds=60)
        world.runner.behaviours["src"] = failing
        await world.submit("src", {"message": "m"}, "req-age")
        await world.advance(300)
        assert len(world.runner.of("src")) == 1
        [record] = world.records("dest")
        # As recorded (test_maxeventage no_retry_failure_message): the last response stays in the record.
        assert record["requestContext"]["condition"] == "EventAgeExceeded"
        assert record["requestContext"]["approximateInvokeCount"] == 1
        assert record["responseContext"]["functionError"] == "Unhandled"
        assert record["responsePayload"]["errorMessage"] == "intentional failure"

    run(scenario, tmp_path)


def test_event_older_than_its_age_is_not_run(tmp_path: Path) -> None:
    async def scenario(world: World) -> None:
        await with_destinations(world, "src")
        stale = QueuedEvent("e1", f"{REGION}/src", arn("src"), "req-old", b"{}", T0 - 21_601, T0)
        await world.queue.put([stale])
        world.invoker._wake.set()
        await world.invoker.wait_idle()
        assert world.runner.of("src") == []
        [record] = world.records("dest")
        assert record["requestContext"]["condition"] == "EventAgeExceeded"
        assert record["requestContext"]["approximateInvokeCount"] == 0

    run(scenario, tmp_path)


def test_throttled_events_back_off_from_one_second_and_then_run(tmp_path: Path) -> None:
    async def scenario(world: World) -> None:
        await with_destinations(world, "src")
        refusals = iter(range(4))

        def throttled(invocation: Invocation) -> Any:
            return CapacityExceeded("busy") if next(refusals, None) is not None else ok(invocation)

        world.runner.behaviours["src"] = throttled
        await world.submit("src", {}, "req-t")
        await world.advance(30)
        assert [c.at - T0 for c in world.runner.of("src")] == [0.0, 1.0, 3.0, 7.0, 15.0]
        [record] = world.records("dest")
        assert record["requestContext"]["condition"] == "Success"
        assert record["requestContext"]["approximateInvokeCount"] == 1  # throttles are not invocations

    run(scenario, tmp_path)


def test_throttles_until_the_event_ages_out(tmp_path: Path) -> None:
    async def scenario(world: World) -> None:
        await with_destinations(world, "src", MaximumEventAgeInSeconds=60)
        world.runner.behaviours["src"] = lambda inv: CapacityExceeded("busy")
        await world.submit("src", {}, "req-busy")
        await world.advance(120)
        # 1, 2, 4, 8, 16 s apart: attempts at 0, 1, 3, 7, 15, 31; the next (63 s) would pass the age.
        assert [c.at - T0 for c in world.runner.of("src")] == [0.0, 1.0, 3.0, 7.0, 15.0, 31.0]
        [record] = world.records("dest")
        assert record["requestContext"]["condition"] == "EventAgeExceeded"
        assert record["requestContext"]["approximateInvokeCount"] == 0
        assert record["responseContext"] == {"statusCode": 429, "executedVersion": "$LATEST"}

    run(scenario, tmp_path)


def test_reserved_concurrency_zero_goes_straight_to_the_failure_path(tmp_path: Path) -> None:
    async def scenario(world: World) -> None:
        await with_destinations(world, "src")
        world.functions.entry(world.functions.resolve("src", REGION, ACCOUNT)).reserved_concurrency = 0
        await world.submit("src", {"x": 1}, "req-zero")
        await world.advance(10)
        assert world.runner.of("src") == []
        [record] = world.records("dest")
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["requestContext"]["approximateInvokeCount"] == 0

    run(scenario, tmp_path)


def test_dead_letter_queue_gets_the_event_with_its_attributes(tmp_path: Path) -> None:
    async def scenario(world: World) -> None:
        sqs = RecordingTarget()
        world.destinations.register("sqs", sqs)
        dlq = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"
        await world.create("src", DeadLetterConfig={"TargetArn": dlq})
        world.runner.behaviours["src"] = lambda inv: error_document(inv, "Test exception (this is intentional)")
        await world.submit("src", {"raise_error": 1}, "req-dlq")
        await world.advance(200)
        [delivery] = sqs.deliveries
        assert delivery.target_arn == dlq
        assert json.loads(delivery.body) == {"raise_error": 1}  # the event, unchanged
        # As recorded (TestLambdaDLQ::test_dead_letter_queue receive_result MessageAttributes).
        assert delivery.attributes == {
            "RequestID": ("String", "req-dlq"),
            "ErrorCode": ("Number", "200"),
            "ErrorMessage": ("String", "Test exception (this is intentional)"),
        }

    run(scenario, tmp_path)


def test_unavailable_target_is_counted_and_logged_with_the_event(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(world: World) -> None:
        await world.create("src")
        ref = world.functions.resolve("src", REGION, ACCOUNT)
        queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"
        world.configs.put(ref, {"DestinationConfig": {"OnSuccess": {"Destination": queue_arn}}})
        with caplog.at_level(logging.ERROR):
            await world.submit("src", {"keep": "me"}, "req-sqs")
        assert world.destinations.failed["sqs"] == 1
        assert "SQS destinations need the SQS service" in caplog.text
        assert '"requestPayload":{"keep":"me"}' in caplog.text
        assert await world.queue.count() == 0

    run(scenario, tmp_path)


def test_deleting_the_function_drops_its_events_queued_and_in_flight(tmp_path: Path) -> None:
    async def scenario(world: World) -> None:
        await with_destinations(world, "src")
        world.runner.behaviours["src"] = failing
        world.runner.gate = asyncio.Event()
        ref = world.functions.resolve("src", REGION, ACCOUNT)
        for i in range(3):
            await world.invoker.submit(ref, b"{}", f"req-{i}")
        for _ in range(50):
            await asyncio.sleep(0)
        assert len(world.runner.of("src")) == 3  # all in flight
        world.functions.delete(ref)
        world.runner.gate.set()
        await world.invoker.wait_idle()
        await world.advance(400)
        assert len(world.runner.of("src")) == 3  # no retries
        assert world.records("dest") == []
        assert await world.queue.count() == 0
        assert world.configs.lookup(REGION, "src", None) is None  # its config went with it

    run(scenario, tmp_path)


def test_submit_returns_only_after_the_queue_holds_the_event(tmp_path: Path) -> None:
    async def scenario(world: World) -> None:
        await world.create("src")
        world.runner.gate = asyncio.Event()  # nothing completes
        ref = world.functions.resolve("src", REGION, ACCOUNT)
        await world.invoker.submit(ref, b'{"a":1}', "req-durable")
        [event] = [replace(e) for e in world.queue.events.values()]  # type: ignore[attr-defined]
        assert (event.request_id, event.payload, event.enqueued_at) == ("req-durable", b'{"a":1}', T0)
        world.runner.gate.set()

    run(scenario, tmp_path)
