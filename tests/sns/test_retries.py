"""HTTP/S delivery retries in virtual time: an in-process SnsEngine on a ManualClock with a scripted endpoint in
place of the network, so AWS's 20-second default schedule is checked without sleeping."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from lamina.clock import ManualClock
from lamina.errors import InvalidParameter
from lamina.services.sns import delivery_policy
from lamina.services.sns.engine import SnsEngine, Subscription, Topic
from lamina.services.sqs.engine import SqsEngine
from lamina.store.documents import MemoryStore, SqliteStore
from lamina.store.sqs_sqlite import SqsStore

REGION, ACCOUNT = "us-east-1", "000000000000"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:t"


class Endpoint:
    """Answers each POST with the next scripted status (an exception is raised as a connection error)."""

    def __init__(self, clock: ManualClock, script: list[int | Exception]) -> None:
        self.clock = clock
        self.script = script
        self.calls: list[tuple[float, dict[str, str], bytes]] = []

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        self.calls.append((self.clock.monotonic(), dict(headers), body))
        outcome = self.script.pop(0) if self.script else 200
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def run(
    tmp_path: Path, script: list[int | Exception], test: Callable[[SnsEngine, SqsEngine, Endpoint], Awaitable[None]]
) -> None:
    async def main() -> None:
        SqliteStore(tmp_path / "lamina.db", "OFF").close()
        sqs_store = SqsStore(tmp_path / "lamina.db", "OFF")
        clock = ManualClock()
        sqs = SqsEngine(sqs_store, clock)
        sqs.load()
        endpoint = Endpoint(clock, script)
        sns = SnsEngine(MemoryStore(), sqs, clock, "http://lamina", data_dir=tmp_path, http_post=endpoint.post)
        try:
            await test(sns, sqs, endpoint)
        finally:
            await sns.close()
            await sqs.close()
            await sqs_store.close()

    asyncio.run(asyncio.wait_for(main(), 10))


async def settle(clock: ManualClock, seconds: float, step: float = 1.0) -> None:
    """Advances virtual time in steps, letting the background delivery run between them."""
    for _ in range(int(seconds / step)):
        for _ in range(5):
            await asyncio.sleep(0)
        clock.advance(step)
    for _ in range(5):
        await asyncio.sleep(0)


def _subscribe(sns: SnsEngine, attributes: dict[str, str] | None = None) -> Subscription:
    sns.save_topic(Topic(TOPIC, "t", {}))
    sub = Subscription(f"{TOPIC}:s1", TOPIC, "http", "http://endpoint/hook", ACCOUNT, attributes or {})
    sns.save_subscription(sub)
    return sub


def test_default_policy_retries_three_times_twenty_seconds_apart_then_dead_letters(tmp_path: Path) -> None:
    async def test(sns: SnsEngine, sqs: SqsEngine, endpoint: Endpoint) -> None:
        clock = endpoint.clock
        dlq = await sqs.create(REGION, ACCOUNT, "dlq", {}, {})
        _subscribe(sns, {"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq.arn})})
        await sns.publish(sns.topics[TOPIC], sns.new_message(TOPIC, "hello", None, {}, None))
        await settle(clock, 100)
        await sns.idle()
        assert [t for t, _, _ in endpoint.calls] == [0.0, 20.0, 40.0, 60.0]
        assert all(h["x-amz-sns-message-type"] == "Notification" for _, h, _ in endpoint.calls)
        assert len({h["x-amz-sns-message-id"] for _, h, _ in endpoint.calls}) == 1  # the same message each time
        [moved] = await sqs.receive(dlq, 10, None, 0)
        assert json.loads(moved.message.body)["Message"] == "hello"
        assert sns.dead_lettered["http"] == 1 and sns.retried["http"] == 3

    run(tmp_path, [500, 503, OSError("connection refused"), 502], test)


def test_a_client_error_counts_as_delivered(tmp_path: Path) -> None:
    """SNS retries server-side errors only: an endpoint that answers 4xx got the message (no retry, no DLQ)."""

    async def test(sns: SnsEngine, sqs: SqsEngine, endpoint: Endpoint) -> None:
        dlq = await sqs.create(REGION, ACCOUNT, "dlq", {}, {})
        _subscribe(sns, {"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq.arn})})
        await sns.publish(sns.topics[TOPIC], sns.new_message(TOPIC, "hello", None, {}, None))
        await settle(endpoint.clock, 100)
        await sns.idle()
        assert len(endpoint.calls) == 1 and sns.delivered["http"] == 1 and sns.failed["http"] == 0
        assert await sqs.receive(dlq, 10, None, 0) == []

    run(tmp_path, [429], test)


def test_success_after_a_retry_stops_retrying(tmp_path: Path) -> None:
    async def test(sns: SnsEngine, sqs: SqsEngine, endpoint: Endpoint) -> None:
        _subscribe(sns)
        await sns.publish(sns.topics[TOPIC], sns.new_message(TOPIC, "hello", None, {}, None))
        await settle(endpoint.clock, 100)
        assert [t for t, _, _ in endpoint.calls] == [0.0, 20.0]
        assert sns.delivered["http"] == 1 and sns.failed["http"] == 0

    run(tmp_path, [500, 200], test)


def test_subscription_delivery_policy_phases(tmp_path: Path) -> None:
    policy = {
        "healthyRetryPolicy": {
            "numRetries": 6,
            "numNoDelayRetries": 1,
            "numMinDelayRetries": 1,
            "numMaxDelayRetries": 1,
            "minDelayTarget": 2,
            "maxDelayTarget": 10,
            "backoffFunction": "linear",
        },
        "throttlePolicy": {"maxReceivesPerSecond": 1},
        "requestPolicy": {"headerContentType": "application/json"},
    }
    stored = json.dumps(delivery_policy.subscription_policy(json.dumps(policy)))

    async def test(sns: SnsEngine, sqs: SqsEngine, endpoint: Endpoint) -> None:
        _subscribe(sns, {"DeliveryPolicy": stored})
        await sns.publish(sns.topics[TOPIC], sns.new_message(TOPIC, "hello", None, {}, None))
        await settle(endpoint.clock, 40, 0.01)
        # immediate retry (throttled to 1/s), 2 s (pre-backoff), 3 backoff steps 2→10 linear, 10 s (post-backoff)
        times = [t for t, _, _ in endpoint.calls]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert gaps == pytest.approx([1.0, 2.0, 4.667, 7.333, 10.0, 10.0], abs=0.02)
        assert endpoint.calls[0][1]["Content-Type"] == "application/json"

    run(tmp_path, [500] * 10, test)


def test_retry_delays() -> None:
    assert delivery_policy.retry_delays(delivery_policy.DEFAULT_HEALTHY) == [20, 20, 20]
    exponential = {**delivery_policy.DEFAULT_HEALTHY, "numRetries": 3, "minDelayTarget": 1, "maxDelayTarget": 8}
    assert delivery_policy.retry_delays({**exponential, "backoffFunction": "exponential"}) == [2, 4, 8]


@pytest.mark.parametrize(
    "policy",
    [
        "not json",
        '{"healthyRetryPolicy": {"minDelayTarget": 0}}',
        '{"healthyRetryPolicy": {"minDelayTarget": 30, "maxDelayTarget": 20}}',
        '{"healthyRetryPolicy": {"backoffFunction": "cubic"}}',
        '{"healthyRetryPolicy": {"numRetries": 100, "minDelayTarget": 60, "maxDelayTarget": 60}}',
        '{"throttlePolicy": {"maxReceivesPerSecond": 0}}',
    ],
)
def test_invalid_delivery_policies(policy: str) -> None:
    with pytest.raises(InvalidParameter):
        delivery_policy.subscription_policy(policy)


def test_fifo_deduplication_window_is_five_minutes(tmp_path: Path) -> None:
    async def test(sns: SnsEngine, sqs: SqsEngine, endpoint: Endpoint) -> None:
        clock = endpoint.clock
        arn = f"{TOPIC}.fifo"
        sns.save_topic(Topic(arn, "t.fifo", {"FifoTopic": "true"}))
        queue = await sqs.create(REGION, ACCOUNT, "q.fifo", {"FifoQueue": "true"}, {})
        sns.save_subscription(Subscription(f"{arn}:s", arn, "sqs", queue.arn, ACCOUNT, {"RawMessageDelivery": "true"}))

        async def publish(text: str, dedup: str) -> tuple[str, str | None]:
            message = sns.new_message(arn, text, None, {}, None, group_id="g", dedup_id=dedup)
            return await sns.publish(sns.topics[arn], message)

        first = await publish("one", "d")
        clock.advance(299)
        assert await publish("one again", "d") == first  # inside the window: the original's ids, not delivered
        other = await publish("other", "e")
        clock.advance(2)  # "d" has expired, "e" hasn't
        later = await publish("one, later", "d")
        assert later[0] != first[0] and int(later[1] or 0) > int(other[1] or 0)
        assert await publish("other again", "e") == other
        bodies = [r.message.body for r in await sqs.receive(queue, 10, None, 0)]
        assert bodies == ["one", "other", "one, later"]  # each once

    run(tmp_path, [], test)


def test_retries_end_when_the_subscription_is_gone(tmp_path: Path) -> None:
    async def test(sns: SnsEngine, sqs: SqsEngine, endpoint: Endpoint) -> None:
        sub = _subscribe(sns)
        await sns.publish(sns.topics[TOPIC], sns.new_message(TOPIC, "hello", None, {}, None))
        await settle(endpoint.clock, 10)
        sns.delete_subscription(sub)
        await settle(endpoint.clock, 100)
        await sns.idle()
        assert len(endpoint.calls) == 1

    run(tmp_path, [500] * 5, test)
