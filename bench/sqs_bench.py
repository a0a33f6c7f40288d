"""SQS throughput: messages per second through send + receive + delete against a real `lamina serve`.

    .venv/bin/python bench/sqs_bench.py [--seconds 10] [--workers 16] [--batch 1|10]

Each worker is a thread with its own boto3 client (the json protocol, as applications call it) looping
send -> receive -> delete on a shared queue; with --batch 10 it uses SendMessageBatch, ReceiveMessage
(MaxNumberOfMessages=10) and DeleteMessageBatch. Every send is committed to SQLite (synchronous=FULL, group
commit) before it is answered. A message counts once it has been deleted. Note that boto3 itself costs about
a millisecond of client CPU per call, so the figures are bounded by the client as much as by the server.
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

from tests.server import LaminaProcess


def worker(server: LaminaProcess, url: str, batch: int, stop: float, counts: list[int], index: int) -> None:
    sqs: Any = server.client("sqs")
    done = 0
    body = "x" * 256
    while time.monotonic() < stop:
        if batch == 1:
            sqs.send_message(QueueUrl=url, MessageBody=body)
        else:
            sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": body} for i in range(batch)])
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=batch).get("Messages", [])
        if batch == 1:
            for m in got:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        elif got:
            sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
            )
        done += len(got)
    counts[index] = done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--batch", type=int, default=1, choices=range(1, 11))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        server = LaminaProcess(Path(data)).start()
        try:
            sqs: Any = server.client("sqs")
            url = sqs.create_queue(QueueName="bench")["QueueUrl"]
            counts = [0] * args.workers
            stop = time.monotonic() + args.seconds
            start = time.monotonic()
            threads = [
                threading.Thread(target=worker, args=(server, url, args.batch, stop, counts, i))
                for i in range(args.workers)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - start
            total = sum(counts)
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            left = int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])
            calls = 3 * total if args.batch == 1 else 3 * total / args.batch
            print(
                f"sqs send+receive+delete: {total / elapsed:,.0f} messages/s "
                f"({total} messages in {elapsed:.1f} s, {args.workers} workers, batch {args.batch}, "
                f"~{calls / elapsed:,.0f} API calls/s, {left} left in the queue)"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
