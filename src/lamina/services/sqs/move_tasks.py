"""Message move tasks (StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask): a dead-letter queue's
messages go back to the queues they came from, or to one destination, in the background.

Lifecycle, AWS's statuses: RUNNING → COMPLETED, RUNNING → CANCELLING → CANCELLED, RUNNING → FAILED (the source or
a destination queue is gone). A task moves the messages its source held when it started (those up to the
source's newest sequence number then); a message in flight waits until it is visible again. The rate is
`MaxNumberOfMessagesPerSecond` per second of the injected clock, or batches as fast as the store commits.

Durability: each message moves in one store transaction (its row changes queue, engine.relocate), so a crash at
any point leaves it in exactly one of the two queues, never both, never neither. Task records are documents,
written on every status change and after every batch; after a restart a RUNNING task resumes where the
messages are, a CANCELLING one ends CANCELLED.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import uuid
from collections import deque
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from lamina import json_text
from lamina.clock import Clock
from lamina.errors import ArnNotFound, InvalidParameter
from lamina.services.sqs.engine import SqsEngine
from lamina.services.sqs.queue import Message, Queue
from lamina.store.documents import DocumentStore
from lamina.types import CallContext

log = logging.getLogger(__name__)

KIND = "sqs-move-task"
MAX_RATE = 500  # messages per second a task may be given (API reference, StartMessageMoveTask)
BATCH = 100  # messages moved between yields when no rate is given
KEPT = 10  # tasks listed per source queue (ListMessageMoveTasks' upper limit); older ones are forgotten
GONE = "AWS.SimpleQueueService.NonExistentQueue"  # FailureReason when a queue disappears under a task


class Status(StrEnum):
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"


@dataclass
class MoveTask:
    task_id: str
    source_arn: str
    destination_arn: str | None
    rate: int | None
    started: float  # epoch seconds
    until_seq: int  # the source's newest sequence number when the task started
    to_move: int
    status: Status = Status.RUNNING
    moved: int = 0
    failure: str | None = None

    @property
    def handle(self) -> str:
        """base64 of `{"taskId":…,"sourceArn":…}`, the shape AWS's handles decode to."""
        doc = json.dumps({"taskId": self.task_id, "sourceArn": self.source_arn}, separators=(",", ":"))
        return base64.b64encode(doc.encode()).decode()

    def entry(self) -> dict[str, Any]:
        """A ListMessageMoveTasksResultEntry: the handle only while RUNNING, optional fields only when set."""
        out: dict[str, Any] = {}
        if self.status is Status.RUNNING:
            out["TaskHandle"] = self.handle
        out["Status"] = str(self.status)
        out["SourceArn"] = self.source_arn
        if self.destination_arn is not None:
            out["DestinationArn"] = self.destination_arn
        if self.rate is not None:
            out["MaxNumberOfMessagesPerSecond"] = self.rate
        out["ApproximateNumberOfMessagesMoved"] = self.moved
        out["ApproximateNumberOfMessagesToMove"] = self.to_move
        if self.failure is not None:
            out["FailureReason"] = self.failure
        out["StartedTimestamp"] = int(self.started * 1000)
        return out


class MoveTasks:
    def __init__(self, engine: SqsEngine, documents: DocumentStore, clock: Clock) -> None:
        self._engine = engine
        self._documents = documents
        self._clock = clock
        self._tasks: dict[str, MoveTask] = {}  # task id → task
        self._runners: dict[str, asyncio.Task[None]] = {}

    def load(self) -> None:
        for key, body in self._documents.load(KIND).items():
            body["status"] = Status(body["status"])
            task = MoveTask(**body)
            if task.status is Status.CANCELLING:
                task.status = Status.CANCELLED
                self._save(task)
            self._tasks[key] = task

    def start(self) -> None:
        """Resumes the tasks a stop (or crash) interrupted; needs the running loop."""
        for task in self._tasks.values():
            if task.status is Status.RUNNING:
                self._spawn(task)

    async def close(self) -> None:
        runners = list(self._runners.values())
        for runner in runners:
            runner.cancel()
        for runner in runners:
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        self._runners.clear()

    # -- the API ----------------------------------------------------------------------------------
    def start_task(self, source_arn: str, destination_arn: str | None, rate: int | None) -> MoveTask:
        for name, arn in (("SourceArn", source_arn), ("DestinationArn", destination_arn)):
            if arn is not None and (not arn.startswith("arn:") or len(arn.split(":")) != 6):
                raise InvalidParameter(
                    f"You must use this format to specify the {name}: "
                    "arn:<partition>:<service>:<region>:<account-id>:<resource-id>"
                )
        source = self._engine.by_arn(source_arn)
        if source is None:
            raise ArnNotFound("The resource that you specified for the SourceArn parameter doesn't exist.")
        if not any(q.redrive is not None and q.redrive[0] == source_arn for q in self._engine.all_queues()):
            raise InvalidParameter("Source queue must be configured as a Dead Letter Queue.")
        if destination_arn is not None:
            destination = self._engine.by_arn(destination_arn)
            if destination is None:
                raise ArnNotFound("The resource that you specified for the DestinationArn parameter doesn't exist.")
            if destination_arn == source_arn:
                raise InvalidParameter("Source queue arn and destination queue arn cannot be the same.")
            if destination.fifo != source.fifo:  # a FIFO queue's messages need their group ids, and only they have them
                raise InvalidParameter("The source queue and destination queue must be of the same queue type.")
        if rate is not None and not 1 <= rate <= MAX_RATE:
            raise InvalidParameter(
                f"Value {rate} for parameter MaxNumberOfMessagesPerSecond is invalid. "
                f"Reason: You must enter a number that's between 1 and {MAX_RATE}."
            )
        if any(t.source_arn == source_arn and t.status in (Status.RUNNING, Status.CANCELLING) for t in self._all()):
            raise InvalidParameter(
                "There is already a task running. Only one active task is allowed for a source queue arn at a "
                "given time."
            )
        until = source.next_seq - 1
        to_move = sum(1 for m in source.messages.values() if self._movable(m, until, destination_arn))
        task = MoveTask(str(uuid.uuid4()), source_arn, destination_arn, rate, self._clock.time(), until, to_move)
        self._tasks[task.task_id] = task
        self._save(task)
        self._forget_old(source_arn)
        self._spawn(task)
        return task

    def list_tasks(self, source_arn: str, limit: int) -> list[MoveTask]:
        if self._engine.by_arn(source_arn) is None:
            raise ArnNotFound("The resource that you specified for the SourceArn parameter doesn't exist.")
        tasks = sorted((t for t in self._all() if t.source_arn == source_arn), key=lambda t: -t.started)
        return tasks[:limit]

    def cancel(self, handle: str) -> MoveTask:
        try:
            doc = json_text.loads_document(base64.b64decode(handle, validate=True))
            task_id = str(doc["taskId"])
        except (binascii.Error, ValueError, TypeError, KeyError):
            raise InvalidParameter(f"Value {handle} for parameter TaskHandle is invalid.") from None
        task = self._tasks.get(task_id)
        if task is None:
            raise ArnNotFound("Task does not exist.")
        if task.status is not Status.RUNNING:
            raise InvalidParameter("Only tasks with status RUNNING can be cancelled.")
        task.status = Status.CANCELLING
        self._save(task)
        return task

    # -- running ----------------------------------------------------------------------------------
    def _spawn(self, task: MoveTask) -> None:
        runner = asyncio.get_running_loop().create_task(self._run(task), name=f"sqs-move-{task.task_id}")
        self._runners[task.task_id] = runner
        runner.add_done_callback(lambda _: self._runners.pop(task.task_id, None))

    async def _run(self, task: MoveTask) -> None:
        """Walks the task's messages in send order, a batch (or a second's worth) per turn; a message in flight
        goes to the back of the line until it is visible again; one deleted meanwhile is simply gone."""
        try:
            start = self._engine.by_arn(task.source_arn)
            queued = sorted(start.messages.values(), key=lambda m: m.seq) if start is not None else []
            pending = deque(m.id for m in queued if self._movable(m, task.until_seq, task.destination_arn))
            while task.status is Status.RUNNING:
                source = self._engine.by_arn(task.source_arn)
                if source is None:
                    self._fail(task)
                    return
                if not pending:
                    task.status = Status.COMPLETED
                    break
                now = self._clock.time()
                budget = task.rate or BATCH
                batch: list[tuple[Message, Queue]] = []
                later: list[str] = []
                while pending and len(batch) < budget:
                    message = source.messages.get(pending.popleft())
                    if message is None or not self._movable(message, task.until_seq, task.destination_arn):
                        continue
                    if message.visible_at > now:
                        later.append(message.id)
                        continue
                    destination = self._destination(task, message)
                    if destination is None:
                        self._fail(task)
                        return
                    batch.append((message, destination))
                pending.extend(later)
                if batch:  # an empty round (messages still in flight) has nothing new to record
                    await self._engine.relocate(source, batch)
                    task.moved += len(batch)
                    self._save(task)
                # a rate is per second; without one, yield between batches (and wait for messages in flight)
                await self._clock.sleep(1.0 if task.rate or (pending and not batch) else 0)
            if task.status is Status.CANCELLING:
                task.status = Status.CANCELLED
            self._save(task)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a store failure: the task ends FAILED; the store keeps every message once
            log.exception("message move task %s failed", task.task_id)
            task.status, task.failure = Status.FAILED, type(error).__name__
            self._save(task)

    def _destination(self, task: MoveTask, message: Message) -> Queue | None:
        arn = task.destination_arn or message.system.get("DeadLetterQueueSourceArn")
        return self._engine.by_arn(arn) if arn else None

    @staticmethod
    def _movable(message: Message, until_seq: int, destination_arn: str | None) -> bool:
        """Messages the task started with; without a destination, only those a redrive put there (a message
        sent to the dead-letter queue directly has no queue to go back to, and stays)."""
        return message.seq <= until_seq and (
            destination_arn is not None or "DeadLetterQueueSourceArn" in message.system
        )

    def _fail(self, task: MoveTask) -> None:
        task.status, task.failure = Status.FAILED, GONE
        self._save(task)

    # -- records ----------------------------------------------------------------------------------
    def _all(self) -> list[MoveTask]:
        return list(self._tasks.values())

    def _save(self, task: MoveTask) -> None:
        self._documents.put(KIND, task.task_id, {**asdict(task), "status": str(task.status)})

    def _forget_old(self, source_arn: str) -> None:
        mine = sorted((t for t in self._all() if t.source_arn == source_arn), key=lambda t: -t.started)
        for task in mine[KEPT:]:
            if task.status not in (Status.RUNNING, Status.CANCELLING):
                del self._tasks[task.task_id]
                self._documents.delete(KIND, task.task_id)


class MoveTasksApi:
    """The three operations, beside SqsProvider (json and query protocols alike)."""

    def __init__(self, tasks: MoveTasks) -> None:
        self._tasks = tasks

    def start_message_move_task(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        task = self._tasks.start_task(
            params["SourceArn"], params.get("DestinationArn"), params.get("MaxNumberOfMessagesPerSecond")
        )
        return {"TaskHandle": task.handle}

    def list_message_move_tasks(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("MaxResults")
        if limit is not None and not 1 <= limit <= KEPT:
            raise InvalidParameter(
                f"Value {limit} for parameter MaxResults is invalid. "
                f"Reason: You must enter a number that's between 1 and {KEPT}."
            )
        tasks = self._tasks.list_tasks(params["SourceArn"], limit or 1)
        return {"Results": [t.entry() for t in tasks]} if tasks else {}

    def cancel_message_move_task(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"ApproximateNumberOfMessagesMoved": self._tasks.cancel(params["TaskHandle"]).moved}
