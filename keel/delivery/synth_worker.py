"""One `keel synth` worker: the project's own app.py, as `cdk synth` runs it, building only its share of the
stacks (KEEL_SYNTH_STACKS). Run as `python -m keel.delivery.synth_worker RESULT.json` with the CLI's
environment (CDK_OUTDIR, CDK_CONTEXT_JSON, KEEL_PLATFORM); it writes its exit code, a one-paragraph error
(never a traceback) and its peak memory (Python, and jsii's Node process) into RESULT.json.

Exit codes, as app.py's and `cdk synth`'s: 0 written, 1 unacknowledged findings (validation-report.json
is in CDK_OUTDIR), 2 the synth could not run.

`--ready RESULT.json`: the parent starts the worker before it knows the worker's share, so that what every
worker pays whatever it builds (importing aws_cdk and Keel's stacks, and creating CDK's CloudFormation
validation engine, a per-process singleton that costs as much as the rest of an empty app's synth) runs
while the parent loads the model and computes the cache keys. The worker then reads its share from stdin, one
JSON line `{"stacks": [...] or null (all), "model": PICKLE}`; end of input means nothing to build.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import resource
import runpy
import sys
import tempfile
from pathlib import Path

#: Read in the worker (the parent never imports aws_cdk).
REPORT = "validation-report.json"


def node_peak_kb() -> int:
    """Peak resident set of this process's descendants (jsii's Node runtime and kernel), from /proc (Linux;
    0 elsewhere)."""
    total, todo, seen = 0, [str(os.getpid())], set()
    while todo:
        pid = todo.pop()
        for children in Path(f"/proc/{pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo += [c for c in children.read_text().split() if c not in seen]
        if pid in seen or pid == str(os.getpid()):
            seen.add(pid)
            continue
        seen.add(pid)
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
    return total


def first_lines(text: str, limit: int = 12) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[:limit]) + ("\n..." if len(lines) > limit else "")


def run(app: Path) -> tuple[int, str]:
    """app.py's exit code and its error text (what it printed to stderr, or the exception's message)."""
    code = 0
    try:
        runpy.run_path(str(app), run_name="__main__")
    except SystemExit as exc:  # app.py's own exit: spec problems (printed to stderr, which the parent keeps)
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except Exception as exc:  # a failed synth: findings (report written) or a build error, never a traceback
        outdir = Path(os.environ["CDK_OUTDIR"])
        message = str(exc).strip() or type(exc).__name__
        return (1 if (outdir / REPORT).exists() else 2), first_lines(f"{type(exc).__name__}: {message}")
    return code, ""


def warm_up(*, validation: bool) -> None:
    """Import what app.py imports, and synthesize an empty app so that CDK creates its validation engine (the
    engine lives on in this process's jsii runtime; the empty app writes nothing into CDK_OUTDIR)."""
    import aws_cdk as cdk

    importlib.import_module("keel.stacks.app")

    if validation:
        with tempfile.TemporaryDirectory(prefix="keel-warm-") as out:
            cdk.App(outdir=out, context={}).synth()


def assignment() -> bool:
    """The share the parent sends on stdin, into the environment app.py reads; False: nothing to build."""
    line = sys.stdin.readline()
    if not line.strip():
        return False
    doc = json.loads(line)
    os.environ.pop("KEEL_SYNTH_STACKS", None)
    if doc.get("stacks") is not None:
        os.environ["KEEL_SYNTH_STACKS"] = ",".join(doc["stacks"])
    if doc.get("model"):
        os.environ["KEEL_SYNTH_MODEL"] = str(doc["model"])
    return True


def main(argv: list[str]) -> int:
    if argv[0] == "--ready":
        argv = argv[1:]
        with contextlib.suppress(Exception):  # app.py meets the same problem below, and reports it
            warm_up(validation=os.environ.get("CDK_VALIDATION", "true").lower() != "false")
        if not assignment():
            return 0
    result_file = Path(argv[0])
    code, error = run(Path.cwd() / "app.py")
    result = {"exit_code": code, "error": error, "stacks": os.environ.get("KEEL_SYNTH_STACKS", ""),
              "peak_python_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "peak_node_kb": node_peak_kb()}
    result_file.write_text(json.dumps(result), encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
