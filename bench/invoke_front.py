"""CPU time of the Invoke front alone: HTTP parsing, routing, validation, InvokeFront and the response bytes.

The whole Lamina app is built in this process on a temporary data directory; one function is created
through the Lambda provider, and the executor behind the concurrency gate is replaced by a runner that
answers at once, so no environment or socket is involved (the concurrency lease is still taken). Requests
are fed to the HTTP protocol object with an in-memory transport. Printed: the minimum and median over
batches of the main thread's CPU time per invoke (the minimum is the figure least disturbed by whatever
else the machine runs).

    .venv/bin/python bench/invoke_front.py [--batches 8] [--per-batch 3000] [--other-functions 1000]

`--other-functions N` makes the concurrency ledger know N more functions (as after N other functions were
invoked): a warm invoke's cost must not grow with how many functions the account has.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import uvloop

from lamina.api.server import HttpProtocol
from lamina.app import Lamina
from lamina.config import Settings
from lamina.functions.states import State
from lamina.invoke.concurrency import ConcurrencyGate
from lamina.types import CallContext, Invocation, InvocationResult, VersionSpec

REQUEST = b"POST /2015-03-31/functions/front/invocations HTTP/1.1\r\nHost: bench\r\nContent-Length: 2\r\n\r\n{}"


class InstantRunner:
    async def invoke(self, spec: VersionSpec, invocation: Invocation) -> InvocationResult:
        return InvocationResult(b"null", spec.version, None, None, 0.1, None)


class MemoryTransport:
    """Collects what the protocol writes; resolves `written` on each write."""

    def __init__(self) -> None:
        self.written: asyncio.Future[bytes] | None = None

    def write(self, data: bytes) -> None:
        if self.written is not None and not self.written.done():
            self.written.set_result(data)

    def get_extra_info(self, *_args: Any, **_kwargs: Any) -> None:
        return None

    def pause_reading(self) -> None:
        pass

    def close(self) -> None:
        pass


async def run(batches: int, per_batch: int, other_functions: int) -> list[float]:
    with tempfile.TemporaryDirectory() as data:
        app = Lamina(Settings(data_dir=Path(data), port=0))
        await app.functions.start()
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as z:
            z.writestr("app.py", "def handler(event, context):\n    return None\n")
        ctx = CallContext("us-east-1", "000000000000", "bench", "http://bench")
        params = {"FunctionName": "front", "Runtime": "python3.12", "Role": "arn:aws:iam::000000000000:role/r",
                  "Handler": "app.handler", "Code": {"ZipFile": code.getvalue()}}  # fmt: skip
        await app.lambda_provider.create_function(ctx, params)
        gate = app.invoke_front._runner
        assert isinstance(gate, ConcurrencyGate)
        gate._runner = InstantRunner()  # the concurrency lease is still taken, the executor is not reached
        for i in range(other_functions):
            app.concurrency.acquire(f"arn:aws:lambda:us-east-1:000000000000:function:other-{i}").release()
        protocol = HttpProtocol(app.gateway.handle, 1 << 30, app.gateway.too_large, app.gateway.bad_request)
        transport = MemoryTransport()
        protocol.connection_made(transport)  # type: ignore[arg-type]
        loop = asyncio.get_running_loop()

        async def invoke() -> bytes:
            transport.written = loop.create_future()
            protocol.data_received(REQUEST)
            return await transport.written

        ref = app.functions.resolve("front", "us-east-1", "000000000000")
        while app.functions.invocation_target(ref).state != State.ACTIVE:
            await asyncio.sleep(0.01)
        first = await invoke()
        if not first.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(first.decode(errors="replace"))
        for _ in range(2000):
            await invoke()
        samples = []
        for _ in range(batches):
            started = time.thread_time()
            for _ in range(per_batch):
                await invoke()
            samples.append((time.thread_time() - started) / per_batch * 1e6)
        await app.stop()
        return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--per-batch", type=int, default=3000)
    parser.add_argument("--other-functions", type=int, default=0)
    args = parser.parse_args()
    samples = uvloop.run(run(args.batches, args.per_batch, args.other_functions))
    print(
        f"Invoke front (runner stubbed, {args.other_functions} other functions), main-thread CPU per invoke: "
        f"min {min(samples):.1f} us, median {statistics.median(samples):.1f} us "
        f"over {args.batches} batches of {args.per_batch}"
    )


if __name__ == "__main__":
    main()
