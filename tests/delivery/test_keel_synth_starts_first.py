"""`keel synth` takes its own parser (keel.launch), so that its first worker starts before every other verb's
modules are imported; it must accept exactly what `keel synth` accepts through keel.cli."""

from __future__ import annotations

import argparse
import subprocess
import sys

from keel.cdk_context import ROOT
from keel.cli import parser as full_parser
from keel.delivery.synth_command import parser as synth_parser


def _synth_options(p: argparse.ArgumentParser) -> list[tuple[tuple[str, ...], object]]:
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    synth = sub.choices["synth"]
    return [(tuple(a.option_strings), a.default) for a in synth._actions]


def test_the_fast_parser_is_keel_clis_synth() -> None:
    assert _synth_options(synth_parser()) == _synth_options(full_parser())
    args = synth_parser().parse_args(["synth", "--jobs", "3", "--no-standby", "-c", "a=b"])
    assert (args.jobs, args.standby, args.context) == (3, False, ["a=b"])


def test_keel_synth_does_not_import_the_other_verbs() -> None:
    probe = ("import sys, runpy; sys.argv = ['keel', 'synth', '--jobs', '0']\n"
             "try:\n    runpy.run_module('keel', run_name='__main__')\nexcept SystemExit as e:\n    code = e.code\n"
             "print(code, sorted(m for m in sys.modules if m in ('keel.cli', 'keel.lifecycle', 'keel.report', "
             "'aws_cdk')))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[0] == "2 []", done.stdout + done.stderr
    assert "--jobs 0: expected a number of workers" in done.stderr
