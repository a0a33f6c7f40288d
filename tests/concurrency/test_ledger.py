"""The concurrency ledger on its own: pools, reasons, and leases given back."""

from __future__ import annotations

import pytest

from lamina.errors import Throttled
from lamina.invoke.concurrency import ConcurrencyLedger

A = "arn:aws:lambda:us-east-1:000000000000:function:a"
B = "arn:aws:lambda:us-east-1:000000000000:function:b"
OTHER_REGION = "arn:aws:lambda:eu-west-1:000000000000:function:c"


def test_reserved_pool_and_reason() -> None:
    ledger = ConcurrencyLedger(1000)
    ledger.set_reserved(A, 2)
    leases = [ledger.acquire(A), ledger.acquire(A)]
    with pytest.raises(Throttled) as e:
        ledger.acquire(A)
    assert e.value.message == "Rate Exceeded."
    assert e.value.fields == {"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User"}
    leases[0].release()
    leases[0].release()  # idempotent
    ledger.acquire(A)
    with pytest.raises(Throttled):
        ledger.acquire(A)


def test_reserved_zero_throttles_everything() -> None:
    ledger = ConcurrencyLedger(1000)
    ledger.set_reserved(A, 0)
    assert ledger.throttles_everything(A) and not ledger.throttles_everything(B)
    with pytest.raises(Throttled):
        ledger.acquire(A)


def test_unreserved_pool_is_what_reservations_leave() -> None:
    ledger = ConcurrencyLedger(5)
    ledger.set_reserved(A, 3)
    assert ledger.unreserved_pool("us-east-1") == 2
    held = [ledger.acquire(B), ledger.acquire(B)]
    with pytest.raises(Throttled) as e:
        ledger.acquire(B)
    assert e.value.fields["Reason"] == "ConcurrentInvocationLimitExceeded"
    ledger.acquire(OTHER_REGION)  # regions have pools of their own
    held[0].release()
    ledger.acquire(B)


def test_provisioned_first_then_on_demand() -> None:
    ledger = ConcurrencyLedger(1000)
    ledger.set_reserved(A, 3)
    ledger.set_provisioned(A, "live", 2, ready=2)
    first, second = ledger.acquire(A, ("live", "1")), ledger.acquire(A, ("live", "1"))
    assert first.kind == second.kind == "provisioned"
    third = ledger.acquire(A, ("live", "1"))
    assert third.kind == "reserved"  # reserved 3 - provisioned 2 = 1 on demand
    with pytest.raises(Throttled):
        ledger.acquire(A, ("live", "1"))
    first.release()
    assert ledger.acquire(A, ("live", "1")).kind == "provisioned"


def test_provisioned_not_ready_serves_nothing() -> None:
    ledger = ConcurrencyLedger(1000)
    ledger.set_provisioned(B, "1", 2, ready=0)
    assert ledger.acquire(B, ("1",)).kind == "unreserved"
    assert ledger.unreserved_pool("us-east-1") == 998


def test_min_unreserved_follows_small_limits() -> None:
    assert ConcurrencyLedger(1000).min_unreserved == 100
    assert ConcurrencyLedger(50).min_unreserved == 50


def test_unreserved_pool_follows_every_change() -> None:
    """The pool is remembered between invokes (summing over every function per invoke made an invoke's cost
    grow with the number of functions), so every change to reservations or provisioned counts must show."""
    ledger = ConcurrencyLedger(1000)
    for i in range(2000):
        ledger.acquire(f"{B}-{i}").release()  # many functions known to the ledger
    assert ledger.unreserved_pool("us-east-1") == 1000
    ledger.set_reserved(A, 300)
    assert ledger.unreserved_pool("us-east-1") == 700
    ledger.set_provisioned(B, "1", 50, ready=50)
    assert ledger.unreserved_pool("us-east-1") == 650
    ledger.set_reserved(A, None)
    assert ledger.unreserved_pool("us-east-1") == 950
    ledger.set_provisioned(B, "1", None)
    assert ledger.unreserved_pool("us-east-1") == 1000
    ledger.set_reserved(A, 10)
    ledger.forget(A)
    assert ledger.unreserved_pool("us-east-1") == 1000
    assert ledger.unreserved_pool("eu-west-1") == 1000
