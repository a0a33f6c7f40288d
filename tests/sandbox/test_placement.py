"""CPU placement (sandbox/placement.py) on real processes: pinned while invocations come one at a time,
spread over every CPU as soon as two are in flight, never pinned for long invocations."""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from lamina.sandbox.placement import LONG_S, QUIET_STARTS, SHORT_MS, Placement

T = TypeVar("T")
ALL = os.sched_getaffinity(0)
pytestmark = pytest.mark.skipif(len(ALL) < 2, reason="placement needs two CPUs")


@pytest.fixture
def sleepers() -> Iterator[list[int]]:
    procs = [subprocess.Popen(["sleep", "60"]) for _ in range(2)]
    try:
        yield [p.pid for p in procs]
    finally:
        for p in procs:
            p.kill()
            p.wait()


def on_own_thread(work: Callable[[], T]) -> T:
    """Placement pins the calling thread (the event loop's): run it in an event loop on a thread of its own,
    not on pytest's."""
    out: list[T] = []

    async def run() -> None:
        out.append(work())

    thread = threading.Thread(target=lambda: asyncio.run(run()))
    thread.start()
    thread.join()
    return out[0]


def test_one_at_a_time_pins_loop_and_environment_together_then_load_spreads_them(sleepers: list[int]) -> None:
    env, other = sleepers

    def run() -> tuple[set[int], set[int], set[int], set[int], set[int]]:
        placement = Placement(True)
        assert placement.enabled
        for _ in range(QUIET_STARTS - 1):
            placement.started(env, 1.0)
            placement.ended(env)
        assert os.sched_getaffinity(env) == ALL  # not yet: starts in a row must show a quiet load first
        placement.started(env, 1.0)
        pinned_env, pinned_loop = os.sched_getaffinity(env), os.sched_getaffinity(0)
        placement.started(other, 1.0)  # a second invocation in flight
        spread = os.sched_getaffinity(env), os.sched_getaffinity(0), os.sched_getaffinity(other)
        placement.ended(env)
        placement.ended(other)
        assert placement.in_flight == 0
        return pinned_env, pinned_loop, *spread

    pinned_env, pinned_loop, env_after, loop_after, other_after = on_own_thread(run)
    assert len(pinned_env) == 1 and pinned_env == pinned_loop
    assert env_after == loop_after == other_after == ALL


def test_long_invocations_and_first_invocations_are_never_pinned(sleepers: list[int]) -> None:
    env, _ = sleepers

    def run() -> list[set[int]]:
        placement = Placement(True)
        seen = []
        for previous in (None, SHORT_MS, 50.0):
            for _ in range(QUIET_STARTS + 1):
                placement.started(env, previous)
                placement.ended(env)
            seen.append(os.sched_getaffinity(env))
        return seen

    assert on_own_thread(run) == [ALL, ALL, ALL]


def test_off_pins_nothing(sleepers: list[int]) -> None:
    env, _ = sleepers

    def run() -> set[int]:
        placement = Placement(False)
        for _ in range(QUIET_STARTS + 1):
            placement.started(env, 1.0)
            placement.ended(env)
        assert not placement.enabled and placement.in_flight == 0
        return os.sched_getaffinity(env) | os.sched_getaffinity(0)

    assert on_own_thread(run) == ALL


def test_a_pinned_invocation_that_runs_long_lets_go_and_so_does_close(sleepers: list[int]) -> None:
    env, _ = sleepers

    def run() -> tuple[int, set[int], set[int], set[int], set[int], set[int]]:
        placement = Placement(True)
        for _ in range(QUIET_STARTS):
            placement.started(env, 1.0)
            placement.ended(env)
        placement.started(env, 1.0)  # pinned, and still running ...
        placement._check()  # (the watch, called here rather than waited for) ... not for long yet
        assert os.sched_getaffinity(env) == os.sched_getaffinity(0) != ALL
        placement.now = lambda: time.monotonic() + LONG_S  # ... and now for long
        placement._check()
        floated = os.sched_getaffinity(env), os.sched_getaffinity(0)
        placement.ended(env)
        for _ in range(QUIET_STARTS):  # pinned again after a quiet run; a thread started meanwhile inherits
            placement.started(env, 1.0)
            placement.ended(env)
        started_pinned: list[set[int]] = []
        worker = threading.Thread(target=lambda: started_pinned.append(os.sched_getaffinity(0)))
        worker.start()
        worker.join()
        pinned = os.sched_getaffinity(0)
        placement.close()
        return placement.in_flight, *floated, started_pinned[0], pinned, os.sched_getaffinity(0)

    in_flight, env_floated, loop_floated, worker_pinned, loop_pinned, loop_closed = on_own_thread(run)
    assert in_flight == 0
    assert env_floated == loop_floated == ALL
    assert len(loop_pinned) == 1 and worker_pinned == loop_pinned
    assert loop_closed == ALL


def test_spreading_frees_the_threads_the_pinned_loop_started(sleepers: list[int]) -> None:
    env, other = sleepers

    def run() -> tuple[set[int], set[int]]:
        placement = Placement(True)
        for _ in range(QUIET_STARTS):
            placement.started(env, 1.0)
            placement.ended(env)
        gate = threading.Event()
        tid: list[int] = []

        def park() -> None:
            tid.append(threading.get_native_id())
            gate.wait(10)

        worker = threading.Thread(target=park)
        worker.start()  # started while the loop is pinned: inherits its CPU
        while not tid:
            pass
        before = os.sched_getaffinity(tid[0])
        placement.started(env, 1.0)
        placement.started(other, 1.0)  # two in flight: everything floats
        after = os.sched_getaffinity(tid[0])
        gate.set()
        worker.join()
        placement.ended(env)
        placement.ended(other)
        placement.close()
        return before, after

    before, after = on_own_thread(run)
    assert len(before) == 1 and after == ALL
