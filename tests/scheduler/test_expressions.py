"""Schedule expressions: AWS's syntax accepted and refused, next fire times, timezones and DST."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from lamina.schedules.expressions import Cron, InvalidExpression, InvalidTimezone, Rate, parse, timezone

UTC_ZONE = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")


def epoch(year: int, month: int, day: int, hour: int, minute: int, zone: ZoneInfo = UTC_ZONE) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=zone).timestamp()


def fires(expression: str, after: float, count: int, zone: ZoneInfo = UTC_ZONE) -> list[str]:
    expr = parse(expression)
    out, t = [], after
    for _ in range(count):
        found = expr.next_after(t, zone, after)
        if found is None:
            break
        out.append(datetime.fromtimestamp(found, zone).strftime("%a %Y-%m-%d %H:%M %Z"))
        t = found
    return out


# The invalid expressions AWS answered with "Invalid Schedule Expression <expr>." (recorded by LocalStack's
# validated scheduler tests), and the rate units' singular/plural rule of spec events.md §4.
INVALID = [
    "cron(0 1 * * * *)",
    "cron(7 20 * * NOT *)",
    "cron(INVALID)",
    "cron(0 dummy ? * MON-FRI *)",
    "cron(71 8 1 * ? *)",
    "cron()",
    "rate(10 seconds)",
    "rate(10 years)",
    "rate()",
    "rate(10)",
    "rate(10 minutess)",
    "rate(foo minutes)",
    "rate(-10 minutes)",
    "rate( 10 minutes )",
    " rate(10 minutes)",
    "at(2021-12-31T23:59:59Z)",
    "at(2021-12-31)",
    "rate(1 minutes)",
    "rate(5 minute)",
    "rate(0 minutes)",
    "cron(0 12 ? * ? *)",  # both day fields `?`
    "cron(0 12 1 * MON *)",  # neither
    "cron(0 10 ? * 0 *)",  # day-of-week counts 1-7
    "cron(0 10 ? * 8 *)",
    "cron(0 10 ? * 2#6 *)",
    "cron(0 10 ? * 1 1969)",
    "at(2024-02-30T10:00:00)",
]


@pytest.mark.parametrize("expression", INVALID)
def test_invalid_expressions_are_refused(expression: str) -> None:
    with pytest.raises(InvalidExpression):
        parse(expression)


def test_scheduler_does_not_insist_on_plural_units() -> None:
    assert parse("rate(2 minute)", plural_rule=False) == Rate(120)  # accepted by AWS (LocalStack's recording)
    assert parse("rate(1 minutes)", plural_rule=False) == Rate(60)
    with pytest.raises(InvalidExpression):
        parse("rate(10 minutess)", plural_rule=False)


def test_rate_units() -> None:
    assert parse("rate(1 minute)") == Rate(60)
    assert parse("rate(5 minutes)") == Rate(300)
    assert parse("rate(1 hour)") == Rate(3600)
    assert parse("rate(2 days)") == Rate(172800)


def test_rate_counts_from_its_anchor() -> None:
    start = epoch(2024, 5, 1, 0, 0)
    rate = parse("rate(5 minutes)")
    assert rate.next_after(start, UTC_ZONE, start) == start + 300
    assert rate.next_after(start + 301, UTC_ZONE, start) == start + 600
    assert rate.next_after(start - 100, UTC_ZONE, start) == start  # a future StartDate fires at the start


def test_aws_examples() -> None:
    after = epoch(2024, 5, 1, 0, 0)  # a Wednesday
    assert fires("cron(0 12 * * ? *)", after, 2) == ["Wed 2024-05-01 12:00 UTC", "Thu 2024-05-02 12:00 UTC"]
    assert fires("cron(5,35 14 * * ? *)", after, 2) == ["Wed 2024-05-01 14:05 UTC", "Wed 2024-05-01 14:35 UTC"]
    assert fires("cron(0 18 ? * MON-FRI *)", epoch(2024, 5, 3, 19, 0), 1) == ["Mon 2024-05-06 18:00 UTC"]
    assert fires("cron(0/15 * * * ? *)", after, 2) == ["Wed 2024-05-01 00:15 UTC", "Wed 2024-05-01 00:30 UTC"]
    assert fires("cron(15 10 ? * 6L 2019-2022)", after, 1) == []  # those years are over
    assert fires("cron(15 10 ? * 6L 2024-2025)", after, 2) == ["Fri 2024-05-31 10:15 UTC", "Fri 2024-06-28 10:15 UTC"]


def test_day_of_week_counts_from_sunday() -> None:
    after = epoch(2024, 5, 1, 0, 0)
    assert fires("cron(0 10 ? * 1 *)", after, 1) == ["Sun 2024-05-05 10:00 UTC"]
    assert fires("cron(0 10 ? * 7 *)", after, 1) == ["Sat 2024-05-04 10:00 UTC"]
    assert fires("cron(0 10 ? * 2-6 *)", epoch(2024, 5, 4, 0, 0), 1) == ["Mon 2024-05-06 10:00 UTC"]
    assert fires("cron(0 10 ? * 3#2 *)", after, 1) == ["Tue 2024-05-14 10:00 UTC"]  # second Tuesday
    assert fires("cron(0 10 ? * L *)", after, 1) == ["Sat 2024-05-04 10:00 UTC"]


def test_last_and_weekday_in_day_of_month() -> None:
    after = epoch(2024, 5, 1, 0, 0)
    assert fires("cron(0 10 L * ? *)", after, 2) == ["Fri 2024-05-31 10:00 UTC", "Sun 2024-06-30 10:00 UTC"]
    # 15 June 2024 is a Saturday: the nearest weekday is Friday the 14th
    assert fires("cron(0 10 15W * ? *)", after, 2) == ["Wed 2024-05-15 10:00 UTC", "Fri 2024-06-14 10:00 UTC"]
    assert fires("cron(0 9 1 JAN,JUL ? 2025)", after, 3) == ["Wed 2025-01-01 09:00 UTC", "Tue 2025-07-01 09:00 UTC"]


def test_cron_in_a_timezone_across_dst() -> None:
    """09:00 in New York is 14:00 UTC in winter and 13:00 UTC in summer (DST began 10 March 2024)."""
    cron = parse("cron(0 9 * * ? *)")
    assert isinstance(cron, Cron)
    before = cron.next_after(epoch(2024, 3, 9, 0, 0), NEW_YORK, 0)
    after = cron.next_after(epoch(2024, 3, 10, 12, 0), NEW_YORK, 0)
    assert before == epoch(2024, 3, 9, 14, 0)
    assert after == epoch(2024, 3, 10, 13, 0)


def test_a_skipped_local_time_does_not_fire() -> None:
    """02:30 did not exist in New York on 10 March 2024 (spring forward): AWS skips that invocation."""
    assert fires("cron(30 2 * * ? *)", epoch(2024, 3, 9, 3, 0, zone=NEW_YORK), 2, NEW_YORK) == [
        "Mon 2024-03-11 02:30 EDT",
        "Tue 2024-03-12 02:30 EDT",
    ]
    assert fires("cron(30 2 * * ? *)", epoch(2024, 3, 8, 3, 0, zone=NEW_YORK), 1, NEW_YORK) == [
        "Sat 2024-03-09 02:30 EST"
    ]


def test_a_repeated_local_time_fires_once() -> None:
    """01:30 happened twice in New York on 3 November 2024 (fall back): AWS runs the schedule once."""
    found = fires("cron(30 1 * * ? *)", epoch(2024, 11, 2, 12, 0, zone=NEW_YORK), 2, NEW_YORK)
    assert found == ["Sun 2024-11-03 01:30 EDT", "Mon 2024-11-04 01:30 EST"]
    hourly = fires("cron(0 * * * ? *)", epoch(2024, 11, 3, 0, 30, zone=NEW_YORK), 3, NEW_YORK)
    assert hourly == ["Sun 2024-11-03 01:00 EDT", "Sun 2024-11-03 02:00 EST", "Sun 2024-11-03 03:00 EST"]


def test_at_fires_once_in_its_timezone() -> None:
    at = parse("at(2024-06-01T10:00:00)")
    when = epoch(2024, 6, 1, 10, 0, zone=NEW_YORK)
    assert at.next_after(when - 1, NEW_YORK, 0) == when
    assert at.next_after(when, NEW_YORK, 0) is None


def test_timezone_names() -> None:
    assert timezone("Europe/Paris") == ZoneInfo("Europe/Paris")
    with pytest.raises(InvalidTimezone):
        timezone("Mars/Olympus")


def _recorded_cron_expressions() -> list[tuple[str, bool]]:
    """(expression, AWS accepted it) from the vendored AWS recording of EventBridge's PutRule with schedules."""
    recorded = Path(__file__).parent.parent / "conformance" / "aws-recorded"
    path = recorded / "services__events__test_events_schedule.snapshot.json"
    found = []
    for test, entry in json.loads(path.read_text()).items():
        m = re.search(r"\[(cron\(.*\))\]$", test)
        if m:
            found.append((m.group(1), "Error" not in json.dumps(entry["recorded-content"])))
    return found


RECORDED = _recorded_cron_expressions()


def test_the_recording_has_both_kinds() -> None:
    assert sum(ok for _, ok in RECORDED) >= 15 and sum(not ok for _, ok in RECORDED) >= 5


@pytest.mark.parametrize(("expression", "accepted"), RECORDED)
def test_cron_expressions_as_aws_judged_them(expression: str, accepted: bool) -> None:
    if accepted:
        assert isinstance(parse(expression), Cron)
    else:
        with pytest.raises(InvalidExpression):
            parse(expression)


def test_nth_weekday_by_name_and_every_minute_of_it() -> None:
    after = epoch(2024, 5, 1, 0, 0)
    assert fires("cron(0 2 ? * SAT#3 *)", after, 1) == ["Sat 2024-05-18 02:00 UTC"]
    assert fires("cron(* * ? * SAT#3 *)", after, 2) == ["Sat 2024-05-18 00:00 UTC", "Sat 2024-05-18 00:01 UTC"]
    assert fires("cron(0/5 5 ? JAN 1-5 2022)", after, 1) == []
