"""Starting a real `lamina serve` process for tests, and clients pointed at it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


class LaminaProcess:
    """`lamina serve` in a subprocess on a free port. Stops (and kills if needed) on `stop()`."""

    def __init__(self, data_dir: Path, *extra: str, wrapper: tuple[str, ...] = ()) -> None:
        self.data_dir = data_dir
        self.extra = extra
        self.wrapper = wrapper  # a command the server runs under (valgrind in bench/invoke_instructions.py)
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0
        self.output: list[str] = []

    def start(self, timeout: float = 20.0) -> LaminaProcess:
        cmd = [sys.executable, "-m", "lamina.cli.main", "serve", "--port", "0", "--data-dir", str(self.data_dir)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [*self.wrapper, *cmd, *self.extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            m = re.search(r"listening on http://[^:]+:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                threading.Thread(target=self._drain, daemon=True).start()
                return self
        self.kill()
        raise RuntimeError("lamina did not start:\n" + "".join(self.output))

    def _drain(self) -> None:
        """Keeps reading the server's output, so a chatty server never blocks on a full pipe."""
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, service: str = "lambda", region: str = "us-east-1", **config: Any) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
        )

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill(self) -> None:
        """kill -9: no chance to clean up, as in a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (environments, zygotes, residents, spares of a Lamina server)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int(Path(entry, "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
