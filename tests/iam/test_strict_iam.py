"""`--strict-iam`: Lambda accepts only execution roles IAM has whose trust policy lets Lambda assume them,
answering AWS's InvalidParameterValueException otherwise; by default any role ARN is accepted. Functions get
their role's STS credentials: GetCallerIdentity inside a function names the assumed role."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_zip
from tests.iam.conftest import LAMBDA_TRUST
from tests.server import ROLE, LaminaProcess

MESSAGE = "The role defined for the function cannot be assumed by Lambda."
CALLER = "import boto3\n\ndef handler(event, context):\n    return boto3.client('sts').get_caller_identity()['Arn']\n"


def _create(client: Any, name: str, role: str) -> Any:
    return client.create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler", Code={"ZipFile": make_zip()}
    )


def test_strict_iam_role_checks(fresh_lamina: Callable[..., LaminaProcess]) -> None:
    server = fresh_lamina("--strict-iam")
    lam, iam = server.client(), server.client("iam")
    with pytest.raises(ClientError) as missing:
        _create(lam, "strict-fn", ROLE)
    response = missing.value.response
    assert response["Error"] == {"Code": "InvalidParameterValueException", "Message": MESSAGE}
    assert response["Type"] == "User"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError):
        lam.get_function(FunctionName="strict-fn")  # nothing was created
    not_for_lambda = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    ec2_role = iam.create_role(RoleName="ec2-only", AssumeRolePolicyDocument=not_for_lambda)["Role"]["Arn"]
    with pytest.raises(ClientError) as untrusted:
        _create(lam, "strict-fn", ec2_role)
    assert untrusted.value.response["Error"]["Message"] == MESSAGE
    good = iam.create_role(RoleName="lambda-exec", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
    assert _create(lam, "strict-fn", good)["Role"] == good
    with pytest.raises(ClientError) as update:
        lam.update_function_configuration(FunctionName="strict-fn", Role=ec2_role)
    assert update.value.response["Error"]["Message"] == MESSAGE
    assert lam.get_function_configuration(FunctionName="strict-fn")["Role"] == good
    with pytest.raises(ClientError) as gone:
        lam.update_function_configuration(FunctionName="no-such-fn", Role=ec2_role)
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_default_accepts_any_role(lambda_client: Any, create_function: Callable[..., Any]) -> None:
    name = f"fn-{uuid.uuid4().hex[:10]}"
    assert create_function(name, Role="arn:aws:iam::000000000000:role/not-in-iam")["Role"].endswith("/not-in-iam")


def test_function_credentials_are_its_roles(
    lambda_client: Any, create_function: Callable[..., Any], make_role: Callable[..., dict[str, Any]]
) -> None:
    role = make_role()
    name = f"fn-{uuid.uuid4().hex[:10]}"
    create_function(name, Role=role["Arn"], Code={"ZipFile": make_zip({"app.py": CALLER})}, Timeout=30)
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=name)
    answer = lambda_client.invoke(FunctionName=name)
    payload = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, payload
    assert payload == f"arn:aws:sts::000000000000:assumed-role/{role['RoleName']}/{name}"
