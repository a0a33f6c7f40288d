"""Policy evaluation from AWS's documented examples ("Policy evaluation logic", "IAM JSON policy elements")."""

from __future__ import annotations

from typing import Any

import pytest

from lamina.auth.policy_evaluation import Decision, Principal, evaluate, evaluate_resource_policy, known_operator

FN = "arn:aws:lambda:us-east-1:000000000000:function:orders"


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _decide(doc: dict[str, Any], action: str, resource: str, **context: Any) -> Decision:
    return evaluate([doc], action, resource, {k.lower(): v for k, v in context.items()})[0]


def test_default_is_implicit_deny() -> None:
    assert _decide(_doc(), "lambda:InvokeFunction", FN) is Decision.IMPLICIT_DENY


def test_explicit_deny_overrides_allow() -> None:
    allow = _doc({"Effect": "Allow", "Action": "lambda:*", "Resource": "*"})
    deny = _doc({"Effect": "Deny", "Action": "lambda:DeleteFunction", "Resource": FN})
    assert evaluate([allow, deny], "lambda:DeleteFunction", FN)[0] is Decision.EXPLICIT_DENY
    assert evaluate([allow, deny], "lambda:InvokeFunction", FN)[0] is Decision.ALLOW


def test_action_wildcards_are_case_insensitive_and_resources_are_not() -> None:
    doc = _doc({"Effect": "Allow", "Action": ["lambda:Get*", "sqs:Send?essage"], "Resource": "arn:aws:*:orders"})
    assert _decide(doc, "lambda:getfunction", FN) is Decision.ALLOW
    assert _decide(doc, "sqs:SendMessage", "arn:aws:sqs:us-east-1:000000000000:orders") is Decision.ALLOW
    assert _decide(doc, "lambda:InvokeFunction", FN) is Decision.IMPLICIT_DENY
    assert _decide(doc, "lambda:GetFunction", FN.replace("orders", "Orders")) is Decision.IMPLICIT_DENY


def test_not_action_and_not_resource() -> None:
    # AWS's example: allow everything except IAM
    doc = _doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert _decide(doc, "lambda:InvokeFunction", FN) is Decision.ALLOW
    assert _decide(doc, "iam:CreateUser", "*") is Decision.IMPLICIT_DENY
    deny = _doc({"Effect": "Deny", "Action": "lambda:*", "NotResource": FN})
    allow = _doc({"Effect": "Allow", "Action": "lambda:*", "Resource": "*"})
    assert evaluate([allow, deny], "lambda:InvokeFunction", FN)[0] is Decision.ALLOW
    assert evaluate([allow, deny], "lambda:InvokeFunction", FN + "2")[0] is Decision.EXPLICIT_DENY


def test_policy_variables_in_resources() -> None:
    doc = _doc({"Effect": "Allow", "Action": "iam:*AccessKey*", "Resource": "arn:aws:iam::*:user/${aws:username}"})
    mine, other = "arn:aws:iam::000000000000:user/alice", "arn:aws:iam::000000000000:user/bob"
    assert _decide(doc, "iam:CreateAccessKey", mine, **{"aws:username": "alice"}) is Decision.ALLOW
    assert _decide(doc, "iam:CreateAccessKey", other, **{"aws:username": "alice"}) is Decision.IMPLICIT_DENY


@pytest.mark.parametrize(
    ("condition", "context", "expected"),
    [
        ({"StringEquals": {"aws:SourceAccount": "000000000000"}}, {"aws:SourceAccount": "000000000000"}, True),
        ({"StringEquals": {"aws:SourceAccount": "000000000000"}}, {"aws:SourceAccount": "111111111111"}, False),
        ({"StringEquals": {"aws:SourceAccount": "000000000000"}}, {}, False),  # a missing key does not match
        ({"StringNotEquals": {"aws:SourceAccount": "000000000000"}}, {}, True),  # ... and satisfies a negation
        ({"StringEqualsIfExists": {"aws:SourceAccount": "0"}}, {}, True),
        (
            {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/dev-*"}},
            {"aws:PrincipalArn": "arn:aws:iam::000000000000:user/dev-ann"},
            True,
        ),
        ({"StringEqualsIgnoreCase": {"aws:username": "ALICE"}}, {"aws:username": "alice"}, True),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::bucket-*"}}, {"aws:SourceArn": "arn:aws:s3:::bucket-a"}, True),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::bucket-*"}}, {"aws:SourceArn": "arn:aws:sqs:::bucket-a"}, False),
        ({"ArnNotLike": {"aws:SourceArn": "arn:aws:s3:::x"}}, {"aws:SourceArn": "arn:aws:s3:::y"}, True),
        ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "false"}, True),
        ({"Bool": {"aws:SecureTransport": True}}, {"aws:SecureTransport": "false"}, False),
        ({"NumericLessThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"}, True),
        ({"NumericGreaterThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"}, False),
        ({"NumericEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "ten"}, False),
        (
            {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
            {"aws:CurrentTime": "2026-12-07T09:00:00Z"},
            True,
        ),
        (
            {"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
            {"aws:CurrentTime": "2026-12-07T09:00:00Z"},
            False,
        ),
        ({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "10.0.0.0/8"]}}, {"aws:SourceIp": "10.1.2.3"}, True),
        ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "10.1.2.3"}, False),
        ({"Null": {"aws:SourceArn": "true"}}, {}, True),
        ({"Null": {"aws:SourceArn": "false"}}, {}, False),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": ["a"]}, True),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": ["a", "c"]}, False),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["c"]}}, {"aws:TagKeys": ["a", "c"]}, True),
        # several keys: all must hold; several operators: all must hold
        ({"StringEquals": {"aws:SourceAccount": "0", "aws:username": "a"}}, {"aws:SourceAccount": "0"}, False),
        ({"UnknownOperator": {"aws:username": "a"}}, {"aws:username": "a"}, False),
    ],
)
def test_condition_operators(condition: dict[str, Any], context: dict[str, Any], expected: bool) -> None:
    doc = _doc({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": condition})
    assert (_decide(doc, "lambda:InvokeFunction", FN, **context) is Decision.ALLOW) is expected


def test_known_operators() -> None:
    assert known_operator("StringLikeIfExists") and known_operator("ForAnyValue:StringEquals")
    assert not known_operator("StringSorta") and not known_operator("Sometimes:StringEquals")


def test_a_resource_policy_statement_without_resource_speaks_of_its_resource() -> None:
    # SQS and SNS accept a policy statement with no Resource element: it applies to the queue or topic itself
    document = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage"}]}
    queue = "arn:aws:sqs:us-east-1:000000000000:q"
    sns = Principal(service="sns.amazonaws.com")
    assert evaluate_resource_policy(document, sns, "sqs:SendMessage", queue)[0] is Decision.ALLOW
    assert evaluate_resource_policy(document, sns, "sqs:DeleteMessage", queue)[0] is Decision.IMPLICIT_DENY
