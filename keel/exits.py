"""How every `keel` verb ends: its exit code, and the errors any verb may meet, never as a traceback. Kept
apart from keel.cli, which imports every verb (keel.launch: `keel synth` starts its workers before the rest)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

EXIT_CODES = ("exit codes: 0 done; 1 a check found something (spec problems of an upgrade, outdated pins with "
              "--fail, stale docs, unacknowledged findings, a blocked diff, nothing importable, Copilot fields "
              "reported, unhealthy stacks with `status --fail`); 2 the command cannot run (bad arguments, invalid "
              "platform, unknown template, nothing synthesized, no AWS credentials or region); 3 a broken template "
              "definition; 141 the output pipe closed (e.g. `| head`).")


def run(parser: Callable[[], argparse.ArgumentParser], argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _run(parser, argv)
        finally:
            sys.stdout.flush()  # a reader that left (`keel ... | head`) shows up here, not at interpreter exit
    except BrokenPipeError:
        # stop quietly, as a Unix tool killed by SIGPIPE does; nothing more can reach the closed pipe
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _run(parser: Callable[[], argparse.ArgumentParser], argv: Sequence[str] | None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        code = _known(exc)
        if code is None:
            raise
        return code


def _known(exc: Exception) -> int | None:
    """A broken template definition (3), or a platform's template_dirs read by a verb that lists or upgrades
    templates (2); imported only now, so that a verb's start does not wait for the spec layer."""
    from keel.contract.registry import RegistryError
    from keel.spec import SpecError

    if isinstance(exc, RegistryError):
        print(f"keel: broken template definition: {exc}", file=sys.stderr)
        return 3
    if isinstance(exc, SpecError):
        print(exc.render(), file=sys.stderr)
        return 2
    return None
