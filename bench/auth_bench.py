"""What `--auth sigv4` costs the invoke path: warm invoke p50 and throughput, `--auth none` vs `--auth sigv4`,
in one run on two servers of the same build, and the server process's CPU time per warm invoke (utime + stime
over the latency loop), which contention from other processes on the machine does not distort as it does
wall-clock figures.

The signed request is signed once (botocore's SigV4Auth) and replayed: a signature holds for its 15-minute
window, so every request pays the server's whole check (canonical request, two SHA-256s, the HMAC with the
cached signing key, the key lookup) while the client pays nothing, which makes the server's share visible.
Both modes use the same asyncio load client (wrk cannot sign), so the ratio compares like with like.

Both servers run at once and take turns over several rounds (the order alternating), so load from other
processes on a shared machine falls on both modes alike; each figure is the median over rounds and each ratio's
spread over rounds is shown.

    .venv/bin/python bench/auth_bench.py [--warm 3000] [--seconds 3] [--rounds 5]
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


class Server:
    """One Lamina (`--auth none` or `sigv4`) with the bench function created and warm."""

    def __init__(self, mode: str, data: Path) -> None:
        os.environ["LAMINA_ROOT_ACCESS_KEY_ID"], os.environ["LAMINA_ROOT_SECRET_ACCESS_KEY"] = KEY, SECRET
        self.server = LaminaProcess(data, "--auth", mode).start()
        import boto3

        client = boto3.client(
            "lambda",
            endpoint_url=self.server.url,
            region_name="us-east-1",
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
        )
        client.create_function(
            FunctionName=NAME, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": _zip()}
        )
        client.get_waiter("function_active_v2").wait(FunctionName=NAME, WaiterConfig={"Delay": 0.05})
        self.request = _raw(self.server.port, mode == "sigv4")
        assert self.server.proc is not None
        self.pid = self.server.proc.pid

    def latency(self, warm: int) -> tuple[list[float], float]:
        """Latency samples and the server's CPU microseconds per invoke over them."""
        before = cpu_seconds(self.pid)
        samples = _latency(self.server.port, self.request, warm)
        return samples, (cpu_seconds(self.pid) - before) / (warm + 200) * 1e6

    def rps(self, clients: int, seconds: float) -> float:
        return asyncio.run(_load(self.server.port, self.request, clients, seconds))

    def stop(self) -> None:
        self.server.stop()


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warm", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved none/sigv4 rounds (order alternates)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        none, sigv4 = Server("none", Path(a)), Server("sigv4", Path(b))
        try:
            for server in (none, sigv4):  # warm both before any figure is taken
                server.rps(32, 1)
            figures: dict[str, dict[str, list[float]]] = {"none": {}, "sigv4": {}}
            for round_ in range(args.rounds):
                # Both servers run side by side and take turns, so a burst of load from other processes falls on
                # both within one round: each round's sigv4/none ratio compares like with like.
                order = [("none", none), ("sigv4", sigv4)]
                if round_ % 2:
                    order.reverse()
                for mode, server in order:
                    samples, cpu = server.latency(args.warm)
                    got = figures[mode]
                    got.setdefault("p50", []).append(statistics.median(samples))
                    got.setdefault("p99", []).append(_pct(samples, 0.99))
                    got.setdefault("cpu", []).append(cpu)
                    got.setdefault("rps1", []).append(server.rps(1, args.seconds))
                    got.setdefault("rps32", []).append(server.rps(32, args.seconds))
        finally:
            none.stop()
            sigv4.stop()
    print(f"{args.rounds} interleaved rounds; load average {Path('/proc/loadavg').read_text().split()[:3]}")
    print(f"{'':28}{'--auth none':>14}{'--auth sigv4':>14}   sigv4/none per round: median (min-max)")
    for key, label, unit in (
        ("p50", "warm invoke p50", "ms"),
        ("p99", "warm invoke p99", "ms"),
        ("rps1", "throughput, 1 client", "/s"),
        ("rps32", "throughput, 32 clients", "/s"),
        ("cpu", "server CPU per invoke", "us"),
    ):
        plain, signed = figures["none"][key], figures["sigv4"][key]
        ratios = [y / x for x, y in zip(plain, signed, strict=True)]
        middle = f"{statistics.median(plain):>12.3f}{unit}{statistics.median(signed):>12.3f}{unit}"
        print(f"{label:28}{middle}   {_spread(ratios)}")


if __name__ == "__main__":
    main()
