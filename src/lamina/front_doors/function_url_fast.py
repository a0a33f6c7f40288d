"""The warm buffered function URL request, served straight from the HTTP connection.

The door's general path runs as a task through the gateway and the one invoke path (`InvokeFront`); its
answer then waits extra turns of the event loop. As `FastInvoke` does for the plain warm Invoke
(services/lambda_/fast_invoke.py), this path takes only the plainest case: a URL of the unqualified
function in InvokeMode BUFFERED, admitted by the door (auth and CORS decided exactly as on the general
path), an Active function with an idle environment and a lease free. Everything else (aliases, streaming,
cold starts, throttles, errors of the door's own) is left to the general path, which answers as before.
The event, the answer and its CORS headers come from the door itself, so both paths send the same bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from lamina.api.gateway import new_request_id
from lamina.api.messages import Request, Response
from lamina.errors import LaminaError, Throttled
from lamina.front_doors import payload_v2
from lamina.front_doors.function_url import FunctionUrlDoor
from lamina.functions.control import FunctionService
from lamina.functions.states import State
from lamina.invoke.concurrency import ConcurrencyLedger
from lamina.invoke.executor import Executor
from lamina.invoke.trace_header import for_invocation
from lamina.sandbox.runtime_api import RuntimeReply
from lamina.types import Invocation

log = logging.getLogger(__name__)


class FastUrl:
    def __init__(
        self, door: FunctionUrlDoor, functions: FunctionService, ledger: ConcurrencyLedger, executor: Executor
    ) -> None:
        self._door = door
        self._functions = functions
        self._ledger = ledger
        self._executor = executor
        self.taken = 0  # requests served here

    def __call__(self, request: Request, respond: Callable[[Response], None]) -> bool:
        """Start `request` and return True if it is a plain warm URL request; otherwise False, having
        changed nothing."""
        door = self._door
        if not door.claims(request):
            return False
        admitted = door.admit(request)
        if isinstance(admitted, Response):
            return False  # the general path answers it (the same answer; admitting has no side effects)
        config = admitted.config
        if config.qualifier is not None or config.mode != "BUFFERED":
            return False
        try:
            ref = self._functions.resolve(config.function_name, config.region, config.account)
            target = self._functions.invocation_target(ref)
        except LaminaError:
            return False
        if target.state != State.ACTIVE:
            return False
        spec = self._functions.cached_spec(target)
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
        payload = door.event(admitted, request_id)
        trace_id, _ = for_invocation(spec.tracing_mode, None, spec.function_arn)
        invocation = Invocation(request_id=request_id, payload=payload, invoked_arn=ref.arn, trace_id=trace_id)
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
                answer(door.finish(admitted, outcome.payload, outcome.function_error, request_id))
                env.record(outcome, result=False)
            except Exception:
                log.exception("finishing function URL invocation %s failed", request_id)
                answer(payload_v2.error_response())
            finally:
                executor.give_back(env)
                lease.release()

        try:
            env.begin(invocation, done)
        except Exception:
            log.exception("starting function URL invocation %s failed", request_id)
            env.stop()
            lease.release()
            answer(payload_v2.error_response())
        return True
