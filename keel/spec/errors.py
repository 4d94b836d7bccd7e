"""Spec problems: collected, never raised one at a time, so a user sees every mistake in one run."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_MISSING = object()


def render_value(value: Any) -> str:
    """A short, unambiguous rendering of a user's value (JSON-ish, truncated)."""
    if value is _MISSING:
        return "nothing"
    try:
        text = json.dumps(value, default=str, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_SAFE_KEY = re.compile(r"^[\w.:/@+=\-\[\]]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(text: str) -> str:
    """Control characters a user's names or values carry into a message, escaped as JSON writes them: one
    problem stays one line, and a terminal never receives raw escape sequences from a spec."""
    return _CONTROL.sub(lambda m: json.dumps(m.group())[1:-1], text)


def join_path(*parts: str | int) -> str:
    """`a`, `b[3]`, `c` -> `a.b[3].c`; ints and bracketed names attach to the previous part; a key
    with spaces or control characters is quoted (`a["x y"]`) so a message stays on one line."""
    out = ""
    for part in parts:
        if part == "":
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _SAFE_KEY.match(part):
            out += f"[{json.dumps(part)}]"
        elif part.startswith("["):
            out += part
        elif out:
            out += "." + part
        else:
            out = part
    return out


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located precisely enough to fix without a debugger."""

    file: str
    path: str
    message: str
    got: Any = _MISSING
    expected: str | None = None

    def render(self) -> str:
        where = f"{self.file}:{self.path}" if self.path else self.file
        detail = []
        if self.got is not _MISSING:
            detail.append(f"got {render_value(self.got)}")
        if self.expected:
            detail.append(f"expected {self.expected}")
        suffix = f" ({', '.join(detail)})" if detail else ""
        return one_line(f"{where}: {self.message}{suffix}")


class SpecError(Exception):
    """Raised once, at the end of loading, with every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(self.render())

    def render(self) -> str:
        lines = [p.render() for p in self.problems]
        n = len(self.problems)
        lines.append(f"{n} problem{'s' if n != 1 else ''}; nothing was synthesized.")
        return "\n".join(lines)


class SourceError(ValueError):
    """A file a spec names (code, contract) is missing or broken at build time. The spec layer's
    source checks report these first; this is the backstop app.py turns into exit 2."""


class Problems:
    """An accumulator the loader threads through every check."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, file: str, path: str, message: str, got: Any = _MISSING,
            expected: str | None = None) -> None:
        self.items.append(Problem(file, path, message, got, expected))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.items.extend(problems)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise SpecError(self.items)


MISSING = _MISSING
