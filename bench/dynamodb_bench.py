"""DynamoDB throughput and latency: PutItem, GetItem and Query against a real `lamina serve`.

    .venv/bin/python bench/dynamodb_bench.py [--seconds 5] [--workers 1 16] [--index-items 100000] [--moto]

`--moto` runs the same PutItem/GetItem/Query phases against moto_server (installed once into .cache/moto, see
moto_baseline.py) after Lamina's, and prints each rate beside Lamina's as a ratio. moto's server closes each
connection after one answer, so its clients connect anew per request (included in its latencies).

The index phase loads `--index-items` items (BatchWriteItem, 16 writers) into a table with a GSI on `g` (1,000
distinct values, so ~100 items each), then compares finding one value's items by a Query on the GSI (all
pages) against a Scan with FilterExpression `g = :g` (all pages), 1 client each.

Workers are asyncio tasks speaking the json 1.0 protocol over keep-alive sockets (unsigned: the gateway routes
by X-Amz-Target), which measures the server rather than boto3's client CPU. Every PutItem is committed to
SQLite (synchronous=FULL, group commit) before it is answered. Each phase runs for `--seconds` and stops by
itself; the server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.server import LaminaProcess

TABLE = "bench"
ITEMS = 1000


EXTRA_HEADERS = [""]  # [moto_baseline.scope_header("dynamodb")] while measuring moto_server


async def _call(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, action: str, payload: Any) -> Any:
    body = json.dumps(payload).encode()
    writer.write(
        (
            f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: DynamoDB_20120810.{action}\r\n{EXTRA_HEADERS[0]}"
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
    return json.loads(data)


def _request(operation: str, n: int) -> dict[str, Any]:
    pk = {"S": f"p{n % 100}"}
    sk = {"N": str(n % ITEMS)}
    if operation == "PutItem":
        return {"TableName": TABLE, "Item": {"pk": pk, "sk": sk, "v": {"S": "x" * 200}}}
    if operation == "GetItem":
        return {"TableName": TABLE, "Key": {"pk": pk, "sk": sk}}
    return {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
        "ExpressionAttributeValues": {":p": pk, ":a": {"N": "0"}, ":b": {"N": "500"}},
        "Limit": 10,
    }


async def phase(port: int, operation: str, workers: int, seconds: float) -> tuple[int, list[float]]:
    stop = time.monotonic() + seconds
    latencies: list[float] = []

    async def worker(index: int) -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        done = 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            if EXTRA_HEADERS[0]:  # moto_server (Werkzeug) closes every connection after one answer
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            await _call(reader, writer, operation, _request(operation, index * 7919 + done))
            latencies.append(time.perf_counter() - started)
            done += 1
        writer.close()
        return done

    total = sum(await asyncio.gather(*(worker(i) for i in range(workers))))
    return total, latencies


INDEXED = "indexed"
GROUPS = 1000


async def load_indexed(port: int, items: int, writers: int = 16) -> float:
    started = time.monotonic()

    async def writer(index: int) -> None:
        reader, conn = await asyncio.open_connection("127.0.0.1", port)
        for first in range(index * 25, items, writers * 25):
            batch = [
                {"PutRequest": {"Item": {"id": {"S": f"i{n}"}, "g": {"S": f"g{n % GROUPS}"}, "v": {"S": "x" * 100}}}}
                for n in range(first, min(first + 25, items))
            ]
            answer = await _call(reader, conn, "BatchWriteItem", {"RequestItems": {INDEXED: batch}})
            while answer.get("UnprocessedItems"):
                answer = await _call(reader, conn, "BatchWriteItem", {"RequestItems": answer["UnprocessedItems"]})
        conn.close()

    await asyncio.gather(*(writer(i) for i in range(writers)))
    return time.monotonic() - started


async def find_group(port: int, operation: str, seconds: float) -> tuple[int, list[float], int]:
    """Finds every item of one g value (all pages) until `seconds` pass: requests done, latencies, items found."""
    stop = time.monotonic() + seconds
    reader, conn = await asyncio.open_connection("127.0.0.1", port)
    latencies: list[float] = []
    found = 0
    done = 0
    while time.monotonic() < stop or not done:
        group = {":g": {"S": f"g{done * 7 % GROUPS}"}}
        if operation == "Query":
            request: dict[str, Any] = {"TableName": INDEXED, "IndexName": "by-g", "KeyConditionExpression": "g = :g",
                                       "ExpressionAttributeValues": group}  # fmt: skip
        else:
            request = {"TableName": INDEXED, "FilterExpression": "g = :g", "ExpressionAttributeValues": group}
        started = time.perf_counter()
        count = 0
        while True:
            answer = await _call(reader, conn, operation, request)
            count += answer["Count"]
            if "LastEvaluatedKey" not in answer:
                break
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        latencies.append(time.perf_counter() - started)
        found = count
        done += 1
    conn.close()
    return done, latencies, found


def index_phase(server: LaminaProcess, items: int, seconds: float) -> None:
    client: Any = server.client("dynamodb")
    client.create_table(
        TableName=INDEXED,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("id", "g")],
        GlobalSecondaryIndexes=[{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}],
        BillingMode="PAY_PER_REQUEST",
    )  # fmt: skip
    loaded = asyncio.run(load_indexed(server.port, items))
    print(f"dynamodb index: {items:,} items loaded in {loaded:.1f} s ({items / loaded:,.0f} items/s, BatchWriteItem)")
    for operation, label in (("Query", "Query on GSI"), ("Scan", "Scan + filter")):
        done, latencies, found = asyncio.run(find_group(server.port, operation, seconds))
        latencies.sort()
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
        print(f"dynamodb {label:13s} over {items:,} items: {done / seconds:8,.1f} lookups/s  p50 {p50:8.2f} ms  "
              f"p99 {p99:8.2f} ms  ({found} items per lookup, all pages)")  # fmt: skip


def create_table(client: Any) -> None:
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def item_phases(port: int, workers_list: list[int], seconds: float, label: str) -> dict[tuple[str, int], float]:
    rates: dict[tuple[str, int], float] = {}
    for workers in workers_list:
        for operation in ("PutItem", "GetItem", "Query"):
            total, latencies = asyncio.run(phase(port, operation, workers, seconds))
            latencies.sort()
            p50 = statistics.median(latencies) * 1000
            p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
            rates[(operation, workers)] = total / seconds
            print(
                f"{label} {operation:8s} {workers:2d} clients: {total / seconds:8,.0f} req/s  "
                f"p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  ({total} requests in {seconds:.0f} s)"
            )
    return rates


def moto_phases(workers_list: list[int], seconds: float, lamina: dict[tuple[str, int], float]) -> None:
    import boto3
    from moto_baseline import moto_server, scope_header

    with moto_server() as port:
        create_table(boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                                  aws_access_key_id="test", aws_secret_access_key="test"))  # fmt: skip
        EXTRA_HEADERS[0] = scope_header("dynamodb")
        try:
            moto = item_phases(port, workers_list, seconds, "moto_server")
        finally:
            EXTRA_HEADERS[0] = ""
    for (operation, workers), rate in moto.items():
        print(f"lamina / moto_server {operation:8s} {workers:2d} clients: {lamina[(operation, workers)] / rate:6.1f}x")


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--index-items", type=int, default=100_000, help="items of the GSI phase (0: skip it)")
    parser.add_argument("--moto", action="store_true", help="also measure moto_server in the same run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        server = LaminaProcess(Path(data)).start()
        try:
            create_table(server.client("dynamodb"))
            lamina = item_phases(server.port, args.workers, args.seconds, "dynamodb")
            if args.index_items:
                index_phase(server, args.index_items, args.seconds)
        finally:
            server.stop()
    if args.moto:
        moto_phases(args.workers, args.seconds, lamina)


if __name__ == "__main__":
    main()
