"""The schedule grammar EventBridge Scheduler and EventBridge rules accept: `rate(...)`, `cron(...)` (all six
fields, names, ranges, steps, L, W and #) and `at(...)`. One parser for every template with a schedule. CDK-free.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator

from keel.contract.problems import InputProblem

_RATE = re.compile(r"^rate\((?P<n>[0-9]+) (?P<unit>minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((?P<body>.*)\)$")
_AT = re.compile(r"^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$")
_MONTHS = {m.upper(): n for n, m in enumerate(calendar.month_abbr) if m}
_DAYS = {d: n for n, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}
# field name, minimum, maximum, names, extra single-value tokens allowed
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minutes", 0, 59, {}),
    ("hours", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2199, {}),
)


def schedule_problem(expression: str) -> str | None:
    """Why EventBridge would reject `expression` (`rate(...)`, `cron(...)` or `at(...)`), or None."""
    rate = _RATE.match(expression)
    if rate:
        n, unit = int(rate.group("n")), rate.group("unit")
        if n < 1:
            return "a rate must be at least 1"
        if n == 1 and unit.endswith("s"):
            return f"a rate of 1 takes the singular unit ({unit[:-1]})"
        if n > 1 and not unit.endswith("s"):
            return f"a rate above 1 takes the plural unit ({unit}s)"
        return None
    if expression.startswith("rate("):
        return "a rate is rate(<number> <minute(s)|hour(s)|day(s)>)"
    at = _AT.match(expression)
    if at:
        year, month, day, hour, minute, second = map(int, at.groups())
        if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]
                and hour <= 23 and minute <= 59 and second <= 59):
            return "at() names a date and time that does not exist"
        return None
    cron = _CRON.match(expression)
    if not cron:
        return "a schedule is rate(...), cron(...) or at(yyyy-mm-ddThh:mm:ss)"
    fields = cron.group("body").split()
    if len(fields) != 6:
        return f"a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), not {len(fields)}"
    dom, dow = fields[2], fields[4]
    if (dom == "?") == (dow == "?"):
        return "exactly one of day-of-month and day-of-week must be ? (the other one says which days)"
    for text, (name, low, high, names) in zip(fields, _FIELDS, strict=True):
        problem = _cron_field(text, name, low, high, names)
        if problem:
            return problem
    return None


def _cron_field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> str | None:
    if text == "?":
        return None if name in ("day-of-month", "day-of-week") else \
            f"? is only for day-of-month or day-of-week, not {name}"
    if name == "day-of-month" and re.fullmatch(r"L|[0-9]{1,2}W", text):
        number = re.sub(r"\D", "", text)
        return None if not number or 1 <= int(number) <= 31 else f"{text} is outside {name} 1-31"
    if name == "day-of-week":
        special = re.fullmatch(r"([0-9A-Z]+)(L|#([1-5]))", text.upper())
        if special and (special.group(1) in names or special.group(1).isdigit()):
            value = names.get(special.group(1)) or int(special.group(1))
            return None if 1 <= value <= 7 else f"{text}: {name} is 1-7 or SUN-SAT"
        if text.upper() == "L":
            return None
    for part in text.split(","):
        base, _, step = part.partition("/")
        if step and (not step.isdigit() or int(step) < 1):
            return f"{part}: a step (/n) in {name} is a positive number"
        if base == "*":
            continue
        bounds = base.split("-")
        if len(bounds) > 2 or not all(bounds):
            return f"{part} is not a value or range of {name}"
        values = []
        for bound in bounds:
            found: int | None = names.get(bound.upper(), int(bound) if bound.isdigit() else None)
            if found is None:
                return f"{bound} is not a value of {name} ({low}-{high}" + (
                    f" or {'-'.join((next(iter(names)), list(names)[-1]))})" if names else ")")
            if not low <= found <= high:
                return f"{bound} is outside {name} {low}-{high}"
            values.append(found)
        if len(values) == 2 and values[0] > values[1] and name not in ("day-of-week", "month"):
            return f"{base}: a range of {name} runs from low to high"
    return None


def check_schedule(expression: str, path: str = "schedule_expression") -> Iterator[InputProblem]:
    problem = schedule_problem(expression)
    if problem:
        yield path, f"is not a schedule EventBridge accepts: {problem}", expression, \
            "rate(5 minutes), cron(0 12 * * ? *) or at(2030-01-01T09:00:00)"
