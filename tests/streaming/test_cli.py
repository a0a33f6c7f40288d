"""The aws CLI and streaming functions. Neither CLI v1 (pinned in the dev extras) nor CLI v2 (checked with
2.36.12) offers `invoke-with-response-stream`: both leave out operations whose output is an event stream.
What the CLI can do is `aws lambda invoke` a streaming function, which answers with the whole body, as on AWS."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.aws_cli import AWS, cli_environment
from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess
from tests.streaming.test_invoke_with_response_stream import NODE_STREAMING


@pytest.mark.skipif(not AWS.exists(), reason="the aws CLI is not installed in this environment")
def test_cli_invoke_of_a_streaming_function_gets_the_whole_body(lamina: LaminaProcess, tmp_path: Path) -> None:
    name = f"cli-stream-{uuid.uuid4().hex[:10]}"
    zip_path = tmp_path / "function.zip"
    zip_path.write_bytes(make_zip({"index.js": NODE_STREAMING}))
    env = cli_environment(tmp_path)

    def aws(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(AWS), "--endpoint-url", lamina.url, "lambda", *args],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    created = aws(
        "create-function", "--function-name", name, "--runtime", "nodejs20.x", "--handler", "index.chunks",
        "--role", ROLE, "--zip-file", f"fileb://{zip_path}",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert aws("wait", "function-active-v2", "--function-name", name).returncode == 0
    out = tmp_path / "out.txt"
    invoked = aws("invoke", "--function-name", name, "--payload", '{"parts": ["one ", "two"]}', str(out))
    assert invoked.returncode == 0, invoked.stderr
    assert json.loads(invoked.stdout) == {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
    assert out.read_bytes() == b"one two"
    missing = aws("invoke-with-response-stream", "--function-name", name, str(out))
    assert missing.returncode != 0 and "invalid choice" in missing.stderr.lower()
    aws("delete-function", "--function-name", name)
