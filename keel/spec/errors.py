"""Spec problems: collected, never raised one at a time, so a user sees every mistake in one run."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from keel.contract.problems import MISSING, join_path, one_line, render_value

__all__ = ["MISSING", "Problem", "Problems", "SourceError", "SpecError", "join_path", "one_line", "render_value"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located precisely enough to fix without a debugger."""

    file: str
    path: str
    message: str
    got: object = MISSING
    expected: str | None = None

    def render(self) -> str:
        where = f"{self.file}:{self.path}" if self.path else self.file
        detail = []
        if self.got is not MISSING:
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

    def add(self, file: str, path: str, message: str, got: object = MISSING,
            expected: str | None = None) -> None:
        self.items.append(Problem(file, path, message, got, expected))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.items.extend(problems)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise SpecError(self.items)

