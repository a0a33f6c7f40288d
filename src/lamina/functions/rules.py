"""Lambda's own rules on function settings, beyond what the botocore model can express.

Each rule raises the error AWS gives, word for word where it is known (see spec/lambda-api.md §1-§3
and the recorded responses in shared/conformance).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from lamina.errors import InvalidParameter

# Runtimes CreateFunction/UpdateFunctionConfiguration accept today, in the order AWS lists them.
SUPPORTED_RUNTIMES = (
    "nodejs20.x", "python3.14", "provided.al2023", "python3.12", "python3.13", "nodejs24.x",
    "nodejs22.x", "java25", "python3.10", "python3.11", "java21", "ruby3.3", "ruby3.4", "ruby3.2",
    "python3.8", "python3.9", "java17", "nodejs16.x", "dotnet10", "dotnet8", "java11", "dotnet6",
    "nodejs18.x", "provided.al2", "java8.al2",
)  # fmt: skip

# Names in the model's Runtime enum that AWS no longer accepts for create/update.
DEPRECATED_RUNTIMES = frozenset(
    {
        "nodejs", "nodejs4.3", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x",
        "java8", "python2.7", "python3.6", "python3.7", "dotnetcore1.0", "dotnetcore2.0",
        "dotnetcore2.1", "dotnetcore3.1", "nodejs4.3-edge", "go1.x", "ruby2.5", "ruby2.7", "provided",
    }
)  # fmt: skip

RESERVED_ENV_KEYS = frozenset(
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    }
)  # fmt: skip

MAX_ENV_BYTES = 4096
MAX_MEMORY = 10240
MAX_EPHEMERAL = 10240  # MB of /tmp (EphemeralStorage.Size)
MAX_TIMEOUT = 900
MAX_NAME = 64
MAX_TAGS = 50
MAX_LAYERS = 5
_TAG_CHARS = re.compile(r"^[\w\s.:/=+\-@]*$", re.UNICODE)


def _constraint(value: object, path: str, text: str) -> InvalidParameter:
    return InvalidParameter(
        f"1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: {text}",
        Type="User",
    )


def check_name_length(name: str) -> None:
    if len(name) > MAX_NAME:
        raise _constraint(name, "functionName", f"Member must have length less than or equal to {MAX_NAME}")


def check_runtime(runtime: str) -> None:
    if runtime in SUPPORTED_RUNTIMES:
        return
    if runtime in DEPRECATED_RUNTIMES:
        raise InvalidParameter(
            f"The runtime parameter of {runtime} is no longer supported for creating or updating AWS "
            "Lambda functions. We recommend you use a supported runtime while creating or updating "
            "functions.",
            Type="User",
        )
    raise InvalidParameter(
        f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: "
        f"[{', '.join(SUPPORTED_RUNTIMES)}] or be a valid ARN",
        Type="User",
    )


def check_environment(variables: Mapping[str, str]) -> None:
    reserved = [k for k in variables if k in RESERVED_ENV_KEYS]
    if reserved:
        raise InvalidParameter(
            "Lambda was unable to configure your environment variables because the environment variables "
            "you have provided contains reserved keys that are currently not supported for modification. "
            f"Reserved keys used in this request: {', '.join(reserved)}",
            Type="User",
        )
    measured = json.dumps(dict(variables), separators=(",", ":"), ensure_ascii=False)
    if len(measured.encode()) > MAX_ENV_BYTES:
        raise InvalidParameter(
            "Lambda was unable to configure your environment variables because the environment variables "
            f"you have provided exceeded the 4KB limit. String measured: {measured}",
            Type="User",
        )


def logging_levels(logging: dict[str, str]) -> dict[str, str]:
    """Log levels exist only for JSON logs: AWS fills in INFO for the ones not given when the format is
    JSON and drops both when it goes back to Text (recorded: TestLoggingConfig in test_lambda_api)."""
    if logging.get("LogFormat") == "JSON":
        return {"ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO", **logging}
    return {k: v for k, v in logging.items() if k not in ("ApplicationLogLevel", "SystemLogLevel")}


def check_limits(memory: int | None, timeout: int | None, ephemeral: int | None = None) -> None:
    """Limits tighter than the model's (which allows 32,768 MB of memory and /tmp for capacity providers)."""
    if memory is not None and memory > MAX_MEMORY:
        raise _constraint(memory, "memorySize", f"Member must have value less than or equal to {MAX_MEMORY}")
    if ephemeral is not None and ephemeral > MAX_EPHEMERAL:
        raise _constraint(
            ephemeral, "ephemeralStorage.size", f"Member must have value less than or equal to {MAX_EPHEMERAL}"
        )
    if timeout is not None and timeout > MAX_TIMEOUT:
        raise _constraint(timeout, "timeout", f"Member must have value less than or equal to {MAX_TIMEOUT}")


def check_tags(tags: Mapping[str, str], existing: int = 0) -> None:
    if len(set(tags)) + existing > MAX_TAGS:
        raise InvalidParameter("Number of tags exceeds resource tag limit.", Type="User")
    for key, value in tags.items():
        bad_key = not 1 <= len(key) <= 128 or key.lower().startswith("aws:") or not _TAG_CHARS.match(key)
        if bad_key or len(value) > 256 or not _TAG_CHARS.match(value):
            raise InvalidParameter("An error occurred and the request cannot be processed.", Type="User")
