"""The commit policy of the SQLite writers, in virtual time: which batches pay for an fsync, and how long
lazy writes may wait for one."""

from __future__ import annotations

import pytest

from lamina.clock import ManualClock
from lamina.store.commit_policy import CommitPolicy, Durability

DURABLE, LAZY = Durability.DURABLE, Durability.LAZY


def test_a_batch_with_any_durable_job_commits_at_the_durable_level() -> None:
    policy = CommitPolicy(ManualClock())
    assert policy.level([DURABLE]) == "FULL"
    assert policy.level([LAZY, LAZY, DURABLE, LAZY]) == "FULL"
    assert policy.level([LAZY, LAZY]) == "NORMAL"
    assert policy.level([]) == "NORMAL"


def test_lazy_is_never_stronger_than_what_the_operator_configured() -> None:
    assert CommitPolicy(ManualClock(), "normal").level([DURABLE]) == "NORMAL"
    off = CommitPolicy(ManualClock(), "OFF")
    assert (off.level([DURABLE]), off.level([LAZY])) == ("OFF", "OFF")
    off.committed("OFF")
    assert not off.pending and off.idle_timeout() is None  # nothing is ever waiting for an fsync
    normal = CommitPolicy(ManualClock(), "NORMAL")
    normal.committed("NORMAL")
    assert normal.idle_timeout() is None
    with pytest.raises(ValueError, match="synchronous level"):
        CommitPolicy(ManualClock(), "SOMETIMES")


def test_an_idle_writer_sleeps_forever_until_a_lazy_commit_waits_for_its_fsync() -> None:
    clock = ManualClock()
    policy = CommitPolicy(clock, max_lag_s=1.0)
    assert policy.idle_timeout() is None
    policy.committed("NORMAL")
    assert policy.pending and policy.idle_timeout() == 1.0
    clock.advance(0.25)
    policy.committed("NORMAL")  # the oldest unsynced write sets the deadline
    assert policy.idle_timeout() == 0.75
    clock.advance(5.0)
    assert policy.idle_timeout() == 0.0
    policy.flushed()
    assert not policy.pending and policy.idle_timeout() is None


def test_a_durable_commit_syncs_the_lazy_writes_before_it() -> None:
    clock = ManualClock()
    policy = CommitPolicy(clock)
    policy.committed("NORMAL")
    clock.advance(0.5)
    policy.committed(policy.level([DURABLE]))
    assert policy.idle_timeout() is None


def test_lazy_writes_that_waited_max_lag_make_the_next_batch_pay_for_the_fsync() -> None:
    clock = ManualClock()
    policy = CommitPolicy(clock, max_lag_s=1.0)
    policy.committed(policy.level([LAZY]))
    clock.advance(0.999)
    assert policy.level([LAZY]) == "NORMAL"
    clock.advance(0.001)
    level = policy.level([LAZY])
    assert level == "FULL"
    policy.committed(level)
    assert policy.level([LAZY]) == "NORMAL" and policy.idle_timeout() is None
