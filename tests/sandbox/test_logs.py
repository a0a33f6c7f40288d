"""Platform log lines, the bounded log store and output capture."""

from __future__ import annotations

import asyncio
import os
import select
from pathlib import Path

from lamina.clock import ManualClock
from lamina.logs import output_watch, report
from lamina.logs.capture import TAIL_BYTES, InvocationLog, OutputCapture
from lamina.logs.store import TRUNCATED, LogStore
from tests.invoke.harness import Loop


def test_lines_match_lambda() -> None:
    assert report.start("id-1", "$LATEST") == "START RequestId: id-1 Version: $LATEST"
    assert report.end("id-1") == "END RequestId: id-1"
    assert report.report("id-1", 1.234, 128, 40, 12.345) == (
        "REPORT RequestId: id-1\tDuration: 1.23 ms\tBilled Duration: 14 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 40 MB\tInit Duration: 12.35 ms\t"
    )
    assert report.report("id-2", 15.74, 128, 56, None) == (
        "REPORT RequestId: id-2\tDuration: 15.74 ms\tBilled Duration: 16 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 56 MB\t"
    )
    assert report.billed_ms(900000.0, 544.9) == 900545
    assert report.report("id-3", 3000.0, 1024, 64, None, "timeout").endswith("\tStatus: timeout\t")
    assert (
        report.timed_out(1604987217.874, "id-4", 3) == "2020-11-10T05:46:57.874Z id-4 Task timed out after 3.00 seconds"
    )


def test_store_groups_streams_events_and_bounds(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "lamina.db", max_stream_bytes=200, max_group_bytes=300)
    store.start()
    try:
        store.append("/aws/lambda/f", "2024/01/01/[$LATEST]aa", [(1000, "hello"), (1001, "tab\tinside")])
        store.flush()
        assert store.groups() == ["/aws/lambda/f"]
        (info,) = store.streams("/aws/lambda/f")
        assert info.name == "2024/01/01/[$LATEST]aa"
        events = store.events("/aws/lambda/f", info.name)
        assert [(e.timestamp_ms, e.message) for e in events] == [(1000, "hello"), (1001, "tab\tinside")]
        assert [e.message for e in store.events("/aws/lambda/f", info.name, start_ms=1001)] == ["tab\tinside"]
        store.append("/aws/lambda/f", "2024/01/01/[$LATEST]aa", [(2000 + i, "x" * 40) for i in range(10)])
        store.flush()
        messages = [e.message for e in store.events("/aws/lambda/f", info.name)]
        assert messages[-1] == TRUNCATED
        assert store.streams("/aws/lambda/f")[0].stored_bytes <= 200 + len(TRUNCATED) + 16
        for n in range(4):  # the group limit drops the oldest streams
            store.append("/aws/lambda/f", f"2024/01/02/[$LATEST]{n}", [(3000, "y" * 100)])
            store.flush()
        names = [s.name for s in store.streams("/aws/lambda/f")]
        assert "2024/01/01/[$LATEST]aa" not in names
        assert "2024/01/02/[$LATEST]3" in names
        assert sum(s.stored_bytes for s in store.streams("/aws/lambda/f")) <= 300
        for n in range(3):  # another group's writes never count against this one
            store.append("/aws/lambda/g", f"2024/01/03/[$LATEST]{n}", [(4000, "z" * 60)])
            store.flush()
        assert [s.name for s in store.streams("/aws/lambda/f")] == names
        assert len(store.streams("/aws/lambda/g")) == 3
    finally:
        store.close()


def test_capture_splits_lines_keeps_tail_and_orders_output(tmp_path: Path, loop: Loop) -> None:
    async def body() -> None:
        store = LogStore(tmp_path / "lamina.db")
        store.start()
        read_fd, write_fd = os.pipe()
        clock = ManualClock()
        capture = OutputCapture(read_fd, store, "g", "s", clock, max_bytes_per_invocation=10_000)
        os.write(write_fd, b"init output\n")
        capture.drain()
        log = InvocationLog(keep=True)
        capture.begin(log)
        capture.platform("START")
        os.write(write_fd, b"one\ntw")
        os.write(write_fd, b"o\r continued\n")
        capture.drain()  # what the runtime wrote before answering is in, before END
        capture.platform("END")
        capture.finish()
        assert log.tail().decode().split("\n")[:-1] == ["init output", "START", "one", "two\r continued", "END"]
        big = InvocationLog(keep=True)
        capture.begin(big)
        os.write(write_fd, b"z" * 20_000 + b"\n")
        capture.drain()
        capture.finish()
        assert b"dropped" in big.tail() and len(big.tail()) <= TAIL_BYTES
        os.close(write_fd)
        capture.close()
        store.flush()
        assert [e.message for e in store.events("g", "s")][:3] == ["init output", "START", "one"]
        store.close()

    loop.run(body())


def test_capture_block_of_lines_one_read(tmp_path: Path, loop: Loop) -> None:
    # Lines read together become events in order, with the tail holding what the events hold (invalid UTF-8 as
    # the replacement character), and at most 64 init lines waiting for the first invocation's tail.
    async def body() -> None:
        store = LogStore(tmp_path / "lamina.db")
        store.start()
        read_fd, write_fd = os.pipe()
        capture = OutputCapture(read_fd, store, "g", "s", ManualClock(), max_bytes_per_invocation=100_000)
        os.write(write_fd, b"".join(b"init %d\n" % i for i in range(100)))
        capture.drain()
        log = InvocationLog(keep=True)
        capture.begin(log)
        os.write(write_fd, b"caf\xc3\xa9\nbad \xff\n\npart")
        capture.drain()
        os.write(write_fd, b"ial\n")
        capture.drain()
        capture.finish()
        lines = log.tail().decode("utf-8").split("\n")[:-1]
        assert lines == [f"init {i}" for i in range(64)] + ["caf\u00e9", "bad \ufffd", "", "partial"]
        os.close(write_fd)
        capture.close()
        store.flush()
        messages = [e.message for e in store.events("g", "s")]
        assert messages == [f"init {i}" for i in range(100)] + ["caf\u00e9", "bad \ufffd", "", "partial"]
        store.close()

    loop.run(body())


def test_output_watch_pauses_readiness_while_an_invocation_runs(loop: Loop) -> None:
    # Paused: written output raises no readiness (no wake-up of its own), a hang-up still does; the sweep resumes a
    # pipe paused for over one interval; resuming makes pending output ready again.
    async def body() -> None:
        watch = output_watch.OutputWatch(asyncio.get_running_loop())
        read_fd, write_fd = os.pipe()
        ready: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

        def on_readable() -> None:
            if not ready.done():
                ready.set_result(os.read(read_fd, 100))

        watch.watch(read_fd, on_readable)
        try:

            def readiness() -> int:
                return dict(watch._epoll.poll(0)).get(read_fd, 0)

            os.write(write_fd, b"idle output\n")
            assert await asyncio.wait_for(ready, 10) == b"idle output\n"
            watch.pause(read_fd)
            os.write(write_fd, b"during the invocation\n")
            assert readiness() == 0
            watch.resume(read_fd)
            assert readiness() == select.EPOLLIN
            watch.pause(read_fd)
            watch._resume_stale()  # paused in this interval: left paused
            assert readiness() == 0
            watch._resume_stale()  # paused for over one interval: resumed
            assert readiness() == select.EPOLLIN
            watch.pause(read_fd)
            os.close(write_fd)
            assert readiness() & select.EPOLLHUP
            watch.forget(read_fd)
            assert readiness() == 0
        finally:
            watch.close()
            os.close(read_fd)

    loop.run(body())


def test_capture_pauses_only_after_a_quiet_invocation(tmp_path: Path, loop: Loop) -> None:
    # A function that logged more than a quarter of a pipe last time is not paused (it would wait for the sweep
    # with a full pipe); once it is quiet again, it is.
    async def body() -> None:
        store = LogStore(tmp_path / "lamina.db")
        store.start()
        read_fd, write_fd = os.pipe()
        capture = OutputCapture(read_fd, store, "g", "s", ManualClock(), max_bytes_per_invocation=1 << 20)
        paused = capture._watch._paused
        try:
            for written, paused_next in ((b"short\n", True), (b"y" * 20_000 + b"\n", False), (b"short\n", True)):
                capture.begin(InvocationLog(keep=False))
                os.write(write_fd, written)
                capture.drain()
                capture.finish()
                assert read_fd not in paused
                capture.begin(InvocationLog(keep=False))
                assert (read_fd in paused) is paused_next
                capture.finish()
        finally:
            os.close(write_fd)
            capture.close()
            store.close()

    loop.run(body())
