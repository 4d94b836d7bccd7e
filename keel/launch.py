"""The `keel` command (and `python -m keel`): `keel synth` builds its own parser, so that its first worker
starts before the other verbs' modules are imported; every other verb goes through keel.cli."""

from __future__ import annotations

import sys

from keel.exits import run


def main() -> int:
    if sys.argv[1:2] == ["synth"]:
        from keel.delivery.synth_command import parser
    else:
        from keel.cli import parser
    return run(parser)
