"""Resource policies beside identity policies on a --auth sigv4 server, as AWS combines them in one account:
an SQS queue policy or SNS topic policy naming a user grants it without any identity policy, an explicit deny
there wins over an identity Allow; sns.amazonaws.com reaches a queue only when the queue's policy allows it for
that topic (aws:SourceArn). Permission boundaries cap identity policies; aws:SourceIp, aws:username,
aws:userid and aws:RequestedRegion are in the request context."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.auth.conftest import Client

ACCOUNT = "000000000000"


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _denied(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    status = caught.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert status in (400, 403), caught.value.response
    return str(caught.value.response["Error"]["Message"])


class Users:
    """IAM users with a key each, deleted (with their policies and boundaries) afterwards."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self.iam = client("iam")
        self.names: list[str] = []

    def make(self, *statements: dict[str, Any], boundary: str | None = None) -> tuple[str, str, Callable[..., Any]]:
        name = f"u-{uuid.uuid4().hex[:10]}"
        extra = {"PermissionsBoundary": boundary} if boundary else {}
        arn = self.iam.create_user(UserName=name, **extra)["User"]["Arn"]
        self.names.append(name)
        if statements:
            self.iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=_policy(*statements))
        key = self.iam.create_access_key(UserName=name)["AccessKey"]

        def make_client(service: str, **kwargs: Any) -> Any:
            return self._client(service, key["AccessKeyId"], key["SecretAccessKey"], **kwargs)

        return name, arn, make_client

    def clean(self) -> None:
        for name in self.names:
            for key in self.iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
                self.iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
            for policy in self.iam.list_user_policies(UserName=name)["PolicyNames"]:
                self.iam.delete_user_policy(UserName=name, PolicyName=policy)
            self.iam.delete_user_permissions_boundary(UserName=name)
            self.iam.delete_user(UserName=name)


@pytest.fixture
def users(client: Client) -> Iterator[Users]:
    made = Users(client)
    yield made
    made.clean()


def test_a_queue_policy_grants_a_user_without_identity_policies(
    client: Client, users: Users, queue: tuple[str, str]
) -> None:
    url, arn = queue
    _, user_arn, as_user = users.make()
    sqs = as_user("sqs")
    message = _denied(lambda: sqs.send_message(QueueUrl=url, MessageBody="before"))
    assert f"User: {user_arn} is not authorized to perform: sqs:SendMessage on resource: {arn}" in message
    grant = {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sqs:SendMessage", "Resource": arn}
    client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": _policy(grant)})
    sqs.send_message(QueueUrl=url, MessageBody="granted")
    batch = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "batched"}])  # as SendMessage
    assert [e["Id"] for e in batch["Successful"]] == ["1"]
    _denied(lambda: sqs.receive_message(QueueUrl=url))  # only SendMessage was granted
    bodies: list[str] = []
    for _ in range(5):
        got = client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        bodies += [m["Body"] for m in got.get("Messages", [])]
        if len(bodies) >= 2:
            break
    assert sorted(bodies) == ["batched", "granted"]


def test_an_account_principal_grants_nothing_by_itself(client: Client, users: Users, queue: tuple[str, str]) -> None:
    url, arn = queue
    _, _, as_user = users.make()
    account = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    grant = {"Effect": "Allow", "Principal": account, "Action": "sqs:*", "Resource": arn}
    client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": _policy(grant)})
    _denied(lambda: as_user("sqs").send_message(QueueUrl=url, MessageBody="x"))


def test_an_explicit_deny_in_a_queue_policy_beats_an_identity_allow(
    client: Client, users: Users, queue: tuple[str, str]
) -> None:
    url, arn = queue
    _, _, as_user = users.make({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"})
    sqs = as_user("sqs")
    sqs.send_message(QueueUrl=url, MessageBody="allowed")
    deny = {"Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage", "Resource": arn}
    client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": _policy(deny)})
    message = _denied(lambda: sqs.send_message(QueueUrl=url, MessageBody="denied"))
    assert message.endswith("with an explicit deny in a resource-based policy")
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"] == {
        "ApproximateNumberOfMessages": "1"
    }


def test_a_topic_policy_grants_publish(client: Client, users: Users) -> None:
    sns = client("sns")
    topic = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:10]}")["TopicArn"]
    try:
        _, user_arn, as_user = users.make()
        user_sns = as_user("sns")
        assert "sns:Publish" in _denied(lambda: user_sns.publish(TopicArn=topic, Message="no"))
        grant = {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sns:Publish", "Resource": topic}
        sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=_policy(grant))
        assert user_sns.publish(TopicArn=topic, Message="yes")["MessageId"]
        _denied(lambda: user_sns.delete_topic(TopicArn=topic))
    finally:
        sns.delete_topic(TopicArn=topic)


def _received(sqs: Any, url: str, seconds: float = 3.0) -> list[str]:
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=int(seconds), MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"])["Message"] for m in got]


def test_sns_reaches_a_queue_only_as_its_policy_allows(client: Client, queue: tuple[str, str]) -> None:
    url, arn = queue
    sns, sqs = client("sns"), client("sqs")
    topic = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:10]}")["TopicArn"]
    try:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        sns.publish(TopicArn=topic, Message="no policy")  # AWS drops it: the queue does not allow SNS
        other = {
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": topic + "-other"}},
        }
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": _policy(other)})
        sns.publish(TopicArn=topic, Message="another topic's grant")
        assert _received(sqs, url, 1) == []
        this = {**other, "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": _policy(this)})
        sns.publish(TopicArn=topic, Message="granted")
        assert _received(sqs, url) == ["granted"]
    finally:
        sns.delete_topic(TopicArn=topic)


def test_a_permissions_boundary_caps_identity_policies(client: Client, users: Users) -> None:
    iam = client("iam")
    boundary = iam.create_policy(
        PolicyName=f"b-{uuid.uuid4().hex[:8]}",
        PolicyDocument=_policy({"Effect": "Allow", "Action": ["sqs:*", "iam:GetUser"], "Resource": "*"}),
    )["Policy"]["Arn"]
    try:
        name, _, as_user = users.make({"Effect": "Allow", "Action": ["sqs:*", "lambda:*"], "Resource": "*"})
        as_user("lambda").list_functions()
        iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=boundary)
        shown = iam.get_user(UserName=name)["User"]["PermissionsBoundary"]
        assert shown == {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
        assert "PermissionsBoundary" not in next(u for u in iam.list_users()["Users"] if u["UserName"] == name)
        assert iam.get_policy(PolicyArn=boundary)["Policy"]["PermissionsBoundaryUsageCount"] == 1
        as_user("sqs").list_queues()  # both allow it
        message = _denied(lambda: as_user("lambda").list_functions())
        assert message.endswith("because no permissions boundary allows the lambda:ListFunctions action")
        with pytest.raises(ClientError) as in_use:
            iam.delete_policy(PolicyArn=boundary)
        assert in_use.value.response["Error"]["Code"] == "DeleteConflict"
        iam.delete_user_permissions_boundary(UserName=name)
        assert "PermissionsBoundary" not in iam.get_user(UserName=name)["User"]
        as_user("lambda").list_functions()
    finally:
        iam.delete_policy(PolicyArn=boundary)


def test_role_boundaries_and_bad_boundaries(client: Client, users: Users) -> None:
    iam = client("iam")
    trust = _policy({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})
    boundary = "arn:aws:iam::aws:policy/AmazonSQSFullAccess"
    name = f"r-{uuid.uuid4().hex[:8]}"
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust, PermissionsBoundary=boundary)["Role"]
    try:
        assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
        assert iam.get_role(RoleName=name)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
        assert "PermissionsBoundary" not in next(r for r in iam.list_roles()["Roles"] if r["RoleName"] == name)
        iam.delete_role_permissions_boundary(RoleName=name)
        assert "PermissionsBoundary" not in iam.get_role(RoleName=name)["Role"]
        missing = f"arn:aws:iam::{ACCOUNT}:policy/none-{uuid.uuid4().hex[:6]}"
        with pytest.raises(ClientError) as caught:
            iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=missing)
        assert caught.value.response["Error"]["Code"] == "NoSuchEntity"
        assert caught.value.response["Error"]["Message"] == f"Policy {missing} does not exist or is not attachable."
        with pytest.raises(ClientError) as refused:
            iam.create_user(UserName=f"u-{uuid.uuid4().hex[:8]}", PermissionsBoundary=missing)
        assert refused.value.response["Error"]["Code"] == "NoSuchEntity"
        assert "PermissionsBoundary" not in iam.get_role(RoleName=name)["Role"]  # nothing changed
    finally:
        iam.delete_role(RoleName=name)


def test_condition_keys_of_the_caller(client: Client, users: Users, queue: tuple[str, str]) -> None:
    url, _ = queue
    loopback = {"aws:SourceIp": ["127.0.0.0/8", "::1/128"]}
    _, _, local = users.make(
        {"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*", "Condition": {"IpAddress": loopback}}
    )
    local("sqs").list_queues()
    _, _, elsewhere = users.make(
        {"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*", "Condition": {"NotIpAddress": loopback}}
    )
    _denied(lambda: elsewhere("sqs").list_queues())
    name, _, region_bound = users.make(
        {"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1", "aws:username": "${aws:username}"}}}
    )  # fmt: skip
    _denied(lambda: region_bound("sqs").list_queues())
    user_id = users.iam.get_user(UserName=name)["User"]["UserId"]
    _, _, by_id = users.make(
        {"Effect": "Allow", "Action": "sqs:GetQueueAttributes", "Resource": "*",
         "Condition": {"StringLike": {"aws:userid": "AIDA*"}, "StringEquals": {"aws:PrincipalAccount": ACCOUNT}}}
    )  # fmt: skip
    assert user_id.startswith("AIDA")
    by_id("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    _, _, not_him = users.make({"Effect": "Allow", "Action": "sqs:GetQueueAttributes", "Resource": "*",
                                "Condition": {"StringEquals": {"aws:userid": user_id}}})  # fmt: skip
    _denied(lambda: not_him("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"]))


def test_bucket_policies_beside_identity_policies(client: Client, users: Users) -> None:
    s3 = client("s3")
    bucket = f"bp-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="doc", Body=b"kept")
    try:
        with pytest.raises(ClientError) as none:
            s3.get_bucket_policy(Bucket=bucket)
        assert none.value.response["Error"]["Code"] == "NoSuchBucketPolicy"
        assert none.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        with pytest.raises(ClientError) as bad:
            s3.put_bucket_policy(Bucket=bucket, Policy="not json")
        assert bad.value.response["Error"]["Code"] == "MalformedPolicy"
        assert bad.value.response["Error"]["Message"] == "Policies must be valid JSON and the first byte must be '{'"
        _, reader_arn, reader = users.make()
        with pytest.raises(ClientError) as refused:
            reader("s3").get_object(Bucket=bucket, Key="doc")
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert refused.value.response["Error"]["Message"] == (
            f'User: {reader_arn} is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::{bucket}/doc" '
            "because no identity-based policy allows the s3:GetObject action"
        )  # AWS's wording since 2024: the ARN in quotes
        grant = {"Effect": "Allow", "Principal": {"AWS": reader_arn}, "Action": "s3:GetObject",
                 "Resource": f"arn:aws:s3:::{bucket}/*"}  # fmt: skip
        s3.put_bucket_policy(Bucket=bucket, Policy=_policy(grant))
        assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(_policy(grant))
        assert reader("s3").get_object(Bucket=bucket, Key="doc")["Body"].read() == b"kept"
        _denied(lambda: reader("s3").put_object(Bucket=bucket, Key="doc", Body=b"overwritten"))
        _, _, writer = users.make({"Effect": "Allow", "Action": "s3:*", "Resource": f"arn:aws:s3:::{bucket}/*"})
        writer("s3").put_object(Bucket=bucket, Key="other", Body=b"by identity policy")
        deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
        s3.put_bucket_policy(Bucket=bucket, Policy=_policy(grant, deny))
        assert "explicit deny in a resource-based policy" in _denied(
            lambda: writer("s3").delete_object(Bucket=bucket, Key="other")
        )
        assert s3.get_object(Bucket=bucket, Key="other")["Body"].read() == b"by identity policy"
        s3.delete_bucket_policy(Bucket=bucket)
        _denied(lambda: reader("s3").get_object(Bucket=bucket, Key="doc"))
        writer("s3").delete_object(Bucket=bucket, Key="other")
    finally:
        for listed in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=listed["Key"])
        s3.delete_bucket(Bucket=bucket)


def test_the_simulator_applies_permission_boundaries(client: Client, users: Users) -> None:
    iam = client("iam")
    boundary = iam.create_policy(
        PolicyName=f"b-{uuid.uuid4().hex[:8]}",
        PolicyDocument=_policy({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}),
    )["Policy"]["Arn"]
    try:
        name, arn, _ = users.make({"Effect": "Allow", "Action": ["sqs:*", "lambda:*"], "Resource": "*"})
        iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=boundary)
        results = iam.simulate_principal_policy(
            PolicySourceArn=arn, ActionNames=["sqs:ListQueues", "lambda:ListFunctions"]
        )["EvaluationResults"]
        decided = {r["EvalActionName"]: r for r in results}
        assert decided["sqs:ListQueues"]["EvalDecision"] == "allowed"
        assert decided["sqs:ListQueues"]["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": True}
        assert decided["lambda:ListFunctions"]["EvalDecision"] == "implicitDeny"
        assert decided["lambda:ListFunctions"]["PermissionsBoundaryDecisionDetail"] == {
            "AllowedByPermissionsBoundary": False
        }
        custom = iam.simulate_custom_policy(
            PolicyInputList=[_policy({"Effect": "Allow", "Action": "*", "Resource": "*"})],
            PermissionsBoundaryPolicyInputList=[_policy({"Effect": "Deny", "Action": "lambda:*", "Resource": "*"})],
            ActionNames=["lambda:ListFunctions"],
        )["EvaluationResults"][0]
        assert custom["EvalDecision"] == "explicitDeny"
        iam.delete_user_permissions_boundary(UserName=name)
    finally:
        iam.delete_policy(PolicyArn=boundary)


def test_eventbridge_reaches_a_queue_only_as_its_policy_allows(client: Client, queue: tuple[str, str]) -> None:
    url, arn = queue
    events, sqs = client("events"), client("sqs")
    rule = f"r-{uuid.uuid4().hex[:8]}"
    rule_arn = events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["lamina.test"]}))["RuleArn"]
    try:
        events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])

        def put(detail: str) -> None:
            events.put_events(
                Entries=[{"Source": "lamina.test", "DetailType": "t", "Detail": json.dumps({"d": detail})}]
            )

        put("no policy")  # AWS drops it (NO_PERMISSIONS): the queue does not allow EventBridge
        assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []
        grant = {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
                 "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}  # fmt: skip
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": _policy(grant)})
        put("granted")
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5).get("Messages", [])
        assert [json.loads(m["Body"])["detail"]["d"] for m in got] == ["granted"]
    finally:
        events.remove_targets(Rule=rule, Ids=["q"])
        events.delete_rule(Name=rule)


def test_an_explicit_deny_in_a_resource_policy_binds_root(client: Client, queue: tuple[str, str]) -> None:
    """Root may do everything but what a queue's, topic's or bucket's own policy explicitly denies; the bucket's
    policy itself stays root's to read, replace and delete (AWS keeps owners from locking themselves out)."""
    root = f"arn:aws:iam::{ACCOUNT}:root"
    url, arn = queue
    sqs = client("sqs")
    deny = {"Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage", "Resource": arn}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": _policy(deny)})
    message = _denied(lambda: sqs.send_message(QueueUrl=url, MessageBody="denied"))
    assert message == (
        f"User: {root} is not authorized to perform: sqs:SendMessage on resource: {arn} "
        "with an explicit deny in a resource-based policy"
    )
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"] == {
        "ApproximateNumberOfMessages": "0"
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})  # not denied: only SendMessage is
    sqs.send_message(QueueUrl=url, MessageBody="allowed again")

    sns = client("sns")
    topic = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:10]}")["TopicArn"]
    try:
        topic_deny = {"Effect": "Deny", "Principal": {"AWS": root}, "Action": "sns:Publish", "Resource": topic}
        sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=_policy(topic_deny))
        with pytest.raises(ClientError) as refused:
            sns.publish(TopicArn=topic, Message="denied")
        assert refused.value.response["Error"]["Code"] == "AuthorizationError"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert "with an explicit deny in a resource-based policy" in refused.value.response["Error"]["Message"]
    finally:
        sns.delete_topic(TopicArn=topic)

    s3 = client("s3")
    bucket = f"bp-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    try:
        s3.put_object(Bucket=bucket, Key="doc", Body=b"kept")
        everything = {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                      "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}  # fmt: skip
        s3.put_bucket_policy(Bucket=bucket, Policy=_policy(everything))
        with pytest.raises(ClientError) as refused:
            s3.delete_object(Bucket=bucket, Key="doc")
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert refused.value.response["Error"]["Message"] == (
            f'User: {root} is not authorized to perform: s3:DeleteObject on resource: "arn:aws:s3:::{bucket}/doc" '
            "with an explicit deny in a resource-based policy"
        )
        _denied(lambda: s3.get_object(Bucket=bucket, Key="doc"))
        _denied(lambda: s3.delete_bucket(Bucket=bucket))
        assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(_policy(everything))
        s3.put_bucket_policy(Bucket=bucket, Policy=_policy(everything))
        s3.delete_bucket_policy(Bucket=bucket)
        assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"kept"
    finally:
        s3.delete_bucket_policy(Bucket=bucket)
        for listed in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=listed["Key"])
        s3.delete_bucket(Bucket=bucket)


def _s3_grant(resource: str, action: str, bucket: str) -> dict[str, Any]:
    """AWS's documented statement letting S3 notify a queue or topic for one bucket."""
    return {
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": action,
        "Resource": resource,
        "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:*:*:{bucket}"},
                      "StringEquals": {"aws:SourceAccount": ACCOUNT}},
    }  # fmt: skip


def _refused_destinations(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    error: dict[str, Any] = caught.value.response["Error"]
    return error


def test_s3_notifies_a_queue_or_topic_only_as_its_policy_allows(client: Client, queue: tuple[str, str]) -> None:
    """PutBucketNotificationConfiguration needs the destination's policy to grant s3.amazonaws.com for the bucket
    (aws:SourceArn, aws:SourceAccount), else AWS's InvalidArgument naming each destination; a grant removed
    afterwards drops the deliveries."""
    url, queue_arn = queue
    s3, sqs, sns = client("s3"), client("sqs"), client("sns")
    bucket, other = f"nb-{uuid.uuid4().hex[:10]}", f"nb-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    topic = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:10]}")["TopicArn"]
    topic_queue = sqs.create_queue(QueueName=f"tq-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    topic_queue_arn = sqs.get_queue_attributes(QueueUrl=topic_queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=topic_queue_arn)
    sns_to_queue = {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
                    "Resource": topic_queue_arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}  # fmt: skip
    sqs.set_queue_attributes(QueueUrl=topic_queue, Attributes={"Policy": _policy(sns_to_queue)})

    def under(prefix: str) -> dict[str, Any]:
        return {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}}

    config = {
        "QueueConfigurations": [{"Id": "q", "QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"],
                                 "Filter": under("q/")}],
        "TopicConfigurations": [{"Id": "t", "TopicArn": topic, "Events": ["s3:ObjectCreated:*"],
                                 "Filter": under("t/")}],
    }  # fmt: skip

    def put(key: str) -> None:
        for prefix in ("q/", "t/"):
            s3.put_object(Bucket=bucket, Key=prefix + key, Body=b"x")

    def configure() -> Any:
        return s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)

    def bodies(at: str, count: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for _ in range(8):
            got = sqs.receive_message(QueueUrl=at, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            for m in got:
                found.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=at, ReceiptHandle=m["ReceiptHandle"])
            if len(found) >= count:
                break
        return found

    try:
        error = _refused_destinations(configure)  # neither has a policy: AWS refuses both
        assert error == {
            "Code": "InvalidArgument",
            "Message": "Unable to validate the following destination configurations",
            "ArgumentName1": queue_arn,
            "ArgumentValue1": "Permissions on the destination queue do not allow S3 to publish notifications from "
            "this bucket",
            "ArgumentName2": topic,
            "ArgumentValue2": "Permissions on the destination topic do not allow S3 to publish notifications from "
            "this bucket",
        }
        assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)
        # a grant for another bucket, or from another account, is no grant
        sqs.set_queue_attributes(
            QueueUrl=url, Attributes={"Policy": _policy(_s3_grant(queue_arn, "sqs:SendMessage", other))}
        )
        wrong_account = _s3_grant(topic, "sns:Publish", bucket)
        wrong_account["Condition"]["StringEquals"]["aws:SourceAccount"] = "111111111111"
        sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=_policy(wrong_account))
        error = _refused_destinations(configure)
        assert (error["ArgumentName1"], error["ArgumentName2"]) == (queue_arn, topic)
        sqs.set_queue_attributes(
            QueueUrl=url, Attributes={"Policy": _policy(_s3_grant(queue_arn, "sqs:SendMessage", bucket))}
        )
        error = _refused_destinations(configure)  # the topic still refuses: nothing saved
        assert (error["ArgumentName1"], "ArgumentName2" in error) == (topic, False)
        assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)
        sns.set_topic_attributes(
            TopicArn=topic, AttributeName="Policy", AttributeValue=_policy(_s3_grant(topic, "sns:Publish", bucket))
        )
        configure()
        assert [b.get("Event") for b in bodies(url, 1)] == ["s3:TestEvent"]
        put("granted")
        assert [b["Records"][0]["s3"]["object"]["key"] for b in bodies(url, 1)] == ["q/granted"]
        [note] = bodies(topic_queue, 1)
        assert json.loads(note["Message"])["Records"][0]["s3"]["object"]["key"] == "t/granted"
        # the grants are taken away: later uploads are dropped, not delivered late
        sqs.set_queue_attributes(
            QueueUrl=url, Attributes={"Policy": _policy(_s3_grant(queue_arn, "sqs:SendMessage", other))}
        )
        sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=_policy(wrong_account))
        put("dropped")
        sqs.set_queue_attributes(
            QueueUrl=url, Attributes={"Policy": _policy(_s3_grant(queue_arn, "sqs:SendMessage", bucket))}
        )
        put("again")
        assert [b["Records"][0]["s3"]["object"]["key"] for b in bodies(url, 2)] == ["q/again"]
        assert bodies(topic_queue, 1) == []
    finally:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
        for listed in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=listed["Key"])
        s3.delete_bucket(Bucket=bucket)
        sns.delete_topic(TopicArn=topic)
        sqs.delete_queue(QueueUrl=topic_queue)
