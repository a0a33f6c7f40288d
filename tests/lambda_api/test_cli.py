"""The unmodified aws CLI (`aws lambda …`) against a real Lamina server."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess

AWS = str(Path(sys.executable).parent / "aws")

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def aws(lamina: LaminaProcess, tmp_path: Path) -> Cli:
    """Runs `aws --endpoint-url … lambda <args>` with no dependency on ~/.aws."""
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_OUTPUT": "json",
        "AWS_PAGER": "",
        "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials"),
        "AWS_MAX_ATTEMPTS": "1",
    }

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [AWS, "--endpoint-url", lamina.url, "--region", "us-east-1", "lambda", *args]
        result = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=120)
        if check:
            assert result.returncode == 0, f"{' '.join(args)} -> {result.returncode}\n{result.stderr}"
        return result

    return run


def out(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout) if result.stdout.strip() else None


@pytest.fixture
def cleanup(lambda_client: Any) -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        try:
            lambda_client.delete_function(FunctionName=name)
        except lambda_client.exceptions.ResourceNotFoundException:
            pass


@pytest.mark.slow
def test_function_lifecycle_through_cli(aws: Cli, tmp_path: Path, cleanup: list[str]) -> None:
    name = f"cli-{uuid.uuid4().hex[:10]}"
    cleanup.append(name)
    package = tmp_path / "fn.zip"
    package.write_bytes(make_zip())
    digest = base64.b64encode(hashlib.sha256(package.read_bytes()).digest()).decode()

    created = out(
        aws(
            "create-function",
            "--function-name", name,
            "--runtime", "python3.12",
            "--role", ROLE,
            "--handler", "app.handler",
            "--zip-file", f"fileb://{package}",
            "--description", "made by the aws cli",
            "--environment", "Variables={STAGE=cli}",
            "--tags", "team=cli",
        )
    )  # fmt: skip
    assert created["FunctionName"] == name
    assert created["CodeSha256"] == digest
    assert created["State"] in ("Pending", "Active")

    aws("wait", "function-active-v2", "--function-name", name)

    got = out(aws("get-function", "--function-name", name))
    assert got["Configuration"]["State"] == "Active"
    assert got["Configuration"]["Environment"] == {"Variables": {"STAGE": "cli"}}
    assert got["Tags"] == {"team": "cli"}
    assert got["Code"]["RepositoryType"] == "S3"

    config = out(aws("get-function-configuration", "--function-name", name))
    assert config["Description"] == "made by the aws cli"
    assert config["LastUpdateStatus"] == "Successful"

    listed = out(aws("list-functions"))
    assert name in [f["FunctionName"] for f in listed["Functions"]]

    updated = out(
        aws(
            "update-function-configuration",
            "--function-name", name,
            "--memory-size", "512",
            "--timeout", "30",
            "--environment", "Variables={STAGE=prod,EXTRA=1}",
        )
    )  # fmt: skip
    assert updated["MemorySize"] == 512
    aws("wait", "function-updated-v2", "--function-name", name)
    config = out(aws("get-function-configuration", "--function-name", name))
    assert (config["MemorySize"], config["Timeout"], config["LastUpdateStatus"]) == (512, 30, "Successful")
    assert config["Environment"]["Variables"] == {"STAGE": "prod", "EXTRA": "1"}

    new_package = tmp_path / "fn2.zip"
    new_package.write_bytes(make_zip({"app.py": "def handler(event, context):\n    return 2\n"}))
    new_digest = base64.b64encode(hashlib.sha256(new_package.read_bytes()).digest()).decode()
    code = out(aws("update-function-code", "--function-name", name, "--zip-file", f"fileb://{new_package}"))
    assert code["CodeSha256"] == new_digest
    aws("wait", "function-updated-v2", "--function-name", name)
    assert out(aws("get-function", "--function-name", name))["Configuration"]["CodeSha256"] == new_digest

    arn = config["FunctionArn"]
    assert aws("tag-resource", "--resource", arn, "--tags", "a=1,b=2").stdout.strip() == ""
    assert out(aws("list-tags", "--resource", arn))["Tags"] == {"team": "cli", "a": "1", "b": "2"}
    aws("untag-resource", "--resource", arn, "--tag-keys", "a", "team")
    assert out(aws("list-tags", "--resource", arn))["Tags"] == {"b": "2"}

    settings = out(aws("get-account-settings"))
    assert settings["AccountLimit"]["CodeSizeZipped"] == 52428800
    assert settings["AccountUsage"]["FunctionCount"] >= 1

    deleted = aws("delete-function", "--function-name", name)
    assert out(deleted) in (None, {"StatusCode": 204})  # the current model maps the 204 to StatusCode
    missing = aws("get-function", "--function-name", name, check=False)
    assert missing.returncode in (254, 255)
    assert "ResourceNotFoundException" in missing.stderr


def test_missing_function_error(aws: Cli) -> None:
    result = aws("get-function", "--function-name", f"cli-missing-{uuid.uuid4().hex[:8]}", check=False)
    assert result.returncode in (254, 255), result
    assert "An error occurred (ResourceNotFoundException) when calling the GetFunction operation" in result.stderr
    assert "Function not found" in result.stderr
    assert result.stdout == ""


def test_invalid_parameter_error(aws: Cli, tmp_path: Path) -> None:
    package = tmp_path / "fn.zip"
    package.write_bytes(make_zip())
    result = aws(
        "create-function",
        "--function-name", f"cli-bad-{uuid.uuid4().hex[:8]}",
        "--runtime", "python0.1",
        "--role", ROLE,
        "--handler", "app.handler",
        "--zip-file", f"fileb://{package}",
        check=False,
    )  # fmt: skip
    assert result.returncode in (254, 255), result
    assert "(InvalidParameterValueException) when calling the CreateFunction operation" in result.stderr
    assert "python0.1" in result.stderr


@pytest.mark.slow
def test_list_functions_paginates_over_55(aws: Cli, lamina: LaminaProcess, cleanup: list[str]) -> None:
    prefix = f"cli-page-{uuid.uuid4().hex[:6]}"
    names = [f"{prefix}-{i:02d}" for i in range(55)]
    cleanup.extend(names)
    package = make_zip()

    def create(name: str) -> None:
        lamina.client().create_function(
            FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": package}
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, names))

    # The CLI follows NextMarker itself: every function comes back in one output.
    everything = out(aws("list-functions"))
    mine = sorted(f["FunctionName"] for f in everything["Functions"] if f["FunctionName"].startswith(prefix))
    assert mine == names
    assert "NextMarker" not in everything

    # --max-items pages through NextToken, and the pages add up to all 55 without repeats.
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        args = ["list-functions", "--max-items", "20"] + (["--starting-token", token] if token else [])
        page = out(aws(*args))
        pages += 1
        assert len(page["Functions"]) <= 20
        seen.extend(f["FunctionName"] for f in page["Functions"])
        token = page.get("NextToken")
        if not token:
            break
        assert pages < 100
    assert len(seen) == len(set(seen))
    assert sorted(n for n in seen if n.startswith(prefix)) == names
    assert pages >= 3

    # --page-size makes the CLI ask for small pages (MaxItems on the wire) and still get everything.
    small = out(aws("list-functions", "--page-size", "7"))
    assert sorted(f["FunctionName"] for f in small["Functions"] if f["FunctionName"].startswith(prefix)) == names
