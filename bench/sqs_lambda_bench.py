"""SQS -> Lambda end-to-end: messages per second an event source mapping drains from a queue into a function.

    .venv/bin/python bench/sqs_lambda_bench.py [--messages 20000] [--batch-size 10] [--window 0]
                                                [--max-concurrency N]

Preloads the queue (SendMessageBatch from 8 threads), then creates a mapping to a Python function that
returns at once, and times from the moment the mapping is Enabled until the queue is empty (every message
received by a poller, delivered in a batch to a synchronous invoke through the concurrency gate, and deleted).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess

HANDLER = "def handler(event, context):\n    return {'n': len(event['Records'])}\n"


def preload(server: LaminaProcess, url: str, total: int, threads: int = 8) -> None:
    def send(count: int) -> None:
        sqs: Any = server.client("sqs")
        body = "x" * 256
        for start in range(0, count, 10):
            n = min(10, count - start)
            sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": body} for i in range(n)])

    share = total // threads
    workers = [
        threading.Thread(target=send, args=(share + (total % threads if i == 0 else 0),)) for i in range(threads)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def remaining(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--window", type=int, default=0)
    parser.add_argument("--max-concurrency", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        server = LaminaProcess(Path(data)).start()
        try:
            lam, sqs = server.client(), server.client("sqs")
            url = sqs.create_queue(QueueName="bench", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            lam.create_function(
                FunctionName="bench", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                Code={"ZipFile": make_zip({"app.py": HANDLER})},
            )  # fmt: skip
            lam.get_waiter("function_active_v2").wait(FunctionName="bench", WaiterConfig={"Delay": 0.1})
            lam.invoke(FunctionName="bench", Payload=b'{"Records": []}')  # a warm environment to start with
            t0 = time.monotonic()
            preload(server, url, args.messages)
            print(f"preloaded {args.messages} messages in {time.monotonic() - t0:.1f} s")
            extra: dict[str, Any] = {}
            if args.max_concurrency:
                extra["ScalingConfig"] = {"MaximumConcurrency": args.max_concurrency}
            esm = lam.create_event_source_mapping(
                EventSourceArn=arn, FunctionName="bench", BatchSize=args.batch_size,
                MaximumBatchingWindowInSeconds=args.window, **extra,
            )  # fmt: skip
            while lam.get_event_source_mapping(UUID=esm["UUID"])["State"] != "Enabled":
                time.sleep(0.01)
            start = time.monotonic()
            while (left := remaining(sqs, url)) > 0:
                time.sleep(0.05)
            elapsed = time.monotonic() - start
            print(
                f"SQS -> Lambda: {args.messages} messages in {elapsed:.2f} s = {args.messages / elapsed:,.0f} msg/s "
                f"(BatchSize {args.batch_size}, window {args.window} s, "
                f"max concurrency {args.max_concurrency or 'unset: 5 batches, +300 a minute'}); left {left}"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
