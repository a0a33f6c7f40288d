"""Fixtures for the conformance suite and its summary ("conformance: N of M recorded responses match")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conformance import coverage
from tests.conformance.snapshot import API_FILE, RECORDED, RESULTS, UPSTREAM_PREFIX
from tests.server import LaminaProcess


@pytest.fixture(scope="session")
def slow_lamina(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LaminaProcess]:
    """A server whose functions stay Pending / InProgress for a second, as on AWS, so the recordings'
    intermediate states (and the 409 for an update during an update) are observable."""
    server = LaminaProcess(tmp_path_factory.mktemp("lamina-slow"), "--state-transition-delay", "1.0").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def slow_client(slow_lamina: LaminaProcess) -> Any:
    return slow_lamina.client()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not RESULTS:
        return
    write = terminalreporter.write_line
    matched = sum(r.status == "match" for r in RESULTS)
    known = sum(r.status == "known" for r in RESULTS)
    entries = {r.entry for r in RESULTS}
    terminalreporter.section("conformance (recorded AWS responses)")
    write(
        f"conformance: {matched} of {len(RESULTS)} recorded responses match "
        f"({known} more only with known differences; {len(entries)} entries replayed)"
    )
    for r in RESULTS:
        if r.status == "known":
            write(f"  known difference -- {r.entry} :: {r.name} ({r.known})")
    for r in RESULTS:
        if r.status == "mismatch":
            write(f"  MISMATCH -- {r.entry} :: {r.name}")
            for line in r.diff.splitlines():
                write(f"      {line}")
    from tests.conformance.test_lambda_api import SCENARIOS

    recorded = json.loads((RECORDED / API_FILE).read_text())
    missing = [k.removeprefix(UPSTREAM_PREFIX) for k in recorded if k.removeprefix(UPSTREAM_PREFIX) not in SCENARIOS]
    write(f"not covered: {len(missing)} of {len(recorded)} entries in {API_FILE}")
    by_reason: dict[str, list[str]] = {}
    for test_id in missing:
        by_reason.setdefault(coverage.reason(test_id), []).append(test_id)
    for reason, ids in sorted(by_reason.items()):
        write(f"  {reason}: {len(ids)}")
        for test_id in ids:
            write(f"      {test_id}")
