"""The aws CLI sets a function's RecursiveLoop, and the loop then runs past 16 hops."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.aws_cli import AWS, json_runner
from tests.recursion.test_loops import drain, sqs_loop, tally_settles
from tests.server import LaminaProcess


@pytest.mark.skipif(not AWS.exists(), reason="the aws CLI is not installed in this environment")
def test_cli_allow_lets_an_sqs_loop_continue(
    tmp_path: Path, lamina: LaminaProcess, sqs: Any, lambda_client: Any, make_queue: Any, make_function: Any,
    mappings: list[str],
) -> None:  # fmt: skip
    aws = json_runner(tmp_path, lamina.url)

    def allow(fn: str) -> None:
        assert aws("lambda", "get-function-recursion-config", "--function-name", fn) == {"RecursiveLoop": "Terminate"}
        put = aws("lambda", "put-function-recursion-config", "--function-name", fn, "--recursive-loop", "Allow")
        assert put == {"RecursiveLoop": "Allow"}

    _, _, tally_url, dlq_url = sqs_loop(
        sqs, lambda_client, make_queue, make_function, mappings, limit=20, configure=allow
    )
    assert tally_settles(sqs, tally_url, 20) == list(range(1, 21))
    assert drain(sqs, dlq_url) == []
