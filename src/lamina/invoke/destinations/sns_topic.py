"""An SNS topic as a destination or dead-letter queue: the record (or, for a DLQ, the original event) is published
to the topic, a DLQ message carrying RequestID, ErrorCode and ErrorMessage as message attributes. The topic's
subscriptions have their copies (queued or submitted) before `deliver` returns."""

from __future__ import annotations

from lamina.invoke.destinations import Delivery, TargetUnavailable
from lamina.services.sns.engine import SnsEngine


class SnsTopicTarget:
    def __init__(self, engine: SnsEngine) -> None:
        self._engine = engine

    async def deliver(self, delivery: Delivery) -> None:
        topic = self._engine.topics.get(delivery.target_arn)
        if topic is None:
            raise TargetUnavailable(f"topic {delivery.target_arn} does not exist")
        if topic.fifo:
            raise TargetUnavailable(f"topic {delivery.target_arn} is a FIFO topic")
        attributes = {
            name: {"DataType": data_type, "StringValue": value}
            for name, (data_type, value) in delivery.attributes.items()
        }
        text = delivery.body.decode("utf-8", "replace")
        message = self._engine.new_message(topic.arn, text, None, attributes, None, trace_header=delivery.trace_header)
        await self._engine.publish(topic, message)
