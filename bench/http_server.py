"""Requests per second of Lamina's HTTP server against uvicorn + Starlette, measured in the same run.

Both serve the same tiny JSON answer on loopback; wrk (Debian package `wrk`) drives each with the same
connections for the same time. Prints requests/s and the ratio. Run:

    .venv/bin/python bench/http_server.py [--seconds 5] [--connections 32]

The baseline needs `pip install uvicorn starlette` (not a Lamina dependency).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

BODY = b'{"ok":true}'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def run_lamina_server(port: int) -> None:
    import uvloop

    from lamina.api.messages import Request, Response
    from lamina.api.server import serve

    async def handler(request: Request) -> Response:
        return Response(200, [("Content-Type", "application/json")], BODY)

    def too_large(request: Request) -> Response:
        return Response(413)

    async def main() -> None:
        await serve(handler, "127.0.0.1", port, 1 << 20, too_large, lambda: Response(400))
        await asyncio.Event().wait()

    uvloop.run(main())


def run_starlette_server(port: int) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request as SRequest
    from starlette.responses import Response as SResponse
    from starlette.routing import Route

    async def endpoint(request: SRequest) -> SResponse:
        return SResponse(BODY, media_type="application/json")

    app = Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST"])])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", loop="uvloop", http="httptools")


def _wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on {port} did not start")


def measure(kind: str, seconds: int, connections: int) -> float:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port)])
    try:
        _wait_port(port)
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"http://127.0.0.1:{port}/2015-03-31/functions"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        m = re.search(r"Requests/sec:\s+([\d.]+)", out)
        assert m, out
        return float(m.group(1))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--serve", choices=["lamina", "starlette"])
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.serve == "lamina":
        run_lamina_server(args.port)
        return
    if args.serve == "starlette":
        run_starlette_server(args.port)
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    print(f"cpus={os.cpu_count()} wrk -t1 -c{args.connections} -d{args.seconds}s")
    lamina = measure("lamina", args.seconds, args.connections)
    print(f"lamina http server (httptools protocol, uvloop): {lamina:10.0f} req/s")
    try:
        baseline = measure("starlette", args.seconds, args.connections)
    except (ImportError, subprocess.CalledProcessError, RuntimeError) as exc:
        print(f"baseline unavailable: {exc}")
        return
    print(f"uvicorn + starlette (same loop and parser):       {baseline:10.0f} req/s")
    print(f"ratio lamina / starlette: {lamina / baseline:.1f}x")


if __name__ == "__main__":
    main()
