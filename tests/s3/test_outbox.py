"""The notification outbox without a server: a change's notifications commit with it, go out on `deliver`, stay
queued when the target fails for a passing reason (and go at the next start), and are dropped, counted, when the
target is gone. Virtual time (ManualClock); the real store on a temporary database."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from lamina.clock import ManualClock
from lamina.services.s3.engine import S3Engine, Upload
from lamina.services.s3.notifications import TargetGone, Targets
from lamina.services.s3.storage import ObjectFiles
from lamina.store.documents import SqliteStore
from lamina.store.s3_sqlite import S3Store

QUEUE = "arn:aws:sqs:us-east-1:000000000000:q"


class Queue:
    def __init__(self) -> None:
        self.got: list[dict[str, Any]] = []
        self.fail: Exception | None = None

    async def send(self, arn: str, message: bytes) -> None:
        if self.fail is not None:
            raise self.fail
        self.got.append(json.loads(message))


def engine_on(folder: Path, queue: Queue) -> S3Engine:
    SqliteStore(folder / "lamina.db").close()  # migrates
    engine = S3Engine(S3Store(folder / "lamina.db"), ObjectFiles(folder / "s3"), ManualClock(), "us-east-1")
    engine.load()

    async def unused(*_: Any) -> None:
        raise AssertionError("not a target here")

    engine.notifications.targets = Targets(
        send_to_queue=queue.send, publish_to_topic=unused, invoke_async=unused,
        put_on_default_bus=lambda *_: None, queue_exists=lambda _: True, topic_exists=lambda _: True,
        may_invoke=lambda *_: True, refusal=lambda *_: None,
    )  # fmt: skip
    return engine


def configure(engine: S3Engine) -> None:
    engine.create_bucket("b-outbox", "us-east-1")
    config = {"QueueConfigurations": [{"Id": "c", "QueueArn": QUEUE, "Events": ["s3:ObjectCreated:*"]}]}
    engine.update_bucket("b-outbox", notification=config)


def test_committed_with_the_object_then_delivered_after_a_restart(tmp_path: Path) -> None:
    queue = Queue()
    engine = engine_on(tmp_path, queue)
    configure(engine)
    asyncio.run(engine.put_object("b-outbox", "k", b"data", Upload(), "req-1"))
    # the object and its notification committed together; nothing delivered yet (a crash here loses nothing)
    [(_, pending)] = engine.store.outgoing()
    assert pending["arn"] == QUEUE
    engine.store.close()
    again = engine_on(tmp_path, queue)  # the next start
    asyncio.run(again.notifications.deliver())
    [message] = queue.got
    assert message["Records"][0]["s3"]["object"]["key"] == "k"
    assert again.store.outgoing() == []
    assert again.notifications.stats == {"delivered": 1, "failed": 0}


def test_a_passing_failure_keeps_it_and_a_gone_target_drops_it(tmp_path: Path) -> None:
    queue = Queue()
    engine = engine_on(tmp_path, queue)
    configure(engine)
    queue.fail = OSError("disk hiccup")
    asyncio.run(engine.put_object("b-outbox", "k1", b"one", Upload(), "req-1"))
    asyncio.run(engine.notifications.deliver())
    assert len(engine.store.outgoing()) == 1
    queue.fail = None
    asyncio.run(engine.notifications.deliver())
    assert [m["Records"][0]["s3"]["object"]["key"] for m in queue.got] == ["k1"]
    queue.fail = TargetGone("queue deleted")
    asyncio.run(engine.put_object("b-outbox", "k2", b"two", Upload(), "req-2"))
    asyncio.run(engine.notifications.deliver())
    assert engine.store.outgoing() == []
    assert engine.notifications.stats == {"delivered": 1, "failed": 2}
