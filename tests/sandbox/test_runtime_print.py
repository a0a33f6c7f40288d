"""The runtime's print(): the builtin's output, in one write per call (each write to the unbuffered stdout is a
syscall and a wake-up of the platform's log reader)."""

from __future__ import annotations

import builtins
import io

import pytest

from lamina.sandbox.runtimes.lamina_runtime.bootstrap import _print


class Recording(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.flushes = 0

    def write(self, s: str) -> int:
        self.writes += 1
        return super().write(s)

    def flush(self) -> None:
        self.flushes += 1


CASES: list[tuple[tuple[object, ...], dict[str, object]]] = [
    (("order placed", 1), {}),
    ((), {}),
    (("a", "b", 3.5, None), {"sep": ", ", "end": "!\n"}),
    (("x",), {"sep": None, "end": None}),
    (("no newline",), {"end": ""}),
    (("x", "y"), {"sep": ""}),
    (("flushed",), {"flush": True}),
]


@pytest.mark.parametrize(("args", "kwargs"), CASES)
def test_same_text_as_the_builtin_in_one_write(args: tuple[object, ...], kwargs: dict[str, object]) -> None:
    builtin, ours = Recording(), Recording()
    builtins.print(*args, file=builtin, **kwargs)  # type: ignore[call-overload]
    _print(*args, file=ours, **kwargs)  # type: ignore[arg-type]
    assert ours.getvalue() == builtin.getvalue()
    assert ours.writes == 1
    assert ours.flushes == builtin.flushes


@pytest.mark.parametrize("bad", [{"sep": 1}, {"end": b"\n"}])
def test_bad_sep_or_end_raise_as_the_builtin_does(bad: dict[str, object]) -> None:
    with pytest.raises(TypeError) as builtin:
        builtins.print("x", file=io.StringIO(), **bad)  # type: ignore[call-overload]
    out = io.StringIO()
    with pytest.raises(TypeError) as ours:
        _print("x", file=out, **bad)  # type: ignore[arg-type]
    assert str(ours.value) == str(builtin.value)
    assert out.getvalue() == ""
