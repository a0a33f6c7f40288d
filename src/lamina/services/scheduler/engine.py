"""EventBridge Scheduler's state and firing: schedule groups and schedules as documents, one timer.

A schedule is stored in its wire member names (what GetSchedule answers) plus `_firing`: `since` (the time
of the last create/update: fires come after it), `anchor` (where a rate counts from: StartDate, else `since`)
and `last` (the nominal time of the last fire, committed after its first delivery attempt). From these the
next nominal fire time follows (`lamina.schedules.expressions`); with a FlexibleTimeWindow the fire happens
at a uniformly random point of the window after it.

Restarts: a fire that fell due while Lamina was down fires once at start-up, however many periods were
missed, and the schedule then goes on from the present (as AWS, which delivers a missed invocation within
its flexible window, never a backlog). A schedule whose last fire is behind it (an at() that fired, an
EndDate passed) with ActionAfterCompletion DELETE is deleted once it has fired.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from lamina.clock import Clock
from lamina.schedules.expressions import parse, timezone
from lamina.schedules.timer import Timer
from lamina.services.scheduler.delivery import Fire, TargetDelivery
from lamina.store.documents import DocumentStore

log = logging.getLogger(__name__)

GROUP_KIND = "scheduler-group"
SCHEDULE_KIND = "scheduler-schedule"
DEFAULT_GROUP = "default"


def schedule_key(region: str, group: str, name: str) -> str:
    return f"{region}/{group}/{name}"


def _iso_ms(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class SchedulerEngine:
    def __init__(self, store: DocumentStore, clock: Clock, delivery: TargetDelivery, account: str) -> None:
        self._store = store
        self._clock = clock
        self.delivery = delivery
        self._account = account
        self.groups: dict[str, dict[str, Any]] = {}  # "region/name" → group record
        self.schedules: dict[str, dict[str, Any]] = {}  # "region/group/name" → schedule record
        self._nominal: dict[str, float] = {}  # key → the nominal fire time its timer deadline stands for
        self._timer = Timer(clock, self._fire)
        self._retries: set[asyncio.Task[None]] = set()
        self.fired = 0

    # -- lifecycle ------------------------------------------------------------------------------
    def load(self) -> None:
        self.groups = self._store.load(GROUP_KIND)
        self.schedules = self._store.load(SCHEDULE_KIND)

    def start(self) -> None:
        for key in self.schedules:
            try:
                self._plan(key, catch_up=True)
            except ValueError:  # a stored expression this version no longer reads: the others still fire
                log.exception("schedule %s cannot be planned", key)
        for pending in self.delivery.pending():  # retries a stop or crash interrupted
            self._spawn(self.delivery.run(pending.fire, pending.error, pending.key, pending.retries))
        self._timer.start()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    async def close(self) -> None:
        await self._timer.close()
        for task in list(self._retries):
            task.cancel()
        for task in list(self._retries):
            with contextlib.suppress(BaseException):  # a cancelled retry stays stored and resumes (delivery.py)
                await task

    # -- groups ---------------------------------------------------------------------------------
    def group_arn(self, region: str, name: str) -> str:
        return f"arn:aws:scheduler:{region}:{self._account}:schedule-group/{name}"

    def group(self, region: str, name: str) -> dict[str, Any] | None:
        found = self.groups.get(f"{region}/{name}")
        if found is None and name == DEFAULT_GROUP:
            found = self._default_group(region)
        return found

    def _default_group(self, region: str) -> dict[str, Any]:
        """The `default` group exists in every region from the start; its record is written when first asked."""
        now = self._clock.time()
        record = {
            "Arn": self.group_arn(region, DEFAULT_GROUP),
            "Name": DEFAULT_GROUP,
            "State": "ACTIVE",
            "CreationDate": now,
            "LastModificationDate": now,
            "Tags": [],
        }
        self.put_group(region, record)
        return record

    def region_groups(self, region: str) -> list[dict[str, Any]]:
        self.group(region, DEFAULT_GROUP)
        prefix = f"{region}/"
        return [g for key, g in self.groups.items() if key.startswith(prefix)]

    def put_group(self, region: str, record: dict[str, Any]) -> None:
        key = f"{region}/{record['Name']}"
        self._store.put(GROUP_KIND, key, record)
        self.groups[key] = record

    def delete_group(self, region: str, name: str) -> None:
        """The group and every schedule in it, in one transaction."""
        prefix = f"{region}/{name}/"
        doomed = [key for key in self.schedules if key.startswith(prefix)]
        with self._store.transaction():
            for key in doomed:
                self._store.delete(SCHEDULE_KIND, key)
            self._store.delete(GROUP_KIND, f"{region}/{name}")
        for key in doomed:
            self._forget(key)
        self.groups.pop(f"{region}/{name}", None)

    # -- schedules ------------------------------------------------------------------------------
    def schedule(self, region: str, group: str, name: str) -> dict[str, Any] | None:
        return self.schedules.get(schedule_key(region, group, name))

    def region_schedules(self, region: str) -> list[dict[str, Any]]:
        prefix = f"{region}/"
        return [s for key, s in self.schedules.items() if key.startswith(prefix)]

    def put_schedule(self, region: str, record: dict[str, Any]) -> None:
        """Creates or replaces a schedule (committed first); its firing starts over from now."""
        key = schedule_key(region, record["GroupName"], record["Name"])
        now = self._clock.time()
        record["_firing"] = {"anchor": record.get("StartDate") or now, "since": now, "last": None}
        self._store.put(SCHEDULE_KIND, key, record)
        self.schedules[key] = record
        self._plan(key)

    def delete_schedule(self, region: str, group: str, name: str) -> None:
        key = schedule_key(region, group, name)
        self._store.delete(SCHEDULE_KIND, key)
        self._forget(key)

    def _forget(self, key: str) -> None:
        self.schedules.pop(key, None)
        self._nominal.pop(key, None)
        self._timer.set(key, None)

    # -- firing ---------------------------------------------------------------------------------
    def next_fire(self, record: dict[str, Any], after: float) -> float | None:
        """The first nominal fire time after `after`, within StartDate/EndDate; None when there is none."""
        expression = parse(record["ScheduleExpression"], plural_rule=False)
        zone = timezone(record.get("ScheduleExpressionTimezone") or "UTC")
        firing = record["_firing"]
        start, end = record.get("StartDate"), record.get("EndDate")
        if start is not None and not record["ScheduleExpression"].startswith("at("):
            after = max(after, start - 0.001)
        found = expression.next_after(after, zone, firing["anchor"])
        if found is not None and end is not None and found > end and not record["ScheduleExpression"].startswith("at("):
            return None
        return found

    def _plan(self, key: str, catch_up: bool = False) -> None:
        record = self.schedules[key]
        self._nominal.pop(key, None)
        self._timer.set(key, None)
        if record.get("State", "ENABLED") != "ENABLED":
            return
        firing = record["_firing"]
        now = self._clock.time()
        last = firing["last"]
        # A new rate schedule without a StartDate fires at once (AWS: "starts invoking the target immediately").
        nominal = self.next_fire(record, last if last is not None else firing["since"] - 0.001)
        if nominal is not None and nominal <= now and last is not None and not catch_up:
            nominal = self.next_fire(record, now)  # behind by more than a period: no backlog
        if nominal is None:
            return
        at = max(nominal, now)
        window = record.get("FlexibleTimeWindow") or {}
        if window.get("Mode") == "FLEXIBLE" and nominal > now:
            at = nominal + random.uniform(0, 60 * int(window.get("MaximumWindowInMinutes", 0)))
        self._nominal[key] = nominal
        self._timer.set(key, at)

    async def _fire(self, key: str) -> None:
        record = self.schedules.get(key)
        nominal = self._nominal.pop(key, None)
        if record is None or nominal is None or record.get("State", "ENABLED") != "ENABLED":
            return
        fire = Fire(record["Arn"], record["Target"], self._payload(record, nominal), nominal)
        error = await self.delivery.attempt(fire)
        if error is not None:
            self._spawn(self.delivery.run(fire, error))
        self.fired += 1
        if self.schedules.get(key) is not record:  # deleted or replaced while delivering
            return
        record["_firing"]["last"] = nominal
        region = key.split("/", 1)[0]
        finished = self.next_fire(record, max(nominal, self._clock.time())) is None
        if finished and record.get("ActionAfterCompletion") == "DELETE":
            self.delete_schedule(region, record["GroupName"], record["Name"])
            return
        try:
            self._store.put(SCHEDULE_KIND, key, record)
        finally:  # even when the store refuses (a full disk), the schedule keeps its next fire
            self._plan(key)

    def _payload(self, record: dict[str, Any], nominal: float) -> bytes:
        """The target's Input (else `{}`), with Scheduler's context attributes filled in."""
        text = record["Target"].get("Input")
        if text is None:
            return b"{}"
        context = {
            "<aws.scheduler.schedule-arn>": record["Arn"],
            "<aws.scheduler.scheduled-time>": _iso_ms(nominal)[:-5] + "Z",
            "<aws.scheduler.execution-id>": str(uuid.uuid4()),
            "<aws.scheduler.attempt-number>": "1",
        }
        for name, value in context.items():
            text = text.replace(name, value)
        return str(text).encode()

    def stats(self) -> dict[str, Any]:
        return {
            "schedules": len(self.schedules),
            "fired": self.fired,
            "delivered": self.delivery.delivered,
            "failed": self.delivery.failed,
        }


def describe(record: dict[str, Any]) -> dict[str, Any]:
    """A schedule as GetSchedule answers it (without Lamina's own `_firing`)."""
    return {k: v for k, v in record.items() if not k.startswith("_")}
