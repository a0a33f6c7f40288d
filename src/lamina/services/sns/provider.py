"""The SNS API (query protocol): topics, subscriptions, publishing and tags, with AWS's error codes and messages
(compared with the recorded test_sns responses)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from lamina import json_text
from lamina.errors import (
    BatchEntryIdsNotDistinct,
    BatchTooLarge,
    EmptyBatch,
    InvalidAttributeValue,
    InvalidBatchEntryId,
    InvalidParameter,
    NotFound,
    TooManyBatchEntries,
    ValidationFailed,
)
from lamina.services.sns import delivery_policy, filter_policy
from lamina.services.sns.engine import CONFIRMED_PROTOCOLS, Message, SnsEngine, Subscription, Topic
from lamina.types import CallContext

MAX_MESSAGE = 262_144
PAGE = 100
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_ATTR_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
ALL_PROTOCOLS = {"http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose"}
SERVED_PROTOCOLS = {"http", "https", "sqs", "lambda", "sms", "email", "email-json"}
RAW_PROTOCOLS = {"http", "https", "sqs", "firehose"}  # the protocols RawMessageDelivery applies to
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_E164 = re.compile(r"^\+?[1-9][0-9]{1,14}$")


def valid_sms_endpoint(endpoint: str) -> bool:
    """As AWS accepts them: E.164 digits, optionally separated by single '.', '-' or '/' (not at either end)."""
    if re.search(r"[./-]{2,}", endpoint) or re.search(r"(^[./-]|[./-]$)", endpoint):
        return False
    return bool(_E164.match(re.sub(r"[./-]", "", endpoint)))


TOPIC_ATTRIBUTES = {
    "DisplayName",
    "Policy",
    "DeliveryPolicy",
    "KmsMasterKeyId",
    "SignatureVersion",
    "TracingConfig",
    "FifoTopic",
    "ContentBasedDeduplication",
    "ArchivePolicy",
    "DataProtectionPolicy",
    "FifoThroughputScope",
}
SUBSCRIPTION_ATTRIBUTES = {
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
}
_SUBSCRIPTION_DEFAULTS = {"RawMessageDelivery": "false", "FilterPolicyScope": "MessageAttributes"}


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _check_topic_attribute(name: str, value: str) -> None:
    if name == "DeliveryPolicy" and value:
        delivery_policy.topic_policy(value)
    elif name == "SignatureVersion" and value not in ("1", "2"):
        raise InvalidParameter("Invalid parameter: SignatureVersion")


# The actions AddPermission may name ("ActionName.member.N": "any Amazon SNS action name, for example
# Publish"): the topic actions of AWS's default policy, and Receive.
TOPIC_ACTIONS = frozenset(
    {
        "GetTopicAttributes",
        "SetTopicAttributes",
        "AddPermission",
        "RemovePermission",
        "DeleteTopic",
        "Subscribe",
        "ListSubscriptionsByTopic",
        "Publish",
        "Receive",
    }
)


def _default_policy(arn: str, account: str) -> str:
    return json.dumps(
        {
            "Version": "2008-10-17",
            "Id": "__default_policy_ID",
            "Statement": [
                {
                    "Sid": "__default_statement_ID",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": [
                        "SNS:GetTopicAttributes",
                        "SNS:SetTopicAttributes",
                        "SNS:AddPermission",
                        "SNS:RemovePermission",
                        "SNS:DeleteTopic",
                        "SNS:Subscribe",
                        "SNS:ListSubscriptionsByTopic",
                        "SNS:Publish",
                    ],
                    "Resource": arn,
                    "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
                }
            ],
        },
        separators=(",", ":"),
    )


def _check_arn(value: str | None, param: str) -> list[str]:
    if value is None or (value == "" and param == "SubscriptionArn"):
        raise InvalidParameter(f"Invalid parameter: {param} Reason: no value for required parameter")
    parts = value.split(":")
    if len(parts) < 6:
        raise InvalidParameter(
            f"Invalid parameter: {param} Reason: An ARN must have at least 6 elements, not {len(parts)}"
        )
    return parts


def _tags(params: dict[str, Any]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for tag in params.get("Tags") or []:
        key = tag.get("Key", "")
        if key in tags:
            raise InvalidParameter("Invalid parameter: Duplicated keys are not allowed.")
        tags[key] = tag.get("Value", "")
    return tags


class SnsProvider:
    def __init__(self, engine: SnsEngine, default_region: str | None = None) -> None:
        self._engine = engine
        # the region of unsigned requests (a GET of a SubscribeURL): Lamina's one endpoint serves every region
        self._default_region = default_region

    # -- topics ---------------------------------------------------------------------------------
    def _topic(self, ctx: CallContext, arn: str | None, param: str = "TopicArn") -> Topic:
        parts = _check_arn(arn, param)
        assert arn is not None
        if parts[3] != ctx.region:
            raise InvalidParameter(f"Invalid parameter: {param}")
        topic = self._engine.topics.get(arn)
        if topic is None:
            raise NotFound("Topic does not exist")
        return topic

    def create_topic(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        name: str = params["Name"]
        attributes: dict[str, str] = dict(params.get("Attributes") or {})
        fifo = attributes.get("FifoTopic", "false").lower() == "true"
        base = name[:-5] if name.endswith(".fifo") else name
        if not _TOPIC_NAME.match(base) or (name.endswith(".fifo") != fifo):
            raise InvalidParameter("Invalid parameter: Topic Name")
        for key, value in attributes.items():
            if key not in TOPIC_ATTRIBUTES:
                raise InvalidParameter("Invalid parameter: AttributeName")
            _check_topic_attribute(key, value)
        tags = _tags(params)
        arn = f"arn:aws:sns:{ctx.region}:{ctx.account_id}:{name}"
        existing = self._engine.topics.get(arn)
        if existing is not None:
            if any(existing.tags.get(k) != v for k, v in tags.items()):  # a subset of the tags is fine
                raise InvalidParameter("Invalid parameter: Tags Reason: Topic already exists with different tags")
            for key, value in attributes.items():
                if existing.attributes.get(key, "") != value and key != "FifoTopic":
                    raise InvalidParameter(
                        "Invalid parameter: Attributes Reason: Topic already exists with different attributes"
                    )
            return {"TopicArn": arn}
        if fifo:
            attributes["FifoTopic"] = "true"
            attributes.setdefault("ContentBasedDeduplication", "false")
        else:
            attributes.pop("FifoTopic", None)
        self._engine.save_topic(Topic(arn, name, attributes, tags))
        return {"TopicArn": arn}

    def delete_topic(self, ctx: CallContext, params: dict[str, Any]) -> None:
        arn = params.get("TopicArn")
        parts = _check_arn(arn, "TopicArn")
        if parts[3] != ctx.region:
            raise InvalidParameter("Invalid parameter: TopicArn")
        topic = self._engine.topics.get(arn or "")
        if topic is not None:
            self._engine.delete_topic(topic)

    def list_topics(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        arns = sorted(
            t.arn for t in self._engine.topics.values() if t.region == ctx.region and t.account == ctx.account_id
        )
        return _page(arns, params.get("NextToken"), "Topics", lambda a: {"TopicArn": a})

    def get_topic_attributes(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._topic(ctx, params.get("TopicArn"))
        subs = self._engine.subscriptions_of(topic.arn)
        pending = sum(1 for s in subs if s.pending)
        attributes = {
            "DisplayName": "",
            "Policy": _default_policy(topic.arn, topic.account),
            "EffectiveDeliveryPolicy": _compact(
                delivery_policy.effective_topic_policy(topic.attributes.get("DeliveryPolicy"))
            ),
            "Owner": topic.account,
            "SubscriptionsConfirmed": str(len(subs) - pending),
            "SubscriptionsDeleted": "0",
            "SubscriptionsPending": str(pending),
            "TopicArn": topic.arn,
        }
        attributes.update(topic.attributes)
        return {"Attributes": attributes}

    def set_topic_attributes(self, ctx: CallContext, params: dict[str, Any]) -> None:
        topic = self._topic(ctx, params.get("TopicArn"))
        name = params["AttributeName"]
        if name not in TOPIC_ATTRIBUTES or name == "FifoTopic":
            raise InvalidParameter("Invalid parameter: AttributeName")
        value = params.get("AttributeValue")
        _check_topic_attribute(name, value or "")
        attributes = dict(topic.attributes)
        if value in (None, "") and name in ("DeliveryPolicy", "Policy"):
            attributes.pop(name, None)
        else:
            attributes[name] = value or ""
        self._engine.save_topic(Topic(topic.arn, topic.name, attributes, topic.tags))

    # -- permissions (statements in the topic's Policy attribute) -------------------------------
    def add_permission(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        """A statement labelled `Label` letting the accounts call the actions, appended to the topic's policy
        (AWS's default policy until one is set), as recorded from AWS (test_topic_add_permission)."""
        topic = self._topic(ctx, params.get("TopicArn"))
        label = str(params.get("Label") or "")
        policy = json.loads(topic.attributes.get("Policy") or _default_policy(topic.arn, topic.account))
        statements = policy.setdefault("Statement", [])
        if any(statement.get("Sid") == label for statement in statements):
            raise InvalidParameter("Invalid parameter: Statement already exists")
        actions = list(params.get("ActionName") or [])
        if any(action not in TOPIC_ACTIONS for action in actions):
            raise InvalidParameter("Invalid parameter: Policy statement action out of service scope!")
        principals = [f"arn:aws:iam::{account}:root" for account in params.get("AWSAccountId") or []]
        named = [f"SNS:{action}" for action in actions]
        statements.append(
            {
                "Sid": label,
                "Effect": "Allow",
                "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
                "Action": named[0] if len(named) == 1 else named,
                "Resource": topic.arn,
            }
        )
        self._save_policy(topic, policy)
        return {}

    def remove_permission(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        """Drops the statement labelled `Label`; a label the policy lacks is no error."""
        topic = self._topic(ctx, params.get("TopicArn"))
        label = params.get("Label")
        policy = json.loads(topic.attributes.get("Policy") or _default_policy(topic.arn, topic.account))
        statements = policy.get("Statement", [])
        kept = [statement for statement in statements if statement.get("Sid") != label]
        if len(kept) != len(statements):
            policy["Statement"] = kept
            self._save_policy(topic, policy)
        return {}

    def _save_policy(self, topic: Topic, policy: dict[str, Any]) -> None:
        attributes = {**topic.attributes, "Policy": json.dumps(policy, separators=(",", ":"))}
        self._engine.save_topic(Topic(topic.arn, topic.name, attributes, topic.tags))

    # -- tags -----------------------------------------------------------------------------------
    def _tagged(self, ctx: CallContext, params: dict[str, Any]) -> Topic:
        arn = params.get("ResourceArn")
        topic = self._engine.topics.get(arn or "")
        if topic is None:
            _check_arn(arn, "ResourceArn")
            raise NotFound("Resource does not exist")
        return topic

    def tag_resource(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._tagged(ctx, params)
        tags = dict(topic.tags)
        tags.update(_tags(params))
        self._engine.save_topic(Topic(topic.arn, topic.name, topic.attributes, tags))
        return {}

    def untag_resource(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._tagged(ctx, params)
        tags = {k: v for k, v in topic.tags.items() if k not in set(params.get("TagKeys") or [])}
        self._engine.save_topic(Topic(topic.arn, topic.name, topic.attributes, tags))
        return {}

    def list_tags_for_resource(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._tagged(ctx, params)
        return {"Tags": [{"Key": k, "Value": v} for k, v in topic.tags.items()]}

    # -- subscriptions --------------------------------------------------------------------------
    async def subscribe(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        topic_arn = params.get("TopicArn")
        _check_arn(topic_arn, "TopicArn")
        protocol = params.get("Protocol", "")
        if protocol not in ALL_PROTOCOLS:
            raise InvalidParameter(f"Invalid parameter: Amazon SNS does not support this protocol string: {protocol}")
        topic = self._topic(ctx, topic_arn)
        if topic.fifo and protocol != "sqs":
            raise InvalidParameter(f"Invalid parameter: Invalid protocol type: {protocol}")
        if protocol not in SERVED_PROTOCOLS:
            raise InvalidParameter(
                f"Invalid parameter: Protocol Reason: Lamina delivers to sqs, lambda, http, https, email, "
                f"email-json and sms subscriptions; {protocol} (mobile push and Firehose) is not supported"
            )
        endpoint = params.get("Endpoint") or ""
        if protocol == "sqs":
            if not endpoint.startswith("arn:"):
                raise InvalidParameter("Invalid parameter: SQS endpoint ARN")
            queue = self._engine._sqs.by_arn(endpoint)
            if queue is not None and queue.fifo and not topic.fifo:
                raise InvalidParameter(
                    "Invalid parameter: Invalid parameter: Endpoint Reason: "
                    "FIFO SQS Queues can not be subscribed to standard SNS topics"
                )
        elif protocol == "lambda":
            if not endpoint.startswith("arn:") or len(endpoint.split(":")) < 7:
                raise InvalidParameter("Invalid parameter: Lambda endpoint ARN")
        elif protocol == "sms":
            if not valid_sms_endpoint(endpoint):
                raise InvalidParameter(f"Invalid SMS endpoint: {endpoint}")
        elif protocol in ("email", "email-json"):
            if not _EMAIL.match(endpoint):
                raise InvalidParameter("Invalid parameter: Email address")
        elif not endpoint.startswith(f"{protocol}://"):
            raise InvalidParameter("Invalid parameter: Endpoint must match the specified protocol")
        wanted = dict(params.get("Attributes") or {})
        attributes = self._sub_attributes(dict(wanted), "Invalid parameter: Attributes Reason: ", protocol)
        return_arn = params.get("ReturnSubscriptionArn") in (True, "true")
        for sub in self._engine.subscriptions_of(topic.arn):
            if sub.protocol == protocol and sub.endpoint == endpoint:
                current = {**_SUBSCRIPTION_DEFAULTS, **sub.attributes}
                requested = {k: v.lower() if k == "RawMessageDelivery" else v for k, v in wanted.items()}
                if any(current.get(k, "") != v for k, v in requested.items()):
                    raise InvalidParameter(
                        "Invalid parameter: Attributes Reason: Subscription already exists with different attributes"
                    )
                if sub.pending:  # asked again: SNS sends a new confirmation
                    self._engine.request_confirmation(sub, ctx.base_url or None)
                    return {"SubscriptionArn": sub.arn if return_arn else "pending confirmation"}
                return {"SubscriptionArn": sub.arn}
        pending = protocol in CONFIRMED_PROTOCOLS
        sub = Subscription(
            f"{topic.arn}:{uuid.uuid4()}",
            topic.arn,
            protocol,
            endpoint,
            ctx.account_id,
            attributes,
            pending=pending,
            authenticated=not pending,
        )
        self._engine.save_subscription(sub)
        if pending:
            self._engine.request_confirmation(sub, ctx.base_url or None)
            return {"SubscriptionArn": sub.arn if return_arn else "pending confirmation"}
        return {"SubscriptionArn": sub.arn}

    @staticmethod
    def _sub_attributes(
        attributes: dict[str, str], prefix: str = "Invalid parameter: ", protocol: str | None = None
    ) -> dict[str, str]:
        for name, value in list(attributes.items()):
            if name not in SUBSCRIPTION_ATTRIBUTES:
                raise InvalidParameter("Invalid parameter: AttributeName")
            if name == "RawMessageDelivery":
                if value.lower() not in ("true", "false"):
                    raise InvalidParameter(
                        f"{prefix}RawMessageDelivery: Invalid value [{value}]. Must be true or false."
                    )
                if value.lower() == "true" and protocol is not None and protocol not in RAW_PROTOCOLS:
                    raise InvalidParameter(
                        f"Invalid parameter: Delivery protocol [{protocol}] does not support raw message delivery."
                    )
                attributes[name] = value.lower()
            elif name == "DeliveryPolicy" and value:
                attributes[name] = _compact(delivery_policy.subscription_policy(value))
            elif name == "FilterPolicy" and value:
                filter_policy.parse_policy(value)
            elif name == "FilterPolicyScope" and value not in ("MessageAttributes", "MessageBody"):
                raise InvalidParameter(
                    f"{prefix}FilterPolicyScope: Invalid value [{value}]. "
                    "Please use either MessageBody or MessageAttributes"
                )
            elif name == "RedrivePolicy" and value:
                try:
                    policy = json_text.loads_document(value)
                except ValueError:
                    raise InvalidParameter(f"{prefix}RedrivePolicy: failed to parse JSON.") from None
                target = policy.get("deadLetterTargetArn", "") if isinstance(policy, dict) else ""
                if len(str(target).split(":")) < 6:
                    raise InvalidParameter(f"{prefix}RedrivePolicy: deadLetterTargetArn is an invalid arn")
        if "FilterPolicy" in attributes and not attributes["FilterPolicy"]:
            del attributes["FilterPolicy"]  # an empty policy is no policy (and no scope)
            attributes.pop("FilterPolicyScope", None)
        if attributes.get("FilterPolicy") and "FilterPolicyScope" not in attributes:
            attributes["FilterPolicyScope"] = "MessageAttributes"
        return attributes

    def _subscription(self, arn: str | None) -> Subscription:
        _check_arn(arn, "SubscriptionArn")
        sub = self._engine.subscriptions.get(arn or "")
        if sub is None:
            raise NotFound("Subscription does not exist")
        return sub

    async def unsubscribe(self, ctx: CallContext, params: dict[str, Any]) -> None:
        arn = params.get("SubscriptionArn")
        parts = _check_arn(arn, "SubscriptionArn")
        if len(parts) != 7:
            raise InvalidParameter("Invalid parameter: SubscriptionId")
        sub = self._engine.subscriptions.get(arn or "")
        if sub is not None:
            self._engine.unsubscribe(sub, ctx.base_url or None)

    def get_subscription_attributes(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        sub = self._subscription(params.get("SubscriptionArn"))
        attributes = {
            "ConfirmationWasAuthenticated": "true" if sub.authenticated else "false",
            "Endpoint": sub.endpoint,
            "Owner": sub.owner,
            "PendingConfirmation": "true" if sub.pending else "false",
            "Protocol": sub.protocol,
            "RawMessageDelivery": "false",
            "SubscriptionArn": sub.arn,
            "SubscriptionPrincipal": f"arn:aws:iam::{sub.owner}:user/lamina",
            "TopicArn": sub.topic_arn,
        }
        attributes.update(sub.attributes)
        if sub.protocol in ("http", "https"):
            topic = self._engine.topics.get(sub.topic_arn)
            attributes["EffectiveDeliveryPolicy"] = _compact(
                delivery_policy.effective_subscription_policy(
                    sub.attributes.get("DeliveryPolicy"), topic.attributes.get("DeliveryPolicy") if topic else None
                )
            )
        return {"Attributes": attributes}

    def set_subscription_attributes(self, ctx: CallContext, params: dict[str, Any]) -> None:
        sub = self._subscription(params.get("SubscriptionArn"))
        name = params["AttributeName"]
        value = params.get("AttributeValue") or ""
        attributes = dict(sub.attributes)
        if name == "RedrivePolicy" and value:
            self._check_fifo_dead_letter(sub, value)
        if name == "FilterPolicy" and not value:
            attributes.pop("FilterPolicy", None)
            attributes.pop("FilterPolicyScope", None)
        elif name == "DeliveryPolicy" and not value:
            attributes.pop("DeliveryPolicy", None)  # back to the topic's (or AWS's default) policy
        else:
            given = {name: value}
            if name == "FilterPolicy" and "FilterPolicyScope" in attributes:
                given["FilterPolicyScope"] = attributes["FilterPolicyScope"]  # a scope set first stays
            attributes.update(self._sub_attributes(given, protocol=sub.protocol))
        self._engine.save_subscription(
            Subscription(
                sub.arn,
                sub.topic_arn,
                sub.protocol,
                sub.endpoint,
                sub.owner,
                attributes,
                sub.pending,
                sub.authenticated,
            )
        )

    def _check_fifo_dead_letter(self, sub: Subscription, value: str) -> None:
        """A FIFO subscription (FIFO queue on a FIFO topic) needs a FIFO dead-letter queue."""
        topic = self._engine.topics.get(sub.topic_arn)
        if topic is None or not topic.fifo or not sub.endpoint.endswith(".fifo"):
            return
        try:
            target = str(json.loads(value).get("deadLetterTargetArn", ""))
        except (ValueError, AttributeError):
            return  # reported by _sub_attributes
        if target and not target.endswith(".fifo"):
            raise InvalidParameter(
                "Invalid parameter: RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription "
                "to a FIFO Topic."
            )

    def list_subscriptions(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        subs = sorted(
            (s for s in self._engine.subscriptions.values() if s.topic_arn.split(":")[3] == ctx.region),
            key=lambda s: s.arn,
        )
        return _page(subs, params.get("NextToken"), "Subscriptions", _sub_entry)

    def list_subscriptions_by_topic(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._topic(ctx, params.get("TopicArn"))
        subs = sorted(self._engine.subscriptions_of(topic.arn), key=lambda s: s.arn)
        return _page(subs, params.get("NextToken"), "Subscriptions", _sub_entry)

    def confirm_subscription(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        """By token (AWS confirms even when TopicArn names another topic of the region); a malformed TopicArn or
        one of another region is "Invalid parameter: Topic", a token that isn't hex "Invalid token", an unknown
        one "Invalid parameter: Token" (as recorded from AWS)."""
        parts = str(params.get("TopicArn") or "").split(":")
        if len(parts) < 6:
            raise InvalidParameter("Invalid parameter: Topic")
        token = str(params.get("Token") or "")
        if parts[3] != ctx.region:
            # On AWS a SubscribeURL names its region in the host; Lamina's URLs all point at its one port, so a
            # request in the default region may confirm a topic of the token's own region.
            token_region = self._engine.token_region(token)
            if ctx.region != self._default_region or token_region != parts[3]:
                raise InvalidParameter("Invalid parameter: Topic")
        if not _HEX.match(token):
            raise InvalidParameter("Invalid token")
        authenticated = str(params.get("AuthenticateOnUnsubscribe", "")).lower() == "true"
        arn = self._engine.confirm(token, authenticated)
        if arn is None:
            raise InvalidParameter("Invalid parameter: Token")
        return {"SubscriptionArn": arn}

    # -- publishing -----------------------------------------------------------------------------
    def _message(
        self, ctx: CallContext, topic: Topic, entry: dict[str, Any], where: str = "messageAttributes"
    ) -> Message:
        text = entry.get("Message")
        if text is None or text == "":
            raise InvalidParameter("Invalid parameter: Empty message")
        subject = entry.get("Subject")
        if subject is not None and (subject == "" or len(subject) > 100 or "\n" in subject):
            raise InvalidParameter("Invalid parameter: Subject")
        attributes = _check_attributes(entry.get("MessageAttributes") or {}, where)
        size = len(text.encode()) + sum(
            len(k) + len(str(v.get("DataType", ""))) + len(str(v.get("StringValue") or v.get("BinaryValue") or ""))
            for k, v in attributes.items()
        )
        if size > MAX_MESSAGE:
            raise InvalidParameter("Invalid parameter: Message too long")
        structure = None
        if entry.get("MessageStructure") == "json":
            try:
                structure = json_text.loads_document(text)
            except ValueError:
                raise InvalidParameter(
                    "Invalid parameter: Message Structure - JSON message body failed to parse"
                ) from None
            if not isinstance(structure, dict) or "default" not in structure:
                raise InvalidParameter("Invalid parameter: Message Structure - No default entry in JSON message body")
        group = entry.get("MessageGroupId")
        dedup = entry.get("MessageDeduplicationId")
        if topic.fifo:
            if not group:
                raise InvalidParameter("Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
            if not dedup and topic.attributes.get("ContentBasedDeduplication", "false") != "true":
                raise InvalidParameter(
                    "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
                    "MessageDeduplicationId provided explicitly"
                )
        elif dedup:
            raise InvalidParameter(
                "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId "
                "parameter that is not valid for this topic type"
            )
        return self._engine.new_message(
            topic.arn,
            text,
            subject,
            attributes,
            structure,
            group,
            dedup,
            ctx.base_url or None,
            ctx.trace_header or None,
        )

    async def publish(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        phone = params.get("PhoneNumber")
        if phone is not None and "TopicArn" not in params and not params.get("TargetArn"):
            if not _E164.match(phone):
                raise InvalidParameter(f"Invalid parameter: PhoneNumber Reason: {phone} is not valid to publish to")
            text = params.get("Message")
            if text is None or text == "":
                raise InvalidParameter("Invalid parameter: Empty message")
            attributes = _check_attributes(params.get("MessageAttributes") or {}, "messageAttributes")
            message = self._engine.new_message("", text, None, attributes, None)
            self._engine.send_sms(phone, message)
            return {"MessageId": message.message_id}
        if "TopicArn" in params:
            topic = self._topic(ctx, params["TopicArn"])
        elif params.get("TargetArn"):
            _check_arn(params["TargetArn"], "TargetArn")
            found = self._engine.topics.get(params["TargetArn"])
            if found is None:
                raise InvalidParameter(
                    "Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified"
                )
            topic = found
        else:
            raise InvalidParameter("Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
        message = self._message(ctx, topic, params)
        message_id, sequence = await self._engine.publish(topic, message)
        result: dict[str, Any] = {"MessageId": message_id}
        if sequence is not None:
            result["SequenceNumber"] = sequence
        return result

    async def publish_batch(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._topic(ctx, params.get("TopicArn"))
        entries = params.get("PublishBatchRequestEntries") or []
        if not entries:
            raise EmptyBatch("The batch request doesn't contain any entries.")
        if len(entries) > 10:
            raise TooManyBatchEntries("The batch request contains more entries than permissible.")
        ids = [e.get("Id", "") for e in entries]
        for entry_id in ids:
            if len(entry_id) > 80:
                raise InvalidBatchEntryId(f"The Id of a batch entry in the batch request is too long: {entry_id}")
            if not _BATCH_ID.match(entry_id):
                raise InvalidBatchEntryId(
                    f"The Id of a batch entry in the batch request contains an impermissible character: {entry_id}"
                )
        if len(set(ids)) != len(ids):
            raise BatchEntryIdsNotDistinct("Two or more batch entries in the request have the same Id.")
        total = sum(len(str(e.get("Message") or "").encode()) for e in entries)
        if total > MAX_MESSAGE:
            raise BatchTooLarge("The length of all the messages put together is more than the limit.")
        messages = [
            self._message(ctx, topic, e, f"publishBatchRequestEntries.{i}.member.messageAttributes")
            for i, e in enumerate(entries, 1)
        ]
        successful = []
        for entry, message in zip(entries, messages, strict=True):
            message_id, sequence = await self._engine.publish(topic, message)
            item = {"Id": entry["Id"], "MessageId": message_id}
            if sequence is not None:
                item["SequenceNumber"] = sequence
            successful.append(item)
        return {"Successful": successful, "Failed": []}


def _check_attributes(attributes: dict[str, dict[str, Any]], where: str) -> dict[str, dict[str, Any]]:
    for name, attr in attributes.items():
        data_type = attr.get("DataType")
        if not data_type:
            raise ValidationFailed(
                f"1 validation error detected: Value null at '{where}.{name}.member.dataType' "
                "failed to satisfy constraint: Member must not be null"
            )
        if len(name.encode()) >= 256:
            raise InvalidAttributeValue("Length of message attribute name must be less than 256 bytes.")
        if name.startswith("."):
            raise InvalidAttributeValue("Invalid message attribute name starting with character '.' was found.")
        if name.endswith("."):
            raise InvalidAttributeValue("Invalid message attribute name ending with character '.' was found.")
        if ".." in name:
            raise InvalidAttributeValue("Message attribute name can not have successive '.' character.")
        bad = next((c for c in name if not _ATTR_NAME.match(c)), None)
        if bad is not None:
            raise InvalidAttributeValue(
                f"Invalid non-alphanumeric character '#x{ord(bad):X}' was found in the message attribute name. "
                "Can only include alphanumeric characters, hyphens, underscores, or dots."
            )
        base, dot, custom = data_type.partition(".")
        if base not in ("String", "Number", "Binary") or (dot and not custom):
            raise InvalidAttributeValue(
                f"The message attribute '{name}' has an invalid message attribute type, the set of supported type "
                "prefixes is Binary, Number, and String."
            )
        field = "Binary" if base == "Binary" else "String"
        value = attr.get(f"{field}Value")
        other = attr.get("StringValue" if field == "Binary" else "BinaryValue")
        if value is None and other is not None:
            raise InvalidAttributeValue(f"The message attribute '{name}' with type '{base}' must use field '{field}'.")
        if value is None or value in {"", b""}:
            raise InvalidAttributeValue(
                f"The message attribute '{name}' must contain non-empty message attribute value for message "
                f"attribute type '{base}'."
            )
    return {name: {k: v for k, v in attr.items() if v is not None} for name, attr in attributes.items()}


def _sub_entry(sub: Subscription) -> dict[str, Any]:
    return {
        "SubscriptionArn": "PendingConfirmation" if sub.pending else sub.arn,
        "Owner": sub.owner,
        "Protocol": sub.protocol,
        "Endpoint": sub.endpoint,
        "TopicArn": sub.topic_arn,
    }


def _page(items: list[Any], token: str | None, key: str, shape: Any) -> dict[str, Any]:
    start = 0
    if token:
        try:
            start = int(token)
        except ValueError:
            raise InvalidParameter("Invalid parameter: NextToken") from None
    page = items[start : start + PAGE]
    result: dict[str, Any] = {key: [shape(i) for i in page]}
    if start + PAGE < len(items):
        result["NextToken"] = str(start + PAGE)
    return result
