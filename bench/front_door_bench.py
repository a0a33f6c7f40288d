"""A function URL beside direct Invoke of the same function, in the same run.

Lamina runs as a real `lamina serve` subprocess. One no-op Python function (it answers the 2.0 structured
form) gets a URL config (AuthType NONE) and the public permission. Measured, both ways:
  * warm latency p50/p99 over one keep-alive connection (a lean raw-socket client): direct
    `POST /2015-03-31/functions/<name>/invocations` against `GET /` with the URL's Host header;
  * throughput with 32 keep-alive clients (asyncio), after 2 s of the same load unmeasured, and the server
    process's CPU time per request meanwhile (the steadier figure on a shared machine: the rate follows
    whatever else runs on it).
The URL's extra work is the door: event building, the policy check and the answer mapping. The ratio
URL/Invoke at p50 is printed (the target is at most 1.5).

    .venv/bin/python bench/front_door_bench.py [--count 3000] [--seconds 5] [--clients 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import urlopen

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from invoke_bench import LeanClient, _pct, _request
from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess, cpu_seconds

HANDLER = 'def handler(event, context):\n    return {"statusCode": 200, "body": "ok"}\n'


def _url_request(host: str, port: int) -> bytes:
    return f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()


def latency(port: int, request: bytes, count: int) -> list[float]:
    client = LeanClient(port)
    for _ in range(200):
        client.call(request)
    samples = []
    for _ in range(count):
        t = time.perf_counter()
        client.call(request)
        samples.append((time.perf_counter() - t) * 1000)
    client.close()
    return samples


async def _load(port: int, request: bytes, connections: int, seconds: float) -> tuple[int, float]:
    done = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < stop:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.decode(errors="replace"))
            m = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
            await reader.readexactly(int(m.group(1)) if m else 0)
            done += 1
        writer.close()

    t = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return done, time.perf_counter() - t


def throughput(server: LaminaProcess, request: bytes, connections: int, seconds: float) -> tuple[float, float]:
    """Requests per second, and the server process's CPU time per request (µs: all its threads, not the
    functions'), which moves less than the rate with what else the machine is running."""
    asyncio.run(_load(server.port, request, connections, 2.0))  # environments for the clients, unmeasured
    assert server.proc is not None
    before = cpu_seconds(server.proc.pid)
    done, elapsed = asyncio.run(_load(server.port, request, connections, seconds))
    return done / elapsed, (cpu_seconds(server.proc.pid) - before) / max(done, 1) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        server = LaminaProcess(Path(data)).start()
        try:
            client = server.client("lambda")
            client.create_function(
                FunctionName="door",
                Runtime="python3.12",
                Role=ROLE,
                Handler="app.handler",
                Code={"ZipFile": make_zip({"app.py": HANDLER})},
            )
            url = client.create_function_url_config(FunctionName="door", AuthType="NONE")["FunctionUrl"]
            client.add_permission(
                FunctionName="door",
                StatementId="url",
                Action="lambda:InvokeFunctionUrl",
                Principal="*",
                FunctionUrlAuthType="NONE",
            )
            direct = _request("door")
            through_url = _url_request(urlsplit(url).hostname or "", server.port)
            rows = []
            for label, request in (("Invoke", direct), ("function URL", through_url)):
                samples = latency(server.port, request, args.count)
                rate, cpu = throughput(server, request, args.clients, args.seconds)
                rows.append((label, _pct(samples, 0.5), _pct(samples, 0.99), rate, cpu))
            health = json.loads(urlopen(f"http://127.0.0.1:{server.port}/health").read())
            print(f"served by the fast paths: Invoke {health['fastInvokes']}, URL {health['fastUrlRequests']}")
        finally:
            server.stop()
    print(f"{'path':<14} {'p50 ms':>8} {'p99 ms':>8} {f'{args.clients} clients req/s':>20} {'server CPU us/req':>18}")
    for label, p50, p99, rate, cpu in rows:
        print(f"{label:<14} {p50:>8.3f} {p99:>8.3f} {rate:>20.0f} {cpu:>18.1f}")
    (_, p50_direct, p99_direct, rate_direct, cpu_direct), (_, p50_url, p99_url, rate_url, cpu_url) = rows
    print(
        f"URL/Invoke: p50 x{p50_url / p50_direct:.2f}, p99 x{p99_url / p99_direct:.2f}, "
        f"throughput x{rate_url / rate_direct:.2f}, server CPU per request x{cpu_url / cpu_direct:.2f}"
    )


if __name__ == "__main__":
    main()
