"""Lambda's platform lines in the function's log format: text (logs/report.py, byte for byte) or, with
`LoggingConfig.LogFormat` JSON, the JSON records Lambda writes instead:

    {"time": "2024-01-01T00:00:00.000Z", "type": "platform.start", "record": {"requestId": ..., "version": ...}}
    {"time": ..., "type": "platform.runtimeDone", "record": {"requestId", "status", "metrics": {"durationMs"}}}
    {"time": ..., "type": "platform.report", "record": {"requestId", "metrics": {"durationMs",
        "billedDurationMs", "memorySizeMB", "maxMemoryUsedMB", ("initDurationMs")}, "status"}}
    {"time": ..., "type": "platform.initStart", "record": {"initializationType", "phase", "runtimeVersion", ...}}

These records are INFO-level system logs: a `SystemLogLevel` of WARN, ERROR or FATAL drops them (JSON only;
text-format functions have no log levels, as on AWS).
"""

from __future__ import annotations

import json
import time
from typing import Any

from ..clock import Clock
from . import report

_QUIET = frozenset({"WARN", "ERROR", "FATAL"})


class PlatformLines:
    __slots__ = ("clock", "json", "quiet")

    def __init__(self, log_format: str, system_level: str | None, clock: Clock) -> None:
        self.json = log_format.upper() == "JSON"
        self.quiet = self.json and (system_level or "INFO").upper() in _QUIET
        self.clock = clock

    def _record(self, kind: str, record: dict[str, Any]) -> str:
        now = self.clock.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
        return json.dumps({"time": stamp, "type": kind, "record": record}, separators=(",", ":"))

    def init_start(self, runtime: str, interpreter_version: str, function: str, version: str) -> str | None:
        if not self.json:
            return report.init_start(runtime, interpreter_version)
        if self.quiet:
            return None
        runtime_version = f"{runtime}:{interpreter_version}" if interpreter_version else runtime
        return self._record(
            "platform.initStart",
            {
                "initializationType": "on-demand",
                "phase": "init",
                "runtimeVersion": f"{runtime_version}.lamina",
                "runtimeVersionArn": "arn:aws:lambda:::runtime:lamina",
                "functionName": function,
                "functionVersion": version,
            },
        )

    def start(self, request_id: str, version: str) -> str | None:
        if not self.json:
            return report.start(request_id, version)
        return None if self.quiet else self._record("platform.start", {"requestId": request_id, "version": version})

    def end(self, request_id: str, duration_ms: float, status: str | None) -> str | None:
        if not self.json:
            return report.end(request_id)
        if self.quiet:
            return None
        metrics = {"durationMs": round(duration_ms, 3)}
        return self._record(
            "platform.runtimeDone", {"requestId": request_id, "status": status or "success", "metrics": metrics}
        )

    def report(
        self,
        request_id: str,
        duration_ms: float,
        memory_mb: int,
        max_memory_mb: int,
        init_duration_ms: float | None,
        status: str | None,
        error_type: str | None,
    ) -> str | None:
        if not self.json:
            return report.report(
                request_id, duration_ms, memory_mb, max_memory_mb, init_duration_ms, status, error_type
            )
        if self.quiet:
            return None
        metrics: dict[str, Any] = {
            "durationMs": round(duration_ms, 3),
            "billedDurationMs": report.billed_ms(duration_ms, init_duration_ms),
            "memorySizeMB": memory_mb,
            "maxMemoryUsedMB": max_memory_mb,
        }
        if init_duration_ms is not None:
            metrics["initDurationMs"] = round(init_duration_ms, 3)
        record: dict[str, Any] = {"requestId": request_id, "metrics": metrics, "status": status or "success"}
        if error_type is not None:
            record["errorType"] = error_type
        return self._record("platform.report", record)
