"""EventBridge event patterns checked in the spec layer (CDK-free), so a pattern EventBridge refuses is a
located spec problem, not a failed deploy, and a NaN never reaches the CDK's JavaScript.

The grammar is the documented content filter of event buses
(docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html): every leaf is a
non-empty list of values or of one-key filter objects; `$or` holds a list of patterns.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

from keel.contract.problems import InputProblem, join_path

MAX_PATTERN_CHARS = 4096  # PutRule's EventPattern: at most 4096 characters
NUMERIC_LIMIT = 5.0e9  # numeric matching works between -5.0e9 and +5.0e9
_LOWER, _UPPER, _OPS = (">", ">="), ("<", "<="), ("<", "<=", "=", ">", ">=")
_STRING_FILTERS = ("prefix", "suffix", "equals-ignore-case", "wildcard")
_FILTERS = (*_STRING_FILTERS, "anything-but", "numeric", "exists", "cidr")
_LEAF = "a non-empty list of values, or of filters such as {prefix: x}, {numeric: ['>', 0]}, {exists: true}"


def check_pattern(pattern: object, path: str) -> Iterator[InputProblem]:
    """Problems of one pattern (an object of field -> list of matchers, or nested objects)."""
    if not isinstance(pattern, Mapping) or not pattern:
        yield path, "is not an event pattern", pattern, "a mapping of event fields to lists of values"
        return
    for key, value in pattern.items():
        where = join_path(path, str(key))
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                yield where, "is not a list of patterns", value, "a list of at least two patterns"
                continue
            for n, sub in enumerate(value):
                yield from check_pattern(sub, join_path(where, n))
        elif isinstance(value, Mapping):
            yield from check_pattern(value, where)
        elif not isinstance(value, list) or not value:
            yield where, "is not a list of matchers", value, _LEAF
        else:
            for n, matcher in enumerate(value):
                yield from _matcher(matcher, join_path(where, n))


def check_size(pattern: Mapping[str, Any], path: str) -> Iterator[InputProblem]:
    text = json.dumps(pattern, separators=(",", ":"), default=str)
    if len(text) > MAX_PATTERN_CHARS:
        yield path, "makes the rule's event pattern too long", f"{len(text)} characters", \
            f"at most {MAX_PATTERN_CHARS} characters (sources, detail types and filter together)"


def _matcher(value: object, path: str) -> Iterator[InputProblem]:
    if value is None or isinstance(value, (str, bool)):
        return
    if isinstance(value, (int, float)):
        yield from _number(value, path)
        return
    if not isinstance(value, Mapping) or len(value) != 1:
        yield path, "is not a value or a one-key filter", value, f"a string, number, true/false, null, or one of " \
            f"{{{', '.join(_FILTERS)}}}: ..."
        return
    ((name, arg),) = value.items()
    where = join_path(path, str(name))
    if name in ("prefix", "suffix"):
        if not (isinstance(arg, str) or _ignore_case(arg)):
            yield where, "is not a string filter", arg, "a string, or {equals-ignore-case: string}"
    elif name in ("equals-ignore-case", "wildcard"):
        if not isinstance(arg, str):
            yield where, "is not a string", arg, "a string"
    elif name == "exists":
        if not isinstance(arg, bool):
            yield where, "is not true or false", arg, "true or false"
    elif name == "cidr":
        yield from _cidr(arg, where)
    elif name == "numeric":
        yield from _numeric(arg, where)
    elif name == "anything-but":
        yield from _anything_but(arg, where)
    else:
        yield path, f"uses an unknown filter \"{name}\"", value, "one of " + ", ".join(_FILTERS)


def _ignore_case(arg: object) -> bool:
    return isinstance(arg, Mapping) and list(arg) == ["equals-ignore-case"] \
        and isinstance(arg["equals-ignore-case"], str)


def _number(value: object, path: str) -> Iterator[InputProblem]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        yield path, "is not a number", value, "a number"
    elif not math.isfinite(value):
        yield path, "is not a finite number", str(value), "a finite number (EventBridge patterns are JSON)"
    elif abs(value) > NUMERIC_LIMIT:
        yield path, "is outside EventBridge's numeric range", value, \
            f"between -{NUMERIC_LIMIT:.1e} and {NUMERIC_LIMIT:.1e}"


def _numeric(arg: object, path: str) -> Iterator[InputProblem]:
    expected = "[op, number] or [lower op, number, upper op, number], e.g. ['>', 0, '<=', 5]"
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        yield path, "is not a numeric comparison", arg, expected
        return
    ops, numbers = arg[0::2], arg[1::2]
    for n, op in enumerate(ops):
        if op not in _OPS:
            yield join_path(path, 2 * n), "is not a comparison operator", op, "one of " + ", ".join(_OPS)
            return
    for n, number in enumerate(numbers):
        problems = list(_number(number, join_path(path, 2 * n + 1)))
        if problems:
            yield from problems
            return
    if len(arg) == 4 and not (ops[0] in _LOWER and ops[1] in _UPPER and numbers[0] < numbers[1]):
        yield path, "is not a range from a lower to an upper bound", arg, "e.g. ['>=', 0, '<', 10]"


def _cidr(arg: object, path: str) -> Iterator[InputProblem]:
    try:
        if not isinstance(arg, str):
            raise ValueError
        ipaddress.ip_network(arg, strict=False)
    except ValueError:
        yield path, "is not a CIDR block", arg, "an IP network such as 10.0.0.0/24"


def _anything_but(arg: object, path: str) -> Iterator[InputProblem]:
    if isinstance(arg, str):
        return
    if isinstance(arg, (int, float)) and not isinstance(arg, bool):
        yield from _number(arg, path)
        return
    if isinstance(arg, list) and arg:
        if all(isinstance(v, str) for v in arg):
            return
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in arg):
            for n, v in enumerate(arg):
                yield from _number(v, join_path(path, n))
            return
    if isinstance(arg, Mapping) and len(arg) == 1:
        ((name, value),) = arg.items()
        ok = isinstance(value, str) or (name in ("equals-ignore-case", "wildcard") and isinstance(value, list)
                                         and bool(value) and all(isinstance(v, str) for v in value))
        if name in _STRING_FILTERS and ok:
            return
    yield path, "is not an anything-but filter", arg, \
        "a string, a number, a non-empty list of strings or of numbers, or {prefix|suffix|wildcard|" \
        "equals-ignore-case: string}"
