"""Copilot job schedules become EventBridge Scheduler expressions the spec layer accepts, with the same days."""

from __future__ import annotations

import itertools

import pytest

from keel.contract.schedule import schedule_problem
from keel.lifecycle.copilot_schedule import KEYWORDS, ScheduleError, convert_schedule, parse_duration

NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


@pytest.mark.parametrize(("copilot", "eventbridge"), [
    ("@yearly", "cron(0 0 1 1 ? *)"),
    ("@annually", "cron(0 0 1 1 ? *)"),
    ("@monthly", "cron(0 0 1 * ? *)"),
    ("@weekly", "cron(0 0 ? * SUN *)"),
    ("@daily", "cron(0 0 * * ? *)"),
    ("@midnight", "cron(0 0 * * ? *)"),
    ("@hourly", "cron(0 * * * ? *)"),
    ("@DAILY", "cron(0 0 * * ? *)"),
    ("@every 1m", "rate(1 minute)"),
    ("@every 5m", "rate(5 minutes)"),
    ("@every 60m", "rate(1 hour)"),
    ("@every 1h", "rate(1 hour)"),
    ("@every 5h", "rate(5 hours)"),
    ("@every 1h30m", "rate(90 minutes)"),
    ("@every 1.5h", "rate(90 minutes)"),
    ("@every 120s", "rate(2 minutes)"),
    ("@every 24h", "rate(1 day)"),
    ("@every 48h", "rate(2 days)"),
    ("@every 1h0m0s", "rate(1 hour)"),
    ("0 */2 * * *", "cron(0 0/2 * * ? *)"),
    ("*/15 * * * *", "cron(0/15 * * * ? *)"),
    ("0 12 * * MON", "cron(0 12 ? * MON *)"),
    ("30 9 * * 1-5", "cron(30 9 ? * MON-FRI *)"),
    ("0 0 * * 0", "cron(0 0 ? * SUN *)"),
    ("0 0 * * 7", "cron(0 0 ? * SUN *)"),
    ("0 0 * * 5-7", "cron(0 0 ? * SUN,FRI,SAT *)"),
    ("0 0 * * 0,6", "cron(0 0 ? * SUN,SAT *)"),
    ("0 0 * * */2", "cron(0 0 ? * SUN,TUE,THU,SAT *)"),
    ("0 0 * * 1-7", "cron(0 0 ? * * *)"),
    ("0 0 * * mon-fri", "cron(0 0 ? * MON-FRI *)"),
    ("0 0 1 * *", "cron(0 0 1 * ? *)"),
    ("0 0 1,15 */3 *", "cron(0 0 1,15 1/3 ? *)"),
    ("5 4 L * *", "cron(5 4 L * ? *)"),
    ("0 6 ? * 1", "cron(0 6 ? * MON *)"),
    ("0 0 * JAN,JUL *", "cron(0 0 * JAN,JUL ? *)"),
    ("rate(5 minutes)", "rate(5 minutes)"),
    ("cron(0 12 * * ? *)", "cron(0 12 * * ? *)"),
    ("  @daily  ", "cron(0 0 * * ? *)"),
])
def test_copilot_schedules_convert_to_eventbridge(copilot: str, eventbridge: str) -> None:
    assert convert_schedule(copilot) == eventbridge
    assert schedule_problem(eventbridge) is None


@pytest.mark.parametrize(("copilot", "why"), [
    ("", "empty"),
    ("@every 30s", "whole number of minutes"),
    ("@every 90s", "whole number of minutes"),
    ("@every soon", "duration"),
    ("@fortnightly", "not a schedule keyword"),
    ("0 0 1 * 1", "either day-of-month (1) or day-of-week (1)"),
    ("0 0 * *", "5 fields"),
    ("0 0 * * * *", "5 fields"),
    ("0 0 * * 8", "not a day of the week"),
    ("0 0 * * 6-0", "from low to high"),
    ("0 0 * * 1/0", "positive number"),
    ("61 0 * * *", "outside minutes"),
    ("0 24 * * *", "outside hours"),
    ("rate(1 minutes)", "singular"),
    ("cron(0 12 * * * *)", "exactly one of day-of-month and day-of-week"),
])
def test_schedules_without_an_eventbridge_equivalent_say_why(copilot: str, why: str) -> None:
    with pytest.raises(ScheduleError, match=why.replace("(", r"\(").replace(")", r"\)")):
        convert_schedule(copilot)


def _days(expression: str) -> set[int]:
    field = expression[len("cron("):-1].split()[4]
    if field == "*":
        return set(range(7))
    days: set[int] = set()
    for part in field.split(","):
        low, _, high = part.partition("-")
        days.update(range(NAMES.index(low), NAMES.index(high or low) + 1))
    return days


@pytest.mark.parametrize(("low", "high"), [(a, b) for a, b in itertools.product(range(8), repeat=2) if a <= b])
@pytest.mark.parametrize("step", [None, 1, 2, 3])
def test_every_unix_day_of_week_range_keeps_its_days(low: int, high: int, step: int | None) -> None:
    field = f"{low}-{high}" + (f"/{step}" if step else "")
    expression = convert_schedule(f"0 0 * * {field}")
    assert schedule_problem(expression) is None
    assert _days(expression) == {d % 7 for d in range(low, high + 1, step or 1)}


@pytest.mark.parametrize("day", range(8))
def test_every_unix_day_number_and_name_is_the_same_day(day: int) -> None:
    by_number = convert_schedule(f"15 3 * * {day}")
    assert _days(by_number) == {day % 7}
    assert convert_schedule(f"15 3 * * {NAMES[day % 7].lower()}") == by_number


@pytest.mark.parametrize("minutes", [1, 2, 59, 60, 61, 90, 119, 120, 1439, 1440, 1441, 2880, 10080])
def test_every_duration_in_whole_minutes_keeps_its_period(minutes: int) -> None:
    expression = convert_schedule(f"@every {minutes}m")
    assert schedule_problem(expression) is None
    n, unit = expression[len("rate("):-1].split()
    assert int(n) * {"minute": 1, "hour": 60, "day": 1440}[unit.rstrip("s")] == minutes


def test_every_keyword_converts_to_an_accepted_expression() -> None:
    assert all(schedule_problem(convert_schedule(k)) is None for k in KEYWORDS)


def test_go_durations_add_up_their_parts() -> None:
    assert parse_duration("1h30m") == 5400
    assert parse_duration("2m30s") == 150
    assert parse_duration("1500ms") == 1.5
    with pytest.raises(ValueError):
        parse_duration("1 h")
