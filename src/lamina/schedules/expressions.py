"""AWS schedule expressions: `rate(value unit)`, `cron(min hour dom month dow year)` and `at(yyyy-mm-ddThh:mm:ss)`.

Parsing validates AWS's syntax (spec events.md §4): rate units singular iff the value is 1; cron has six fields,
exactly one of day-of-month and day-of-week is `?`, day-of-week counts 1-7 from Sunday, `L`/`W` in day-of-month,
`L`/`#` in day-of-week (one `#` at most), years 1970-2199. The fields are then translated to croniter's
seven-field syntax (day-of-week 0-6, `nL` → `L(n-1)`, seconds 0) and croniter iterates them.

Times are epoch seconds. `next_after(after, ...)` is the first fire time strictly after `after`:
- rate: `anchor + k * period` (k ≥ 0), the anchor being the schedule's start (StartDate, else its creation:
  EventBridge Scheduler invokes a rate schedule without StartDate at once, then every period; a `days` unit is
  24 hours of elapsed time, whatever DST does to the wall clock);
- cron: evaluated on the wall clock of the timezone. As AWS documents for EventBridge Scheduler, a local time
  that does not exist (spring forward) is skipped, and one that exists twice (fall back) fires once (the first);
- at: the given local time once, then never.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter


class InvalidExpression(ValueError):
    """Not a schedule expression AWS accepts; the message is the expression."""


class InvalidTimezone(ValueError):
    """Not an IANA timezone name."""


_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_AT = re.compile(r"at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)")
_CRON = re.compile(r"cron\((.*)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES)}
_DAYS = {d: i + 1 for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}  # AWS: 1 = Sunday
_MAX_CANDIDATES = 1000  # cron candidates examined per call (DST skips need only a few)


def timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidTimezone(name) from exc


@dataclass(frozen=True)
class Rate:
    seconds: int

    def next_after(self, after: float, zone: ZoneInfo, anchor: float) -> float | None:
        if after < anchor:
            return anchor
        k = int((after - anchor) // self.seconds) + 1
        return anchor + k * self.seconds


@dataclass(frozen=True)
class At:
    local: datetime  # naive wall-clock time in the schedule's timezone

    def next_after(self, after: float, zone: ZoneInfo, anchor: float) -> float | None:
        when = _to_epoch(self.local, zone)
        if when is None:  # a time skipped by DST: the first valid instant after it
            when = self.local.replace(tzinfo=zone).timestamp()
        return when if when > after else None


@dataclass(frozen=True)
class Cron:
    fields: str  # croniter's seven-field form

    def next_after(self, after: float, zone: ZoneInfo, anchor: float) -> float | None:
        start = datetime.fromtimestamp(after, zone).replace(tzinfo=None)
        iterator = croniter(self.fields, start - timedelta(hours=3))  # back a little: covers a fall-back repeat
        for _ in range(_MAX_CANDIDATES):
            try:
                local = iterator.get_next(datetime)
            except CroniterBadDateError:  # past the last year the expression allows
                return None
            when = _to_epoch(local, zone)
            if when is not None and when > after:
                return when
        return None


Expression = Rate | At | Cron


def _to_epoch(local: datetime, zone: ZoneInfo) -> float | None:
    """The instant a wall-clock time names in `zone`: the first of two (fall back), None if it never exists."""
    first = local.replace(tzinfo=zone, fold=0)
    back = datetime.fromtimestamp(first.timestamp(), zone).replace(tzinfo=None)
    if back != local:
        return None
    return first.timestamp()


def parse(expression: str, plural_rule: bool = True) -> Expression:
    """The expression, or InvalidExpression. `plural_rule`: a rate's unit is singular iff its value is 1, as
    EventBridge rules insist (spec events.md §4); EventBridge Scheduler does not (AWS accepted `rate(2 minute)`
    in LocalStack's AWS-recorded scheduler tests), so it parses with `plural_rule=False`."""
    m = _RATE.fullmatch(expression)
    if m:
        value, unit = int(m.group(1)), m.group(2)
        if value < 1 or (plural_rule and (value == 1) != (not unit.endswith("s"))):
            raise InvalidExpression(expression)
        return Rate(value * _UNIT_SECONDS[unit.rstrip("s")])
    m = _AT.fullmatch(expression)
    if m:
        try:
            year, month, day, hour, minute, second = (int(g) for g in m.groups())
            return At(datetime(year, month, day, hour, minute, second))
        except ValueError as exc:
            raise InvalidExpression(expression) from exc
    m = _CRON.fullmatch(expression)
    if m:
        return Cron(_translate(m.group(1), expression))
    raise InvalidExpression(expression)


# -- cron ------------------------------------------------------------------------------------------
_Field = tuple[int, int, dict[str, int]]  # low, high, names
_MINUTES: _Field = (0, 59, {})
_HOURS: _Field = (0, 23, {})
_DOM: _Field = (1, 31, {})
_MONTH: _Field = (1, 12, _MONTHS)
_DOW: _Field = (1, 7, _DAYS)
_YEAR: _Field = (1970, 2199, {})


def _translate(body: str, expression: str) -> str:
    parts = body.split(" ")
    if len(parts) != 6 or any(not p for p in parts):
        raise InvalidExpression(expression)
    minute, hour, dom, month, dow, year = parts
    if (dom == "?") == (dow == "?"):  # exactly one of them is `?`
        raise InvalidExpression(expression)
    try:
        out = [
            _plain(minute, _MINUTES),
            _plain(hour, _HOURS),
            "*" if dom == "?" else _day_of_month(dom),
            _plain(month, _MONTH),
            "*" if dow == "?" else _day_of_week(dow),
            "0",
            _plain(year, _YEAR),
        ]
    except ValueError as exc:
        raise InvalidExpression(expression) from exc
    fields = " ".join(out)
    if not croniter.is_valid(fields):
        raise InvalidExpression(expression)
    return fields


def _number(text: str, field: _Field) -> int:
    low, high, names = field
    value = names[text.upper()] if text.upper() in names else int(text) if text.isdigit() else None
    if value is None or not low <= value <= high:
        raise ValueError(text)
    return value


def _plain(text: str, field: _Field, shift: int = 0) -> str:
    """A list of `*`, `a`, `a-b`, with an optional `/step`, in numbers (names resolved), shifted by `shift`."""
    out = []
    for item in text.split(","):
        base, slash, step = item.partition("/")
        if slash and (not step.isdigit() or int(step) < 1):
            raise ValueError(item)
        if base == "*":
            rendered = "*"
        elif "-" in base:
            a, _, b = base.partition("-")
            rendered = f"{_number(a, field) - shift}-{_number(b, field) - shift}"
        else:
            rendered = str(_number(base, field) - shift)
        out.append(rendered + (f"/{step}" if slash else ""))
    return ",".join(out)


def _day_of_month(text: str) -> str:
    if text == "L":
        return "L"
    if text.endswith("W") and "," not in text:
        return f"{_number(text[:-1], _DOM)}W"
    return _plain(text, _DOM)


def _day_of_week(text: str) -> str:
    if text == "L":  # the last day of the week: Saturday
        return "6"
    if text.endswith("L") and "," not in text:  # `6L`: the last Friday of the month
        return f"L{_number(text[:-1], _DOW) - 1}"
    if "#" in text:
        day, _, nth = text.partition("#")
        if "," in text or not nth.isdigit() or not 1 <= int(nth) <= 5:
            raise ValueError(text)
        return f"{_number(day, _DOW) - 1}#{nth}"
    return _plain(text, _DOW, shift=1)
