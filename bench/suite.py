#!/usr/bin/env python3
"""`make test`'s pytest run timed as CI runs it: wall time, CPU time (workers and every subprocess they
wait for: cfn-lint, node, `python -m keel`) and the tests costing the most CPU.

Wall time on a shared machine says little; CPU time does not depend on what else runs, so compare that
before and after a change. `python bench/suite.py [--conformance]` (the second: `make conformance`'s
heavy part, tests marked `heavy`).

Imported by pytest (`-p suite`, bench/ on PYTHONPATH), this module is also the plugin that records each
test's CPU: every worker appends `nodeid phase seconds` lines to $KEEL_BENCH_CPU_LOG.
"""

from __future__ import annotations

import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOG = "KEEL_BENCH_CPU_LOG"
# Kept in step with the Makefile's `test` and `conformance` targets.
MAKE_TEST = ["-q", "-n", "2", "--dist", "loadfile", "-m", "not heavy", "--ignore=tests/conformance"]
MAKE_HEAVY = ["-q", "-n", "2", "--dist", "loadfile", "-m", "heavy", "--ignore=tests/conformance"]


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _record(item: pytest.Item, phase: str) -> Iterator[None]:
    start = _cpu()
    yield
    path = os.environ.get(LOG)
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{item.nodeid}\t{phase}\t{_cpu() - start:.3f}\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    yield from _record(item, "setup")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    yield from _record(item, "call")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    yield from _record(item, "teardown")


def main() -> int:
    args = MAKE_HEAVY if "--conformance" in sys.argv else MAKE_TEST
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "cpu.tsv"
        env = {**os.environ, LOG: str(log), "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT / "bench"), os.environ.get("PYTHONPATH", "")) if p),
            "PATH": f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}",
            "PYTHONDONTWRITEBYTECODE": "1"}
        command = [sys.executable, "-m", "pytest", *args, "-p", "suite", "-p", "no:cacheprovider"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        rows = [line.split("\t") for line in log.read_text().splitlines()] if log.exists() else []
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = next((line for line in reversed(result.stdout.splitlines()) if " passed" in line), "?")
    per_test: dict[str, float] = defaultdict(float)
    for nodeid, phase, seconds in rows:
        per_test[f"{nodeid} ({phase})"] += float(seconds)
    print(f"$ {shlex.join(['python', '-m', 'pytest', *args])}")
    print(f"wall {wall:.1f} s on 2 workers (goal for make test: <= 120 s on an idle 2-core machine)")
    print(f"cpu  {cpu:.1f} s in all (user+sys, subprocesses included); {cpu / 2:.1f} s per core if even")
    print(f"     {sum(per_test.values()):.1f} s of it inside tests and fixtures; {summary.strip('= ')}")
    print("most CPU (setup includes the session/module fixtures a test was first to need):")
    for name, seconds in sorted(per_test.items(), key=lambda kv: -kv[1])[:25]:
        print(f"  {seconds:7.1f} s  {name}")
    if result.returncode:
        print(result.stdout[-4000:], result.stderr[-2000:], sep="\n")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
