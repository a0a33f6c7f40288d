"""Shared vocabulary of every layer: small frozen value types, nothing that does I/O.

`VersionSpec` is what an execution environment needs to run one function version; `Invocation` is one
request handed to it; `InvocationResult` is what came back. The control plane builds specs, the data
plane (invoke/, sandbox/) consumes them; neither imports the other's internals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

LATEST = "$LATEST"


@dataclass(frozen=True)
class VersionSpec:
    """Everything needed to start an execution environment for one function version.

    `config_key` changes whenever code or configuration of the version changes; environments built
    for an older key are retired and never handed new invocations.
    """

    function_name: str
    function_arn: str  # unqualified
    version: str  # "$LATEST" or a published number
    runtime: str | None  # e.g. "python3.12", "nodejs20.x", "provided.al2023"
    handler: str | None
    code_dir: Path  # extracted deployment package, mounted read-only at /var/task
    layer_dirs: tuple[Path, ...] = ()  # extracted layers, merged in order into /opt
    memory_mb: int = 128
    timeout_s: int = 3
    ephemeral_mb: int = 512
    environment: tuple[tuple[str, str], ...] = ()  # the user's variables, in order
    region: str = "us-east-1"
    account_id: str = "000000000000"
    log_group: str = ""
    log_format: str = "Text"
    application_log_level: str | None = None  # LoggingConfig, JSON format only (AWS_LAMBDA_LOG_LEVEL)
    system_log_level: str | None = None  # LoggingConfig, JSON format only (platform lines, logs/platform_lines.py)
    config_key: str = ""
    tracing_mode: str = "PassThrough"  # TracingConfig.Mode: Active: X-Ray's default rule (invoke/trace_header.py)


class ResponseSink(Protocol):
    """Where a streamed response goes while the function writes it (InvokeWithResponseStream, function
    URLs in RESPONSE_STREAM mode); invoke/response_stream.py holds the one implementation.

    The Runtime API calls `opened` when the runtime starts a streaming `POST …/response`, then `write`
    per chunk as it arrives. The sink may call `pause` (stop reading from the runtime) while its reader
    lags and must call `resume` when it catches up. The end comes as the invocation's result."""

    def opened(self, content_type: str | None, pause: Callable[[], None], resume: Callable[[], None]) -> None: ...

    def write(self, chunk: bytes) -> None: ...


@dataclass(frozen=True)
class Invocation:
    """One request for an execution environment."""

    request_id: str
    payload: bytes
    invoked_arn: str  # as invoked: qualified when a version or alias was used
    client_context: str | None = None  # decoded JSON text, if the caller sent one
    cognito_identity: str | None = None
    trace_id: str = ""
    trace_parent: str = ""  # the caller's segment id from its X-Amzn-Trace-Id: the AWS::Lambda segment's parent
    tail_logs: bool = False
    # Set for a streaming invoke: a streaming response's chunks go here as they arrive, not into the
    # result's payload (a buffered response still comes back whole in the result).
    sink: ResponseSink | None = None


@dataclass(frozen=True)
class InvocationResult:
    """What an invocation produced. `function_error` is "Unhandled" when the function failed;
    `payload` is then Lambda's error document."""

    payload: bytes
    executed_version: str
    function_error: str | None = None
    log_tail: bytes | None = None  # last 4 KB of this invocation's log, when asked for
    duration_ms: float = 0.0
    init_duration_ms: float | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TracedInvocation:
    """A sampled invocation as the environment recorded it: what Lambda's own X-Ray segments are made of
    (services/xray/segments.py). Times are epoch seconds."""

    spec: VersionSpec
    invocation: Invocation
    started: float  # the event handed to the runtime
    ended: float  # its reply (or timeout, or exit)
    recorded: float  # END and REPORT written: the end of Lambda's overhead
    init_ms: float | None  # a cold start's Init Duration
    function_error: str | None
    error_type: str | None  # Lambda's (Sandbox.Timedout, Runtime.ExitError...) or None for the function's own
    payload: bytes  # the response, or the error document when function_error is set


@dataclass(frozen=True)
class CallContext:
    """Who is calling and where: taken from the request by the wire layer, handed to providers."""

    region: str
    account_id: str
    request_id: str
    base_url: str  # how the caller reached Lamina, for URLs Lamina hands out (code locations)
    access_key_id: str = ""  # the signing key of the request's credential scope ("" when unsigned): STS's caller
    trace_header: str = ""  # X-Amzn-Trace-Id as sent (SDKs in a function send its trace id: loop detection)
