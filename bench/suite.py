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
_XDIST = ["-q", "-n", "2", "--dist", "loadfile", "--no-loadscope-reorder"]
MAKE_TEST = [*_XDIST, "-m", "not heavy", "--ignore=tests/conformance"]
MAKE_HEAVY = [*_XDIST, "-m", "heavy", "--ignore=tests/conformance"]


def _live_children_cpu(pid: int = os.getpid()) -> float:
    """CPU of the processes still running under `pid` (and of the ones they waited for): the jsii kernel
    (node) lives as long as the worker, so getrusage's RUSAGE_CHILDREN never sees what a synth costs there."""
    ticks = 0
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in children.read_text().split():
            try:
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # ended meanwhile: counted by RUSAGE_CHILDREN once waited for
                continue
            ticks += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
            ticks += round(_live_children_cpu(int(child)) * os.sysconf("SC_CLK_TCK"))
    return ticks / os.sysconf("SC_CLK_TCK")


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime + _live_children_cpu()


def _record(item: pytest.Item, phase: str) -> Iterator[None]:
    start, began = _cpu(), time.time()
    yield
    path = os.environ.get(LOG)
    if path:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{item.nodeid}\t{phase}\t{_cpu() - start:.3f}\t{worker}\t{began:.3f}\t{time.time():.3f}\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    yield from _record(item, "setup")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    yield from _record(item, "call")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    yield from _record(item, "teardown")


def _report(rows: list[list[str]], summary: str) -> None:
    """Per test (setup includes the fixtures it was first to need), per file, and per xdist worker: how
    much CPU each worker spent and when it went idle, which shows a file that pins one worker."""
    per_test: dict[str, float] = defaultdict(float)
    per_file: dict[str, float] = defaultdict(float)
    workers: dict[str, list[float]] = defaultdict(lambda: [0.0, float("inf"), 0.0])
    for nodeid, phase, seconds, worker, began, ended in rows:
        per_test[f"{nodeid} ({phase})"] += float(seconds)
        per_file[nodeid.split("::")[0]] += float(seconds)
        spent = workers[worker]
        spent[:] = spent[0] + float(seconds), min(spent[1], float(began)), max(spent[2], float(ended))
    first = min((w[1] for w in workers.values()), default=0.0)
    print(f"     {sum(per_test.values()):.1f} s of it inside tests and fixtures; {summary.strip('= ')}")
    for worker, (busy, _, done) in sorted(workers.items()):
        print(f"     worker {worker}: {busy:.1f} s CPU in tests, done {done - first:.1f} s after the first began")
    print("most CPU per test (setup includes the session/module fixtures a test was first to need):")
    for name, cost in sorted(per_test.items(), key=lambda kv: -kv[1])[:25]:
        print(f"  {cost:7.1f} s  {name}")
    print("most CPU per file:")
    for name, cost in sorted(per_file.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {cost:7.1f} s  {name}")


def main() -> int:
    args = MAKE_HEAVY if "--conformance" in sys.argv else MAKE_TEST
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "cpu.tsv"
        env = {**os.environ, LOG: str(log), "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT / "bench"), os.environ.get("PYTHONPATH", "")) if p),
            "PATH": f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}",
            "PYTHONDONTWRITEBYTECODE": "1"}
        command = [sys.executable, "-m", "pytest", *args, "-p", "suite", "-p", "no:cacheprovider"]
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        rows = [line.split("\t") for line in log.read_text().splitlines()] if log.exists() else []
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = next((line for line in reversed(result.stdout.splitlines()) if " passed" in line), "?")
    print(f"$ {shlex.join(['python', '-m', 'pytest', *args])}   (load average before: {load})")
    print(f"wall {wall:.1f} s on 2 workers (goal for make test: <= 120 s on an idle 2-core machine)")
    print(f"cpu  {cpu:.1f} s in all (user+sys, subprocesses included); {cpu / 2:.1f} s per core if even")
    _report(rows, summary)
    if result.returncode:
        print(result.stdout[-4000:], result.stderr[-2000:], sep="\n")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
