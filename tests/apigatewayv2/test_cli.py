"""The aws CLI's quick create of an HTTP API, then a plain HTTP call through the execute-api door."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.apigatewayv2.conftest import grant
from tests.aws_cli import AWS, cli_environment
from tests.elbv2.conftest import http_call
from tests.server import LaminaProcess


@pytest.mark.slow
@pytest.mark.skipif(not AWS.exists(), reason="the aws CLI is not installed in this environment")
def test_cli_quick_create_then_call(
    tmp_path: Path, lamina: LaminaProcess, lambda_client: Any, make_function: Callable[..., str]
) -> None:
    env = cli_environment(tmp_path)

    def aws(*args: str) -> Any:
        done = subprocess.run(
            [str(AWS), "--endpoint-url", lamina.url, "apigatewayv2", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    function = make_function()
    api = aws("create-api", "--name", "cli", "--protocol-type", "HTTP", "--target", function)
    api_id = api["ApiId"]
    assert api["ApiEndpoint"].startswith(f"http://{api_id}.execute-api.localhost")
    (integration,) = aws("get-integrations", "--api-id", api_id)["Items"]
    assert integration["PayloadFormatVersion"] == "2.0"
    grant(lambda_client, function, api_id)
    answer = http_call(lamina.port, f"{api_id}.execute-api.localhost", "GET", "/hello?x=1")
    assert answer.status == 200, answer.body
    event = json.loads(answer.body)
    assert (event["version"], event["routeKey"], event["rawPath"]) == ("2.0", "$default", "/hello")
    assert event["queryStringParameters"] == {"x": "1"}
    aws("delete-api", "--api-id", api_id)
