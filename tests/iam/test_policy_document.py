"""Unit tests of the policy document checks and the trust question Lambda asks (no server)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lamina.errors import ServiceFault
from lamina.services.iam import policy_document
from lamina.services.iam.aws_managed import managed_policies


def _trust(principal: object, effect: str = "Allow", **extra: object) -> str:
    statement = {"Effect": effect, "Principal": principal, "Action": "sts:AssumeRole", **extra}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_trust_policy_rules() -> None:
    old = json.dumps({"Version": "2008-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "sts:*"}})
    policy_document.check_trust_policy(old)  # 2008-10-17 and a single statement object are fine in a trust policy
    with pytest.raises(ServiceFault, match="Missing required field Principal"):
        policy_document.check_trust_policy(
            json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]})
        )
    with pytest.raises(ServiceFault, match='Invalid principal in policy: "AWS":"someone"'):
        policy_document.check_trust_policy(_trust({"AWS": "someone"}))
    with pytest.raises(ServiceFault, match=r"Syntax errors in policy\."):
        policy_document.check_trust_policy(_trust({"Nobody": "x"}))


def test_identity_policy_rules() -> None:
    ok: dict[str, Any] = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
    policy_document.check_identity_policy(json.dumps(ok))
    twice = {**ok, "Statement": ok["Statement"] * 2}
    with pytest.raises(ServiceFault, match=r"Statement IDs \(SID\) in a single policy must be unique."):
        policy_document.check_identity_policy(json.dumps(twice))
    region = {**ok, "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "arn:aws:iam:us-east-1::role/x"}]}
    with pytest.raises(ServiceFault, match="IAM resource arn:aws:iam:us-east-1::role/x cannot contain region"):
        policy_document.check_identity_policy(json.dumps(region))
    extra = {**ok, "Other": 1}
    with pytest.raises(ServiceFault) as bad:
        policy_document.check_identity_policy(json.dumps(extra))
    assert (bad.value.code, bad.value.message, bad.value.status) == (
        "MalformedPolicyDocument",
        "Syntax errors in policy.",
        400,
    )


@pytest.mark.parametrize(
    ("text", "trusted"),
    [
        (_trust({"Service": "lambda.amazonaws.com"}), True),
        (_trust({"Service": ["edgelambda.amazonaws.com", "lambda.amazonaws.com"]}), True),
        (_trust({"Service": "ec2.amazonaws.com"}), False),
        (_trust({"AWS": "arn:aws:iam::000000000000:root"}), False),
        (_trust({"Service": "lambda.amazonaws.com"}, effect="Deny"), False),
        (_trust({"Service": "lambda.amazonaws.com"}, Condition={"StringEquals": {"aws:SourceAccount": "1"}}), False),
    ],
)
def test_trusts_lambda(text: str, trusted: bool) -> None:
    assert policy_document.trusts_service(json.loads(text), "lambda.amazonaws.com") is trusted


def test_vendored_managed_policies_are_valid() -> None:
    for arn, policy in managed_policies().items():
        assert arn == f"arn:aws:iam::aws:policy{policy['Path']}{policy['PolicyName']}"
        policy_document.check_identity_policy(policy["Versions"]["v1"]["Document"])
        assert policy["PolicyId"].startswith("ANPA") and len(policy["PolicyId"]) == 21


def test_version_may_be_absent_without_policy_variables() -> None:
    """SAM's policy templates emit statements with no Version; IAM accepts them."""
    policy_document.check_identity_policy('{"Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}')
