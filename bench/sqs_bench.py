"""SQS throughput: messages per second through send + receive + delete against a real `lamina serve`.

    .venv/bin/python bench/sqs_bench.py [--seconds 10] [--workers 16] [--batch 1|10] [--client boto3|raw]

Each worker loops send -> receive -> delete on a shared queue; with --batch 10 it uses SendMessageBatch,
ReceiveMessage (MaxNumberOfMessages=10) and DeleteMessageBatch. Every send is committed to SQLite
(synchronous=FULL, group commit) before it is answered. A message counts once it has been deleted.

`--client boto3` (the default) runs each worker as a thread with its own boto3 client, as applications call
SQS; boto3 costs about a millisecond of client CPU per call under one GIL, so that figure is bounded by the
client. `--client raw` runs the workers as asyncio tasks speaking the json protocol over keep-alive sockets
(unsigned: the gateway routes by X-Amz-Target), which measures the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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


async def _call(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, action: str, payload: dict[str, Any]
) -> dict[str, Any]:
    body = json.dumps(payload).encode()
    writer.write(
        (
            f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: AmazonSQS.{action}\r\n"
            f"Content-Type: application/x-amz-json-1.0\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
    )
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    data = await reader.readexactly(length) if length else b"{}"
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(data.decode())
    result: dict[str, Any] = json.loads(data)
    return result


async def raw_run(port: int, url: str, batch: int, workers: int, seconds: float) -> int:
    stop = time.monotonic() + seconds
    body = "x" * 256

    async def worker() -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        done = 0
        while time.monotonic() < stop:
            if batch == 1:
                await _call(reader, writer, "SendMessage", {"QueueUrl": url, "MessageBody": body})
            else:
                entries = [{"Id": str(i), "MessageBody": body} for i in range(batch)]
                await _call(reader, writer, "SendMessageBatch", {"QueueUrl": url, "Entries": entries})
            got = (await _call(reader, writer, "ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": batch})).get(
                "Messages", []
            )
            if batch == 1:
                for m in got:
                    await _call(reader, writer, "DeleteMessage", {"QueueUrl": url, "ReceiptHandle": m["ReceiptHandle"]})
            elif got:
                entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
                await _call(reader, writer, "DeleteMessageBatch", {"QueueUrl": url, "Entries": entries})
            done += len(got)
        writer.close()
        return done

    return sum(await asyncio.gather(*(worker() for _ in range(workers))))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--batch", type=int, default=1, choices=range(1, 11))
    parser.add_argument("--client", default="boto3", choices=("boto3", "raw"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        server = LaminaProcess(Path(data)).start()
        try:
            sqs: Any = server.client("sqs")
            url = sqs.create_queue(QueueName="bench")["QueueUrl"]
            start = time.monotonic()
            if args.client == "raw":
                total = asyncio.run(raw_run(server.port, url, args.batch, args.workers, args.seconds))
            else:
                counts = [0] * args.workers
                stop = time.monotonic() + args.seconds
                threads = [
                    threading.Thread(target=worker, args=(server, url, args.batch, stop, counts, i))
                    for i in range(args.workers)
                ]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                total = sum(counts)
            elapsed = time.monotonic() - start
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            left = int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])
            calls = 3 * total if args.batch == 1 else 3 * total / args.batch
            print(
                f"sqs send+receive+delete: {total / elapsed:,.0f} messages/s "
                f"({total} messages in {elapsed:.1f} s, {args.workers} {args.client} workers, batch {args.batch}, "
                f"~{calls / elapsed:,.0f} API calls/s, {left} left in the queue)"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
