"""What `--auth sigv4` costs the invoke path: warm invoke p50 and throughput, `--auth none` vs `--auth sigv4`,
in one run on two servers of the same build, and the server process's CPU time per warm invoke (utime + stime
over the latency loop), which contention from other processes on the machine does not distort as it does
wall-clock figures.

The signed request is signed once (botocore's SigV4Auth) and replayed: a signature holds for its 15-minute
window, so every request pays the server's whole check (canonical request, two SHA-256s, the HMAC with the
cached signing key, the key lookup) while the client pays nothing, which makes the server's share visible.
Both modes use the same asyncio load client (wrk cannot sign), so the ratio compares like with like.

    .venv/bin/python bench/auth_bench.py [--warm 3000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from invoke_bench import LeanClient, _pct, _zip
from tests.server import ROLE, LaminaProcess, cpu_seconds

KEY, SECRET = "AKIABENCHROOT0000001", "bench-secret-0123456789abcdefghijklmnopq"
NAME = "bench-noop"


def _raw(port: int, signed: bool) -> bytes:
    path = f"/2015-03-31/functions/{NAME}/invocations"
    headers = {"Host": f"127.0.0.1:{port}", "Content-Length": "2"}
    if signed:
        aws = AWSRequest(method="POST", url=f"http://127.0.0.1:{port}{path}", data=b"{}")
        SigV4Auth(Credentials(KEY, SECRET), "lambda", "us-east-1").add_auth(aws)
        headers.update({k: v.decode() if isinstance(v, bytes) else v for k, v in aws.headers.items()})
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return f"POST {path} HTTP/1.1\r\n{head}\r\n".encode() + b"{}"


def _latency(port: int, request: bytes, count: int) -> list[float]:
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


async def _load(port: int, request: bytes, connections: int, seconds: float) -> float:
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
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            done += 1
        writer.close()

    t = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return done / (time.perf_counter() - t)


def measure(mode: str, warm: int, seconds: int) -> dict[str, float]:
    os.environ["LAMINA_ROOT_ACCESS_KEY_ID"], os.environ["LAMINA_ROOT_SECRET_ACCESS_KEY"] = KEY, SECRET
    with tempfile.TemporaryDirectory() as data:
        server = LaminaProcess(Path(data), "--auth", mode).start()
        try:
            import boto3

            client = boto3.client(
                "lambda",
                endpoint_url=server.url,
                region_name="us-east-1",
                aws_access_key_id=KEY,
                aws_secret_access_key=SECRET,
            )
            client.create_function(
                FunctionName=NAME, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": _zip()}
            )
            client.get_waiter("function_active_v2").wait(FunctionName=NAME, WaiterConfig={"Delay": 0.05})
            request = _raw(server.port, mode == "sigv4")
            assert server.proc is not None
            before = cpu_seconds(server.proc.pid)
            samples = _latency(server.port, request, warm)
            cpu_us = (cpu_seconds(server.proc.pid) - before) / (warm + 200) * 1e6
            asyncio.run(_load(server.port, request, 1, 2))
            rps1 = asyncio.run(_load(server.port, request, 1, seconds))
            asyncio.run(_load(server.port, request, 32, 2))
            rps32 = asyncio.run(_load(server.port, request, 32, seconds))
        finally:
            server.stop()
    return {"p50": statistics.median(samples), "p99": _pct(samples, 0.99), "rps1": rps1, "rps32": rps32, "cpu": cpu_us}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warm", type=int, default=3000)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    none = measure("none", args.warm, args.seconds)
    sigv4 = measure("sigv4", args.warm, args.seconds)
    print(f"{'':28}{'--auth none':>14}{'--auth sigv4':>14}{'sigv4/none':>12}")
    for key, label, unit in (
        ("p50", "warm invoke p50", "ms"),
        ("p99", "warm invoke p99", "ms"),
        ("rps1", "throughput, 1 client", "/s"),
        ("rps32", "throughput, 32 clients", "/s"),
        ("cpu", "server CPU per invoke", "us"),
    ):
        a, b = none[key], sigv4[key]
        print(f"{label:28}{a:>12.3f}{unit}{b:>12.3f}{unit}{b / a:>12.3f}")


if __name__ == "__main__":
    main()
