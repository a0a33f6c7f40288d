"""Invoke, as the Lambda API defines it: headers in, the function's bytes (or Lambda's error
document) out. The data plane behind it is any `Runner` (the sandbox executor in production).

This is the hot path: a warm invoke does one dictionary lookup for the configuration, builds one
`Invocation`, and awaits the environment. No database access.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from typing import Any, Protocol

from lamina import json_text
from lamina.errors import Conflict, InvalidParameter, InvalidRequestContent, RequestTooLarge, Throttled
from lamina.functions.control import FunctionService
from lamina.functions.record import FunctionConfig
from lamina.functions.states import State
from lamina.invoke.async_invoker import AsyncInvoker
from lamina.invoke.executor import CapacityExceeded, HostBoundsExceeded
from lamina.invoke.response_stream import ResponseStream
from lamina.invoke.trace_header import for_invocation
from lamina.types import CallContext, Invocation, InvocationResult, VersionSpec

MAX_SYNC_RESPONSE = 6_291_556  # 6 MiB + 100: larger responses become Function.ResponseSizeTooLarge
MAX_EVENT_PAYLOAD = 1_048_576  # lambda-api.md §3: async (Event) requests up to 1 MB


class Runner(Protocol):
    async def invoke(self, spec: VersionSpec, invocation: Invocation) -> InvocationResult: ...


class InvokeFront:
    def __init__(self, functions: FunctionService, runner: Runner, events: AsyncInvoker | None = None) -> None:
        self._functions = functions
        self._runner = runner
        self._events = events

    def _spec(self, config: FunctionConfig) -> VersionSpec:
        return self._functions.cached_spec(config)

    async def invoke(
        self, ctx: CallContext, params: dict[str, Any], stream: ResponseStream | None = None
    ) -> dict[str, Any]:
        """Invoke's output members. With `stream` (InvokeWithResponseStream, a streaming function URL), a
        response the function streams goes there as it is written, not into `Payload`."""
        ref = self._functions.resolve(params["FunctionName"], ctx.region, ctx.account_id, params.get("Qualifier"))
        config = self._functions.invocation_target(ref)
        if config.state != State.ACTIVE:
            raise Conflict(
                "The operation cannot be performed at this time. The resource "
                f"{config.arn} is currently in the following state: '{config.state}'. "
                f"StateReasonCode: '{config.state_reason_code or ''}'",
                Type="User",
            )
        invocation_type = params.get("InvocationType") or "RequestResponse"
        payload: bytes = params.get("Payload") or b"{}"
        if invocation_type == "Event" and len(payload) > MAX_EVENT_PAYLOAD:
            raise RequestTooLarge(
                f"{len(payload)} byte payload is too large for the Event invocation type "
                f"(limit {MAX_EVENT_PAYLOAD} bytes)"
            )
        _check_json(payload)
        if invocation_type == "DryRun":
            return {"StatusCode": 204}
        if invocation_type == "Event":
            if self._events is None:
                raise InvalidParameter("Asynchronous invocation is not enabled on this server.", Type="User")
            # Committed to the durable queue before the 202 (invoke/async_invoker.py).
            # The caller's X-Amzn-Trace-Id goes with the event: its trace goes on when the event runs.
            await self._events.submit(ref, payload, ctx.request_id or str(uuid.uuid4()), ctx.trace_header or None)
            return {"StatusCode": 202}
        client_context = _client_context(params.get("ClientContext"))
        invoked_arn = ref.qualified_arn if ref.qualifier else ref.arn
        spec = self._spec(config)
        trace_id, trace_parent = for_invocation(spec.tracing_mode, ctx.trace_header, spec.function_arn)
        invocation = Invocation(
            request_id=ctx.request_id or str(uuid.uuid4()),
            payload=payload,
            invoked_arn=invoked_arn,
            client_context=client_context,
            trace_id=trace_id,
            trace_parent=trace_parent,
            tail_logs=params.get("LogType") == "Tail",
            sink=stream,
        )
        if stream is not None:
            stream.executed_version = config.version
        try:
            result = await self._runner.invoke(spec, invocation)
        except HostBoundsExceeded as exc:
            # AWS's answer when it cannot scale; the message says which host bound, beyond AWS's "Rate Exceeded."
            raise Throttled(f"Rate Exceeded. {exc}", Reason="ConcurrentInvocationLimitExceeded", Type="User") from None
        except CapacityExceeded:
            raise Throttled("Rate Exceeded.", Reason="ConcurrentInvocationLimitExceeded", Type="User") from None
        return invoke_output(result, invocation.tail_logs)


def invoke_output(result: InvocationResult, tail_logs: bool) -> dict[str, Any]:
    """Invoke's output members for a synchronous invocation's result."""
    out: dict[str, Any] = {
        "StatusCode": 200,
        "ExecutedVersion": result.executed_version,
        "Payload": result.payload,
    }
    if len(result.payload) > MAX_SYNC_RESPONSE and result.function_error is None:
        out["Payload"] = json.dumps(
            {
                "errorMessage": f"Response payload size exceeded maximum allowed payload size "
                f"({MAX_SYNC_RESPONSE} bytes).",
                "errorType": "Function.ResponseSizeTooLarge",
            }
        ).encode()
        out["FunctionError"] = "Unhandled"
    elif result.function_error is not None:
        out["FunctionError"] = result.function_error
    if tail_logs and result.log_tail is not None:
        out["LogResult"] = base64.b64encode(result.log_tail[-4096:]).decode()
    return out


def _check_json(payload: bytes) -> None:
    try:
        json_text.check(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequestContent(
            f"Could not parse request body into json: Could not parse payload into json: {exc}"
        ) from None


def _client_context(header: str | None) -> str | None:
    if not header:
        return None
    try:
        decoded = base64.b64decode(header, validate=True).decode()
        json_text.check(decoded)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidRequestContent("Client context must be a valid Base64-encoded JSON object.") from None
    return decoded
