"""Power tuning started from the console: `lamina tune`'s sweep (lamina/tune/sweep.py) run in a worker thread
against this server's own Lambda API, so the event loop keeps serving (the sweep's invocations among it) while
the thread waits on them. The page polls a run for its progress lines, then its results and chart
(lamina/tune/chart.py). Runs live in memory: a restart forgets them, as a closed terminal forgets `lamina tune`.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lamina.errors import Conflict, InvalidParameter, NotFound
from lamina.tune import chart, sweep

MAX_INVOCATIONS = 100  # per memory size, from the page
KEEP = 20  # finished runs remembered
Credentials = tuple[str, str]  # (access key id, secret) the sweep signs with


@dataclass
class TuneRun:
    id: str
    function: str
    memories: list[int]
    invocations: int
    strategy: str
    state: str = "Running"  # Running → Succeeded | Failed
    progress: list[str] = field(default_factory=list)
    output: dict[str, Any] | None = None
    chart: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "function": self.function,
            "memories": self.memories,
            "invocations": self.invocations,
            "strategy": self.strategy,
            "state": self.state,
            "progress": list(self.progress),
            "output": self.output,
            "error": self.error,
        }


def parse_request(body: dict[str, Any]) -> tuple[list[int], int, str, bytes]:
    """(memory sizes, invocations per size, strategy, payload) from the page's form; InvalidParameter names the
    field at fault, in the words `lamina tune` uses."""
    try:
        raw = body.get("memory", "128,256,512,1024")
        text = ",".join(str(m) for m in raw) if isinstance(raw, list) else str(raw)
        memories = [int(m) for m in text.split(",") if m.strip()]
    except ValueError:
        raise InvalidParameter("Memory sizes must be whole numbers of MB, comma-separated.") from None
    if not memories or any(m < 128 or m > 10240 for m in memories):
        raise InvalidParameter("Memory sizes must be 128-10240 MB.")
    try:
        invocations = int(body.get("invocations", 10))
    except (TypeError, ValueError):
        invocations = 0
    if not 1 <= invocations <= MAX_INVOCATIONS:
        raise InvalidParameter(f"Invocations per memory size must be 1-{MAX_INVOCATIONS}.")
    strategy = str(body.get("strategy", "cost"))
    if strategy not in sweep.STRATEGIES:
        raise InvalidParameter(f"Strategy must be one of {', '.join(sweep.STRATEGIES)}.")
    try:
        payload = sweep.payload_bytes(str(body.get("payload") or "{}"))
    except ValueError:
        raise InvalidParameter("The payload is not valid JSON.") from None
    return memories, invocations, strategy, payload


class TuneRuns:
    def __init__(self, base_url: Callable[[], str], region: str) -> None:
        self._base_url = base_url
        self._region = region
        self._runs: dict[str, TuneRun] = {}
        self._tasks: set[asyncio.Future[None]] = set()
        self._lock = threading.Lock()

    def start(self, function: str, body: dict[str, Any], credentials: Credentials) -> TuneRun:
        memories, invocations, strategy, payload = parse_request(body)
        if any(r.function == function and r.state == "Running" for r in self._runs.values()):
            raise Conflict(f"A tune run of {function} is in progress. Wait for it to finish.")
        run = TuneRun(secrets.token_hex(8), function, memories, invocations, strategy)
        self._runs[run.id] = run
        finished = [r for r in self._runs.values() if r.state != "Running"]
        for old in finished[: max(0, len(finished) - KEEP)]:
            del self._runs[old.id]
        task = asyncio.ensure_future(asyncio.to_thread(self._sweep, run, payload, credentials))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return run

    def get(self, function: str, run_id: str) -> TuneRun:
        run = self._runs.get(run_id)
        if run is None or run.function != function:
            raise NotFound(f"Tune run not found: {run_id}")
        return run

    def latest(self, function: str) -> TuneRun | None:
        runs = [r for r in self._runs.values() if r.function == function]
        return runs[-1] if runs else None

    def _sweep(self, run: TuneRun, payload: bytes, credentials: Credentials) -> None:
        """In a worker thread: the sweep through boto3, as `lamina tune` makes it."""
        import boto3
        from botocore.config import Config

        try:
            client = boto3.client(
                "lambda",
                endpoint_url=self._base_url(),
                region_name=self._region,
                aws_access_key_id=credentials[0],
                aws_secret_access_key=credentials[1],
                config=Config(retries={"max_attempts": 2}, read_timeout=910),
            )
            results = sweep.sweep(
                client, run.function, run.memories, run.invocations, payload, progress=run.progress.append
            )
            chosen = sweep.best(results, run.strategy)
            run.output = sweep.output(results, chosen, run.strategy)
            run.chart = chart.render(run.function, results, chosen, run.strategy)
            run.state = "Succeeded"
        except Exception as exc:  # the run's failure is shown on its page, the server goes on
            message = getattr(exc, "response", {}).get("Error", {}).get("Message") or str(exc)
            run.error = message
            run.state = "Failed"
