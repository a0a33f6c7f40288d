"""Response streaming through InvokeWithResponseStream, beside a plain Invoke of the same function, in one run.

Lamina runs as a real `lamina serve` subprocess; the client is a keep-alive raw socket (the least a client
does per request), so the figures are the server's and the runtime's, not botocore's.
Measured:
  * warm time to first byte of a streaming Node.js function (`awslambda.streamifyResponse`, one small
    write then end): request sent → first PayloadChunk frame received, p50/p99; and → InvokeComplete;
  * the same function invoked with plain Invoke (the buffered path, whole body), p50/p99;
  * throughput of one large streamed response (the function writes 1 MiB blocks, honouring back-pressure),
    MB/s as the client receives it.

    .venv/bin/python bench/stream_bench.py [--count 500] [--mb 100]
"""

from __future__ import annotations

import argparse
import io
import socket
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.server import ROLE, LaminaProcess

NODE = r"""
exports.small = awslambda.streamifyResponse(async (event, stream) => { stream.write("hello"); stream.end(); });
exports.big = awslambda.streamifyResponse(async (event, stream) => {
  const block = Buffer.alloc(1 << 20, 120);
  for (let i = 0; i < event.mb; i++) {
    if (!stream.write(block)) await new Promise((r) => stream.once("drain", r));
  }
  stream.end();
});
"""


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.js", NODE)
    return buf.getvalue()


class Client:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _fill(self) -> None:
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("closed")
        self.buf += data

    def _until(self, marker: bytes) -> bytes:
        while marker not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(marker)
        return head

    def _exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def streamed(self, path: str, body: bytes) -> tuple[float, float, int]:
        """(seconds to the first chunk of the HTTP body, seconds to its end, body bytes)."""
        start = time.perf_counter()
        self.sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
        head = self._until(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        first = 0.0
        size = 0
        while True:
            length = int(self._until(b"\r\n"), 16)
            if length == 0:
                self._until(b"\r\n")
                return first, time.perf_counter() - start, size
            if not first:
                first = time.perf_counter() - start
            size += len(self._exactly(length + 2)) - 2

    def buffered(self, path: str, body: bytes) -> float:
        start = time.perf_counter()
        self.sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
        head = self._until(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        self._exactly(length)
        return time.perf_counter() - start


def _pct(samples: list[float], q: float) -> float:
    return sorted(samples)[min(len(samples) - 1, int(q * len(samples)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--mb", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = LaminaProcess(Path(tmp) / "data").start()
        try:
            client = server.client()
            for handler in ("small", "big"):
                client.create_function(
                    FunctionName=handler, Runtime="nodejs20.x", Role=ROLE, Handler=f"index.{handler}",
                    Timeout=60, Code={"ZipFile": _zip()},
                )  # fmt: skip
                client.get_waiter("function_active_v2").wait(FunctionName=handler)
            raw = Client(server.port)
            streaming = "/2021-11-15/functions/small/response-streaming-invocations"
            plain = "/2015-03-31/functions/small/invocations"
            for _ in range(50):
                raw.streamed(streaming, b"{}")
                raw.buffered(plain, b"{}")
            first, whole, buffered = [], [], []
            for _ in range(args.count):
                t_first, t_whole, _size = raw.streamed(streaming, b"{}")
                first.append(t_first)
                whole.append(t_whole)
                buffered.append(raw.buffered(plain, b"{}"))
            for label, samples in (
                ("streaming invoke, first chunk   ", first),
                ("streaming invoke, InvokeComplete", whole),
                ("plain Invoke, same function     ", buffered),
            ):
                print(f"{label}  p50 {_pct(samples, 0.5):7.3f} ms   p99 {_pct(samples, 0.99):7.3f} ms")
            rates = []
            for _ in range(3):
                _f, seconds, size = raw.streamed(
                    "/2021-11-15/functions/big/response-streaming-invocations", f'{{"mb": {args.mb}}}'.encode()
                )
                rates.append(size / seconds / 1e6)
            print(f"one {args.mb} MiB streamed response            {statistics.median(rates):7.0f} MB/s (median of 3)")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
