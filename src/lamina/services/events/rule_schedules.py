"""Fires the rules that have a `ScheduleExpression` (spec/events.md §4), on the project's clock.

The expressions are parsed, and the next fire time computed, by `lamina.schedules` (shared with EventBridge
Scheduler); EventBridge rules take `rate` and `cron` only, always in UTC. A rate rule fires one period after it
was created, then every period (`rate(5 minutes)` fires 12 times an hour); a cron rule at each matching minute.
Each firing is `EventsEngine.fire`: AWS's "Scheduled Event", committed as deliveries to the rule's targets before
the next fire is planned. After a restart the rules fire from the next due time on: fires that fell while
Lamina was down are not made up, as a rule's schedule is not a backlog.
"""

from __future__ import annotations

import logging

from lamina.clock import Clock
from lamina.schedules.expressions import At, InvalidExpression, parse, timezone
from lamina.schedules.timer import Timer
from lamina.services.events.engine import EventsEngine

log = logging.getLogger(__name__)
UTC = timezone("UTC")


def check(expression: str) -> bool:
    """Whether EventBridge accepts `expression` on a rule (no `at()`, the rate unit's plural rule)."""
    try:
        return not isinstance(parse(expression), At)
    except InvalidExpression:
        return False


class RuleSchedules:
    def __init__(self, engine: EventsEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._timer = Timer(clock, self._due)
        self._planned: dict[str, float] = {}  # rule ARN → the fire time set on the timer
        self.fired = 0
        engine.on_rule_change(self.rule_changed)

    def start(self) -> None:
        now = self._clock.time()
        for rule in self._engine.scheduled_rules():
            self._plan(rule.arn, now)
        self._timer.start()

    async def close(self) -> None:
        await self._timer.close()

    def rule_changed(self, arn: str) -> None:
        """A rule was put, changed or deleted: its next fire is planned again (or cancelled)."""
        self._plan(arn, self._clock.time())

    def _plan(self, arn: str, after: float) -> None:
        rule = self._engine.rules.get(arn)
        due = None
        if rule is not None and rule.schedule:
            try:
                due = parse(rule.schedule).next_after(after, UTC, anchor=rule.created)
            except InvalidExpression:  # stored by an older, laxer Lamina: it never fires
                log.error("rule %s has a schedule expression Lamina cannot parse: %s", arn, rule.schedule)
        if due is None:
            self._planned.pop(arn, None)
        else:
            self._planned[arn] = due
        self._timer.set(arn, due)

    async def _due(self, arn: str) -> None:
        when = self._planned.pop(arn, self._clock.time())
        rule = self._engine.rules.get(arn)
        if rule is None or not rule.schedule:
            return
        try:
            if self._engine.fire(rule, when) is not None:
                self.fired += 1
        finally:
            if arn not in self._planned:  # (a change while firing planned it already)
                self._plan(arn, when)
