"""The concurrency ledger: how many invocations may run at once, per function and per account
(spec/lambda-api.md §10, README point 2).

Every synchronous invocation takes a `Lease` before it reaches an execution environment and gives it back
when it finishes, whatever the outcome. Leases come from, in order:

1. the provisioned pool of the invoked version (or alias), while it has ready environments not in use;
2. the function's reserved pool, when the function has reserved concurrency: `reserved - provisioned`
   on-demand invocations at once (provisioned concurrency counts against the reservation);
3. the account's unreserved pool, shared by every function without a reservation:
   `limit - Σ reserved - Σ provisioned of unreserved functions`.

An empty pool throttles: `ReservedFunctionConcurrentInvocationLimitExceeded` for (2),
`ConcurrentInvocationLimitExceeded` for (3). Reserved concurrency 0 therefore throttles every invocation.

The ledger is plain counters on the event loop: no locks, no I/O, nothing awaited. It is told the
reservations and provisioned counts by the control plane (`set_reserved`, `set_provisioned`); the
invoke path only reads them. `ConcurrencyGate` puts it in front of any runner.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from lamina.errors import Throttled
from lamina.types import Invocation, InvocationResult, VersionSpec

MIN_UNRESERVED = 100  # AWS keeps at least this many unreserved (or the whole limit, if below it)
THROTTLED_MESSAGE = "Rate Exceeded."
RESERVED_REASON = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_REASON = "ConcurrentInvocationLimitExceeded"


def region_of(function_arn: str) -> str:
    return function_arn.split(":")[3]


def qualifier_of(invoked_arn: str) -> str | None:
    """`arn:aws:lambda:r:a:function:name[:qualifier]` → the qualifier, if any."""
    parts = invoked_arn.split(":")
    return parts[7] if len(parts) > 7 else None


class PoolKind:
    PROVISIONED = "provisioned"
    RESERVED = "reserved"
    UNRESERVED = "unreserved"


@dataclass
class Lease:
    """One running invocation's share of concurrency. `release()` is idempotent."""

    ledger: ConcurrencyLedger
    function_arn: str
    kind: str
    target: str | None = None  # the provisioned target (version or alias) for PROVISIONED leases
    released: bool = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.ledger._give_back(self)


@dataclass
class _Function:
    reserved: int | None = None
    on_demand: int = 0  # invocations holding a RESERVED or UNRESERVED lease
    provisioned: dict[str, int] = field(default_factory=dict)  # target → configured count
    ready: dict[str, int] = field(default_factory=dict)  # target → environments initialised
    busy: dict[str, int] = field(default_factory=dict)  # target → provisioned leases held

    @property
    def provisioned_total(self) -> int:
        return sum(self.provisioned.values())


class ConcurrencyLedger:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._functions: dict[str, _Function] = defaultdict(_Function)
        self._unreserved_busy: dict[str, int] = defaultdict(int)  # region → unreserved leases held
        # region → unreserved pool size; summing over every function on each invoke made an invoke's cost
        # grow with the number of functions. Cleared whenever a reservation or provisioned count changes.
        self._pools: dict[str, int] = {}
        # Told of every refused invocation (function ARN): the AWS/Lambda Throttles metric (app.py).
        self.on_throttle: Callable[[str], None] | None = None
        # Told of every lease of a function with provisioned concurrency for the invoked target (function ARN,
        # target, on a provisioned environment or spilled over, its busy count, its allocation): the AWS/Lambda
        # ProvisionedConcurrency* metrics (app.py).
        self.on_provisioned: Callable[[str, str, bool, int, int], None] | None = None

    # -- what the control plane tells it -------------------------------------------------------------
    @property
    def min_unreserved(self) -> int:
        return min(MIN_UNRESERVED, self.limit)

    def set_reserved(self, function_arn: str, reserved: int | None) -> None:
        self._functions[function_arn].reserved = reserved
        self._pools.clear()

    def reserved(self, function_arn: str) -> int | None:
        found = self._functions.get(function_arn)
        return None if found is None else found.reserved

    def set_provisioned(self, function_arn: str, target: str, requested: int | None, ready: int = 0) -> None:
        """`requested` None removes the target's provisioned concurrency."""
        fn = self._functions[function_arn]
        if requested is None:
            fn.provisioned.pop(target, None)
            fn.ready.pop(target, None)
        else:
            fn.provisioned[target] = requested
            fn.ready[target] = min(ready, requested)
        self._pools.clear()

    def forget(self, function_arn: str) -> None:
        """The function is gone; leases still held are released harmlessly."""
        self._functions.pop(function_arn, None)
        self._pools.clear()

    # -- what the API reports and checks ---------------------------------------------------------------
    def reserved_total(self, region: str, excluding: str | None = None) -> int:
        return sum(
            f.reserved or 0
            for arn, f in self._functions.items()
            if arn != excluding and f.reserved is not None and region_of(arn) == region
        )

    def unreserved_provisioned(self, region: str, excluding: str | None = None) -> int:
        """Provisioned concurrency of functions without a reservation: it comes out of the unreserved pool."""
        return sum(
            f.provisioned_total
            for arn, f in self._functions.items()
            if arn != excluding and f.reserved is None and region_of(arn) == region
        )

    def unreserved_pool(self, region: str) -> int:
        pool = self._pools.get(region)
        if pool is None:
            pool = self._pools[region] = self.limit - self.reserved_total(region) - self.unreserved_provisioned(region)
        return pool

    def provisioned_total(self, function_arn: str, excluding: str | None = None) -> int:
        fn = self._functions.get(function_arn)
        if fn is None:
            return 0
        return sum(n for target, n in fn.provisioned.items() if target != excluding)

    def in_use(self, function_arn: str) -> int:
        fn = self._functions.get(function_arn)
        return 0 if fn is None else fn.on_demand + sum(fn.busy.values())

    def busy_functions(self) -> dict[str, int]:
        """Function name → invocations holding a lease now (GET /metrics)."""
        return {arn.split(":")[6]: n for arn in self._functions if (n := self.in_use(arn))}

    def unreserved_in_use(self, region: str) -> int:
        return self._unreserved_busy.get(region, 0)

    def throttles_everything(self, function_arn: str) -> bool:
        """Reserved concurrency 0: the async path sends such events straight to their failure handling."""
        fn = self._functions.get(function_arn)
        return fn is not None and fn.reserved == 0

    # -- the invoke path -------------------------------------------------------------------------------
    def acquire(self, function_arn: str, targets: tuple[str, ...] = (), tentative: bool = False) -> Lease:
        """A lease for one invocation of `function_arn`; `targets` are the provisioned targets that may
        serve it (the invoked alias, then the version that runs). Raises `Throttled` when none is free; a
        `tentative` refusal (the fast path's, which then hands the request to the general path) is not counted."""
        fn = self._functions[function_arn]
        for target in targets:
            ready = fn.ready.get(target, 0)
            if ready and fn.busy.get(target, 0) < ready:
                busy = fn.busy[target] = fn.busy.get(target, 0) + 1
                if self.on_provisioned is not None:
                    self.on_provisioned(function_arn, target, True, busy, fn.provisioned.get(target, ready))
                return Lease(self, function_arn, PoolKind.PROVISIONED, target)
        lease = self._on_demand(fn, function_arn, tentative)
        if fn.provisioned and self.on_provisioned is not None:  # spilled over from a provisioned target
            for target in targets:
                if target in fn.provisioned:
                    self.on_provisioned(function_arn, target, False, fn.busy.get(target, 0), fn.provisioned[target])
                    break
        return lease

    def _on_demand(self, fn: _Function, function_arn: str, tentative: bool) -> Lease:
        if fn.reserved is not None:
            if fn.on_demand < fn.reserved - fn.provisioned_total:
                fn.on_demand += 1
                return Lease(self, function_arn, PoolKind.RESERVED)
            if self.on_throttle is not None and not tentative:
                self.on_throttle(function_arn)
            raise Throttled(THROTTLED_MESSAGE, Reason=RESERVED_REASON, Type="User")
        region = region_of(function_arn)
        if self._unreserved_busy[region] < self.unreserved_pool(region):
            self._unreserved_busy[region] += 1
            fn.on_demand += 1
            return Lease(self, function_arn, PoolKind.UNRESERVED)
        if self.on_throttle is not None and not tentative:
            self.on_throttle(function_arn)
        raise Throttled(THROTTLED_MESSAGE, Reason=ACCOUNT_REASON, Type="User")

    def _give_back(self, lease: Lease) -> None:
        if lease.kind == PoolKind.UNRESERVED:
            region = region_of(lease.function_arn)
            self._unreserved_busy[region] = max(0, self._unreserved_busy[region] - 1)
        fn = self._functions.get(lease.function_arn)
        if fn is None:
            return
        if lease.kind == PoolKind.PROVISIONED and lease.target is not None:
            fn.busy[lease.target] = max(0, fn.busy.get(lease.target, 0) - 1)
        else:
            fn.on_demand = max(0, fn.on_demand - 1)


class Runner(Protocol):
    async def invoke(self, spec: VersionSpec, invocation: Invocation) -> InvocationResult: ...


class ConcurrencyGate:
    """A runner that takes a lease around every invocation of the runner it wraps (the sync invoke path)."""

    def __init__(self, runner: Runner, ledger: ConcurrencyLedger) -> None:
        self._runner = runner
        self.ledger = ledger

    async def invoke(self, spec: VersionSpec, invocation: Invocation) -> InvocationResult:
        qualifier = qualifier_of(invocation.invoked_arn)
        targets = (qualifier, spec.version) if qualifier and qualifier != spec.version else (spec.version,)
        lease = self.ledger.acquire(spec.function_arn, targets)
        try:
            return await self._runner.invoke(spec, invocation)
        finally:
            lease.release()
