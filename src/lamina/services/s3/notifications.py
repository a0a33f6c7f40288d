"""Bucket notifications: the configuration (validated as AWS validates it), which changes it selects (event types,
key prefix/suffix), the event records (../shared/spec/events.md §1; EventBridge's "Object Created"/"Object
Deleted"), and their delivery.

Queues and topics take notifications only as their own policy lets s3.amazonaws.com send them for the bucket
(aws:SourceArn = the bucket's ARN, aws:SourceAccount = its owner), checked by `Targets.refusal` when the
configuration is saved (AWS's "Permissions on the destination queue do not allow S3 ...") and again at every
delivery: one whose grant was removed since is dropped (counted as failed), as AWS drops it.

A change and its notifications commit in one transaction (the engine writes them to the outbox beside the object
row); `deliver` hands every pending one to its target (a queue, a topic, a function's async queue, the default
event bus), each removed from the outbox only once its target has it, and the write's answer waits for that: at
least once, and a crash in between only means they go at the next start. Targets are callables app.py passes in
(`Targets`), so S3 imports no other service.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from lamina.api.protocols.rest_xml import s3_request_ids
from lamina.errors import LaminaError
from lamina.services.s3.faults import S3Error, invalid_argument
from lamina.store.s3_sqlite import Body, S3Store

log = logging.getLogger(__name__)

OWNER_PRINCIPAL = "A1LAMINA0000000"  # the bucket owner's canonical principal in records
REQUESTER = "AWS:000000000000"
SOURCE_IP = "127.0.0.1"
# wire member → (kind, ARN member, the name AWS's errors use for it)
KINDS = {
    "QueueConfigurations": ("sqs", "QueueArn", "Queue"),
    "TopicConfigurations": ("sns", "TopicArn", "Topic"),
    "LambdaFunctionConfigurations": ("lambda", "LambdaFunctionArn", "CloudFunction"),
}
_ARN = {
    "sqs": re.compile(r"^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$"),
    "sns": re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$"),
    "lambda": re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9$_-]+)?$"),
}
_MISSING = {"sqs": "The destination queue does not exist", "sns": "The destination topic does not exist"}
_REFUSED = {
    "sqs": "Permissions on the destination queue do not allow S3 to publish notifications from this bucket",
    "sns": "Permissions on the destination topic do not allow S3 to publish notifications from this bucket",
}


class TargetGone(Exception):
    """The target no longer exists (or refuses for good): the notification is counted as failed, not retried."""


# The X-Amzn-Trace-Id of the write being handled (set by the provider): a function's notification carries it, so
# recursive loop detection counts S3 → Lambda → S3 chains as it counts SQS and SNS ones.
TRACE: ContextVar[str] = ContextVar("s3_write_trace", default="")


@dataclass
class Targets:
    """What S3 needs of the services it notifies (app.py builds it)."""

    send_to_queue: Callable[[str, bytes], Awaitable[None]]
    publish_to_topic: Callable[[str, bytes, str], Awaitable[None]]  # (topic ARN, message, subject)
    invoke_async: Callable[[str, bytes, str | None], Awaitable[None]]  # as s3.amazonaws.com, with the trace header
    put_on_default_bus: Callable[[str, str, dict[str, Any], list[str]], None]  # (region, detail-type, detail, res.)
    queue_exists: Callable[[str], bool]
    topic_exists: Callable[[str], bool]
    may_invoke: Callable[[str, str], bool]  # (function ARN, bucket ARN): its policy lets S3 invoke it
    # (queue or topic ARN, bucket ARN) → why its policy does not let s3.amazonaws.com send there, None if it does
    refusal: Callable[[str, str], str | None]


def iso_ms(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}Z"


def _rules(config: dict[str, Any]) -> dict[str, str]:
    """prefix/suffix → value of a configuration's filter (names as stored: "Prefix"/"Suffix")."""
    rules = ((config.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    return {r["Name"].lower(): r.get("Value") or "" for r in rules}


def _selects(patterns: list[str], event: str) -> bool:
    """`s3:ObjectCreated:*` selects every ObjectCreated event; other patterns name one event."""
    name = "s3:" + event
    return any(p == name or (p.endswith(":*") and name.startswith(p[:-1])) for p in patterns)


def _events_overlap(a: str, b: str) -> bool:
    """Whether two event selectors (`s3:ObjectCreated:*`, `s3:ObjectCreated:Put`) share an event type."""
    return a == b or (a.endswith(":*") and b.startswith(a[:-1])) or (b.endswith(":*") and a.startswith(b[:-1]))


def _overlaps(a: dict[str, str], b: dict[str, str]) -> bool:
    pa, pb, sa, sb = a.get("prefix", ""), b.get("prefix", ""), a.get("suffix", ""), b.get("suffix", "")
    prefixes = pa.startswith(pb) or pb.startswith(pa)
    suffixes = sa.endswith(sb) or sb.endswith(sa)
    return prefixes and suffixes


def validate(config: dict[str, Any], skip_destinations: bool, bucket_arn: str, targets: Targets) -> dict[str, Any]:
    """The configuration as it will be stored and returned (ids filled in, filter names capitalised), or
    AWS's InvalidArgument."""
    out: dict[str, Any] = {}
    seen: list[tuple[str, dict[str, str]]] = []  # (event pattern, rules) of every configuration so far
    unreachable: list[tuple[str, str]] = []
    for member, (kind, arn_member, argument) in KINDS.items():
        entries = []
        for entry in config.get(member) or []:
            arn = entry.get(arn_member) or ""
            if not _ARN[kind].match(arn):
                raise invalid_argument("The ARN could not be parsed", argument, arn)
            events = entry.get("Events") or []
            if not events:
                raise S3Error("MalformedXML", "The XML you provided was not well-formed or did not validate "
                              "against our published schema")  # fmt: skip
            rules = _filter(entry)
            for event in events:
                for other, other_rules in seen:
                    if _events_overlap(event, other) and _overlaps(rules, other_rules):
                        raise invalid_argument(
                            "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if "
                            "the prefixes are overlapping for the same event type.",
                            "FilterRule",
                            "",
                        )
            seen.extend((e, rules) for e in events)
            stored: dict[str, Any] = {"Id": entry.get("Id") or str(uuid.uuid4()), arn_member: arn, "Events": events}
            if "Filter" in entry:
                stored["Filter"] = {"Key": {"FilterRules": [
                    {"Name": name.capitalize(), "Value": value} for name, value in rules.items()
                ]}}  # fmt: skip
            entries.append(stored)
            if not skip_destinations:
                if (kind == "sqs" and not targets.queue_exists(arn)) or (
                    kind == "sns" and not targets.topic_exists(arn)
                ):
                    unreachable.append((arn, _MISSING[kind]))
                elif kind in _REFUSED and targets.refusal(arn, bucket_arn) is not None:
                    unreachable.append((arn, _REFUSED[kind]))
                elif kind == "lambda" and not targets.may_invoke(arn, bucket_arn):
                    unreachable.append((f"{arn}, null", f"Not authorized to invoke function [{arn}]"))
        if entries:
            out[member] = entries
    if unreachable:
        fields: dict[str, object] = {}
        for n, (name, why) in enumerate(unreachable, 1):
            fields[f"ArgumentName{n}"] = name
            fields[f"ArgumentValue{n}"] = why
        raise S3Error.named("InvalidArgument", "Unable to validate the following destination configurations", 400,
                            fields)  # fmt: skip
    if config.get("EventBridgeConfiguration") is not None:
        out["EventBridgeConfiguration"] = {}
    return out


_EVENTS = frozenset(
    {
        "s3:ReducedRedundancyLostObject", "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post",
        "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectRemoved:*",
        "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated", "s3:ObjectRestore:*",
        "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed", "s3:ObjectRestore:Delete", "s3:Replication:*",
        "s3:Replication:OperationFailedReplication", "s3:Replication:OperationNotTracked",
        "s3:Replication:OperationMissedThreshold", "s3:Replication:OperationReplicatedAfterThreshold",
        "s3:LifecycleTransition", "s3:IntelligentTiering", "s3:ObjectAcl:Put", "s3:LifecycleExpiration:*",
        "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated", "s3:ObjectTagging:*",
        "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete",
    }
)  # fmt: skip


def _filter(entry: dict[str, Any]) -> dict[str, str]:
    for event in entry.get("Events") or []:
        if event not in _EVENTS:
            raise invalid_argument("The event is not supported for notifications", "Event", event)
    rules: dict[str, str] = {}
    for rule in ((entry.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []:
        name = (rule.get("Name") or "").lower()
        if name not in ("prefix", "suffix"):
            raise invalid_argument("FilterRule name must be either prefix or suffix", "FilterRule.Name",
                                   rule.get("Name") or "")  # fmt: skip
        if name in rules:
            raise invalid_argument(f"Cannot specify more than one {name} rule in a filter.", "FilterRule.Name", name)
        value = rule.get("Value") or ""
        if len(value) > 1024:
            raise invalid_argument("The value of the filter rule is too long", "FilterRule.Value", value)
        rules[name] = value
    return rules


class Notifications:
    def __init__(self, store: S3Store, targets: Targets | None, region: str, account: str) -> None:
        self._store = store
        self.targets = targets
        self._region = region
        self._account = account
        self._lock = asyncio.Lock()
        self._queued = True  # the outbox may hold rows (at start: those a stop or crash left)
        self.stats = {"delivered": 0, "failed": 0}

    # -- which changes go where -------------------------------------------------------------------
    def outgoing(
        self,
        bucket_name: str,
        bucket: Body,
        event: str,
        key: str,
        obj: Body | None,
        version_id: str | None,
        sequencer: str,
        request_id: str,
        now: float,
    ) -> list[Body]:
        """The notifications one change makes (bodies for the outbox); `event` as `ObjectCreated:Put`."""
        config = bucket.get("notification") or {}
        if not config:
            return []
        amz_id, host_id = s3_request_ids(request_id)
        found: list[Body] = []
        for member, (kind, arn_member, _) in KINDS.items():
            for entry in config.get(member) or []:
                if not _selects(entry["Events"], event):
                    continue
                rules = _rules(entry)
                if not key.startswith(rules.get("prefix", "")) or not key.endswith(rules.get("suffix", "")):
                    continue
                record = _record(bucket_name, bucket.get("region", self._region), event, key, obj, version_id,
                                 sequencer, entry["Id"], amz_id, host_id, now)  # fmt: skip
                found.append({"kind": kind, "arn": entry[arn_member], "message": {"Records": [record]}})
                if TRACE.get():
                    found[-1]["trace"] = TRACE.get()
        if "EventBridgeConfiguration" in config:
            found.append(self._bus_event(bucket_name, bucket, event, key, obj, version_id, sequencer, amz_id))
        return found

    def _bus_event(
        self,
        bucket_name: str,
        bucket: Body,
        event: str,
        key: str,
        obj: Body | None,
        version_id: str | None,
        sequencer: str,
        amz_id: str,
    ) -> Body:
        created = event.startswith("ObjectCreated:")
        reason = {"Put": "PutObject", "Copy": "CopyObject", "CompleteMultipartUpload": "CompleteMultipartUpload",
                  "Post": "PostObject"}.get(event.split(":")[1], "DeleteObject")  # fmt: skip
        if event.startswith("LifecycleExpiration:"):
            reason = "Lifecycle Expiration"
        described: dict[str, Any] = {"key": key}
        if created and obj is not None:
            described.update(size=obj["size"], etag=obj["etag"].strip('"'))
        if version_id is not None:
            described["version-id"] = version_id
        described["sequencer"] = sequencer
        detail: dict[str, Any] = {
            "version": "0",
            "bucket": {"name": bucket_name},
            "object": described,
            "request-id": amz_id,
            "requester": self._account,
            "source-ip-address": SOURCE_IP,
            "reason": reason,
        }
        if not created:
            detail["deletion-type"] = (
                "Delete Marker Created" if event.endswith("DeleteMarkerCreated") else "Permanently Deleted"
            )
        return {
            "kind": "events",
            "region": bucket.get("region", self._region),
            "detail_type": "Object Created" if created else "Object Deleted",
            "detail": detail,
            "resources": [f"arn:aws:s3:::{bucket_name}"],
        }

    # -- delivery ---------------------------------------------------------------------------------
    def queued(self) -> None:
        """Notifications were committed to the outbox: the next `deliver` reads it (writes without any skip that)."""
        self._queued = True

    async def deliver(self) -> None:
        """Hands every pending notification to its target; those whose target failed for a reason that may pass
        stay queued for the next call (or the next start)."""
        if self.targets is None:
            return
        async with self._lock:
            if not self._queued:
                return
            self._queued = False
            for outgoing_id, body in self._store.outgoing():
                try:
                    await self._send(self.targets, body)
                except (TargetGone, LaminaError) as error:  # the target is gone or refuses: counted, not retried
                    self.stats["failed"] += 1
                    log.warning("S3 notification to %s not delivered: %s", body.get("arn"), error)
                except Exception:
                    self.stats["failed"] += 1
                    log.exception("S3 notification to %s failed; kept for a retry", body.get("arn"))
                    self._queued = True
                    continue
                else:
                    self.stats["delivered"] += 1
                self._store.remove_outgoing(outgoing_id)

    async def _send(self, targets: Targets, body: Body) -> None:
        kind = body["kind"]
        if kind == "events":
            targets.put_on_default_bus(body["region"], body["detail_type"], body["detail"], body["resources"])
            return
        message = json.dumps(body["message"], separators=(",", ":")).encode()
        if kind in _REFUSED:
            refused = targets.refusal(body["arn"], _bucket_arn(body))
            if refused is not None:
                raise TargetGone(refused)
        if kind == "sqs":
            await targets.send_to_queue(body["arn"], message)
        elif kind == "sns":
            await targets.publish_to_topic(body["arn"], message, "Amazon S3 Notification")
        else:
            await targets.invoke_async(body["arn"], message, body.get("trace") or None)

    async def test_event(self, bucket_name: str, config: dict[str, Any], request_id: str, now: float) -> None:
        """AWS's s3:TestEvent, sent to each queue when a configuration is saved."""
        if self.targets is None:
            return
        amz_id, host_id = s3_request_ids(request_id)
        text = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": iso_ms(now), "Bucket": bucket_name,
                "RequestId": amz_id, "HostId": host_id}  # fmt: skip
        bodies = [{"kind": "sqs", "arn": e["QueueArn"], "message": text} for e in config.get("QueueConfigurations", [])]
        if bodies:
            self._store.add_outgoing(bodies)
            self.queued()
            await self.deliver()


def _bucket_arn(body: Body) -> str:
    """The ARN of the bucket a queued notification comes from (a record's, or a test event's Bucket)."""
    message = body.get("message") or {}
    records = message.get("Records") or []
    if records:
        return str(records[0]["s3"]["bucket"]["arn"])
    return f"arn:aws:s3:::{message.get('Bucket', '')}"


def _record(
    bucket_name: str,
    region: str,
    event: str,
    key: str,
    obj: Body | None,
    version_id: str | None,
    sequencer: str,
    configuration_id: str,
    amz_id: str,
    host_id: str,
    now: float,
) -> dict[str, Any]:
    described: dict[str, Any] = {"key": quote_plus(key, safe="/~")}
    if event.startswith("ObjectCreated:") and obj is not None:
        described.update(size=obj["size"], eTag=obj["etag"].strip('"'))
    if version_id is not None:
        described["versionId"] = version_id
    described["sequencer"] = sequencer
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": iso_ms(now),
        "eventName": event,
        "userIdentity": {"principalId": REQUESTER},
        "requestParameters": {"sourceIPAddress": SOURCE_IP},
        "responseElements": {"x-amz-request-id": amz_id, "x-amz-id-2": host_id},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {
                "name": bucket_name,
                "ownerIdentity": {"principalId": OWNER_PRINCIPAL},
                "arn": f"arn:aws:s3:::{bucket_name}",
            },
            "object": described,
        },
    }
