"""Which IAM action and resource ARN each API operation is authorized as: one table for every service.

The action is `<prefix>:<operation>` (the service's IAM prefix, which is its SigV4 signing name, and the
operation's name in botocore's model) except where AWS names it otherwise (`_ACTIONS`: Lambda's `Invoke` is
`lambda:InvokeFunction`). The resource is the ARN of the one resource the request's parameters name (a
function, queue, topic, table, role, ...) and `*` for operations on no single resource (List*, Create* of
services whose ARN is not derived from the name).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# (signing name, operation) → the IAM action's name, where it differs from the operation's
_ACTIONS = {
    ("lambda", "Invoke"): "InvokeFunction",
    ("lambda", "InvokeWithResponseStream"): "InvokeFunction",
    ("lambda", "InvokeAsync"): "InvokeAsync",
    # batch operations are authorized as their single forms ("Amazon SQS API permissions", SNS PublishBatch)
    ("sqs", "SendMessageBatch"): "SendMessage",
    ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
    ("sns", "PublishBatch"): "Publish",
}
# S3's operations are authorized as the actions its bucket and object permissions name ("Policy actions for
# Amazon S3"): reads as GetObject, listings as ListBucket, every part of a multipart upload as PutObject.
_S3_ACTIONS = {
    "HeadObject": "GetObject",
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListBuckets": "ListAllMyBuckets",
    "DeleteObjects": "DeleteObject",
    "CopyObject": "PutObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "UploadPartCopy": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "AbortMultipartUpload": "AbortMultipartUpload",
    "ListParts": "ListMultipartUploadParts",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "DeleteBucketTagging": "PutBucketTagging",
    "GetObjectAttributes": "GetObjectAttributes",
}
_ACTIONS.update({("s3", op): action for op, action in _S3_ACTIONS.items()})
_PREFIX = {"streams.dynamodb": "dynamodb"}  # signing name → IAM prefix, where they differ

Params = dict[str, Any]


def action_name(signing_name: str, operation: str) -> str:
    prefix = _PREFIX.get(signing_name, signing_name)
    return f"{prefix}:{_ACTIONS.get((signing_name, operation), operation)}"


def _lambda(region: str, account: str, op: str, params: Params) -> str:
    name = params.get("FunctionName")
    if isinstance(name, str) and name:
        if name.startswith("arn:"):
            arn = name
        else:
            function, _, named = name.partition(":")
            arn = f"arn:aws:lambda:{region}:{account}:function:{function}"
            if named:
                arn += f":{named}"
        qualifier = params.get("Qualifier")
        if qualifier and arn.count(":") == 6:
            arn += f":{qualifier}"
        return arn
    layer = params.get("LayerName")
    if isinstance(layer, str) and layer:
        return layer if layer.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:layer:{layer}"
    return "*"


def _sqs(region: str, account: str, op: str, params: Params) -> str:
    url = params.get("QueueUrl")
    if isinstance(url, str) and url:
        parts = url.rstrip("/").split("/")
        queue_account = parts[-2] if len(parts) >= 2 and parts[-2].isdigit() else account
        return f"arn:aws:sqs:{region}:{queue_account}:{parts[-1]}"
    name = params.get("QueueName")
    if isinstance(name, str) and name:
        return f"arn:aws:sqs:{region}:{account}:{name}"
    return "*"


def _sns(region: str, account: str, op: str, params: Params) -> str:
    for key in ("TopicArn", "TargetArn", "ResourceArn"):
        value = params.get(key)
        if isinstance(value, str) and value:
            return value
    subscription = params.get("SubscriptionArn")
    if isinstance(subscription, str) and subscription.count(":") >= 6:
        return subscription.rsplit(":", 1)[0]
    if op == "CreateTopic" and params.get("Name"):
        return f"arn:aws:sns:{region}:{account}:{params['Name']}"
    return "*"


def _dynamodb(region: str, account: str, op: str, params: Params) -> str:
    table = params.get("TableName")
    if isinstance(table, str) and table:
        return table if table.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{table}"
    arn = params.get("ResourceArn") or params.get("StreamArn")
    return str(arn) if arn else "*"


def _logs(region: str, account: str, op: str, params: Params) -> str:
    group = params.get("logGroupName") or params.get("logGroupIdentifier")
    if isinstance(group, str) and group:
        return group if group.startswith("arn:") else f"arn:aws:logs:{region}:{account}:log-group:{group}:*"
    return "*"


def _iam(region: str, account: str, op: str, params: Params) -> str:
    for key, kind in (("RoleName", "role"), ("UserName", "user"), ("GroupName", "group")):
        value = params.get(key)
        if isinstance(value, str) and value:
            return f"arn:aws:iam::{account}:{kind}/{value}"
    arn = params.get("PolicyArn")
    if isinstance(arn, str) and arn:
        return arn
    if op == "CreatePolicy" and params.get("PolicyName"):
        return f"arn:aws:iam::{account}:policy/{params['PolicyName']}"
    return "*"


def _sts(region: str, account: str, op: str, params: Params) -> str:
    arn = params.get("RoleArn")
    return str(arn) if arn else "*"


def _events(region: str, account: str, op: str, params: Params) -> str:
    name = params.get("Rule") if op in ("PutTargets", "RemoveTargets", "ListTargetsByRule") else params.get("Name")
    if isinstance(name, str) and name and op != "PutEvents":
        if name.startswith("arn:"):
            return name
        if "Rule" in op or op in ("PutTargets", "RemoveTargets", "EnableRule", "DisableRule"):
            return f"arn:aws:events:{region}:{account}:rule/{name}"
    return "*"


def _s3(region: str, account: str, op: str, params: Params) -> str:
    bucket = params.get("Bucket")
    if not isinstance(bucket, str) or not bucket:
        return "*"
    key = params.get("Key")
    if isinstance(key, str) and key and op not in ("ListObjects", "ListObjectsV2"):
        return f"arn:aws:s3:::{bucket}/{key}"
    return f"arn:aws:s3:::{bucket}"


_RESOURCES: dict[str, Callable[[str, str, str, Params], str]] = {
    "s3": _s3,
    "lambda": _lambda,
    "sqs": _sqs,
    "sns": _sns,
    "dynamodb": _dynamodb,
    "logs": _logs,
    "iam": _iam,
    "sts": _sts,
    "events": _events,
}


def resource_arn(signing_name: str, region: str, account: str, operation: str, params: Params) -> str:
    found = _RESOURCES.get(signing_name)
    return found(region, account, operation, params) if found is not None else "*"
