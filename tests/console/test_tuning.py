"""The tune form's checks (console/tuning.py) and the Monitor period choice (console/monitoring.py)."""

from __future__ import annotations

import pytest

from lamina.console.monitoring import RANGES, period_for
from lamina.console.tuning import parse_request
from lamina.errors import InvalidParameter


def test_tune_request_defaults_and_values() -> None:
    assert parse_request({}) == ([128, 256, 512, 1024], 10, "cost", b"{}")
    got = parse_request({"memory": [128, 3008], "invocations": "3", "strategy": "speed", "payload": '{"a": 1}'})
    assert got == ([128, 3008], 3, "speed", b'{"a": 1}')


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"memory": "128,abc"}, "Memory sizes must be whole numbers of MB, comma-separated."),
        ({"memory": "64"}, "Memory sizes must be 128-10240 MB."),
        ({"memory": "20000"}, "Memory sizes must be 128-10240 MB."),
        ({"memory": ""}, "Memory sizes must be 128-10240 MB."),
        ({"invocations": 0}, "Invocations per memory size must be 1-100."),
        ({"invocations": "many"}, "Invocations per memory size must be 1-100."),
        ({"invocations": 101}, "Invocations per memory size must be 1-100."),
        ({"strategy": "luck"}, "Strategy must be one of cost, speed, balanced."),
        ({"payload": "{not json"}, "The payload is not valid JSON."),
    ],
)
def test_tune_request_refusals(body: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidParameter) as refused:
        parse_request(body)
    assert refused.value.message == message


def test_monitor_periods_give_at_most_60_points() -> None:
    for minutes in RANGES:
        period = period_for(minutes)
        assert period % 60 == 0 and minutes * 60 / period <= 60
    assert [period_for(m) for m in (15, 60, 1440)] == [60, 60, 1440]


def test_one_run_per_function_at_a_time_and_failures_are_kept() -> None:
    import asyncio
    import threading

    from lamina.console.tuning import TuneRun, TuneRuns
    from lamina.errors import Conflict, NotFound

    release = threading.Event()

    class Blocking(TuneRuns):
        def _sweep(self, run: TuneRun, payload: bytes, credentials: tuple[str, str]) -> None:
            release.wait(10)
            run.error, run.state = "stopped by the test", "Failed"

    async def scenario() -> None:
        runs = Blocking(lambda: "http://127.0.0.1:1", "us-east-1")
        first = runs.start("f", {"memory": "128"}, ("k", "s"))
        with pytest.raises(Conflict, match="A tune run of f is in progress"):
            runs.start("f", {"memory": "256"}, ("k", "s"))
        other = runs.start("g", {"memory": "128"}, ("k", "s"))  # another function may run beside it
        assert runs.latest("f") is first and runs.latest("g") is other
        release.set()
        while first.state == "Running" or other.state == "Running":
            await asyncio.sleep(0)  # the worker threads finish; nothing here waits on time
        assert runs.get("f", first.id).to_json()["error"] == "stopped by the test"
        with pytest.raises(NotFound):
            runs.get("g", first.id)  # a run is found only under its own function
        with pytest.raises(InvalidParameter):
            runs.start("f", {"memory": "1"}, ("k", "s"))
        again = runs.start("f", {"memory": "128"}, ("k", "s"))  # once finished, a new run may start
        assert runs.latest("f") is again

    asyncio.run(scenario())
