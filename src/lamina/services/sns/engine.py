"""SNS topics, subscriptions and fan-out.

Topics and subscriptions are documents (kinds `sns-topic`, `sns-subscription`) in the shared document store, so
they survive a restart. Publishing hands each matching subscription its message before `publish` returns:

- `sqs`: appended to the queue through `SqsEngine.send` (committed), wrapped in SNS's notification JSON unless
  `RawMessageDelivery` is true (then the body is the message and the attributes become SQS message attributes);
- `lambda`: an async invoke (the durable async queue) with SNS's event shape, only when the function's resource
  policy allows `sns.amazonaws.com` with the topic as SourceArn (as on AWS, otherwise the delivery fails);
- `http`/`https`: a POST in the background with AWS's headers, retried on 5xx, timeouts and connection errors
  along the subscription's effective DeliveryPolicy (delivery_policy.py), waiting on the injected clock. Any other
  answer (2xx-4xx) counts as delivered, as SNS counts it (a 4xx is logged). A delivery that exhausts its retries
  goes to the RedrivePolicy DLQ;
- `sms`, `email`, `email-json`: no carrier or mail server here, so the message is appended to the local outbox
  (`<data-dir>/sns/outbox/sms.jsonl`, `email.jsonl`) where users can read what would have been sent.

http/https/email/email-json subscriptions start pending: SNS sends a SubscriptionConfirmation (an email one goes to
the outbox and Lamina's log) whose Token or SubscribeURL confirms it; only confirmed subscriptions get
notifications. Messages carry real signatures (signing.py). FIFO topics deduplicate for 5 minutes at the topic
level (kept as documents, so a restart doesn't forget) and number messages with increasing SequenceNumbers.

A delivery that fails is counted and logged; it never fails the Publish (AWS accepts the message first).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import hashlib
import json
import logging
import secrets
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lamina.clock import Clock
from lamina.invoke.destinations.record import timestamp
from lamina.services.sns import delivery_policy, filter_policy
from lamina.services.sns.signing import Signer
from lamina.services.sqs.digests import md5_attributes, md5_text
from lamina.services.sqs.engine import NewMessage, SqsEngine
from lamina.services.sqs.queue import Queue
from lamina.store.documents import DocumentStore

log = logging.getLogger(__name__)

TOPIC_KIND = "sns-topic"
SUBSCRIPTION_KIND = "sns-subscription"
TOKEN_KIND = "sns-token"  # confirmation tokens: subscribe, and restore-after-unsubscribe
DEDUP_KIND = "sns-dedup"  # FIFO topics' deduplication ids within the 5-minute window
DELIVERY_KIND = "sns-delivery"  # http/https deliveries not finished yet (resumed after a restart)
DEDUP_WINDOW = 300.0
TOKEN_LIFETIME = 3 * 86400.0  # "Confirmation tokens are valid for three days" (API reference, Subscribe)
CONFIRMED_PROTOCOLS = frozenset({"http", "https", "email", "email-json"})  # need a confirmation
USER_AGENT = "Amazon Simple Notification Service Agent"
HTTP_TIMEOUT = 15.0

# (function_arn, qualifier or None, topic_arn) → allowed?
PolicyCheck = Callable[[str, str | None, str], bool]
# (queue ARN, topic ARN) → why sns.amazonaws.com may not send there (the queue's policy), None when it may
QueueCheck = Callable[[str, str], str | None]
# (function ARN possibly qualified, payload, trace header or None) → committed async invoke
LambdaSubmit = Callable[[str, bytes, str | None], Awaitable[None]]
# (url, body, headers) → HTTP status; raises OSError for connection errors and timeouts
HttpPost = Callable[[str, bytes, dict[str, str]], Awaitable[int]]


class DeliveryFailed(Exception):
    pass


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
    pending: bool = False  # waiting for ConfirmSubscription / a visit of the SubscribeURL
    authenticated: bool = True  # ConfirmationWasAuthenticated

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
            "pending": self.pending,
            "authenticated": self.authenticated,
        }

    @staticmethod
    def from_doc(doc: dict[str, Any]) -> Subscription:
        return Subscription(
            doc["arn"],
            doc["topic_arn"],
            doc["protocol"],
            doc["endpoint"],
            doc["owner"],
            dict(doc["attributes"]),
            bool(doc.get("pending", False)),
            bool(doc.get("authenticated", True)),
        )


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
    dedup_id: str | None = None  # on a FIFO topic: the given id, or the SHA-256 of the message (content-based)
    base_url: str | None = None  # how the publisher reached Lamina (for UnsubscribeURL)
    sequence: str | None = None  # FIFO topics: the topic's sequence number for this message
    # X-Amzn-Trace-Id of the Publish (a function's SDK sends its trace id): passed to SQS and Lambda deliveries,
    # so recursive loop detection sees the request chain (invoke/loop_detection.py)
    trace_header: str | None = None
    # (message text, SignatureVersion) → signature: one RSA signature per message however many subscribers
    signatures: dict[tuple[str, str], str] = field(default_factory=dict, repr=False, compare=False)

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
        data_dir: Path | None = None,
        signer: Signer | None = None,
        http_post: HttpPost | None = None,
        sqs_allowed: QueueCheck | None = None,
    ) -> None:
        self._sqs_allowed = sqs_allowed
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
        self.retried: Counter[str] = Counter()
        self._background: set[asyncio.Task[Any]] = set()
        self.outbox = (data_dir / "sns" / "outbox") if data_dir is not None else None
        self.signer = signer or Signer(data_dir / "sns" if data_dir is not None else None)
        self._http_post = http_post or _urllib_post
        self._tokens: dict[str, dict[str, Any]] = {}
        self._dedup: dict[str, dict[str, Any]] = {}  # "topic\nid" → {message_id, sequence, expires}
        self._sequence: dict[str, int] = {}
        self._next_slot: dict[str, float] = {}  # throttlePolicy: subscription → next permitted send (monotonic)
        self._unfinished: dict[str, dict[str, Any]] = {}  # http/https deliveries found at load, for start()

    def load(self) -> None:
        for doc in self._store.load(TOPIC_KIND).values():
            topic = Topic(doc["arn"], doc["name"], dict(doc["attributes"]), dict(doc.get("tags") or {}))
            self.topics[topic.arn] = topic
        for doc in self._store.load(SUBSCRIPTION_KIND).values():
            sub = Subscription.from_doc(doc)
            self.subscriptions[sub.arn] = sub
        now = self._clock.time()
        for key, doc in self._store.load(TOKEN_KIND).items():
            if now - float(doc.get("created", 0)) > TOKEN_LIFETIME:
                self._store.delete(TOKEN_KIND, key)
            else:
                self._tokens[key] = doc
        remembered = sorted(self._store.load(DEDUP_KIND).items(), key=lambda item: float(item[1]["expires"]))
        for key, doc in remembered:  # in expiry order, which _remember relies on
            if float(doc["expires"]) <= now:
                self._store.delete(DEDUP_KIND, key)
            else:
                self._dedup[key] = doc
                topic_arn = key.split("\n", 1)[0]
                self._sequence[topic_arn] = max(self._sequence.get(topic_arn, 0), int(doc["sequence"]))
        self._unfinished = self._store.load(DELIVERY_KIND)

    def start(self) -> None:
        """Resumes the http/https deliveries (and their retry schedules) a stop or crash interrupted."""
        for key, doc in self._unfinished.items():
            sub = Subscription.from_doc(doc["subscription"])
            kind = str(doc["kind"])
            if kind == "Notification":
                current = self.subscriptions.get(sub.arn)
                if current is None or current.pending:  # unsubscribed since: nothing to deliver
                    self._store.delete(DELIVERY_KIND, key)
                    continue
                sub = current
            message = _message_from_doc(doc["message"]) if doc.get("message") else None
            self._post_in_background(sub, doc["body"], kind, message, key, int(doc["attempt"]), float(doc["due"]))
        self._unfinished = {}

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

    # -- confirmation -----------------------------------------------------------------------------
    def _new_token(self, sub: Subscription, purpose: str) -> str:
        token = secrets.token_hex(144)  # AWS's tokens are 288 hex digits
        doc: dict[str, Any] = {
            "topic_arn": sub.topic_arn,
            "subscription_arn": sub.arn,
            "purpose": purpose,
            "created": self._clock.time(),
        }
        if purpose == "unsubscribe":
            doc["subscription"] = sub.to_doc()  # what visiting the SubscribeURL restores
        self._store.put(TOKEN_KIND, token, doc)
        self._tokens[token] = doc
        return token

    @staticmethod
    def subscribe_url(base_url: str, topic_arn: str, token: str) -> str:
        return f"{base_url.rstrip('/')}/?Action=ConfirmSubscription&TopicArn={topic_arn}&Token={token}"

    def request_confirmation(self, sub: Subscription, base_url: str | None) -> str:
        """Sends the SubscriptionConfirmation (http/https: POSTed; email: outbox and log). Returns the token."""
        base = (base_url or self.base_url).rstrip("/")
        token = self._new_token(sub, "subscribe")
        text = (
            f"You have chosen to subscribe to the topic {sub.topic_arn}.\n"
            "To confirm the subscription, visit the SubscribeURL included in this message."
        )
        body = self._confirmation("SubscriptionConfirmation", sub, text, token, base)
        if sub.protocol in ("http", "https"):
            self._post_in_background(sub, body, "SubscriptionConfirmation", None)
        else:
            log.warning(
                "SNS subscription %s of %s to %s is pending confirmation: confirm with ConfirmSubscription "
                "(Token=%s) or visit %s",
                sub.arn,
                sub.topic_arn,
                sub.endpoint,
                token,
                body["SubscribeURL"],
            )
            self._write_outbox(
                "email",
                {
                    "Timestamp": body["Timestamp"],
                    "To": sub.endpoint,
                    "Protocol": sub.protocol,
                    "Subject": "AWS Notification - Subscription Confirmation",
                    "Type": "SubscriptionConfirmation",
                    "TopicArn": sub.topic_arn,
                    "SubscriptionArn": sub.arn,
                    "Token": token,
                    "SubscribeURL": body["SubscribeURL"],
                    "Message": text,
                },
            )
        return token

    def token_region(self, token: str) -> str | None:
        doc = self._tokens.get(token)
        return str(doc["topic_arn"]).split(":")[3] if doc is not None else None

    def confirm(self, token: str, authenticated: bool) -> str | None:
        """ConfirmSubscription / a visit of the SubscribeURL: the subscription's ARN, or None for an unknown
        token. Confirming twice is fine (AWS answers with the same ARN)."""
        doc = self._tokens.get(token)
        if doc is None or self._clock.time() - float(doc.get("created", 0)) > TOKEN_LIFETIME:
            return None
        sub = self.subscriptions.get(doc["subscription_arn"])
        if sub is None:
            if doc["purpose"] != "unsubscribe" or doc["topic_arn"] not in self.topics:
                return None
            sub = Subscription.from_doc(doc["subscription"])  # restoring what Unsubscribe removed
        if sub.pending or sub.arn not in self.subscriptions:
            sub = Subscription(
                sub.arn,
                sub.topic_arn,
                sub.protocol,
                sub.endpoint,
                sub.owner,
                sub.attributes,
                pending=False,
                authenticated=authenticated,
            )
            self.save_subscription(sub)
        return sub.arn

    def unsubscribe(self, sub: Subscription, base_url: str | None) -> None:
        """Deletes the subscription; a confirmed http/https endpoint gets an UnsubscribeConfirmation whose
        SubscribeURL restores it."""
        self.delete_subscription(sub)
        for token, doc in list(self._tokens.items()):
            if doc["subscription_arn"] == sub.arn and doc["purpose"] == "subscribe":
                self._store.delete(TOKEN_KIND, token)
                del self._tokens[token]
        if sub.protocol in ("http", "https") and not sub.pending:
            base = (base_url or self.base_url).rstrip("/")
            token = self._new_token(sub, "unsubscribe")
            text = (
                f"You have chosen to deactivate subscription {sub.arn}.\n"
                "To cancel this operation and restore the subscription, visit the SubscribeURL included in this "
                "message."
            )
            body = self._confirmation("UnsubscribeConfirmation", sub, text, token, base)
            self._post_in_background(sub, body, "UnsubscribeConfirmation", None)

    def _confirmation(self, kind: str, sub: Subscription, text: str, token: str, base: str) -> dict[str, Any]:
        topic = self.topics.get(sub.topic_arn)
        version = _signature_version(topic)
        body: dict[str, Any] = {
            "Type": kind,
            "MessageId": str(uuid.uuid4()),
            "Token": token,
            "TopicArn": sub.topic_arn,
            "Message": text,
            "SubscribeURL": self.subscribe_url(base, sub.topic_arn, token),
            "Timestamp": timestamp(self._clock.time()),
            "SignatureVersion": version,
        }
        body["Signature"] = self.signer.sign(body, version)
        body["SigningCertURL"] = self.signer.cert_url(base)
        return body

    # -- FIFO -----------------------------------------------------------------------------------
    def deduplicated(self, topic: Topic, message: Message) -> tuple[str, str] | None:
        """On a FIFO topic: (MessageId, SequenceNumber) of the message this one duplicates within 5 minutes."""
        if not topic.fifo or message.dedup_id is None:
            return None
        doc = self._dedup.get(f"{topic.arn}\n{message.dedup_id}")
        if doc is None or float(doc["expires"]) <= self._clock.time():
            return None
        return str(doc["message_id"]), str(doc["sequence"])

    def _remember(self, topic: Topic, message: Message) -> None:
        now = self._clock.time()
        while self._dedup:  # oldest first (insertion order is expiry order): stop at the first one still fresh
            key, doc = next(iter(self._dedup.items()))
            if float(doc["expires"]) > now:
                break
            self._store.delete(DEDUP_KIND, key)
            del self._dedup[key]
        sequence = max(self._sequence.get(topic.arn, 0) + 1, int(now * 1_000_000) * 1000)
        self._sequence[topic.arn] = sequence
        message.sequence = f"{sequence:020d}"
        key = f"{topic.arn}\n{message.dedup_id}"
        doc = {"message_id": message.message_id, "sequence": message.sequence, "expires": now + DEDUP_WINDOW}
        self._store.put(DEDUP_KIND, key, doc)
        self._dedup[key] = doc

    # -- publishing -----------------------------------------------------------------------------
    async def publish(self, topic: Topic, message: Message) -> tuple[str, str | None]:
        """Fans the message out; returns (MessageId, SequenceNumber). A FIFO duplicate within the deduplication
        window is not delivered again and answers with the original's ids."""
        if topic.fifo:
            if message.dedup_id is None:
                message.dedup_id = hashlib.sha256(message.message.encode()).hexdigest()
            original = self.deduplicated(topic, message)
            if original is not None:
                return original
            self._remember(topic, message)
        for sub in self.subscriptions_of(topic.arn):
            if sub.pending or not self._wanted(sub, message):
                continue
            try:
                await self._deliver(sub, message)
            except Exception as exc:
                await self._failed(sub, message, exc)
            else:
                if sub.protocol not in ("http", "https"):
                    self.delivered[sub.protocol] += 1
        return message.message_id, message.sequence

    async def _failed(self, sub: Subscription, message: Message, exc: BaseException) -> None:
        self.failed[sub.protocol] += 1
        dead_letter = await self._dead_letter(sub, message)
        log.error(
            "SNS message %s of %s could not be delivered to %s (%s): %s%s",
            message.message_id,
            sub.topic_arn,
            sub.endpoint,
            sub.arn,
            exc,
            f"; moved to the subscription's dead-letter queue {dead_letter}" if dead_letter else "",
        )

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
            self._post_in_background(sub, self.notification(sub, message), "Notification", message)
        elif sub.protocol == "sms":
            self.send_sms(sub.endpoint, message, sub)
        elif sub.protocol in ("email", "email-json"):
            self._to_email(sub, message)
        else:
            raise RuntimeError(f"protocol {sub.protocol} is not delivered by Lamina")

    async def _to_sqs(self, sub: Subscription, message: Message) -> None:
        queue = self._sqs.by_arn(sub.endpoint)
        if queue is None:
            raise RuntimeError(f"queue {sub.endpoint} does not exist")
        await self._sqs_send(queue, sub, message)

    async def _sqs_send(self, queue: Queue, sub: Subscription, message: Message) -> None:
        refused = self._sqs_allowed(queue.arn, sub.topic_arn) if self._sqs_allowed is not None else None
        if refused is not None:
            raise PermissionError(refused)
        attributes: dict[str, dict[str, Any]] = {}
        if sub.raw:
            body = message.text_for("sqs")
            attributes = {name: dict(attr) for name, attr in message.attributes.items()}
        else:
            body = json.dumps(self.notification(sub, message))
        group = message.group_id if queue.fifo else None
        dedup = None
        if queue.fifo:
            # AWS passes the topic's deduplication id on (content-based: the SHA-256 of the message)
            dedup = message.dedup_id or hashlib.sha256(message.message.encode()).hexdigest()
            group = group or "default"
        system = {"SenderId": message.topic_arn.split(":")[4]}  # AWS: the SNS service's id
        if group is not None and dedup is not None:
            system["MessageGroupId"] = group
            system["MessageDeduplicationId"] = dedup
        if message.trace_header:
            system["AWSTraceHeader"] = message.trace_header
        new = NewMessage(
            body=body,
            md5_body=md5_text(body),
            attributes=attributes,
            md5_attributes=md5_attributes(attributes) if attributes else None,
            system=system,
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
        payload = json.dumps(self.lambda_event(sub, message)).encode()
        await self._lambda_submit(sub.endpoint, payload, message.trace_header)

    # -- sms and email: the local outbox --------------------------------------------------------
    def _write_outbox(self, name: str, entry: dict[str, Any]) -> None:
        if self.outbox is None:
            log.info("SNS %s (no outbox): %s", name, json.dumps(entry))
            return
        self.outbox.mkdir(parents=True, exist_ok=True)
        with (self.outbox / f"{name}.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
            f.flush()

    def send_sms(self, phone: str, message: Message, sub: Subscription | None = None) -> None:
        entry: dict[str, Any] = {
            "Timestamp": timestamp(message.timestamp),
            "MessageId": message.message_id,
            "PhoneNumber": phone,
            "Message": message.text_for("sms"),
        }
        if sub is not None:
            entry["TopicArn"] = sub.topic_arn
            entry["SubscriptionArn"] = sub.arn
        if message.attributes:
            entry["MessageAttributes"] = _typed_attributes(message.attributes)
        self._write_outbox("sms", entry)

    def _to_email(self, sub: Subscription, message: Message) -> None:
        topic = self.topics.get(sub.topic_arn)
        if sub.protocol == "email-json":
            body = json.dumps(self.notification(sub, message))
        else:
            body = (
                f"{message.text_for('email')}\n\n--\nIf you wish to stop receiving notifications from this topic, "
                f"please click or visit the link below to unsubscribe:\n{self._unsubscribe_url(sub, message)}"
            )
        display = (topic.attributes.get("DisplayName") if topic else "") or "AWS Notifications"
        self._write_outbox(
            "email",
            {
                "Timestamp": timestamp(message.timestamp),
                "MessageId": message.message_id,
                "From": f"{display} <no-reply@sns.amazonaws.com>",
                "To": sub.endpoint,
                "Protocol": sub.protocol,
                "Subject": message.subject or "AWS Notification Message",
                "Type": "Notification",
                "TopicArn": sub.topic_arn,
                "SubscriptionArn": sub.arn,
                "Body": body,
            },
        )

    # -- http/https -----------------------------------------------------------------------------
    def _post_in_background(
        self,
        sub: Subscription,
        body: dict[str, Any],
        kind: str,
        message: Message | None,
        key: str | None = None,
        attempt: int = 0,
        due: float | None = None,
    ) -> None:
        """Records the delivery (so a restart resumes it) and runs it in the background; the record goes once
        the delivery ends, unless it was cancelled by a stop (then the next start resumes it)."""
        if key is None:
            key = f"{sub.arn}\n{kind}\n{body['MessageId']}"
            self._save_delivery(key, sub, body, kind, message, 0, self._clock.time())
        task = asyncio.get_running_loop().create_task(self.post(sub, body, kind, message, key, attempt, due))
        self._background.add(task)

        def ended(done: asyncio.Task[bool]) -> None:
            self._background.discard(done)
            if not done.cancelled():
                self._store.delete(DELIVERY_KIND, key)

        task.add_done_callback(ended)

    def _save_delivery(
        self,
        key: str,
        sub: Subscription,
        body: dict[str, Any],
        kind: str,
        message: Message | None,
        attempt: int,
        due: float,
    ) -> None:
        doc = {
            "subscription": sub.to_doc(),
            "kind": kind,
            "body": body,
            "message": _message_to_doc(message) if message is not None else None,
            "attempt": attempt,
            "due": due,
        }
        self._store.put(DELIVERY_KIND, key, doc)

    def _effective_policy(self, sub: Subscription) -> dict[str, Any]:
        topic = self.topics.get(sub.topic_arn)
        topic_text = topic.attributes.get("DeliveryPolicy") if topic else None
        try:
            return delivery_policy.effective_subscription_policy(sub.attributes.get("DeliveryPolicy"), topic_text)
        except Exception:
            return delivery_policy.effective_subscription_policy(None, None)

    async def post(
        self,
        sub: Subscription,
        body: dict[str, Any],
        kind: str,
        message: Message | None,
        key: str | None = None,
        attempt: int = 0,
        due: float | None = None,
    ) -> bool:
        """POSTs one message to an http/https endpoint with AWS's headers, retrying along the effective delivery
        policy. A Notification that exhausts its retries goes to the dead-letter queue. With a
        `key`, progress is recorded so a restart resumes at `attempt`, due at wall-clock `due`."""
        if due is not None and due > self._clock.time():
            await self._clock.sleep(due - self._clock.time())
        policy = self._effective_policy(sub)
        headers = {
            "x-amz-sns-message-type": kind,
            "x-amz-sns-message-id": str(body["MessageId"]),
            "x-amz-sns-topic-arn": sub.topic_arn,
            "Content-Type": delivery_policy.DEFAULT_CONTENT_TYPE,
            "User-Agent": USER_AGENT,
            "Accept-Encoding": "gzip,deflate",  # as AWS sends it (recorded)
        }
        if kind != "SubscriptionConfirmation":
            headers["x-amz-sns-subscription-arn"] = sub.arn
        payload = json.dumps(body).encode()
        if kind == "Notification":
            request_policy = policy.get("requestPolicy") or {}
            headers["Content-Type"] = request_policy.get("headerContentType") or delivery_policy.DEFAULT_CONTENT_TYPE
            if sub.raw and message is not None:
                payload = message.text_for(sub.protocol).encode()
                headers["x-amz-sns-rawdelivery"] = "true"
        delays = delivery_policy.retry_delays(policy["healthyRetryPolicy"])
        rate = (policy.get("throttlePolicy") or {}).get("maxReceivesPerSecond")
        while True:
            if kind == "Notification" and attempt > 0 and sub.arn not in self.subscriptions:
                log.info("SNS %s to %s: the subscription is gone, retries end", body["MessageId"], sub.endpoint)
                return False
            if rate:
                await self._throttle(sub.arn, float(rate))
            try:
                status = await self._http_post(sub.endpoint, payload, headers)
            except Exception as exc:  # connection refused, timeout, TLS failure: retried
                reason = f"{type(exc).__name__}: {exc}"
            else:
                if status < 500:  # SNS retries server-side errors only; the endpoint answered
                    if status >= 300:
                        log.warning(
                            "SNS %s %s to %s was answered with HTTP %d (not retried)",
                            kind,
                            body["MessageId"],
                            sub.endpoint,
                            status,
                        )
                    if kind == "Notification":
                        self.delivered[sub.protocol] += 1
                    return True
                reason = f"HTTP {status}"
            if attempt >= len(delays):
                break
            log.info(
                "SNS %s %s to %s failed (%s); retry %d of %d in %.3gs",
                kind,
                body["MessageId"],
                sub.endpoint,
                reason,
                attempt + 1,
                len(delays),
                delays[attempt],
            )
            self.retried[sub.protocol] += 1
            if key is not None:
                self._save_delivery(key, sub, body, kind, message, attempt + 1, self._clock.time() + delays[attempt])
            await self._clock.sleep(delays[attempt])
            attempt += 1
        if kind == "Notification" and message is not None:
            await self._failed(sub, message, DeliveryFailed(f"{reason} after {attempt + 1} attempt(s)"))
        else:
            log.error("SNS %s %s could not be POSTed to %s: %s", kind, body["MessageId"], sub.endpoint, reason)
        return False

    async def _throttle(self, key: str, rate: float) -> None:
        now = self._clock.monotonic()
        slot = max(now, self._next_slot.get(key, now))
        self._next_slot[key] = slot + 1.0 / rate
        if slot > now:
            await self._clock.sleep(slot - now)

    # -- message shapes -------------------------------------------------------------------------
    def _unsubscribe_url(self, sub: Subscription, message: Message) -> str:
        base = (message.base_url or self.base_url).rstrip("/")
        return f"{base}/?Action=Unsubscribe&SubscriptionArn={sub.arn}"

    def notification(self, sub: Subscription, message: Message) -> dict[str, Any]:
        """The JSON SNS delivers to SQS and HTTP endpoints (keys as AWS orders them). FIFO topics' messages carry
        a SequenceNumber and no signature (as AWS delivers them)."""
        body: dict[str, Any] = {"Type": "Notification", "MessageId": message.message_id}
        if message.sequence is not None:
            body["SequenceNumber"] = message.sequence
        body["TopicArn"] = message.topic_arn
        if message.subject is not None:
            body["Subject"] = message.subject
        body["Message"] = message.text_for(sub.protocol)
        body["Timestamp"] = timestamp(message.timestamp)
        if message.sequence is None:
            version = _signature_version(self.topics.get(message.topic_arn))
            body["SignatureVersion"] = version
            body["Signature"] = self._signed(message, body, version)
            body["SigningCertURL"] = self.signer.cert_url(message.base_url or self.base_url)
        body["UnsubscribeURL"] = self._unsubscribe_url(sub, message)
        if message.attributes:
            body["MessageAttributes"] = _typed_attributes(message.attributes)
        return body

    def _signed(self, message: Message, fields: dict[str, Any], version: str) -> str:
        key = (str(fields["Message"]), version)
        signature = message.signatures.get(key)
        if signature is None:
            signature = message.signatures[key] = self.signer.sign(fields, version)
        return signature

    def lambda_event(self, sub: Subscription, message: Message) -> dict[str, Any]:
        version = _signature_version(self.topics.get(message.topic_arn))
        signed = {
            "Type": "Notification",
            "MessageId": message.message_id,
            "TopicArn": message.topic_arn,
            "Subject": message.subject,
            "Message": message.text_for("lambda"),
            "Timestamp": timestamp(message.timestamp),
        }
        sns = {
            **signed,
            "SignatureVersion": version,
            "Signature": self._signed(message, signed, version),
            "SigningCertUrl": self.signer.cert_url(message.base_url or self.base_url),
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
        trace_header: str | None = None,
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
            trace_header=trace_header,
        )

    async def idle(self) -> None:
        """Waits until no http/https delivery is in flight (tests: after virtual time has run out the retries)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        for task in list(self._background):
            try:
                await task
            except BaseException:
                pass


def _message_to_doc(message: Message) -> dict[str, Any]:
    attributes = {
        name: {k: {"b64": base64.b64encode(v).decode()} if isinstance(v, bytes) else v for k, v in attribute.items()}
        for name, attribute in message.attributes.items()
    }
    return {
        "message_id": message.message_id,
        "topic_arn": message.topic_arn,
        "message": message.message,
        "subject": message.subject,
        "attributes": attributes,
        "structure": message.structure,
        "timestamp": message.timestamp,
        "group_id": message.group_id,
        "dedup_id": message.dedup_id,
        "base_url": message.base_url,
        "sequence": message.sequence,
        "trace_header": message.trace_header,
    }


def _message_from_doc(doc: dict[str, Any]) -> Message:
    attributes = {
        name: {k: base64.b64decode(v["b64"]) if isinstance(v, dict) else v for k, v in attribute.items()}
        for name, attribute in doc["attributes"].items()
    }
    return Message(
        message_id=doc["message_id"],
        topic_arn=doc["topic_arn"],
        message=doc["message"],
        subject=doc["subject"],
        attributes=attributes,
        structure=doc["structure"],
        timestamp=doc["timestamp"],
        group_id=doc["group_id"],
        dedup_id=doc["dedup_id"],
        base_url=doc["base_url"],
        sequence=doc["sequence"],
        trace_header=doc.get("trace_header"),
    )


def _signature_version(topic: Topic | None) -> str:
    return "2" if topic is not None and topic.attributes.get("SignatureVersion") == "2" else "1"


# HTTP/S deliveries block a thread each (up to HTTP_TIMEOUT); they get threads of their own, so endpoints
# that hang cannot take the event loop's default executor from everything else that uses it.
_HTTP_THREADS = concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="lamina-sns-http")


async def _urllib_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    def send() -> int:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    return await asyncio.get_running_loop().run_in_executor(_HTTP_THREADS, send)


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
