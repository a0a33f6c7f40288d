"""The warm synchronous Invoke, served straight from the HTTP connection.

The general path runs every request as a task through routing, model-driven parsing and validation, the
provider, and back; the answer of a warm invoke then waits two extra turns of the event loop (the task's
wake-up and its done callback). This path takes only the plainest case, the one benchmarks and most
callers send: `POST /2015-03-31/functions/<name>/invocations`, no qualifier, no log tail, no client
context, a function that exists, is Active and has an idle environment, with a lease free. Everything
else, errors included, it leaves to the general path, which answers exactly as before; when it takes a
request it answers with the same bytes the general path would (tests/lambda_api/test_fast_invoke.py
compares them).

The runtime's reply comes back as a plain callback from the Runtime API connection: the client's answer
is written first, then the invocation's END and REPORT lines, then the environment and the lease are
given back, all before the event loop turns again.

The plain async Invoke (`X-Amz-Invocation-Type: Event`, same conditions, a payload within the Event limit)
is taken too: its event is committed to the durable queue and the 202 written when the commit is done, with
no routing, parsing or validation in front of the commit (a lone caller's round trip is mostly the fsync).

Neither takes a request a front door claims (a function URL or load balancer host: its path is the site's).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from typing import Protocol

from lamina.api.gateway import ServiceBinding, credential_scope, error_answer, new_request_id
from lamina.api.messages import Request, Response
from lamina.api.protocols.rest_json import error_response
from lamina.errors import LaminaError, Throttled
from lamina.functions.control import FunctionService
from lamina.functions.names import FunctionRef
from lamina.functions.states import State
from lamina.invoke.concurrency import ConcurrencyLedger
from lamina.invoke.executor import Executor
from lamina.invoke.trace_header import for_invocation
from lamina.sandbox.runtime_api import RuntimeReply
from lamina.services.lambda_.invocation import MAX_EVENT_PAYLOAD, MAX_SYNC_RESPONSE, invoke_output
from lamina.types import Invocation, InvocationResult

log = logging.getLogger(__name__)

_PREFIX = "/2015-03-31/functions/"
_SUFFIX = "/invocations"
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # a valid FunctionName as is: no ARN, no qualifier, no escapes
# Header members of Invoke's input this path accepts, each with the one value it may have.
_PLAIN_HEADERS = {"x-amz-log-type": "None"}
_KIND = "x-amz-invocation-type"
_FORM = "application/x-www-form-urlencoded"
_JSON = ("Content-Type", "application/json")  # as the general path's serializer labels Invoke's payload


class EventIntake(Protocol):
    """The durable async queue's intake (invoke/async_invoker.py): returns once the event is committed."""

    async def submit(
        self, ref: FunctionRef, payload: bytes, request_id: str, trace_header: str | None = None
    ) -> None: ...


class FastInvoke:
    def __init__(
        self,
        functions: FunctionService,
        ledger: ConcurrencyLedger,
        executor: Executor,
        lambda_service: ServiceBinding,
        default_region: str,
        account_id: str,
        events: EventIntake | None = None,
        claimed: Callable[[Request], bool] | None = None,
    ) -> None:
        self._events = events
        self._service = lambda_service
        self._claimed = claimed  # whether a front door claims the request (Gateway.door_claims)
        self.events_taken = 0  # async invokes served here
        self._functions = functions
        self._ledger = ledger
        self._executor = executor
        self._op = lambda_service.model.operation_model("Invoke")
        self._serialize = lambda_service.protocol.serialize
        self._max_body = lambda_service.body_limits.get("Invoke", 6_291_456)
        self.taken = 0  # requests served here (reported in /health as fastInvokes)
        self._region = default_region
        self._account = account_id
        members = self._op.input_shape.members.values() if self._op.input_shape is not None else []
        self._other_headers = [
            m.serialization["name"].lower()
            for m in members
            if m.serialization.get("location") == "header"
            and m.serialization["name"].lower() not in (*_PLAIN_HEADERS, _KIND)
        ]

    def __call__(self, request: Request, respond: Callable[[Response], None]) -> bool:
        """Start `request` and return True if it is a plain warm invoke; otherwise False, having changed
        nothing."""
        path = request.path
        if (
            request.method != "POST"
            or request.query_string
            or not path.startswith(_PREFIX)
            or not path.endswith(_SUFFIX)
            or len(request.body) > self._max_body
        ):
            return False
        name = path[len(_PREFIX) : -len(_SUFFIX)]
        if _PLAIN_NAME.fullmatch(name) is None:
            return False
        headers = request.headers
        if "x-amz-target" in headers or headers.get("content-type", "").startswith(_FORM):
            return False  # the gateway gives such requests to the json or query services first
        for header, plain in _PLAIN_HEADERS.items():
            value = headers.get(header)
            if value is not None and value != plain:
                return False
        kind = headers.get(_KIND, "RequestResponse")
        if kind != "RequestResponse" and (kind != "Event" or self._events is None):
            return False
        for header in self._other_headers:
            if header in headers:
                return False
        if self._claimed is not None and self._claimed(request):
            return False
        region = self._region
        scope = credential_scope(headers)
        if scope is not None:
            if scope[1] != "lambda":
                return False
            region = scope[0]
        payload = request.body or b"{}"
        try:
            json.loads(payload)
            ref = self._functions.resolve(name, region, self._account)
            config = self._functions.invocation_target(ref)
        except (ValueError, UnicodeDecodeError, RecursionError, LaminaError):
            return False  # the general path answers with the error
        if config.state != State.ACTIVE:
            return False
        if kind == "Event":
            return self._event(request, ref, payload, respond)
        spec = self._functions.cached_spec(config)
        try:
            lease = self._ledger.acquire(spec.function_arn, (spec.version,), tentative=True)
        except Throttled:
            return False
        env = self._executor.take_warm(spec)
        if env is None:
            lease.release()
            return False  # a cold start: the general path starts the environment
        self.taken += 1
        request_id = request.request_id = new_request_id()
        trace_id, trace_parent = for_invocation(spec.tracing_mode, headers.get("x-amzn-trace-id"), spec.function_arn)
        invocation = Invocation(
            request_id=request_id, payload=payload, invoked_arn=ref.arn, trace_id=trace_id, trace_parent=trace_parent
        )
        executor = self._executor
        answered = False

        def answer(response: Response) -> None:
            nonlocal answered
            if not answered:
                answered = True
                respond(response)

        def done(reply: RuntimeReply) -> None:
            try:
                outcome = env.conclude(reply)
                answer(self._response(outcome.payload, outcome.function_error, spec.version, request_id))
                env.record(outcome, result=False)
            except Exception:
                log.exception("finishing invocation %s failed", request_id)
                answer(internal_error(request_id))
            finally:
                executor.give_back(env)
                lease.release()

        try:
            env.begin(invocation, done)
        except Exception:
            log.exception("starting invocation %s failed", request_id)
            env.stop()  # ends it through `done` if the runtime had it already
            lease.release()
            answer(internal_error(request_id))
        return True

    def _event(self, request: Request, ref: FunctionRef, payload: bytes, respond: Callable[[Response], None]) -> bool:
        """Commit the event, then answer 202 (or the error the general path would send)."""
        if len(payload) > MAX_EVENT_PAYLOAD:
            return False
        assert self._events is not None
        self.events_taken += 1
        request_id = request.request_id = new_request_id()
        task = asyncio.get_running_loop().create_task(
            self._events.submit(ref, payload, request_id, request.headers.get("x-amzn-trace-id"))
        )

        def committed(task: asyncio.Task[None]) -> None:
            if task.cancelled():
                return  # the server is closing: the connection goes with it
            exc = task.exception()
            if exc is None:
                respond(Response(202, [("x-amzn-RequestId", request_id)], b""))
            elif isinstance(exc, LaminaError):
                response = error_answer(self._service, exc)
                response.headers.append(("x-amzn-RequestId", request_id))
                respond(response)
            else:
                log.error("committing async invocation %s failed", request_id, exc_info=exc)
                respond(internal_error(request_id))

        task.add_done_callback(committed)
        return True

    def _response(self, payload: bytes, function_error: str | None, version: str, request_id: str) -> Response:
        """Invoke's answer, as the general path's serializer writes it (the tests compare the bytes)."""
        if len(payload) > MAX_SYNC_RESPONSE:  # only with a raised max_response_bytes: the general wording
            result = InvocationResult(payload, version, function_error)
            response = self._serialize(self._op, invoke_output(result, False))
            response.headers.append(("x-amzn-RequestId", request_id))
            return response
        if function_error is None:
            headers = [("X-Amz-Executed-Version", version), _JSON, ("x-amzn-RequestId", request_id)]
            return Response(200, headers, payload)
        headers = [
            ("X-Amz-Function-Error", function_error),
            ("X-Amz-Executed-Version", version),
            _JSON,
            ("x-amzn-RequestId", request_id),
        ]
        return Response(200, headers, payload)


def internal_error(request_id: str) -> Response:
    """What the general path answers when Lamina itself fails (Gateway.handle)."""
    response = error_response("ServiceException", 500, "Internal error", {}, None)
    response.headers.append(("x-amzn-RequestId", request_id))
    return response
