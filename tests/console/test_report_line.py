from __future__ import annotations

from lamina.console.report_line import report_figures


def test_figures_of_the_last_report_line() -> None:
    tail = (
        "START RequestId: a Version: $LATEST\nEND RequestId: a\n"
        "REPORT RequestId: a\tDuration: 1.00 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 9 MB\t\n"
        "REPORT RequestId: b\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\t"
        "Max Memory Used: 40 MB\tInit Duration: 80.12 ms\t\n"
    )
    assert report_figures(tail) == {
        "duration": 12.34,
        "billedDuration": 13.0,
        "memorySize": 256.0,
        "maxMemoryUsed": 40.0,
        "initDuration": 80.12,
    }


def test_no_report_line_no_figures() -> None:
    assert report_figures("START RequestId: a\n") == {}
