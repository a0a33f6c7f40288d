"""IAM's state survives kill -9: roles, their policies and customer managed policies are committed before the
answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.iam.conftest import BASIC, LAMBDA_TRUST, document
from tests.server import LaminaProcess


def test_roles_and_policies_survive_kill(fresh_lamina: Callable[..., LaminaProcess]) -> None:
    server = fresh_lamina()
    iam = server.client("iam")
    iam.create_role(RoleName="kept", AssumeRolePolicyDocument=LAMBDA_TRUST, MaxSessionDuration=7200)
    iam.put_role_policy(RoleName="kept", PolicyName="inline", PolicyDocument=document("sqs:*"))
    iam.attach_role_policy(RoleName="kept", PolicyArn=BASIC)
    arn = iam.create_policy(PolicyName="kept-policy", PolicyDocument=document("sns:*"))["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=document("sns:Publish"), SetAsDefault=True)
    server.kill()
    again = fresh_lamina(data_dir=server.data_dir)
    iam = again.client("iam")
    role: dict[str, Any] = iam.get_role(RoleName="kept")["Role"]
    assert role["MaxSessionDuration"] == 7200
    assert iam.get_role_policy(RoleName="kept", PolicyName="inline")["PolicyDocument"] == json.loads(document("sqs:*"))
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="kept")["AttachedPolicies"]] == [BASIC]
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert policy["DefaultVersionId"] == "v2"
    assert policy["AttachmentCount"] == 0
