"""Queue attributes: AWS's defaults, which names may be set, and the checks on their values."""

from __future__ import annotations

import json
from collections.abc import Mapping

from lamina import json_text
from lamina.errors import InvalidAttributeName, InvalidAttributeValue

DEFAULTS = {
    "DelaySeconds": "0",
    "MaximumMessageSize": "1048576",
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    "SqsManagedSseEnabled": "true",
}
FIFO_DEFAULTS = {
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}
FIFO_ONLY = frozenset({"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"})
SETTABLE = frozenset(
    {
        *DEFAULTS,
        *FIFO_ONLY,
        "Policy",
        "RedrivePolicy",
        "RedriveAllowPolicy",
        "KmsMasterKeyId",
        "KmsDataKeyReusePeriodSeconds",
    }
)
COMPUTED = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
)
_RANGES = {
    "DelaySeconds": (0, 900),
    "MaximumMessageSize": (1024, 1048576),
    "MessageRetentionPeriod": (60, 1209600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "VisibilityTimeout": (0, 43200),
    "KmsDataKeyReusePeriodSeconds": (60, 86400),
}
_BOOLEANS = frozenset({"FifoQueue", "ContentBasedDeduplication", "SqsManagedSseEnabled"})
_ENUMS = {"DeduplicationScope": ("messageGroup", "queue"), "FifoThroughputLimit": ("perQueue", "perMessageGroupId")}


def _invalid(name: str, reason: str | None = None) -> InvalidAttributeValue:
    if reason:
        return InvalidAttributeValue(f"Invalid value for the parameter {name}. Reason: {reason}")
    return InvalidAttributeValue(f"Invalid value for the parameter {name}.")


def check(attributes: Mapping[str, str], fifo: bool, creating: bool) -> dict[str, str]:
    """The attributes as they will be stored; raises AWS's error for an unknown name or bad value."""
    out: dict[str, str] = {}
    for name, given in attributes.items():
        value = given
        if name not in SETTABLE:
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
        if name in FIFO_ONLY and not fifo:
            if name == "FifoQueue" and creating and value.lower() == "false":
                continue
            if name in ("DeduplicationScope", "FifoThroughputLimit"):
                raise InvalidAttributeName(f"You can specify the {name} only when FifoQueue is set to true.")
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
        if name == "FifoQueue" and not creating and value.lower() != "true":
            raise _invalid(name, "Modifying queue type is not supported.")
        if name in _RANGES:
            low, high = _RANGES[name]
            if not value.lstrip("-").isdigit() or not low <= int(value) <= high:
                raise _invalid(name)
            value = str(int(value))
        elif name in _BOOLEANS:
            if value.lower() not in ("true", "false"):
                raise _invalid(name)
            value = value.lower()
        elif name in _ENUMS and value not in _ENUMS[name]:
            raise _invalid(name)
        elif name == "RedrivePolicy" and value:
            value = _redrive(value)
        out[name] = value
    if out.get("KmsMasterKeyId") and out.get("SqsManagedSseEnabled") == "true":
        raise InvalidAttributeName(
            "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or "
            "SQS SSE."
        )
    return out


def _redrive(value: str) -> str:
    try:
        policy = json_text.loads_document(value)
    except ValueError:
        raise _invalid("RedrivePolicy", "Redrive policy is not a valid JSON map.") from None
    if not isinstance(policy, dict) or not isinstance(policy.get("deadLetterTargetArn"), str):
        raise _invalid("RedrivePolicy", "Redrive policy does not contain mandatory attribute: deadLetterTargetArn.")
    if "maxReceiveCount" not in policy:
        raise _invalid("RedrivePolicy", "Redrive policy does not contain mandatory attribute: maxReceiveCount.")
    try:
        count = int(policy["maxReceiveCount"])
    except (TypeError, ValueError):
        raise _invalid("RedrivePolicy", "Invalid value for maxReceiveCount.") from None
    if not 1 <= count <= 1000:
        raise _invalid("RedrivePolicy", "Value for maxReceiveCount must be between 1 and 1000.")
    return json.dumps(
        {"deadLetterTargetArn": policy["deadLetterTargetArn"], "maxReceiveCount": count}, separators=(",", ":")
    )
