"""An SQS queue as a destination or dead-letter queue (spec invoke-and-runtime.md §3): the record (or, for a
DLQ, the original event) becomes the message body; a DLQ message carries the RequestID, ErrorCode and
ErrorMessage attributes. The message is committed by Lamina's own SQS engine before `deliver` returns."""

from __future__ import annotations

from lamina.invoke.destinations import Delivery, TargetUnavailable
from lamina.services.sqs.digests import md5_attributes, md5_text
from lamina.services.sqs.engine import NewMessage, SqsEngine


class SqsQueueTarget:
    def __init__(self, engine: SqsEngine) -> None:
        self._engine = engine

    async def deliver(self, delivery: Delivery) -> None:
        queue = self._engine.by_arn(delivery.target_arn)
        if queue is None:
            raise TargetUnavailable(f"queue {delivery.target_arn} does not exist")
        if queue.fifo and delivery.group_id is None:  # AWS refuses FIFO queues as destinations (lambda-api.md §11)
            raise TargetUnavailable(f"queue {delivery.target_arn} is a FIFO queue")
        body = delivery.body.decode("utf-8", "replace")
        attributes = {
            name: {"DataType": data_type, "StringValue": value}
            for name, (data_type, value) in delivery.attributes.items()
        }
        fifo: dict[str, str] = {}
        if queue.fifo:  # an EventBridge target with SqsParameters.MessageGroupId: the event id deduplicates
            fifo = {"MessageGroupId": str(delivery.group_id), "MessageDeduplicationId": delivery.request_id}
        system = dict(fifo)
        if delivery.trace_header:
            system["AWSTraceHeader"] = delivery.trace_header
        message = NewMessage(
            body=body,
            md5_body=md5_text(body),
            attributes=attributes,
            md5_attributes=md5_attributes(attributes) if attributes else None,
            system=system,
            delay=None,
            group=delivery.group_id if queue.fifo else None,
            dedup_id=delivery.request_id if queue.fifo else None,
        )
        await self._engine.send(queue, [message])
