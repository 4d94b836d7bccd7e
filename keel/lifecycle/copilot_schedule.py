"""Copilot's job schedules -> EventBridge Scheduler expressions. CDK-free.

Copilot took a 5-field Unix cron (`0 */2 * * *`), `@every <Go duration>`, the `@hourly`-style keywords, or an
AWS `rate(...)` / `cron(...)` as it is. EventBridge takes `rate(...)` or a 6-field `cron(...)` whose
day-of-month or day-of-week is `?` and whose day-of-week counts 1-7 from Sunday (Unix cron: 0-7, 0 and 7 both
Sunday). Every result is checked with the spec layer's own schedule grammar, so what this returns the
scheduled templates accept.
"""

from __future__ import annotations

import re

from keel.contract.schedule import schedule_problem

KEYWORDS = {
    "@yearly": "cron(0 0 1 1 ? *)",
    "@annually": "cron(0 0 1 1 ? *)",
    "@monthly": "cron(0 0 1 * ? *)",
    "@weekly": "cron(0 0 ? * SUN *)",
    "@daily": "cron(0 0 * * ? *)",
    "@midnight": "cron(0 0 * * ? *)",
    "@hourly": "cron(0 * * * ? *)",
}
_DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")

_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(h|ms|us|µs|ns|m|s)")
_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


class ScheduleError(ValueError):
    """A Copilot schedule with no EventBridge equivalent; the message says why."""


def convert_schedule(text: str) -> str:
    """The EventBridge Scheduler expression for a Copilot `on.schedule`, or ScheduleError."""
    value = text.strip()
    if not value:
        raise ScheduleError("the schedule is empty")
    lowered = value.lower()
    if lowered in KEYWORDS:
        return _checked(KEYWORDS[lowered], value)
    if lowered.startswith("@every"):
        return _checked(_every(value[len("@every"):].strip()), value)
    if value.startswith(("rate(", "cron(", "at(")):
        return _checked(value, value)
    if value.startswith("@"):
        raise ScheduleError(f"{value} is not a schedule keyword (@yearly, @annually, @monthly, @weekly, @daily, "
                            "@midnight, @hourly, @every <duration>)")
    return _checked(_unix_cron(value), value)


def parse_duration(text: str) -> float:
    """A Go duration (`1h30m`, `90s`, `1.5h`) in seconds; ValueError when it is not one."""
    if not text or _DURATION_PART.sub("", text) != "":
        raise ValueError(f"{text!r} is not a duration such as 1h30m, 45m or 90s")
    return sum(float(n) * _SECONDS[unit] for n, unit in _DURATION_PART.findall(text))


def _every(duration: str) -> str:
    try:
        seconds = parse_duration(duration)
    except ValueError as exc:
        raise ScheduleError(f"@every takes a duration such as 1h30m, 45m or 6h ({exc})") from None
    if seconds < 60 or seconds % 60:
        raise ScheduleError(f"@every {duration} is not a whole number of minutes (EventBridge rates start at "
                            "1 minute)")
    minutes = int(seconds // 60)
    if minutes % 1440 == 0:
        return _rate(minutes // 1440, "day")
    if minutes % 60 == 0:
        return _rate(minutes // 60, "hour")
    return _rate(minutes, "minute")


def _rate(n: int, unit: str) -> str:
    return f"rate({n} {unit}{'' if n == 1 else 's'})"


def _unix_cron(text: str) -> str:
    fields = text.split()
    if len(fields) != 5:
        raise ScheduleError(f"a cron schedule has 5 fields (minute hour day-of-month month day-of-week), not "
                            f"{len(fields)}")
    minute, hour, dom, month, dow = fields
    minute = _steps_from(minute, 0)
    hour = _steps_from(hour, 0)
    dom = _steps_from(dom, 1)
    month = _steps_from(month, 1)
    dom = "*" if dom == "?" else dom
    dow = "*" if dow == "?" else dow
    dom_any, dow_any = dom == "*", dow == "*"
    if not dom_any and not dow_any:
        raise ScheduleError(f"{text}: cron runs when either day-of-month ({dom}) or day-of-week ({dow}) matches, "
                            "and EventBridge takes only one of the two (the other must be ?)")
    if dow_any:
        return f"cron({minute} {hour} {dom} {month} ? *)"
    return f"cron({minute} {hour} ? {month} {_day_of_week(dow)} *)"


def _steps_from(field: str, first: int) -> str:
    """`*/n` -> `<first>/n`, the form the EventBridge documentation uses."""
    return ",".join(f"{first}/{part[2:]}" if part.startswith("*/") else part for part in field.split(","))


def _day_of_week(field: str) -> str:
    """Unix day-of-week (0-7 or SUN-SAT, lists, ranges, steps) -> the same days, as EventBridge names them."""
    days: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        if step_text and (not step_text.isdigit() or int(step_text) < 1):
            raise ScheduleError(f"{part}: a step in day-of-week is a positive number")
        step = int(step_text) if step_text else 1
        if base == "*":
            low, high = 0, 6
        elif "-" in base:
            low_text, _, high_text = base.partition("-")
            low, high = _day(low_text), _day(high_text)
        else:
            low = high = _day(base)
            if step_text:  # `n/step`: from n to the end of the week
                high = 7 if low == 7 else 6
        if low > high:
            raise ScheduleError(f"{base}: a day-of-week range runs from low to high")
        days.update(d % 7 for d in range(low, high + 1, step))  # 7 is Sunday, as 0 is
    if days == set(range(7)):
        return "*"
    return _compressed(sorted(days))


def _compressed(days: list[int]) -> str:
    """[1, 2, 3, 4, 5] -> MON-FRI; [1, 3] -> MON,WED; runs of three or more days become ranges."""
    parts, start = [], 0
    while start < len(days):
        end = start
        while end + 1 < len(days) and days[end + 1] == days[end] + 1:
            end += 1
        if end - start >= 2:
            parts.append(f"{_DAY_NAMES[days[start]]}-{_DAY_NAMES[days[end]]}")
        else:
            parts += [_DAY_NAMES[d] for d in days[start:end + 1]]
        start = end + 1
    return ",".join(parts)


def _day(text: str) -> int:
    upper = text.upper()
    if upper in _DAY_NAMES:
        return _DAY_NAMES.index(upper)
    if text.isdigit() and 0 <= int(text) <= 7:
        return int(text)
    raise ScheduleError(f"{text} is not a day of the week (0-7 or SUN-SAT)")


def _checked(expression: str, original: str) -> str:
    problem = schedule_problem(expression)
    if problem:
        shown = "" if expression == original else f" (as {expression})"
        raise ScheduleError(f"{original}{shown}: {problem}")
    return expression


__all__ = ["KEYWORDS", "ScheduleError", "convert_schedule", "parse_duration"]
