"""The SQS API (json protocol): checks requests the way SQS words its errors, then calls the engine.

Queues are addressed by URL, `http://<host the client used>/<account>/<name>`; only the path's account and
name count, so a URL handed out under one host name works under another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlparse

from lamina.clock import Clock
from lamina.errors import (
    BatchEntryIdsNotDistinct,
    BatchTooLarge,
    EmptyBatch,
    InvalidAttributeName,
    InvalidBatchEntryId,
    InvalidMessageContents,
    InvalidParameter,
    LaminaError,
    MissingParameter,
    NotFound,
    OverLimit,
    TooManyBatchEntries,
)
from lamina.services.sqs import attributes as queue_attributes
from lamina.services.sqs.digests import md5_attributes, md5_text
from lamina.services.sqs.engine import NOT_FOUND, NewMessage, Received, SqsEngine
from lamina.services.sqs.queue import Queue
from lamina.types import CallContext

BATCH_LIMIT = 1_048_576  # bytes in one SendMessageBatch, whatever the queue's MaximumMessageSize
MAX_MESSAGE_ATTRIBUTES = 10  # per message (quotas-messages in the SQS Developer Guide)
MAX_TAGS = 50  # per queue (quotas-queues)
MAX_POLICY_ACTIONS = 7  # "An Amazon SQS policy can have a maximum of 7 actions" (AddPermission)
# The actions AddPermission may grant another account (AddPermission, "ActionName.N"); the queue-management
# actions (CreateQueue, SetQueueAttributes, AddPermission, ...) stay the owner's.
SHAREABLE_ACTIONS = frozenset(
    {
        "*",
        "ChangeMessageVisibility",
        "DeleteMessage",
        "GetQueueAttributes",
        "GetQueueUrl",
        "ListDeadLetterSourceQueues",
        "PurgeQueue",
        "ReceiveMessage",
        "SendMessage",
    }
)
# Named but not shareable: "Only the queue owner is allowed to invoke this action." Any other name is
# "Please refer to the appropriate WSDL for a list of valid actions." (batch actions included: a policy
# grants them through their single action).
OWNER_ONLY_ACTIONS = frozenset(
    {
        "AddPermission",
        "CancelMessageMoveTask",
        "CreateQueue",
        "DeleteQueue",
        "ListMessageMoveTasks",
        "ListQueueTags",
        "ListQueues",
        "RemovePermission",
        "SetQueueAttributes",
        "StartMessageMoveTask",
        "TagQueue",
        "UntagQueue",
    }
)
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_DEDUP = re.compile(r"^[!-~]{1,128}$")
# Unicode SQS accepts: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF
_BAD_CHARS = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SYSTEM_NAMES = (
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageDeduplicationId",
    "MessageGroupId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)


def _invalid(value: object, name: str, reason: str) -> InvalidParameter:
    return InvalidParameter(f"Value {value} for parameter {name} is invalid. Reason: {reason}")


class SqsProvider:
    def __init__(self, engine: SqsEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    # -- addressing -----------------------------------------------------------------------------
    def _queue(self, ctx: CallContext, url: str) -> Queue:
        parts = urlparse(url).path.strip("/").split("/") if "/" in url else [url]
        if len(parts) >= 2:
            account, name = parts[-2], parts[-1]
        else:
            account, name = ctx.account_id, parts[-1]
        if account != ctx.account_id:
            raise NotFound(NOT_FOUND)
        return self._engine.get(ctx.region, account, name)

    @staticmethod
    def _url(ctx: CallContext, queue: Queue) -> str:
        return f"{ctx.base_url}/{queue.account}/{queue.name}"

    # -- queues ---------------------------------------------------------------------------------
    async def create_queue(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        name: str = params["QueueName"]
        given: dict[str, str] = params.get("Attributes") or {}
        fifo = given.get("FifoQueue", "false").lower() == "true"
        base = name[:-5] if name.endswith(".fifo") else name
        if fifo and not name.endswith(".fifo"):
            raise InvalidParameter(
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, "
                "must end with .fifo suffix and be 1 to 80 in length."
            )
        if not _NAME.match(base) or len(name) > 80 or (name.endswith(".fifo") and not fifo):
            raise InvalidParameter(
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
            )
        checked = queue_attributes.check(given, fifo, creating=True)
        self._check_redrive(ctx, checked, fifo)
        tags = params.get("tags") or {}
        _check_tags(name, tags)
        queue = await self._engine.create(ctx.region, ctx.account_id, name, checked, tags)
        return {"QueueUrl": self._url(ctx, queue)}

    def _check_redrive(self, ctx: CallContext, attrs: Mapping[str, str], fifo: bool) -> None:
        raw = attrs.get("RedrivePolicy")
        if raw:
            arn = str(json.loads(raw)["deadLetterTargetArn"])  # checked by attributes.check
            if not arn.startswith("arn:aws:sqs:"):
                raise InvalidParameter(
                    f"Value {raw} for parameter RedrivePolicy is invalid. "
                    "Reason: Invalid value for deadLetterTargetArn."
                )
            target = self._engine.by_arn(arn)
            if target is None:
                raise InvalidParameter(
                    f"Value {raw} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist."
                )
            if target.fifo != fifo:  # either way round; AWS's reason ends in two periods
                raise _invalid(raw, "RedrivePolicy", "Dead-letter queue must be same type of queue as the source..")

    async def delete_queue(self, ctx: CallContext, params: dict[str, Any]) -> None:
        await self._engine.delete(self._queue(ctx, params["QueueUrl"]))

    def get_queue_url(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        account = params.get("QueueOwnerAWSAccountId") or ctx.account_id
        if account != ctx.account_id:
            raise NotFound(NOT_FOUND)
        return {"QueueUrl": self._url(ctx, self._engine.get(ctx.region, account, params["QueueName"]))}

    def list_queues(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        prefix = params.get("QueueNamePrefix") or ""
        queues = [q for q in self._engine.queues(ctx.region, ctx.account_id) if q.name.startswith(prefix)]
        page, token = self._page(queues, params)
        result: dict[str, Any] = {"NextToken": token} if token else {}
        if page:
            result["QueueUrls"] = [self._url(ctx, q) for q in page]
        return result

    @staticmethod
    def _page(queues: list[Queue], params: Mapping[str, Any]) -> tuple[list[Queue], str | None]:
        """`MaxResults` (1 to 1000) queues after `NextToken`, in name order, and the token of the next page."""
        token = params.get("NextToken")
        if token:
            try:
                after = base64.b64decode(token).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise InvalidParameter("Invalid or expired next token.") from None
            queues = [q for q in queues if q.name > after]
        limit = params.get("MaxResults")
        if limit is not None and not 1 <= limit <= 1000:
            raise _invalid(limit, "MaxResults", "MaxResults must be an integer between 1 and 1000.")
        if limit is not None and len(queues) > limit:
            queues = queues[:limit]
            return queues, base64.b64encode(queues[-1].name.encode()).decode()
        return queues[:1000], None

    def get_queue_attributes(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(ctx, params["QueueUrl"])
        names = params.get("AttributeNames") or []
        now = self._clock.time()
        visible, flight, delayed = queue.counts(now)
        everything = dict(queue.attributes)
        everything.update(
            {
                "ApproximateNumberOfMessages": str(visible),
                "ApproximateNumberOfMessagesNotVisible": str(flight),
                "ApproximateNumberOfMessagesDelayed": str(delayed),
                "CreatedTimestamp": str(int(queue.created)),
                "LastModifiedTimestamp": str(int(queue.modified)),
                "QueueArn": queue.arn,
            }
        )
        if "All" in names:
            return {"Attributes": dict(sorted(everything.items()))}
        known = queue_attributes.SETTABLE | set(queue_attributes.COMPUTED)
        out: dict[str, str] = {}
        for name in names:
            if name not in known:
                raise InvalidAttributeName(f"Unknown Attribute {name}.")
            if name in everything:
                out[name] = everything[name]
        return {"Attributes": out} if out else {}

    async def set_queue_attributes(self, ctx: CallContext, params: dict[str, Any]) -> None:
        queue = self._queue(ctx, params["QueueUrl"])
        checked = queue_attributes.check(params.get("Attributes") or {}, queue.fifo, creating=False)
        self._check_redrive(ctx, checked, queue.fifo)
        await self._engine.update(queue, attributes=checked)

    async def purge_queue(self, ctx: CallContext, params: dict[str, Any]) -> None:
        await self._engine.purge(self._queue(ctx, params["QueueUrl"]))

    async def tag_queue(self, ctx: CallContext, params: dict[str, Any]) -> None:
        queue = self._queue(ctx, params["QueueUrl"])
        tags = params.get("Tags") or {}
        if not tags:
            raise MissingParameter("The request must contain the parameter Tags.")
        _check_tags(queue.name, {**queue.tags, **tags})
        await self._engine.update(queue, tags=tags)

    async def untag_queue(self, ctx: CallContext, params: dict[str, Any]) -> None:
        queue = self._queue(ctx, params["QueueUrl"])
        keys = params.get("TagKeys") or []
        if not keys:
            raise InvalidParameter("Tag keys must be between 1 and 128 characters in length.")
        await self._engine.update(queue, untag=keys)

    def list_queue_tags(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        tags = self._queue(ctx, params["QueueUrl"]).tags
        return {"Tags": dict(tags)} if tags else {}

    # -- permissions (statements in the queue's Policy attribute) --------------------------------------
    async def add_permission(self, ctx: CallContext, params: dict[str, Any]) -> None:
        queue = self._queue(ctx, params["QueueUrl"])
        label: str = params["Label"]
        policy = json.loads(queue.attributes.get("Policy") or "null") or {
            "Version": "2008-10-17",
            "Id": f"{queue.arn}/SQSDefaultPolicy",
            "Statement": [],
        }
        if not params.get("Actions"):
            raise MissingParameter("The request must contain the parameter Actions.")
        if not params.get("AWSAccountIds"):
            raise _invalid("[]", "PrincipalId", "Unable to verify.")
        if len(params["Actions"]) > MAX_POLICY_ACTIONS:
            raise OverLimit(f"{len(params['Actions'])} Actions were found, maximum allowed is {MAX_POLICY_ACTIONS}.")
        for action in params["Actions"]:
            if action in OWNER_ONLY_ACTIONS:
                raise _invalid(f"SQS:{action}", "ActionName", "Only the queue owner is allowed to invoke this action.")
            if action not in SHAREABLE_ACTIONS:
                reason = "Please refer to the appropriate WSDL for a list of valid actions."
                raise _invalid(f"SQS:{action}", "ActionName", reason)
        if any(statement.get("Sid") == label for statement in policy.get("Statement", [])):
            raise _invalid(label, "Label", "Already exists.")
        principals = [f"arn:aws:iam::{account}:root" for account in reversed(params["AWSAccountIds"])]
        actions = [f"SQS:{action}" for action in params["Actions"]]
        policy.setdefault("Statement", []).append(
            {
                "Sid": label,
                "Effect": "Allow",
                "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
                "Action": actions[0] if len(actions) == 1 else actions,
                "Resource": queue.arn,
            }
        )
        await self._engine.update(queue, attributes={"Policy": json.dumps(policy)})

    async def remove_permission(self, ctx: CallContext, params: dict[str, Any]) -> None:
        queue = self._queue(ctx, params["QueueUrl"])
        label: str = params["Label"]
        policy = json.loads(queue.attributes.get("Policy") or "null") or {}
        statements = policy.get("Statement", [])
        kept = [statement for statement in statements if statement.get("Sid") != label]
        if len(kept) == len(statements):
            raise _invalid(label, "Label", "can't find label.")
        policy["Statement"] = kept
        await self._engine.update(queue, attributes={"Policy": json.dumps(policy) if kept else ""})

    def list_dead_letter_source_queues(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        target = self._queue(ctx, params["QueueUrl"])
        sources = [
            q
            for q in self._engine.queues(ctx.region, ctx.account_id)
            if q.redrive is not None and q.redrive[0] == target.arn
        ]
        page, token = self._page(sources, params)  # paginated as ListQueues is
        result: dict[str, Any] = {"queueUrls": [self._url(ctx, q) for q in page]}
        if token:
            result["NextToken"] = token
        return result

    # -- sending --------------------------------------------------------------------------------
    def _prepare(self, ctx: CallContext, queue: Queue, entry: Mapping[str, Any]) -> NewMessage:
        body = entry.get("MessageBody")
        if body is None or body == "":
            raise MissingParameter("The request must contain the parameter MessageBody.")
        if _BAD_CHARS.search(body):
            raise InvalidMessageContents(
                "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | "
                "#x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
            )
        attrs: dict[str, dict[str, Any]] = {}
        size = len(body.encode())
        given = entry.get("MessageAttributes") or {}
        if len(given) > MAX_MESSAGE_ATTRIBUTES:
            raise InvalidParameter(
                f"Number of message attributes [{len(given)}] exceeds the allowed maximum [{MAX_MESSAGE_ATTRIBUTES}]."
            )
        for name, value in given.items():
            if (
                not _ATTRIBUTE_NAME.match(name)
                or name.endswith(".")
                or ".." in name
                or (name.lower().startswith(("aws.", "amazon.")))
            ):
                raise InvalidParameter(f"Message (user) attribute name '{name}' is invalid.")
            clean = {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
            dtype = str(clean.get("DataType", ""))
            if not dtype:
                raise InvalidParameter(f"The message attribute '{name}' must contain non-empty message attribute type.")
            base = dtype.split(".", 1)[0]
            if base not in ("String", "Number", "Binary"):
                raise InvalidParameter(
                    f"The type of message (user) attribute '{name}' is invalid. You must use only the following "
                    "supported type prefixes: Binary, Number, String."
                )
            if base == "Binary" and clean.get("BinaryValue") is None:
                raise InvalidParameter(f"The message attribute '{name}' with type 'Binary' must use field 'Binary'.")
            if base != "Binary" and clean.get("StringValue") is None:
                raise InvalidParameter(f"The message attribute '{name}' with type '{base}' must use field 'String'.")
            if len(dtype) > 256:
                raise InvalidParameter(f"Message (user) attribute '{name}' type must be shorter than 256 bytes.")
            if base != "Binary" and _BAD_CHARS.search(str(clean["StringValue"])):
                raise InvalidParameter(
                    f"Message (user) attribute '{name}' must contain valid unicode characters: #x9 | #xA | #xD | "
                    "#x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
                )
            if base != "Binary" and clean["StringValue"] == "":
                raise InvalidParameter(
                    f"Message (user) attribute '{name}' must contain a non-empty value of type '{base}'."
                )
            size += len(name.encode()) + len(dtype.encode())
            size += len(clean["BinaryValue"]) if base == "Binary" else len(str(clean["StringValue"]).encode())
            attrs[name] = clean
        limit = queue.setting("MaximumMessageSize")
        if size > limit:
            raise InvalidParameter(
                f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes."
            )
        system: dict[str, str] = {"SenderId": ctx.account_id}
        for name, value in (entry.get("MessageSystemAttributes") or {}).items():
            if name == "AWSTraceHeader" and value.get("StringValue") is not None:
                system["AWSTraceHeader"] = str(value["StringValue"])
        if "AWSTraceHeader" not in system and ctx.trace_header:
            # A function's SDK sends its trace id as X-Amzn-Trace-Id: the message carries the request chain on
            # (recursive loop detection reads it back, invoke/loop_detection.py).
            system["AWSTraceHeader"] = ctx.trace_header
        delay = entry.get("DelaySeconds")
        if delay is not None and not 0 <= delay <= 900:
            raise _invalid(delay, "DelaySeconds", "Must be >= 0 and <= 900, if provided.")
        group = entry.get("MessageGroupId")
        dedup = entry.get("MessageDeduplicationId")
        if queue.fifo:
            if delay:
                raise _invalid(
                    delay, "DelaySeconds", "The request include parameter that is not valid for this queue type."
                )
            if not group:
                raise MissingParameter("The request must contain the parameter MessageGroupId.")
            if dedup is None:
                if queue.attributes.get("ContentBasedDeduplication") != "true":
                    raise InvalidParameter(
                        "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId "
                        "provided explicitly"
                    )
                dedup = hashlib.sha256(body.encode()).hexdigest()
            elif not _DEDUP.match(dedup):
                raise _invalid(
                    dedup,
                    "MessageDeduplicationId",
                    "MessageDeduplicationId can only include "
                    "alphanumeric and punctuation characters. 1 to 128 in length.",
                )
            system["MessageGroupId"] = group
            system["MessageDeduplicationId"] = dedup
            delay = None
        elif group is not None:
            if not _DEDUP.match(group):
                raise _invalid(
                    group,
                    "MessageGroupId",
                    "MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.",
                )
            system["MessageGroupId"] = group
        return NewMessage(
            body=body,
            md5_body=md5_text(body),
            attributes=attrs,
            md5_attributes=md5_attributes(attrs) if attrs else None,
            system=system,
            delay=delay,
            group=group if queue.fifo else None,
            dedup_id=dedup if queue.fifo else None,
            size=size,
        )

    async def send_message(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(ctx, params["QueueUrl"])
        sent = (await self._engine.send(queue, [self._prepare(ctx, queue, params)]))[0]
        return self._sent(sent.message, sent.sequence)

    @staticmethod
    def _sent(message: Any, sequence: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"MD5OfMessageBody": message.md5_body, "MessageId": message.id}
        if message.md5_attributes:
            out["MD5OfMessageAttributes"] = message.md5_attributes
        trace = message.system.get("AWSTraceHeader")
        if trace is not None:
            out["MD5OfMessageSystemAttributes"] = md5_attributes(
                {"AWSTraceHeader": {"DataType": "String", "StringValue": trace}}
            )
        if sequence is not None:
            out["SequenceNumber"] = sequence
        return out

    @staticmethod
    def _check_batch(entries: list[dict[str, Any]] | None, what: str) -> list[dict[str, Any]]:
        if not entries:
            raise EmptyBatch(f"There should be at least one {what} in the request.")
        if len(entries) > 10:
            raise TooManyBatchEntries(f"Maximum number of entries per request are 10. You have sent {len(entries)}.")
        seen: set[str] = set()
        for entry in entries:
            entry_id = entry.get("Id", "")
            if not _BATCH_ID.match(entry_id):
                raise InvalidBatchEntryId(
                    "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
                    "It can be at most 80 letters long."
                )
            if entry_id in seen:
                raise BatchEntryIdsNotDistinct(f"Id {entry_id} repeated.")
            seen.add(entry_id)
        return entries

    async def send_message_batch(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(ctx, params["QueueUrl"])
        entries = self._check_batch(params.get("Entries"), "SendMessageBatchRequestEntry")
        total = sum(
            len(e.get("MessageBody", "").encode())
            + sum(
                len(k.encode())
                + len(str(v.get("DataType", "")).encode())
                + (
                    len(v["BinaryValue"])
                    if v.get("BinaryValue") is not None
                    else len(str(v.get("StringValue", "")).encode())
                )
                for k, v in (e.get("MessageAttributes") or {}).items()
            )
            for e in entries
        )
        if total > BATCH_LIMIT:  # fixed: a queue's smaller MaximumMessageSize applies per message only
            raise BatchTooLarge(
                f"Batch requests cannot be longer than {BATCH_LIMIT} bytes. You have sent {total} bytes."
            )
        if queue.fifo:  # a FIFO batch without group or deduplication ids fails as a whole
            for entry in entries:
                if not entry.get("MessageGroupId"):
                    raise InvalidParameter("The request must contain the parameter MessageGroupId.")
                if entry.get("MessageDeduplicationId") is None and (
                    queue.attributes.get("ContentBasedDeduplication") != "true"
                ):
                    raise InvalidParameter(
                        "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId "
                        "provided explicitly"
                    )
        prepared: list[tuple[str, NewMessage]] = []
        failed: list[dict[str, Any]] = []
        for entry in entries:
            try:
                prepared.append((entry["Id"], self._prepare(ctx, queue, entry)))
            except LaminaError as error:
                failed.append(self._failure(entry["Id"], error))
        sent = await self._engine.send(queue, [p for _, p in prepared])
        successful = [
            {"Id": entry_id, **self._sent(s.message, s.sequence)}
            for (entry_id, _), s in zip(prepared, sent, strict=True)
        ]
        return _batch_result(successful, failed)

    @staticmethod
    def _failure(entry_id: str, error: LaminaError) -> dict[str, Any]:
        from lamina.api.faults import service_wire_error  # the wire name of an error inside a 200 batch result

        code, _, query = service_wire_error("sqs", error)
        return {"Id": entry_id, "SenderFault": True, "Code": query or code, "Message": error.message}

    # -- receiving ------------------------------------------------------------------------------
    async def receive_message(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(ctx, params["QueueUrl"])
        limit = params.get("MaxNumberOfMessages")
        if limit is not None and not 1 <= limit <= 10:
            raise _invalid(limit, "MaxNumberOfMessages", "Must be between 1 and 10, if provided.")
        wait = params.get("WaitTimeSeconds")
        if wait is not None and not 0 <= wait <= 20:
            raise _invalid(wait, "WaitTimeSeconds", "Must be >= 0 and <= 20, if provided.")
        if wait is None:
            wait = queue.setting("ReceiveMessageWaitTimeSeconds")
        visibility = params.get("VisibilityTimeout")
        if visibility is not None and not 0 <= visibility <= 43200:
            raise _invalid(visibility, "VisibilityTimeout", "Must be >= 0 and <= 43200, if provided.")
        got = await self._engine.receive(queue, limit or 1, visibility, float(wait))
        if not got:
            return {}
        system_names = set(params.get("AttributeNames") or []) | set(params.get("MessageSystemAttributeNames") or [])
        attr_filter = _attribute_filter(params.get("MessageAttributeNames") or [])
        return {"Messages": [self._message(r, system_names, attr_filter) for r in got]}

    @staticmethod
    def _message(received: Received, system_names: set[str], attr_filter: Callable[[str], bool]) -> dict[str, Any]:
        m = received.message
        out: dict[str, Any] = {
            "MessageId": m.id,
            "ReceiptHandle": received.receipt_handle,
            "MD5OfBody": m.md5_body,
            "Body": m.body,
        }
        if system_names:
            everything = dict(m.system)
            everything["ApproximateReceiveCount"] = str(m.receive_count)
            if m.first_receive is not None:
                everything["ApproximateFirstReceiveTimestamp"] = str(int(m.first_receive * 1000))
            wanted = _SYSTEM_NAMES if "All" in system_names else [n for n in _SYSTEM_NAMES if n in system_names]
            attrs = {n: everything[n] for n in sorted(wanted) if n in everything}
            if attrs:
                out["Attributes"] = attrs
        chosen = {k: v for k, v in m.attributes.items() if attr_filter(k)}
        if chosen:
            out["MessageAttributes"] = chosen
            out["MD5OfMessageAttributes"] = md5_attributes(chosen)
        return out

    # -- deleting and visibility ----------------------------------------------------------------
    async def delete_message(self, ctx: CallContext, params: dict[str, Any]) -> None:
        await self._engine.delete_message(self._queue(ctx, params["QueueUrl"]), params["ReceiptHandle"])

    async def delete_message_batch(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(ctx, params["QueueUrl"])
        entries = self._check_batch(params.get("Entries"), "DeleteMessageBatchRequestEntry")
        successful: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        ids: list[str] = []
        for entry in entries:
            try:
                message_id = self._engine.deletable(queue, entry["ReceiptHandle"])
            except LaminaError as error:
                failed.append(self._failure(entry["Id"], error))
                continue
            if message_id is not None:
                ids.append(message_id)
            successful.append({"Id": entry["Id"]})
        await self._engine.remove(queue, ids)
        return _batch_result(successful, failed)

    def change_message_visibility(self, ctx: CallContext, params: dict[str, Any]) -> None:
        queue = self._queue(ctx, params["QueueUrl"])
        timeout = params["VisibilityTimeout"]
        if not 0 <= timeout <= 43200:
            raise _invalid(timeout, "VisibilityTimeout", "Must be >= 0 and <= 43200, if provided.")
        self._engine.change_visibility(queue, params["ReceiptHandle"], timeout)

    def change_message_visibility_batch(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(ctx, params["QueueUrl"])
        entries = self._check_batch(params.get("Entries"), "ChangeMessageVisibilityBatchRequestEntry")
        successful: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for entry in entries:
            try:
                timeout = entry.get("VisibilityTimeout", 0)
                if not 0 <= timeout <= 43200:
                    raise _invalid(timeout, "VisibilityTimeout", "Must be >= 0 and <= 43200, if provided.")
                self._engine.change_visibility(queue, entry["ReceiptHandle"], timeout)
                successful.append({"Id": entry["Id"]})
            except LaminaError as error:
                failed.append(self._failure(entry["Id"], error))
        return _batch_result(successful, failed)


def _check_tags(queue_name: str, tags: Mapping[str, str]) -> None:
    """At most 50 tags on a queue, counting those it has (worded as moto words it; AWS's own text unrecorded)."""
    if len(tags) > MAX_TAGS:
        raise InvalidParameter(f"Too many tags added for queue {queue_name}.")


def _attribute_filter(names: Iterable[str]) -> Callable[[str], bool]:
    """MessageAttributeNames: `All`, `*` or `.*` for every attribute, `prefix.*` for a family, else exact names."""
    exact: set[str] = set()
    prefixes: list[str] = []
    for name in names:
        if name in ("All", ".*", "*"):
            return lambda _: True
        if name.endswith(".*"):
            prefixes.append(name[:-1])
        else:
            exact.add(name)
    if not exact and not prefixes:
        return lambda _: False
    return lambda key: key in exact or any(key.startswith(p) for p in prefixes)


def _batch_result(successful: list[dict[str, Any]], failed: list[dict[str, Any]]) -> dict[str, Any]:
    """AWS leaves an empty `Successful` or `Failed` list out of a batch result."""
    out: dict[str, Any] = {}
    if successful:
        out["Successful"] = successful
    if failed:
        out["Failed"] = failed
    return out
