"""Validation of a rule's `ScheduleExpression` (spec/events.md §4): `rate(value unit)` and AWS's 6-field
`cron(minutes hours day-of-month month day-of-week year)`. Anything else is AWS's ValidationException
"Parameter ScheduleExpression is not valid." (compared with the recorded test_events_schedule entries).

Only the syntax is checked here; computing fire times belongs to `lamina.schedules` (another branch), which
calls `EventsEngine.fire` for each due rule of `EventsEngine.scheduled_rules()`.
"""

from __future__ import annotations

import re

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\(([^()]*)\)$")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


def valid(expression: str) -> bool:
    m = _RATE.match(expression)
    if m is not None:
        value, unit = int(m.group(1)), m.group(2)
        return value >= 1 and (unit.endswith("s") == (value != 1))
    m = _CRON.match(expression)
    if m is None:
        return False
    fields = m.group(1).split()
    if len(fields) != 6:
        return False
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):  # exactly one of day-of-month and day-of-week is '?'
        return False
    return (
        _field(minute, 0, 59)
        and _field(hour, 0, 23)
        and (dom == "?" or _field(dom, 1, 31, extra=r"L|LW|\d{1,2}W"))
        and _field(month, 1, 12, names=_MONTHS)
        and (
            dow == "?"
            or _field(dow, 1, 7, names=_DAYS, extra=r"[1-7]L|[1-7]#[1-5]|L|(SUN|MON|TUE|WED|THU|FRI|SAT)#[1-5]")
        )
        and _field(year, 1970, 2199)
    )


def _value(text: str, low: int, high: int, names: tuple[str, ...]) -> int | None:
    if text.isdigit():
        n = int(text)
        return n if low <= n <= high else None
    if text.upper() in names:
        return names.index(text.upper()) + low
    return None


def _field(text: str, low: int, high: int, names: tuple[str, ...] = (), extra: str | None = None) -> bool:
    for part in text.split(","):
        if extra is not None and re.fullmatch(extra, part, re.IGNORECASE):
            continue
        base, _, step = part.partition("/")
        if step and (not step.isdigit() or int(step) < 1):
            return False
        if base == "*":
            continue
        start, dash, end = base.partition("-")
        if _value(start, low, high, names) is None:
            return False
        if dash and _value(end, low, high, names) is None:
            return False
    return True
