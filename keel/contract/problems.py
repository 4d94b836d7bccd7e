"""The one shape of an input problem, and the helpers that render one. CDK-free.

A template's `check` (and the schema validation) yields `InputProblem`s relative to the inputs it was
given; the spec loader locates them (file, full path) as `keel.spec.errors.Problem`.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

#: The value a problem shows when there is nothing there (rendered "nothing").
MISSING: Final[object] = object()

#: (path relative to the checked inputs, message, the value found or MISSING, what was expected or None).
InputProblem = tuple[str, str, Any, str | None]


def render_value(value: object) -> str:
    """A short, unambiguous rendering of a user's value (JSON-ish, truncated)."""
    if value is MISSING:
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
