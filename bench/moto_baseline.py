"""moto_server as a baseline beside Lamina in the same run (the issue asks for it where it is easy to install).

moto is installed into its own venv under `.cache/moto` (pinned; it is not one of Lamina's dependencies), started
on a free loopback port, and stopped after the bench. moto needs no signature but routes by the credential scope
of an Authorization header, so raw requests to it carry `scope_header(service)`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MOTO = "moto[server]==5.2.6"  # the release current when this baseline was written
VENV = Path(__file__).resolve().parents[1] / ".cache" / "moto"


def scope_header(service: str) -> str:
    return (
        f"Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, "
        "SignedHeaders=host, Signature=0\r\n"
    )


def _installed() -> Path:
    server = VENV / "bin" / "moto_server"
    if not server.exists():
        print(f"installing {MOTO} into {VENV} (once) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "--quiet", MOTO], check=True)
    return server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[int]:
    """A running moto_server's port; stopped on exit, even on failure."""
    port = _free_port()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    proc = subprocess.Popen(
        [str(_installed()), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
