"""EventBridge Scheduler: how late fires are, and how many fires the engine handles per second.

    .venv/bin/python bench/scheduler_bench.py [--schedules 200] [--virtual 1000]

1. Against a real `lamina serve`: `--schedules` at() schedules, all due at the same second, each sending to one
   SQS queue. A fire's lateness is the message's SentTimestamp minus the second it was due (at() has
   one-second precision, so it includes up to 1 s of the due second's own rounding: reported as measured).
2. In-process on a ManualClock (virtual time): `--virtual` rate(1 minute) schedules for a virtual hour,
   delivering to a recording target; reported as fires per wall-clock second.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.server import LaminaProcess

from lamina.clock import ManualClock
from lamina.services.scheduler.delivery import Attributes, TargetDelivery
from lamina.services.scheduler.engine import SchedulerEngine
from lamina.store.documents import MemoryStore

ROLE = "arn:aws:iam::000000000000:role/scheduler"


def real_lateness(count: int) -> None:
    server = LaminaProcess(Path(tempfile.mkdtemp(prefix="lamina-sched-bench-"))).start()
    try:
        scheduler: Any = server.client("scheduler")
        sqs: Any = server.client("sqs")
        url = sqs.create_queue(QueueName="bench")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        due = int(time.time()) + 3 + count // 100
        expression = "at(" + time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(due)) + ")"
        for i in range(count):
            scheduler.create_schedule(
                Name=f"b{i}",
                ScheduleExpression=expression,
                FlexibleTimeWindow={"Mode": "OFF"},
                Target={"Arn": arn, "RoleArn": ROLE, "Input": str(i)},
            )
        late: list[float] = []
        deadline = time.monotonic() + 60 + count / 10
        while len(late) < count and time.monotonic() < deadline:
            got = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["SentTimestamp"]
            ).get("Messages", [])
            for m in got:
                late.append(int(m["Attributes"]["SentTimestamp"]) / 1000 - due)
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        late.sort()
        print(f"{len(late)}/{count} at() fires delivered to SQS; lateness after the due second: "
              f"p50 {statistics.median(late) * 1000:.0f} ms, p99 {late[int(len(late) * 0.99) - 1] * 1000:.0f} ms, "
              f"max {late[-1] * 1000:.0f} ms")  # fmt: skip
    finally:
        server.stop()


async def virtual_rate(count: int) -> None:
    clock = ManualClock()
    fired = 0

    async def deliver(arn: str, payload: bytes, attributes: Attributes) -> None:
        nonlocal fired
        fired += 1

    store = MemoryStore()
    engine = SchedulerEngine(store, clock, TargetDelivery({"lambda": deliver}, clock, store), "000000000000")
    engine.start()
    now = clock.time()
    for i in range(count):
        engine.put_schedule(
            "us-east-1",
            {
                "Arn": f"arn:aws:scheduler:us-east-1:000000000000:schedule/default/v{i}",
                "GroupName": "default",
                "Name": f"v{i}",
                "ScheduleExpression": "rate(1 minute)",
                "State": "ENABLED",
                "CreationDate": now,
                "LastModificationDate": now,
                "Target": {"Arn": "arn:aws:lambda:us-east-1:000000000000:function:f", "RoleArn": ROLE},
                "FlexibleTimeWindow": {"Mode": "OFF"},
            },
        )
    started = time.perf_counter()
    for _ in range(3600):
        clock.advance(1.0)
        for _ in range(5):
            await asyncio.sleep(0)
    elapsed = time.perf_counter() - started
    await engine.close()
    print(f"virtual hour, {count} rate(1 minute) schedules: {fired} fires (expected {count * 61}) "
          f"in {elapsed:.2f} s wall = {fired / elapsed:,.0f} fires/s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schedules", type=int, default=200)
    parser.add_argument("--virtual", type=int, default=1000)
    args = parser.parse_args()
    real_lateness(args.schedules)
    asyncio.run(virtual_rate(args.virtual))


if __name__ == "__main__":
    main()
