"""SQS's query-protocol model: `Action=SendMessage&Version=2012-11-05` form posts answered in XML.

botocore now ships SQS's model for the json protocol only, and that model dropped the names the query API
used on the wire (`Attribute.1.Name`, `MessageAttribute.1.Value.StringValue`, `SendMessageBatchRequestEntry.1.Id`,
`<Message>` elements, ...). The query model is derived from the json model by putting those names back, as
botocore's last query-protocol model of SQS (botocore 1.31.64, 2023) declared them; everything else (shapes,
operations, added members) stays the json model's, so both protocols serve the same operations.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import botocore.loaders
from botocore.model import ServiceModel

NAMESPACE = "http://queue.amazonaws.com/doc/2012-11-05/"

# list shape → the element name of its members (every one flattened but the two value lists)
_LISTS = {
    "AWSAccountIdList": "AWSAccountId",
    "ActionNameList": "ActionName",
    "AttributeNameList": "AttributeName",
    "BatchResultErrorEntryList": "BatchResultErrorEntry",
    "BinaryList": "BinaryListValue",
    "ChangeMessageVisibilityBatchRequestEntryList": "ChangeMessageVisibilityBatchRequestEntry",
    "ChangeMessageVisibilityBatchResultEntryList": "ChangeMessageVisibilityBatchResultEntry",
    "DeleteMessageBatchRequestEntryList": "DeleteMessageBatchRequestEntry",
    "DeleteMessageBatchResultEntryList": "DeleteMessageBatchResultEntry",
    "ListMessageMoveTasksResultEntryList": "ListMessageMoveTasksResultEntry",
    "MessageAttributeNameList": "MessageAttributeName",
    "MessageList": "Message",
    "QueueUrlList": "QueueUrl",
    "SendMessageBatchRequestEntryList": "SendMessageBatchRequestEntry",
    "SendMessageBatchResultEntryList": "SendMessageBatchResultEntry",
    "StringList": "StringListValue",
    "TagKeyList": "TagKey",
}
# map shape → (key element, value element, the map's own element name where the shape declares one)
_MAPS = {
    "MessageBodyAttributeMap": ("Name", "Value", None),
    "MessageBodySystemAttributeMap": ("Name", "Value", None),
    "MessageSystemAttributeMap": ("Name", "Value", "Attribute"),
    "QueueAttributeMap": ("Name", "Value", "Attribute"),
    "TagMap": ("Key", "Value", "Tag"),
}
# (structure, member) → the member's element name
_MEMBERS = {
    ("CreateQueueRequest", "Attributes"): "Attribute",
    ("CreateQueueRequest", "tags"): "Tag",
    ("GetQueueAttributesResult", "Attributes"): "Attribute",
    ("ListQueueTagsResult", "Tags"): "Tag",
    ("Message", "Attributes"): "Attribute",
    ("Message", "MessageAttributes"): "MessageAttribute",
    ("MessageAttributeValue", "StringListValues"): "StringListValue",
    ("MessageAttributeValue", "BinaryListValues"): "BinaryListValue",
    ("MessageSystemAttributeValue", "StringListValues"): "StringListValue",
    ("MessageSystemAttributeValue", "BinaryListValues"): "BinaryListValue",
    ("SendMessageBatchRequestEntry", "MessageAttributes"): "MessageAttribute",
    ("SendMessageBatchRequestEntry", "MessageSystemAttributes"): "MessageSystemAttribute",
    ("SendMessageRequest", "MessageAttributes"): "MessageAttribute",
    ("SendMessageRequest", "MessageSystemAttributes"): "MessageSystemAttribute",
    ("SetQueueAttributesRequest", "Attributes"): "Attribute",
}


@cache
def query_model() -> ServiceModel:
    data: dict[str, Any] = copy.deepcopy(botocore.loaders.create_loader().load_service_model("sqs", "service-2"))
    data["metadata"] = {
        **{k: v for k, v in data["metadata"].items() if k not in ("jsonVersion", "targetPrefix", "awsQueryCompatible")},
        "protocol": "query",
        "protocols": ["query"],
        "xmlNamespace": NAMESPACE,
    }
    shapes: dict[str, Any] = data["shapes"]
    for name, element in _LISTS.items():
        shapes[name]["member"]["locationName"] = element
        if name not in ("BinaryList", "StringList"):
            shapes[name]["flattened"] = True
    for name, (key, value, own) in _MAPS.items():
        shapes[name]["key"]["locationName"] = key
        shapes[name]["value"]["locationName"] = value
        shapes[name]["flattened"] = True
        if own is not None:
            shapes[name]["locationName"] = own
    for (structure, member), element in _MEMBERS.items():
        shapes[structure]["members"][member]["locationName"] = element
    for operation in data["operations"].values():
        output = operation.get("output")
        if output is not None:
            output["resultWrapper"] = output["shape"]
    return ServiceModel(data, service_name="sqs")


# Where the query API words an error differently from the json protocol (by query error code): the recorded AWS
# response of test_non_existent_queue's query call.
QUERY_MESSAGES = {
    "AWS.SimpleQueueService.NonExistentQueue": "The specified queue does not exist for this wsdl version."
}
# Errors of these operations carry no <Detail/> (the recorded AWS responses of their [sqs_query] entries).
NO_DETAIL = frozenset({"CreateQueue", "DeleteMessageBatch", "ChangeMessageVisibilityBatch"})
