"""The URL config API through boto3 and the aws CLI: lifecycle, the errors AWS recorded
(tests/conformance/aws-recorded, TestLambdaUrl), listing, deletion with the function, and restarts."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws_cli import AWS, cli_environment
from tests.conftest import make_zip
from tests.elbv2.conftest import http_call
from tests.function_urls.conftest import Url, host_of
from tests.server import ROLE, LaminaProcess

URL = re.compile(r"^http://[a-z0-9]{32}\.lambda-url\.us-east-1\.localhost:\d+/$")
PATTERN = "((?!^\\d+$)^[0-9a-zA-Z-_]+$)"


def _error(call: Callable[..., Any], **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call(**params)
    return {
        "Code": info.value.response["Error"]["Code"],
        "Message": info.value.response["Error"]["Message"],
        "Status": info.value.response["ResponseMetadata"]["HTTPStatusCode"],
    }


def test_lifecycle_matches_aws(lambda_client: Any, make_url: Callable[..., Url]) -> None:
    url = make_url()
    assert URL.match(url.url)
    got = lambda_client.get_function_url_config(FunctionName=url.function)
    assert got["FunctionUrl"] == url.url and got["AuthType"] == "NONE" and got["InvokeMode"] == "BUFFERED"
    assert got["FunctionArn"].endswith(f":function:{url.function}")
    assert "Cors" not in got and got["CreationTime"].endswith("+0000")
    duplicate = _error(lambda_client.create_function_url_config, FunctionName=url.function, AuthType="NONE")
    assert duplicate == {
        "Code": "ResourceConflictException",
        "Message": f"Failed to create function url config for [functionArn = {got['FunctionArn']}]. "
        "Error message:  FunctionUrlConfig exists for this Lambda function",
        "Status": 409,
    }
    updated = lambda_client.update_function_url_config(
        FunctionName=url.function, AuthType="AWS_IAM", Cors={"AllowOrigins": ["*"]}, InvokeMode="RESPONSE_STREAM"
    )
    assert updated["AuthType"] == "AWS_IAM" and updated["FunctionUrl"] == url.url
    assert updated["Cors"]["AllowOrigins"] == ["*"] and updated["InvokeMode"] == "RESPONSE_STREAM"
    assert "ResponseMetadata" in updated and updated["ResponseMetadata"]["HTTPStatusCode"] == 200
    config = lambda_client.get_function(FunctionName=url.function)["Configuration"]
    assert "FunctionUrl" not in json.dumps(config)
    deleted = lambda_client.delete_function_url_config(FunctionName=url.function)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    gone = _error(lambda_client.get_function_url_config, FunctionName=url.function)
    assert gone == {
        "Code": "ResourceNotFoundException",
        "Message": "The resource you requested does not exist.",
        "Status": 404,
    }


def test_qualifiers_and_missing_things_give_aws_errors(lambda_client: Any, make_url: Callable[..., Url]) -> None:
    url = make_url()
    version = lambda_client.publish_version(FunctionName=url.function)["Version"]
    lambda_client.create_alias(FunctionName=url.function, Name="live", FunctionVersion=version)
    for qualifier in (version, "$LATEST"):
        for call in (lambda_client.create_function_url_config, lambda_client.get_function_url_config):
            params: dict[str, Any] = {"FunctionName": url.function, "Qualifier": qualifier}
            if call == lambda_client.create_function_url_config:
                params["AuthType"] = "NONE"
            error = _error(call, **params)
            assert error["Code"] == "ValidationException" and error["Status"] == 400
            assert error["Message"] == (
                f"1 validation error detected: Value '{qualifier}' at 'qualifier' failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: {PATTERN}"
            )
    missing = _error(lambda_client.create_function_url_config, FunctionName="no-such-fn", AuthType="NONE")
    assert missing == {"Code": "ResourceNotFoundException", "Message": "Function does not exist", "Status": 404}
    no_alias = _error(
        lambda_client.create_function_url_config, FunctionName=url.function, Qualifier="nope", AuthType="NONE"
    )
    assert no_alias["Message"] == "Function does not exist"
    mismatch = _error(lambda_client.get_function_url_config, FunctionName=f"{url.function}:live", Qualifier="other")
    assert mismatch["Code"] == "InvalidParameterValueException" and mismatch["Status"] == 400
    not_there = _error(lambda_client.update_function_url_config, FunctionName="no-such-fn", AuthType="NONE")
    assert not_there["Message"] == "Function does not exist"
    aliased = lambda_client.create_function_url_config(FunctionName=url.function, Qualifier="live", AuthType="NONE")
    assert aliased["FunctionArn"].endswith(f":function:{url.function}:live")
    assert aliased["FunctionUrl"] != url.url
    listed = lambda_client.list_function_url_configs(FunctionName=url.function)["FunctionUrlConfigs"]
    assert [c["FunctionUrl"] for c in listed] == [url.url, aliased["FunctionUrl"]]
    page = lambda_client.list_function_url_configs(FunctionName=url.function, MaxItems=1)
    assert len(page["FunctionUrlConfigs"]) == 1 and page["NextMarker"]
    rest = lambda_client.list_function_url_configs(FunctionName=url.function, Marker=page["NextMarker"])
    assert [c["FunctionUrl"] for c in rest["FunctionUrlConfigs"]] == [aliased["FunctionUrl"]]
    lambda_client.delete_function_url_config(FunctionName=url.function)  # the alias's URL stays
    assert lambda_client.get_function_url_config(FunctionName=url.function, Qualifier="live")["AuthType"] == "NONE"


def test_invalid_invoke_mode_is_a_validation_error(lambda_client: Any, make_url: Callable[..., Url]) -> None:
    url = make_url()
    error = _error(
        lambda_client.update_function_url_config, FunctionName=url.function, AuthType="NONE", InvokeMode="UNKNOWN"
    )
    assert error["Message"] == (
        "1 validation error detected: Value 'UNKNOWN' at 'invokeMode' failed to satisfy constraint: "
        "Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]"
    )


def test_delete_function_removes_its_url_configs(lambda_client: Any, make_url: Callable[..., Url], port: int) -> None:
    url = make_url()
    lambda_client.delete_function(FunctionName=url.function)
    assert http_call(port, url.host, "GET", "/").status == 403  # AWS: no such URL
    lambda_client.create_function(
        FunctionName=url.function,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip()},
    )
    assert _error(lambda_client.get_function_url_config, FunctionName=url.function)["Status"] == 404


@pytest.mark.slow
def test_url_configs_and_ids_survive_a_restart(fresh_lamina: Callable[..., LaminaProcess], tmp_path: Path) -> None:
    server = fresh_lamina(data_dir=tmp_path / "data")
    client = server.client("lambda")
    client.create_function(
        FunctionName="kept", Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": make_zip()}
    )
    created = client.create_function_url_config(FunctionName="kept", AuthType="NONE", Cors={"MaxAge": 60})
    client.add_permission(
        FunctionName="kept",
        StatementId="url",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    url_id = host_of(created["FunctionUrl"]).split(".")[0]
    server.stop()
    again = fresh_lamina(data_dir=tmp_path / "data")
    got = again.client("lambda").get_function_url_config(FunctionName="kept")
    assert host_of(got["FunctionUrl"]).split(".")[0] == url_id and got["Cors"] == {"MaxAge": 60}
    answer = http_call(again.port, host_of(got["FunctionUrl"]), "GET", "/x", None)
    assert answer.status == 200 and json.loads(answer.body)["rawPath"] == "/x"


def test_aws_cli_flow(lamina: LaminaProcess, make_url: Callable[..., Url], tmp_path: Path) -> None:
    url = make_url()
    env = cli_environment(tmp_path)
    endpoint = ["--endpoint-url", f"http://127.0.0.1:{lamina.port}"]
    out = subprocess.run(
        [str(AWS), "lambda", "get-function-url-config", "--function-name", url.function, *endpoint],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout)["FunctionUrl"] == url.url
    listed = subprocess.run(
        [str(AWS), "lambda", "list-function-url-configs", "--function-name", url.function, *endpoint],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert [c["AuthType"] for c in json.loads(listed.stdout)["FunctionUrlConfigs"]] == ["NONE"]
    deleted = subprocess.run(
        [str(AWS), "lambda", "delete-function-url-config", "--function-name", url.function, *endpoint],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert deleted.returncode == 0, deleted.stderr
    assert http_call(lamina.port, url.host, "GET", "/").status == 403  # AWS: no such URL
