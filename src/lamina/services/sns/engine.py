"""SNS topics, subscriptions and fan-out.

Topics and subscriptions are documents (kinds `sns-topic`, `sns-subscription`) in the shared document store, so
they survive a restart. Publishing hands each matching subscription its message before `publish` returns:

- `sqs`: appended to the queue through `SqsEngine.send` (committed), wrapped in SNS's notification JSON unless
  `RawMessageDelivery` is true (then the body is the message and the attributes become SQS message attributes);
- `lambda`: an async invoke (the durable async queue) with SNS's event shape, only when the function's resource
  policy allows `sns.amazonaws.com` with the topic as SourceArn (as on AWS, otherwise the delivery fails);
- `http`/`https`: a POST of the notification JSON in the background (best effort, as a loopback helper).

A delivery that fails is counted and logged; it never fails the Publish (AWS accepts the message first).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import secrets
import urllib.request
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from lamina.clock import Clock
from lamina.invoke.destinations.record import timestamp
from lamina.services.sns import filter_policy
from lamina.services.sqs.digests import md5_attributes, md5_text
from lamina.services.sqs.engine import NewMessage, SqsEngine
from lamina.services.sqs.queue import Queue
from lamina.store.documents import DocumentStore

log = logging.getLogger(__name__)

TOPIC_KIND = "sns-topic"
SUBSCRIPTION_KIND = "sns-subscription"

# (function_arn, qualifier or None, topic_arn) → allowed?
PolicyCheck = Callable[[str, str | None, str], bool]
# (function ARN possibly qualified, payload) → committed async invoke
LambdaSubmit = Callable[[str, bytes], Awaitable[None]]


@dataclass
class Topic:
    arn: str
    name: str
    attributes: dict[str, str]
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]

    @property
    def fifo(self) -> bool:
        return self.attributes.get("FifoTopic", "false").lower() == "true"

    def to_doc(self) -> dict[str, Any]:
        return {"arn": self.arn, "name": self.name, "attributes": self.attributes, "tags": self.tags}


@dataclass
class Subscription:
    arn: str
    topic_arn: str
    protocol: str
    endpoint: str
    owner: str
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def raw(self) -> bool:
        return self.attributes.get("RawMessageDelivery", "false").lower() == "true"

    def to_doc(self) -> dict[str, Any]:
        return {
            "arn": self.arn,
            "topic_arn": self.topic_arn,
            "protocol": self.protocol,
            "endpoint": self.endpoint,
            "owner": self.owner,
            "attributes": self.attributes,
        }


@dataclass
class Message:
    """One published message, before it is shaped for a protocol."""

    message_id: str
    topic_arn: str
    message: str
    subject: str | None
    attributes: dict[str, dict[str, Any]]  # DataType / StringValue / BinaryValue (bytes)
    structure: dict[str, Any] | None  # MessageStructure=json: per-protocol messages
    timestamp: float
    group_id: str | None = None
    dedup_id: str | None = None
    base_url: str | None = None  # how the publisher reached Lamina (for UnsubscribeURL)

    def text_for(self, protocol: str) -> str:
        if self.structure is None:
            return self.message
        value = self.structure.get(protocol, self.structure["default"])
        return value if isinstance(value, str) else json.dumps(value)


class SnsEngine:
    def __init__(
        self,
        store: DocumentStore,
        sqs: SqsEngine,
        clock: Clock,
        base_url: str,
        lambda_submit: LambdaSubmit | None = None,
        lambda_allowed: PolicyCheck | None = None,
    ) -> None:
        self._store = store
        self._sqs = sqs
        self._clock = clock
        self.base_url = base_url.rstrip("/")
        self._lambda_submit = lambda_submit
        self._lambda_allowed = lambda_allowed
        self.topics: dict[str, Topic] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.delivered: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.dead_lettered: Counter[str] = Counter()
        self._background: set[asyncio.Task[None]] = set()
        self._key = secrets.token_bytes(32)

    def load(self) -> None:
        for doc in self._store.load(TOPIC_KIND).values():
            topic = Topic(doc["arn"], doc["name"], dict(doc["attributes"]), dict(doc.get("tags") or {}))
            self.topics[topic.arn] = topic
        for doc in self._store.load(SUBSCRIPTION_KIND).values():
            sub = Subscription(
                doc["arn"], doc["topic_arn"], doc["protocol"], doc["endpoint"], doc["owner"], dict(doc["attributes"])
            )
            self.subscriptions[sub.arn] = sub

    # -- persistence ----------------------------------------------------------------------------
    def save_topic(self, topic: Topic) -> None:
        self._store.put(TOPIC_KIND, topic.arn, topic.to_doc())
        self.topics[topic.arn] = topic

    def delete_topic(self, topic: Topic) -> None:
        with self._store.transaction():
            for sub in self.subscriptions_of(topic.arn):
                self._store.delete(SUBSCRIPTION_KIND, sub.arn)
            self._store.delete(TOPIC_KIND, topic.arn)
        for sub in self.subscriptions_of(topic.arn):
            del self.subscriptions[sub.arn]
        self.topics.pop(topic.arn, None)

    def save_subscription(self, sub: Subscription) -> None:
        self._store.put(SUBSCRIPTION_KIND, sub.arn, sub.to_doc())
        self.subscriptions[sub.arn] = sub

    def delete_subscription(self, sub: Subscription) -> None:
        self._store.delete(SUBSCRIPTION_KIND, sub.arn)
        self.subscriptions.pop(sub.arn, None)

    def subscriptions_of(self, topic_arn: str) -> list[Subscription]:
        return [s for s in self.subscriptions.values() if s.topic_arn == topic_arn]

    # -- publishing -----------------------------------------------------------------------------
    async def publish(self, topic: Topic, message: Message) -> None:
        for sub in self.subscriptions_of(topic.arn):
            if not self._wanted(sub, message):
                continue
            try:
                await self._deliver(sub, message)
            except Exception as exc:
                self.failed[sub.protocol] += 1
                dead_letter = await self._dead_letter(sub, message)
                log.error(
                    "SNS message %s of %s could not be delivered to %s (%s): %s%s",
                    message.message_id,
                    topic.arn,
                    sub.endpoint,
                    sub.arn,
                    exc,
                    f"; moved to the subscription's dead-letter queue {dead_letter}" if dead_letter else "",
                )
            else:
                self.delivered[sub.protocol] += 1

    async def _dead_letter(self, sub: Subscription, message: Message) -> str | None:
        """The subscription's RedrivePolicy: the message as an SQS subscriber would have received it goes to the
        dead-letter queue. Returns the queue's ARN when it was moved there."""
        try:
            target = json.loads(sub.attributes.get("RedrivePolicy") or "{}").get("deadLetterTargetArn")
        except (ValueError, AttributeError):
            return None
        queue = self._sqs.by_arn(target) if isinstance(target, str) else None
        if queue is None:
            return None
        try:
            await self._sqs_send(queue, sub, message)
        except Exception as exc:
            log.error("SNS message %s could not be moved to %s either: %s", message.message_id, target, exc)
            return None
        self.dead_lettered[sub.protocol] += 1
        return str(target)

    @staticmethod
    def _wanted(sub: Subscription, message: Message) -> bool:
        text = sub.attributes.get("FilterPolicy")
        if not text:
            return True
        try:
            policy = json.loads(text)
        except ValueError:
            return False
        if sub.attributes.get("FilterPolicyScope", "MessageAttributes") == "MessageBody":
            return filter_policy.matches_body(policy, message.text_for(sub.protocol))
        return filter_policy.matches_attributes(policy, message.attributes)

    async def _deliver(self, sub: Subscription, message: Message) -> None:
        if sub.protocol == "sqs":
            await self._to_sqs(sub, message)
        elif sub.protocol == "lambda":
            await self._to_lambda(sub, message)
        elif sub.protocol in ("http", "https"):
            body = json.dumps(self.notification(sub, message)).encode()
            task = asyncio.get_running_loop().create_task(self._post(sub, message, body))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        else:
            raise RuntimeError(f"protocol {sub.protocol} is not delivered by Lamina")

    async def _to_sqs(self, sub: Subscription, message: Message) -> None:
        queue = self._sqs.by_arn(sub.endpoint)
        if queue is None:
            raise RuntimeError(f"queue {sub.endpoint} does not exist")
        await self._sqs_send(queue, sub, message)

    async def _sqs_send(self, queue: Queue, sub: Subscription, message: Message) -> None:
        attributes: dict[str, dict[str, Any]] = {}
        if sub.raw:
            body = message.text_for("sqs")
            attributes = {name: dict(attr) for name, attr in message.attributes.items()}
        else:
            body = json.dumps(self.notification(sub, message))
        group = message.group_id if queue.fifo else None
        dedup = None
        if queue.fifo:
            dedup = message.dedup_id or hashlib.sha256(body.encode()).hexdigest()
        new = NewMessage(
            body=body,
            md5_body=md5_text(body),
            attributes=attributes,
            md5_attributes=md5_attributes(attributes) if attributes else None,
            system={"SenderId": message.topic_arn.split(":")[4]},  # AWS: the SNS service's id
            delay=None,
            group=group,
            dedup_id=dedup,
        )
        await self._sqs.send(queue, [new])

    async def _to_lambda(self, sub: Subscription, message: Message) -> None:
        if self._lambda_submit is None:
            raise RuntimeError("asynchronous invocation is not enabled")
        function_arn, qualifier = _split_function(sub.endpoint)
        if self._lambda_allowed is not None and not self._lambda_allowed(function_arn, qualifier, sub.topic_arn):
            raise PermissionError(
                f"the resource policy of {sub.endpoint} does not allow sns.amazonaws.com to invoke it "
                f"from {sub.topic_arn} (lambda add-permission --principal sns.amazonaws.com --source-arn …)"
            )
        await self._lambda_submit(sub.endpoint, json.dumps(self.lambda_event(sub, message)).encode())

    async def _post(self, sub: Subscription, message: Message, body: bytes) -> None:
        headers = {
            "Content-Type": "text/plain; charset=UTF-8",
            "x-amz-sns-message-type": "Notification",
            "x-amz-sns-message-id": message.message_id,
            "x-amz-sns-topic-arn": sub.topic_arn,
            "x-amz-sns-subscription-arn": sub.arn,
        }
        if sub.raw:
            body = message.text_for(sub.protocol).encode()
            headers["x-amz-sns-rawdelivery"] = "true"

        def send() -> None:
            request = urllib.request.Request(sub.endpoint, data=body, headers=headers, method="POST")
            with urllib.request.urlopen(request, timeout=15) as response:
                response.read()

        try:
            await asyncio.to_thread(send)
        except Exception as exc:
            self.failed[sub.protocol] += 1
            log.error("SNS message %s could not be POSTed to %s: %s", message.message_id, sub.endpoint, exc)

    # -- message shapes -------------------------------------------------------------------------
    def _signature(self, message: Message) -> str:
        digest = hmac.new(self._key, f"{message.message_id}{message.message}".encode(), hashlib.sha256).digest()
        return base64.b64encode(digest * 8).decode()

    def _cert_url(self, topic_arn: str) -> str:
        region = topic_arn.split(":")[3]
        return f"https://sns.{region}.amazonaws.com/SimpleNotificationService-{hashlib.md5(self._key).hexdigest()}.pem"

    def _unsubscribe_url(self, sub: Subscription, message: Message) -> str:
        base = (message.base_url or self.base_url).rstrip("/")
        return f"{base}/?Action=Unsubscribe&SubscriptionArn={sub.arn}"

    def notification(self, sub: Subscription, message: Message) -> dict[str, Any]:
        """The JSON SNS delivers to SQS and HTTP endpoints (keys as AWS orders them)."""
        body: dict[str, Any] = {
            "Type": "Notification",
            "MessageId": message.message_id,
            "TopicArn": message.topic_arn,
        }
        if message.subject is not None:
            body["Subject"] = message.subject
        body["Message"] = message.text_for(sub.protocol)
        body["Timestamp"] = timestamp(message.timestamp)
        body["SignatureVersion"] = "1"
        body["Signature"] = self._signature(message)
        body["SigningCertURL"] = self._cert_url(message.topic_arn)
        body["UnsubscribeURL"] = self._unsubscribe_url(sub, message)
        if message.attributes:
            body["MessageAttributes"] = _typed_attributes(message.attributes)
        return body

    def lambda_event(self, sub: Subscription, message: Message) -> dict[str, Any]:
        sns = {
            "Type": "Notification",
            "MessageId": message.message_id,
            "TopicArn": message.topic_arn,
            "Subject": message.subject,
            "Message": message.text_for("lambda"),
            "Timestamp": timestamp(message.timestamp),
            "SignatureVersion": "1",
            "Signature": self._signature(message),
            "SigningCertUrl": self._cert_url(message.topic_arn),
            "UnsubscribeUrl": self._unsubscribe_url(sub, message),
            "MessageAttributes": _typed_attributes(message.attributes),
        }
        return {
            "Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": sub.arn, "Sns": sns}]
        }

    def new_message(
        self,
        topic_arn: str,
        text: str,
        subject: str | None,
        attributes: dict[str, dict[str, Any]],
        structure: dict[str, Any] | None,
        group_id: str | None = None,
        dedup_id: str | None = None,
        base_url: str | None = None,
    ) -> Message:
        return Message(
            message_id=str(uuid.uuid4()),
            topic_arn=topic_arn,
            message=text,
            subject=subject,
            attributes=attributes,
            structure=structure,
            timestamp=self._clock.time(),
            group_id=group_id,
            dedup_id=dedup_id,
            base_url=base_url,
        )

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        for task in list(self._background):
            try:
                await task
            except BaseException:
                pass


def _typed_attributes(attributes: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for name, attr in attributes.items():
        data_type = str(attr.get("DataType", "String"))
        if attr.get("BinaryValue") is not None:
            raw = attr["BinaryValue"]
            value = base64.b64encode(raw if isinstance(raw, bytes) else str(raw).encode()).decode()
        else:
            value = str(attr.get("StringValue", ""))
        out[name] = {"Type": data_type, "Value": value}
    return out


def _split_function(arn: str) -> tuple[str, str | None]:
    parts = arn.split(":")
    if len(parts) >= 8:
        return ":".join(parts[:7]), parts[7]
    return arn, None
