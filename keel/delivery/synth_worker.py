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
import threading
import time
from pathlib import Path
from typing import NoReturn

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


def warm_up(*, validation: bool) -> threading.Thread | None:
    """Import what app.py imports, and synthesize an empty app so that CDK creates its validation engine (the
    engine lives on in this process's jsii runtime; the empty app writes nothing into CDK_OUTDIR).

    The engine is built in Node while Python imports Keel's modules: the empty app's synth runs in a thread
    (a jsii call that waits on Node, without the GIL), and every call into jsii is serialized (`_one_call_at_a_
    time`), so a module-level CDK value that an import reads waits for the synth instead of interleaving with it
    on jsii's pipe. The thread is returned: join it before building anything."""
    import aws_cdk as cdk
    import cdk_nag  # noqa: F401  (loads its jsii assembly now, before the thread holds the kernel)

    def synth_empty_app() -> None:
        with contextlib.suppress(Exception), tempfile.TemporaryDirectory(prefix="keel-warm-") as out:
            cdk.App(outdir=out, context={}).synth()

    thread = None
    if validation and _one_call_at_a_time():
        thread = threading.Thread(target=synth_empty_app, name="keel-warm-up", daemon=True)
        thread.start()
    importlib.import_module("keel.stacks.app")
    if validation and thread is None:
        synth_empty_app()
    return thread


def _one_call_at_a_time() -> bool:
    """Serialize jsii's kernel calls (request written, response read) behind one lock; False when this jsii has
    no `_NodeProcess.send` to wrap (another version: the warm-up then runs its steps one after the other)."""
    try:
        from jsii._kernel.providers import process
    except ImportError:
        return False
    node = getattr(process, "_NodeProcess", None)
    send = getattr(node, "send", None)
    if node is None or send is None:
        return False
    if getattr(send, "keel_serialized", False):
        return True
    lock = threading.RLock()

    def serialized(self: object, *args: object, **kwargs: object) -> object:
        with lock:
            return send(self, *args, **kwargs)

    serialized.keel_serialized = True  # type: ignore[attr-defined]
    node.send = serialized
    return True


def assignment(doc: dict[str, object] | None = None) -> bool:
    """The share the parent sends (one JSON line on stdin, or `doc` from a standby's socket), into the
    environment app.py reads; False: nothing to build."""
    if doc is None:
        line = sys.stdin.readline()
        if not line.strip():
            return False
        doc = json.loads(line)
    os.environ.pop("KEEL_SYNTH_STACKS", None)
    stacks = doc.get("stacks")
    if isinstance(stacks, list):
        os.environ["KEEL_SYNTH_STACKS"] = ",".join(str(s) for s in stacks)
    if doc.get("model"):
        os.environ["KEEL_SYNTH_MODEL"] = str(doc["model"])
    if doc.get("outdir"):  # a standby: started for an earlier synth, it learns this one's folder now
        os.environ["CDK_OUTDIR"] = os.environ["KEEL_SYNTH_OUTDIR"] = str(doc["outdir"])
    return True


def warm(validation: bool) -> threading.Thread | None:
    thread = None
    with contextlib.suppress(Exception):  # app.py meets the same problem below, and reports it
        thread = warm_up(validation=validation)
    return thread


def build(result_file: Path) -> int:
    """app.py, then its exit code, error and peak memory into `result_file`."""
    code, error = run(Path.cwd() / "app.py")
    result = {"exit_code": code, "error": error, "stacks": os.environ.get("KEEL_SYNTH_STACKS", ""),
              "peak_python_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "peak_node_kb": node_peak_kb()}
    result_file.write_text(json.dumps(result), encoding="utf-8")
    return code


def main(argv: list[str]) -> int:
    """Exits through `leave` once it has built (or `0`: nothing was assigned)."""
    validation = os.environ.get("CDK_VALIDATION", "true").lower() != "false"
    if argv[0] == "--standby":
        return standby_main(Path(argv[1]), int(argv[2]), validation)
    if argv[0] == "--ready":
        argv = argv[1:]
        thread = warm(validation)
        if not assignment():
            return 0
        if thread is not None:
            thread.join()
    leave(build(Path(argv[0])))


def standby_main(path: Path, fd: int, validation: bool) -> NoReturn:
    """`--standby SOCKET FD`: on the listening socket the leaving synth bound (inherited as FD), warm up (in a
    thread, so that a claim is answered at once), wait for a synth to claim this worker (keel.delivery.standby),
    build its share with stderr into its log, answer `done`."""
    import socket

    from keel.delivery.standby import serve

    try:
        listener = socket.socket(fileno=fd)
    except OSError:
        leave(0)
    engine: list[threading.Thread | None] = []
    start = time.perf_counter()

    def warm_and_say() -> None:
        engine.append(warm(validation))
        if engine[0] is not None:
            engine[0].join()
        print(f"keel standby: warm after {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)

    warming = threading.Thread(target=warm_and_say, name="keel-standby-warm-up", daemon=True)
    warming.start()
    claimed = serve(listener, path)
    if claimed is None:
        leave(0)
    conn, work = claimed
    log, result = work.get("log"), work.get("result")
    if not isinstance(result, str) or not isinstance(log, str) or not assignment(work):
        conn.close()  # nothing to build
        leave(0)
    warming.join()
    fd = os.open(str(log), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 2)
    code = build(Path(str(result)))
    with contextlib.suppress(OSError):
        conn.sendall(b"done\n")
    leave(code)


def leave(code: int) -> NoReturn:
    """Exit now that the assembly and the result are written: tell jsii's Node process to end (it removes its
    own temporary folder as it goes) without waiting for it, and skip the interpreter's teardown. Waiting for
    Node to free the validation engine and its heap, then for Python to free the built app, took 2 s a worker
    on this 2-core machine, all of it after the work was done."""
    sys.stdout.flush()
    sys.stderr.flush()
    if "aws_cdk" in sys.modules:  # else no Node process started (asking jsii for it would start one)
        with contextlib.suppress(Exception):
            from jsii._runtime import kernel

            stdin = kernel.provider._process._process.stdin  # type: ignore[attr-defined]  # from `import aws_cdk`
            stdin.write(b'{"exit":0}\n')
            stdin.close()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
