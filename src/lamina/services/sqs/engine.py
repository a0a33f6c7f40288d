"""The SQS engine: every queue of the account in memory, written through to the store, and long polling.

A receive that finds nothing waits on its queue's waiters (futures) until a send or a visibility change
wakes it, the next delayed or in-flight message becomes visible, or `WaitTimeSeconds` runs out: no busy
waiting. All timing comes from the injected clock: wall time (`clock.time()`) for what is persisted and
shown, and the clock's `sleep` for waits, so unit tests run visibility, delay and retention in virtual time.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from lamina.clock import Clock
from lamina.errors import (
    AlreadyExists,
    InvalidParameter,
    InvalidReceiptHandle,
    NotFound,
    OverLimit,
    PurgeInProgress,
    QueueDeletedRecently,
)
from lamina.services.sqs import attributes as queue_attributes
from lamina.services.sqs.queue import DEDUP_WINDOW, Message, Queue
from lamina.store.sqs_sqlite import MessageRow, SqsStore

NOT_FOUND = "The specified queue does not exist."
RECREATE_WAIT = 60.0  # seconds after DeleteQueue before a queue of the same name may be created
# Messages in flight (received, not deleted) a queue allows: a short poll beyond it is OverLimit on a standard
# queue, a long poll (and any FIFO receive) just gets nothing more (quotas-queues / quotas-fifo in the SQS
# Developer Guide: approximately 120,000 for standard queues, 120,000 for FIFO queues).
IN_FLIGHT_LIMIT = 120_000
MAX_VISIBILITY = 43_200  # seconds a message may stay invisible after a receive, extensions included (12 hours)
# The OverLimit error as AWS words it for too many messages in flight (a recorded ErrorResponse of AWS).
_OVER_LIMIT = (
    "Too many messages have been received without being deleted.\n"
    "Please delete your received messages or let them timeout before receiving more."
)


@dataclass(frozen=True)
class NewMessage:
    """What the provider checked and prepared; the engine assigns ids, sequence and times."""

    body: str
    md5_body: str
    attributes: dict[str, dict[str, Any]]
    md5_attributes: str | None
    system: dict[str, str]
    delay: int | None
    group: str | None = None
    dedup_id: str | None = None
    size: int = 0  # body and attributes in bytes, as the size limit counts them (0: the body's)


class QueueMetrics(Protocol):
    """What the AWS/SQS metrics count (services/cloudwatch/sqs_metrics.py, given in app.py): called on the hot
    path after each change is committed, so an implementation only adds to counters in memory."""

    def sent(self, queue: str, sizes: Sequence[int]) -> None: ...

    def received(self, queue: str, count: int) -> None: ...

    def deleted(self, queue: str, count: int) -> None: ...


@dataclass(frozen=True)
class Sent:
    message: Message
    sequence: str | None


@dataclass(frozen=True)
class Received:
    message: Message
    receipt_handle: str


class SqsEngine:
    def __init__(self, store: SqsStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._queues: dict[str, Queue] = {}  # arn → queue
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}
        self._closed = False  # set on shutdown: long polls answer empty at once
        self._deleted: dict[str, float] = {}  # arn → when DeleteQueue removed it (for QueueDeletedRecently)
        self.in_flight_limit = IN_FLIGHT_LIMIT
        self.metrics: QueueMetrics | None = None

    def load(self) -> None:
        queues, messages = self._store.load()
        for q in queues:
            queue = Queue(q["name"], q["account"], q["region"], q["attributes"], q["tags"], q["created"], q["modified"])
            self._queues[queue.arn] = queue
        for row in messages:
            owner = self._queues.get(row.queue_arn)
            if owner is None:
                continue
            owner.add(Message.thaw(row.id, row.seq, row.body, row.visible_at, row.receive_count, row.first_receive))
            owner.next_seq = max(owner.next_seq, row.seq + 1)
        now = self._clock.time()
        for queue in self._queues.values():  # FIFO deduplication resumes for the messages still queued
            if queue.fifo:
                for m in queue.messages.values():
                    dedup = m.system.get("MessageDeduplicationId")
                    if dedup is not None and m.sent_at + DEDUP_WINDOW > now:
                        key = (
                            f"{m.group}\x00{dedup}"
                            if queue.attributes.get("DeduplicationScope") == "messageGroup"
                            else dedup
                        )
                        queue.dedup[key] = (m.sent_at + DEDUP_WINDOW, m)

    # -- queues ---------------------------------------------------------------------------------
    def get(self, region: str, account: str, name: str) -> Queue:
        queue = self._queues.get(f"arn:aws:sqs:{region}:{account}:{name}")
        if queue is None:
            raise NotFound(NOT_FOUND)
        return queue

    def by_arn(self, arn: str) -> Queue | None:
        return self._queues.get(arn)

    def all_queues(self) -> list[Queue]:
        return list(self._queues.values())

    def queues(self, region: str, account: str) -> list[Queue]:
        return sorted(
            (q for q in self._queues.values() if q.region == region and q.account == account), key=lambda q: q.name
        )

    async def create(
        self, region: str, account: str, name: str, attributes: dict[str, str], tags: dict[str, str]
    ) -> Queue:
        existing = self._queues.get(f"arn:aws:sqs:{region}:{account}:{name}")
        if existing is not None:
            for key, value in attributes.items():
                current = existing.attributes.get(key, queue_attributes.DEFAULTS.get(key))
                if current != value:
                    raise AlreadyExists(
                        f"A queue already exists with the same name and a different value for attribute {key}"
                    )
            return existing
        now = self._clock.time()
        arn = f"arn:aws:sqs:{region}:{account}:{name}"
        self._deleted = {k: t for k, t in self._deleted.items() if now - t < RECREATE_WAIT}
        if arn in self._deleted:
            raise QueueDeletedRecently(
                "You must wait 60 seconds after deleting a queue before you can create another with the same name."
            )
        merged = dict(queue_attributes.DEFAULTS)
        if attributes.get("FifoQueue") == "true":
            merged.update(queue_attributes.FIFO_DEFAULTS)
        merged.update(attributes)
        if "KmsMasterKeyId" in merged and "SqsManagedSseEnabled" not in attributes:
            merged["SqsManagedSseEnabled"] = "false"
            merged.setdefault("KmsDataKeyReusePeriodSeconds", "300")
        queue = Queue(name, account, region, merged, dict(tags), now, now)
        # Registered before the commit is awaited, so a concurrent CreateQueue of the same name finds it
        # (and compares attributes) instead of replacing it.
        self._queues[queue.arn] = queue
        try:
            await self._store.put_queue(queue.arn, queue.snapshot())
        except Exception:
            self._queues.pop(queue.arn, None)
            raise
        return queue

    async def update(
        self,
        queue: Queue,
        attributes: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
        untag: Sequence[str] = (),
    ) -> None:
        saved = (dict(queue.attributes), dict(queue.tags), queue.modified)
        if attributes:
            for key, value in attributes.items():
                if value == "" and key in ("RedrivePolicy", "Policy", "RedriveAllowPolicy", "KmsMasterKeyId"):
                    queue.attributes.pop(key, None)
                    if key == "KmsMasterKeyId":
                        queue.attributes.pop("KmsDataKeyReusePeriodSeconds", None)
                else:
                    queue.attributes[key] = value
            if attributes.get("KmsMasterKeyId"):  # KMS encryption replaces SQS-managed encryption
                queue.attributes["SqsManagedSseEnabled"] = "false"
                queue.attributes.setdefault("KmsDataKeyReusePeriodSeconds", "300")
            queue.modified = self._clock.time()
        if tags:
            queue.tags.update(tags)
        for key in untag:
            queue.tags.pop(key, None)
        try:
            await self._store.put_queue(queue.arn, queue.snapshot())
        except Exception:  # memory shows what the store holds: the change is undone
            queue.attributes, queue.tags, queue.modified = saved
            raise
        self._wake(queue)

    async def delete(self, queue: Queue) -> None:
        await self._store.delete_queue(queue.arn)  # memory changes only once the store has committed
        self._queues.pop(queue.arn, None)
        self._deleted[queue.arn] = self._clock.time()
        self._wake(queue)

    async def purge(self, queue: Queue) -> None:
        now = self._clock.time()
        if now - queue.last_purge < 60:
            raise PurgeInProgress(f"Only one PurgeQueue operation on {queue.name} is allowed every 60 seconds.")
        purged = list(queue.messages)  # a send committed after the purge keeps its message
        await self._store.purge(queue.arn)  # memory changes only once the store has committed
        queue.last_purge = now
        for message_id in purged:
            queue.remove(message_id)
        queue.dedup.clear()  # AWS forgets deduplication ids with the purged messages

    # -- sending --------------------------------------------------------------------------------
    async def send(self, queue: Queue, new: Sequence[NewMessage]) -> list[Sent]:
        """Appends the messages and returns once they are committed (a duplicate FIFO send returns the
        original message, as AWS does within the 5-minute window)."""
        now = self._clock.time()
        results: list[Sent] = []
        rows: list[MessageRow] = []
        remembered: list[str] = []
        sizes: list[int] = []
        for item in new:
            key = None
            if queue.fifo and item.dedup_id is not None:
                key = item.dedup_id
                if queue.attributes.get("DeduplicationScope") == "messageGroup":
                    key = f"{item.group}\x00{key}"
                original = queue.duplicate(key, now)
                if original is not None:
                    results.append(Sent(original, original.system.get("SequenceNumber")))
                    continue
            delay = item.delay if item.delay is not None else queue.setting("DelaySeconds")
            seq = queue.next_seq
            queue.next_seq += 1
            system = dict(item.system)
            system["SentTimestamp"] = str(int(now * 1000))
            sequence = None
            if queue.fifo:
                sequence = f"{18_000_000_000_000_000_000 + int(now * 1000) * 1000 + seq % 1000:020d}"
                system["SequenceNumber"] = sequence
            message = Message(
                str(uuid.uuid4()),
                seq,
                item.body,
                item.md5_body,
                item.attributes,
                item.md5_attributes,
                system,
                now,
                now + delay,
            )
            queue.add(message)
            if key is not None:
                queue.remember(key, message, now)
                remembered.append(key)
            rows.append(MessageRow(message.id, queue.arn, seq, message.frozen(), message.visible_at, 0, None))
            results.append(Sent(message, sequence))
            sizes.append(item.size or len(item.body.encode()))
        if rows:
            try:
                await self._store.put_messages(rows)
            except Exception:  # not stored: a retry with the same deduplication id must be a new send
                for row in rows:
                    queue.remove(row.id)
                for key in remembered:
                    queue.dedup.pop(key, None)
                raise
            self._wake(queue)
            if self.metrics is not None:
                self.metrics.sent(queue.name, sizes)
        return results

    # -- receiving ------------------------------------------------------------------------------
    async def receive(self, queue: Queue, limit: int, visibility: int | None, wait: float) -> list[Received]:
        vis = visibility if visibility is not None else queue.setting("VisibilityTimeout")
        deadline = self._clock.monotonic() + wait
        while True:
            room = self._room(queue, wait)
            got = await self._take(queue, min(limit, room), vis) if room > 0 else []
            remaining = deadline - self._clock.monotonic()
            if got or remaining <= 0 or self._closed or queue.arn not in self._queues:
                if self.metrics is not None:  # an empty answer counts as NumberOfEmptyReceives
                    self.metrics.received(queue.name, len(got))
                return got
            now = self._clock.time()
            change = queue.next_change(now)
            timeout = remaining if change is None else max(0.0, min(remaining, change - now))
            await self._wait(queue, timeout)

    def _room(self, queue: Queue, wait: float) -> int:
        """How many more messages may go in flight. Counting is a scan, so it only happens once the queue holds
        enough messages to reach the limit at all."""
        if len(queue.messages) < self.in_flight_limit:
            return self.in_flight_limit
        _, flight, _ = queue.counts(self._clock.time())
        room = self.in_flight_limit - flight
        if room <= 0 and not queue.fifo and wait <= 0:
            raise OverLimit(_OVER_LIMIT)
        return room

    async def _take(self, queue: Queue, limit: int, visibility: int) -> list[Received]:
        now = self._clock.time()
        expired = queue.expired(now)
        for m in expired:
            queue.remove(m.id)
        if expired:
            self._store.delete_messages_later([m.id for m in expired])
        redrive = queue.redrive
        dlq = self._queues.get(redrive[0]) if redrive else None
        to_move: list[Message] = []
        taken: list[Received] = []
        for m in queue.candidates(now):
            if dlq is not None and redrive is not None and m.receive_count >= redrive[1]:
                to_move.append(m)
                continue
            queue.deliver(m, now, visibility)
            taken.append(Received(m, self._handle(queue, m)))
            if len(taken) >= limit:
                break
        if taken:
            queue.served([r.message for r in taken])
        if taken:
            self._store.update_receipts(
                [(r.message.id, r.message.visible_at, r.message.receive_count, r.message.first_receive) for r in taken]
            )
        if to_move:
            assert dlq is not None
            await self._move(queue, to_move, dlq)
        return taken

    async def _move(self, source: Queue, messages: Sequence[Message], dlq: Queue) -> None:
        """Redrive: the messages leave their queue for the dead-letter queue, keeping id and body. The whole
        move happens in memory before the first await, and a message another receive has already moved is
        skipped, so two concurrent receives (two pollers) move each message exactly once; the store writes the
        batch in one transaction."""
        rows: list[tuple[str, str, int, dict[str, Any]]] = []
        undo: list[tuple[Message, Queue, Queue, _Place]] = []
        for message in messages:
            if source.remove(message.id) is None:
                continue
            undo.append((message, source, dlq, _Place.of(message)))
            message.seq = dlq.next_seq
            dlq.next_seq += 1
            message.visible_at = 0.0
            message.system["DeadLetterQueueSourceArn"] = source.arn
            dlq.add(message)
            rows.append((message.id, dlq.arn, message.seq, message.frozen()))
        if rows:
            try:
                await self._store.move(rows)
            except Exception:
                _put_back(undo)
                raise
        self._wake(dlq)

    async def relocate(self, source: Queue, moves: Sequence[tuple[Message, Queue]]) -> None:
        """A message move task's batch: each message leaves its dead-letter queue for its destination as a
        message not yet received there (receive count reset, no DeadLetterQueueSourceArn), keeping id, body,
        attributes and SentTimestamp. One store transaction, so after a crash each message is in exactly one
        of its two queues."""
        rows: list[tuple[str, str, int, dict[str, Any]]] = []
        undo: list[tuple[Message, Queue, Queue, _Place]] = []
        for message, destination in moves:
            source.remove(message.id)
            undo.append((message, source, destination, _Place.of(message)))
            message.seq = destination.next_seq
            destination.next_seq += 1
            message.visible_at = 0.0
            message.receive_count = 0
            message.first_receive = None
            message.received_at = None
            message.system.pop("DeadLetterQueueSourceArn", None)
            destination.add(message)
            rows.append((message.id, destination.arn, message.seq, message.frozen()))
        if rows:
            try:
                await self._store.relocate(rows)
            except Exception:
                _put_back(undo)
                raise
        for destination in {d.arn: d for _, d in moves}.values():
            self._wake(destination)

    async def _wait(self, queue: Queue, timeout: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters = self._waiters.setdefault(queue.arn, set())
        waiters.add(fut)
        sleeper = asyncio.ensure_future(self._clock.sleep(timeout))
        try:
            await asyncio.wait((fut, sleeper), return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiters.discard(fut)
            sleeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sleeper

    def _wake(self, queue: Queue) -> None:
        for fut in self._waiters.pop(queue.arn, ()):
            if not fut.done():
                fut.set_result(None)

    # -- receipt handles ------------------------------------------------------------------------
    # A handle names its queue, its message and the receive it came from: the message's sequence number in
    # the queue (new each time a move brings the message back) and its receive count, both kept by the
    # store, so handles stay valid across a restart but not across a redrive. Only the newest receive's
    # handle acts on the message: DeleteMessage with an older one succeeds without deleting on a standard
    # queue ("If you use an old ReceiptHandle, the request will succeed, but the message might not be
    # deleted", API reference, DeleteMessage) and fails on a FIFO queue, as does the newest one once its
    # visibility timeout ran out ("The receipt handle has expired.", recorded
    # test_fifo_delete_after_visibility_timeout).
    @staticmethod
    def _handle(queue: Queue, message: Message) -> str:
        raw = f"{queue.name} {message.id} {message.receive_count} {message.seq}"
        return base64.urlsafe_b64encode(raw.encode()).decode()

    @staticmethod
    def parse_handle(queue: Queue, handle: str) -> tuple[str, int]:
        """(message id, receive count) of a handle this queue issued; ReceiptHandleIsInvalid otherwise. A
        handle from before the message was moved away and back names an older receive (count -1)."""
        try:
            name, message_id, count, seq = base64.urlsafe_b64decode(handle.encode()).decode().split(" ")
            if name != queue.name:
                raise ValueError(name)
            message = queue.messages.get(message_id)
            if message is not None and message.seq != int(seq):
                return message_id, -1
            return message_id, int(count)
        except (ValueError, UnicodeError):
            raise InvalidReceiptHandle(f'The input receipt handle "{handle}" is not a valid receipt handle.') from None

    def deletable(self, queue: Queue, handle: str) -> str | None:
        """The id of the message a DeleteMessage with this handle deletes, None when it succeeds without
        deleting (already deleted, or an older receive's handle on a standard queue); raises AWS's errors."""
        message_id, count = self.parse_handle(queue, handle)
        message = queue.messages.get(message_id)
        if message is None:
            return None
        latest = count == message.receive_count and count > 0
        if queue.fifo and (not latest or message.visible_at <= self._clock.time()):
            raise InvalidParameter(
                f"Value {handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."
            )
        return message_id if latest else None

    async def delete_message(self, queue: Queue, handle: str) -> None:
        message_id = self.deletable(queue, handle)
        if message_id is not None and message_id in queue.messages:
            await self._store.delete_messages([message_id])  # memory changes only once the store has committed
            queue.remove(message_id)
            if self.metrics is not None:
                self.metrics.deleted(queue.name, 1)

    async def delete_messages(self, queue: Queue, handles: Sequence[str]) -> None:
        """Deletes what each handle may delete; a handle that may not is skipped (pollers delete this way)."""
        ids: list[str] = []
        for handle in handles:
            try:
                message_id = self.deletable(queue, handle)
            except InvalidParameter:
                continue
            if message_id is not None:
                ids.append(message_id)
        await self.remove(queue, ids)

    async def dead_letter(self, queue: Queue, handles: Sequence[str]) -> str | None:
        """Moves received messages to the queue's dead-letter queue now, whatever their receive count (Lambda's
        recursive loop detection stops them this way); without a redrive policy they are deleted. Returns the
        dead-letter queue's ARN when they went there."""
        ids: list[str] = []
        for handle in handles:
            try:
                message_id = self.deletable(queue, handle)
            except InvalidParameter:
                continue
            if message_id is not None:
                ids.append(message_id)
        redrive = queue.redrive
        dlq = self._queues.get(redrive[0]) if redrive else None
        if dlq is None:
            await self.remove(queue, ids)
            return None
        await self._move(queue, [queue.messages[i] for i in ids if i in queue.messages], dlq)
        return dlq.arn

    async def remove(self, queue: Queue, ids: Sequence[str]) -> None:
        """Deletes the messages still there (each counts as NumberOfMessagesDeleted)."""
        gone = [i for i in ids if i in queue.messages]
        if gone:
            await self._store.delete_messages(gone)  # memory changes only once the store has committed
            for message_id in gone:
                queue.remove(message_id)
            if self.metrics is not None:
                self.metrics.deleted(queue.name, len(gone))

    def change_visibility(self, queue: Queue, handle: str, timeout: int) -> None:
        """A deleted message, one never received, or an older receive's handle is an invalid parameter; the
        newest handle after its timeout ran out is accepted and changes nothing (the message stays visible;
        recorded visibility_timeout_expired, and LocalStack's AWS-validated fix #9632)."""
        message_id, count = self.parse_handle(queue, handle)
        message = queue.messages.get(message_id)
        now = self._clock.time()
        if message is None or message.receive_count == 0 or count != message.receive_count:
            raise InvalidParameter(
                f"Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not "
                "available for visibility timeout change."
            )
        if message.visible_at <= now:
            return
        if message.received_at is not None and now + timeout - message.received_at > MAX_VISIBILITY:
            raise InvalidParameter(  # the wording of AWS's answer as a client quotes it
                f"Value {timeout} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for "
                f"the message is beyond the limit [{MAX_VISIBILITY} seconds]."
            )
        message.visible_at = now + timeout
        self._store.update_receipts([(message.id, message.visible_at, message.receive_count, message.first_receive)])
        if timeout == 0:
            self._wake(queue)

    async def close(self) -> None:
        self._closed = True
        for waiters in self._waiters.values():
            for fut in waiters:
                if not fut.done():
                    fut.set_result(None)
        self._waiters.clear()


@dataclass(frozen=True)
class _Place:
    """What a move changes on a message, so a move the store refused is undone in memory too."""

    seq: int
    visible_at: float
    receive_count: int
    first_receive: float | None
    received_at: float | None
    system: dict[str, str]

    @staticmethod
    def of(message: Message) -> _Place:
        return _Place(
            message.seq,
            message.visible_at,
            message.receive_count,
            message.first_receive,
            message.received_at,
            dict(message.system),
        )


def _put_back(undo: Sequence[tuple[Message, Queue, Queue, _Place]]) -> None:
    for message, source, target, place in undo:
        target.remove(message.id)
        message.seq, message.visible_at, message.system = place.seq, place.visible_at, place.system
        message.receive_count, message.first_receive = place.receive_count, place.first_receive
        message.received_at = place.received_at
        source.add(message)
