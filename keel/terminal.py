"""Terminal manners for every verb: rich tables and colours on a terminal, plain text in pipes and CI,
progress only where a person is watching. CDK-free and cheap to import (rich loads on first use)."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

# Wide enough that a piped table never wraps a cell; a terminal uses its own width.
PLAIN_WIDTH = 4000


def is_interactive(stream: IO[str] | None = None) -> bool:
    """A person is watching: the stream is a TTY and no CI runner says otherwise."""
    stream = stream if stream is not None else sys.stdout
    if os.environ.get("CI"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def console(stream: IO[str] | None = None) -> Console:
    """A rich Console on `stream` (default stdout): colours on a TTY, none in a pipe or in CI."""
    from rich.console import Console

    stream = stream if stream is not None else sys.stdout
    if is_interactive(stream):
        return Console(file=stream, highlight=False)
    return Console(file=stream, width=PLAIN_WIDTH, color_system=None, highlight=False, soft_wrap=False)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str | None = None,
          wrap: bool | None = None) -> Table:
    """A rich Table: a header line, a rule under it, a row a line. Cells wrap to fit a terminal (`wrap`
    default: stdout is one); in a pipe they never wrap, so a line stays one greppable row."""
    from rich import box
    from rich.table import Table

    t = Table(*headers, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title=title,
              title_justify="left", header_style="bold")
    if not (is_interactive() if wrap is None else wrap):
        for column in t.columns:
            column.no_wrap = True
            column.overflow = "ignore"
    for row in rows:
        t.add_row(*row)
    return t


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, color: bool | None = None) -> str:
    """The table as text: ANSI colours only when `color` (default: stdout is an interactive terminal)."""
    from rich.console import Console

    color = is_interactive() if color is None else color
    buffer = io.StringIO()
    width = console().width if color else PLAIN_WIDTH
    out = Console(file=buffer, width=width, force_terminal=color, color_system="standard" if color else None,
                  highlight=False, soft_wrap=False)
    out.print(table(headers, rows, wrap=color))
    return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip("\n").splitlines())


@contextlib.contextmanager
def progress(message: str) -> Iterator[None]:
    """A spinner on stderr while a long step runs; nothing at all when stderr is not a terminal or in CI."""
    if not is_interactive(sys.stderr):
        yield
        return
    with console(sys.stderr).status(message):
        yield
