"""Lambda's platform log lines, byte for byte (spec §9): START, END, REPORT, timeouts, runtime exits.

Fields are separated by TAB characters and REPORT ends with a TAB, as Lambda prints it.
"""

from __future__ import annotations

import math
import time


def start(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def billed_ms(duration_ms: float, init_duration_ms: float | None) -> int:
    """Rounded up to the next millisecond; init time is billed too since August 2025 (spec §10)."""
    return max(1, math.ceil(duration_ms + (init_duration_ms or 0.0) - 1e-9))


def report(
    request_id: str,
    duration_ms: float,
    memory_mb: int,
    max_memory_mb: int,
    init_duration_ms: float | None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    fields = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {billed_ms(duration_ms, init_duration_ms)} ms",
        f"Memory Size: {memory_mb} MB",
        f"Max Memory Used: {max_memory_mb} MB",
    ]
    if init_duration_ms is not None:
        fields.append(f"Init Duration: {init_duration_ms:.2f} ms")
    if status is not None:
        fields.append(f"Status: {status}")
    if error_type is not None:
        fields.append(f"Error Type: {error_type}")
    return "\t".join(fields) + "\t"


def timed_out(now: float, request_id: str, timeout_s: float) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
    return f"{stamp} {request_id} Task timed out after {timeout_s:.2f} seconds"


def runtime_exited(request_id: str, how: str) -> str:
    return f"RequestId: {request_id} Error: Runtime exited with error: {how}"


def init_report(init_duration_ms: float, status: str, error_type: str | None) -> str:
    fields = [f"INIT_REPORT Init Duration: {init_duration_ms:.2f} ms", "Phase: init", f"Status: {status}"]
    if error_type:
        fields.append(f"Error Type: {error_type}")
    return "\t".join(fields)


def init_start(runtime: str, interpreter_version: str) -> str:
    version = f"{runtime}:{interpreter_version}" if interpreter_version else runtime
    return f"INIT_START Runtime Version: {version}.lamina\tRuntime Version ARN: arn:aws:lambda:::runtime:lamina"
