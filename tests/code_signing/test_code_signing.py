"""Code signing configs through boto3 and the aws CLI against a real `lamina serve`: the deployment check
(Enforce refuses an unsigned package, Warn deploys it and logs), paging, conflicts, durability over kill -9.
The recorded AWS entries (TestCodeSigningConfig::*) are replayed in tests/conformance."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws_cli import AWS, cli_environment
from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess

PUBLISHER = "arn:aws:signer:us-east-1:000000000000:/signing-profiles/test/abcdef0123"
UNTRUSTED = (
    "Lambda cannot deploy the function. The function or layer might be signed using a signature that the client "
    "is not configured to accept. Check the provided signature for {name}."
)


def function_args(name: str, tag: str = "v1", **extra: Any) -> dict[str, Any]:
    code = make_zip({"app.py": f"def handler(e, c):\n    return {tag!r}\n"})
    return {"FunctionName": name, "Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler",
            "Code": {"ZipFile": code}, **extra}  # fmt: skip


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def csc(lambda_client: Any) -> Iterator[Callable[[str], str]]:
    """Creates configs with one trusted publisher; deletes them (and what uses them) after the test."""
    made: list[str] = []

    def create(policy: str) -> str:
        arn: str = lambda_client.create_code_signing_config(
            AllowedPublishers={"SigningProfileVersionArns": [PUBLISHER]},
            CodeSigningPolicies={"UntrustedArtifactOnDeployment": policy},
        )["CodeSigningConfig"]["CodeSigningConfigArn"]
        made.append(arn)
        return arn

    yield create
    for arn in made:
        for fn in lambda_client.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"]:
            lambda_client.delete_function(FunctionName=fn)
        lambda_client.delete_code_signing_config(CodeSigningConfigArn=arn)


def name() -> str:
    return f"csc-{uuid.uuid4().hex[:12]}"


def test_create_answers_the_config_with_defaults(lambda_client: Any) -> None:
    created = lambda_client.create_code_signing_config(AllowedPublishers={"SigningProfileVersionArns": [PUBLISHER]})
    config = created["CodeSigningConfig"]
    try:
        assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
        assert config["CodeSigningConfigId"].startswith("csc-") and len(config["CodeSigningConfigId"]) == 21
        assert config["CodeSigningConfigArn"] == (
            f"arn:aws:lambda:us-east-1:000000000000:code-signing-config:{config['CodeSigningConfigId']}"
        )
        assert config["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Warn"}  # AWS's default
        assert config["Description"] == ""
        got = lambda_client.get_code_signing_config(CodeSigningConfigArn=config["CodeSigningConfigArn"])
        assert got["CodeSigningConfig"] == config
    finally:
        lambda_client.delete_code_signing_config(CodeSigningConfigArn=config["CodeSigningConfigArn"])


def test_enforce_refuses_an_unsigned_package_on_create(lambda_client: Any, csc: Callable[[str], str]) -> None:
    arn, fn = csc("Enforce"), name()
    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_function(**function_args(fn, CodeSigningConfigArn=arn))
    assert error(excinfo) == ("CodeVerificationFailedException", UNTRUSTED.format(name=fn), 400)
    assert excinfo.value.response["Type"] == "User"
    with pytest.raises(ClientError) as missing:  # nothing was created
        lambda_client.get_function(FunctionName=fn)
    assert error(missing)[0] == "ResourceNotFoundException"


def test_enforce_refuses_an_unsigned_code_update(lambda_client: Any, csc: Callable[[str], str]) -> None:
    fn = name()
    lambda_client.create_function(**function_args(fn))
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=fn, WaiterConfig={"Delay": 0.2})
    before = lambda_client.get_function_configuration(FunctionName=fn)["CodeSha256"]
    arn = csc("Enforce")
    lambda_client.put_function_code_signing_config(FunctionName=fn, CodeSigningConfigArn=arn)
    # The code it already runs keeps running: a config only checks new deployments.
    assert lambda_client.invoke(FunctionName=fn)["Payload"].read() == b'"v1"'
    with pytest.raises(ClientError) as excinfo:
        lambda_client.update_function_code(FunctionName=fn, ZipFile=function_args(fn, "v2")["Code"]["ZipFile"])
    assert error(excinfo) == ("CodeVerificationFailedException", UNTRUSTED.format(name=fn), 400)
    assert lambda_client.get_function_configuration(FunctionName=fn)["CodeSha256"] == before
    # Switched to Warn, the same update deploys.
    lambda_client.update_code_signing_config(
        CodeSigningConfigArn=arn, CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Warn"}
    )
    lambda_client.update_function_code(FunctionName=fn, ZipFile=function_args(fn, "v2")["Code"]["ZipFile"])
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=fn, WaiterConfig={"Delay": 0.2})
    assert lambda_client.invoke(FunctionName=fn)["Payload"].read() == b'"v2"'


def test_warn_deploys_and_logs(lamina: LaminaProcess, lambda_client: Any, csc: Callable[[str], str]) -> None:
    arn, fn = csc("Warn"), name()
    lambda_client.create_function(**function_args(fn, CodeSigningConfigArn=arn))
    got = lambda_client.get_function_code_signing_config(FunctionName=fn)
    assert (got["CodeSigningConfigArn"], got["FunctionName"]) == (arn, fn)
    assert lambda_client.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"] == [
        f"arn:aws:lambda:us-east-1:000000000000:function:{fn}"
    ]
    deadline = time.monotonic() + 10
    while not any("code signing" in line and fn in line for line in lamina.output) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any("WARNING" in line and "code signing" in line and fn in line for line in lamina.output)


def test_create_naming_a_missing_config_is_refused(lambda_client: Any, csc: Callable[[str], str]) -> None:
    arn, fn = csc("Warn"), name()
    missing = arn[:-1] + ("0" if arn[-1] != "0" else "1")
    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_function(**function_args(fn, CodeSigningConfigArn=missing))
    code, message, status = error(excinfo)
    assert (code, status) == ("CodeSigningConfigNotFoundException", 404)
    assert message.endswith(f"not deleted: {missing}.")


def test_a_config_in_use_cannot_be_deleted(lambda_client: Any, csc: Callable[[str], str]) -> None:
    arn, fn = csc("Warn"), name()
    lambda_client.create_function(**function_args(fn, CodeSigningConfigArn=arn))
    with pytest.raises(ClientError) as excinfo:
        lambda_client.delete_code_signing_config(CodeSigningConfigArn=arn)
    assert error(excinfo)[::2] == ("ResourceConflictException", 409)
    lambda_client.delete_function(FunctionName=fn)  # deleting the function frees the config
    assert lambda_client.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"] == []


def test_listing_pages_with_markers(lambda_client: Any, csc: Callable[[str], str]) -> None:
    mine = {csc("Warn") for _ in range(3)}
    pages = list(lambda_client.get_paginator("list_code_signing_configs").paginate(PaginationConfig={"PageSize": 1}))
    assert all(len(p["CodeSigningConfigs"]) <= 1 for p in pages)
    listed = [c["CodeSigningConfigArn"] for p in pages for c in p["CodeSigningConfigs"]]
    assert mine <= set(listed) and len(listed) == len(set(listed))


def test_bad_input_is_refused_and_changes_nothing(lambda_client: Any) -> None:
    before = lambda_client.list_code_signing_configs()["CodeSigningConfigs"]
    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_code_signing_config(
            AllowedPublishers={"SigningProfileVersionArns": [PUBLISHER]},
            CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Sometimes"},
        )
    code, message, status = error(excinfo)
    assert (code, status) == ("ValidationException", 400)
    assert "Member must satisfy enum value set: [Warn, Enforce]" in message
    assert lambda_client.list_code_signing_configs()["CodeSigningConfigs"] == before


def test_aws_cli(lamina: LaminaProcess, tmp_path: Path, lambda_client: Any) -> None:
    env = cli_environment(tmp_path)

    def aws(*args: str) -> Any:
        command = [str(AWS), "--endpoint-url", lamina.url, "lambda", *args]
        out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
        return json.loads(out) if out.strip() else None

    created = aws(
        "create-code-signing-config",
        "--allowed-publishers", f"SigningProfileVersionArns={PUBLISHER}",
        "--code-signing-policies", "UntrustedArtifactOnDeployment=Enforce",
    )  # fmt: skip
    arn = created["CodeSigningConfig"]["CodeSigningConfigArn"]
    try:
        assert (
            aws("get-code-signing-config", "--code-signing-config-arn", arn)["CodeSigningConfig"]
            == (created["CodeSigningConfig"])
        )
    finally:
        aws("delete-code-signing-config", "--code-signing-config-arn", arn)
    with pytest.raises(ClientError):
        lambda_client.get_code_signing_config(CodeSigningConfigArn=arn)


@pytest.mark.slow
def test_configs_and_bindings_survive_kill_9(fresh_lamina: Callable[..., LaminaProcess]) -> None:
    server = fresh_lamina()
    client = server.client()
    arn = client.create_code_signing_config(
        AllowedPublishers={"SigningProfileVersionArns": [PUBLISHER]},
        CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Warn"},
        Description="kept",
    )["CodeSigningConfig"]["CodeSigningConfigArn"]
    fn = name()
    client.create_function(**function_args(fn, CodeSigningConfigArn=arn))
    client.update_code_signing_config(
        CodeSigningConfigArn=arn, CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Enforce"}
    )
    server.kill()
    client = fresh_lamina(data_dir=server.data_dir).client()
    config = client.get_code_signing_config(CodeSigningConfigArn=arn)["CodeSigningConfig"]
    assert (config["Description"], config["CodeSigningPolicies"]["UntrustedArtifactOnDeployment"]) == (
        "kept",
        "Enforce",
    )
    assert client.get_function_code_signing_config(FunctionName=fn)["CodeSigningConfigArn"] == arn
    client.get_waiter("function_active_v2").wait(FunctionName=fn, WaiterConfig={"Delay": 0.2})
    with pytest.raises(ClientError) as excinfo:
        client.update_function_code(FunctionName=fn, ZipFile=function_args(fn, "v2")["Code"]["ZipFile"])
    assert error(excinfo)[0] == "CodeVerificationFailedException"
    client.delete_function_code_signing_config(FunctionName=fn)
    assert "CodeSigningConfigArn" not in client.get_function_code_signing_config(FunctionName=fn)
