"""`keel synth`: the stacks built in N worker processes, one cloud assembly out, unchanged stacks reused.

Each worker is the project's app.py, as `cdk synth` runs it (same context, nag and CloudFormation validation
on), building only its share of the stacks (KEEL_SYNTH_STACKS; keel.delivery.synth_worker). The parent never
imports aws_cdk: it cuts each worker's assembly into one piece per stack (manifest artifacts, files, asset
folders, tree node, findings), caches the pieces under keys of everything that can change them
(keel.delivery.synth_cache), and joins them into one `manifest.json`, `tree.json` and `validation-report.json`
that `cdk deploy --app cdk.out` takes as it takes `cdk synth`'s. The assembly is written to a temporary folder
and renamed over the old one only when every worker succeeded.

A platform with delivery stacks (a deploy pipeline, whose stages hold the environments, or service
pipelines) is built whole, in one worker: the pipeline stack needs every stage in its app. Its assembly is
cached whole, under a key of the whole platform.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: `keel synth` starts its first worker before it loads anything
    from keel.delivery.synth_cache import KeyMaker
    from keel.spec.model import PlatformModel

MANIFEST, TREE, REPORT, MARKER = "manifest.json", "tree.json", "validation-report.json", "cdk.out"
#: One stack's piece in the cache: its metadata (artifacts, tree node, findings); its files beside it.
PIECE = "piece.json"
SKELETON = "skeleton"
#: What the CDK CLI adds to cdk.json's context when it runs the app (`cdk synth`, CLI 2.1148).
CLI_CONTEXT: dict[str, Any] = {"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True,
                               "aws:cdk:version-reporting": True, "aws:cdk:bundling-stacks": ["**"]}
#: Relative build cost, for spreading stacks over workers: an environment stack is about 3 instance stacks.
ENVIRONMENT_WEIGHT, INSTANCE_WEIGHT = 3.0, 1.0
#: Today's service stacks take their environment's outputs as cross-stack references: an instance stack's
#: worker must build its environment's stack too (a helper: only the instance's piece is kept), and an
#: environment stack's template depends on its instances (the outputs they read), so its key covers them and
#: its worker builds them all. Step 1 of issue 20 (services read SSM parameters) turns this off.
CROSS_STACK_REFERENCES = False  # step 1 (ssmreads) merged: every stack builds alone


class SynthFailed(Exception):
    """A worker failed: `exit_code` 1 (unacknowledged findings: `report` is their validation report, joined) or
    2 (the synth could not run: spec problems, a bad CRD folder, a failed build)."""

    def __init__(self, message: str, exit_code: int, report: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.report = report


@dataclass(frozen=True)
class Unit:
    """One stack to build: its artifact id (the stack name), its environment's stack, and its cache key."""

    name: str
    environment_stack: str
    weight: float
    key: str | None = None


@dataclass(frozen=True)
class WorkerResult:
    stacks: tuple[str, ...]
    outdir: Path
    exit_code: int
    error: str
    peak_python_kb: int = 0
    peak_node_kb: int = 0
    seconds: float = 0.0
    standby: bool = False  # a warm worker an earlier synth left (keel.delivery.standby)


@dataclass
class SynthResult:
    stacks: int = 0
    reused: int = 0
    built: int = 0
    workers: list[WorkerResult] = field(default_factory=list)
    seconds: float = 0.0


def _read(path: Path) -> dict[str, Any]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return doc if isinstance(doc, dict) else {}


def _write(path: Path, doc: object) -> None:
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")


# -- planning -----------------------------------------------------------------------------------------------

def plan(model: PlatformModel, keys: KeyMaker | None) -> list[Unit]:
    """Every stack in the order `cdk synth` writes them: environments, then instances."""
    shared = keys.shared() if keys else ""
    units = []
    for env in model.environments:
        key = None
        if keys:
            consumers = [(s, i) for s in model.services for i in s.instances if i.environment == env.name] \
                if CROSS_STACK_REFERENCES else []
            key = keys.key(shared, environment=env, consumers=consumers)
        units.append(Unit(env.stack_name, env.stack_name, ENVIRONMENT_WEIGHT, key))
    for service in model.services:
        for inst in service.instances:
            env = model.environment(inst.environment)
            units.append(Unit(inst.stack_name, env.stack_name, INSTANCE_WEIGHT,
                              keys.key(shared, environment=env, service=service, instance=inst) if keys else None))
    return units


def groups_of(units: Sequence[Unit], todo: Sequence[Unit]) -> list[list[Unit]]:
    """What must be built together: with cross-stack references, an environment to rebuild with all its
    instances, and instances with their environment (as a helper); without, each stack alone."""
    if not CROSS_STACK_REFERENCES:
        return [[u] for u in todo]
    names = {u.name for u in todo}
    out: list[list[Unit]] = []
    for env in (u for u in units if u.name == u.environment_stack):
        instances = [u for u in units if u.environment_stack == env.name and u.name != env.name]
        if env.name in names:
            out.append([env, *instances])
        elif any(u.name in names for u in instances):
            out.append([u for u in instances if u.name in names])
    return out


def batches(units: Sequence[Unit], todo: Sequence[Unit], jobs: int) -> list[tuple[str, ...]]:
    """The groups to build over at most `jobs` workers, heaviest first onto the least loaded one (a group of
    instances also builds its environment), each batch in platform order."""
    groups = groups_of(units, todo)
    if not groups:
        return []

    def weight(group: list[Unit]) -> float:
        helper = CROSS_STACK_REFERENCES and all(u.name != u.environment_stack for u in group)
        return sum(u.weight for u in group) + (ENVIRONMENT_WEIGHT if helper else 0.0)

    loads = [0.0] * max(1, min(jobs, len(groups)))
    assigned: list[set[str]] = [set() for _ in loads]
    for group in sorted(groups, key=lambda g: -weight(g)):
        index = min(range(len(loads)), key=lambda i: (loads[i], i))
        loads[index] += weight(group)
        assigned[index] |= {u.name for u in group}
    order = [u.name for u in units]
    return [tuple(n for n in order if n in names) for names in assigned if names]


# -- workers ------------------------------------------------------------------------------------------------

def worker_env(*, root: Path, outdir: Path, context: Mapping[str, Any], platform: str,
               stacks: Sequence[str] | None, validation: bool) -> dict[str, str]:
    """The environment the CDK CLI gives the app, plus the worker's share of the stacks."""
    env = dict(os.environ)
    for name in ("CDK_CONTEXT_JSON", "CONTEXT_OVERFLOW_LOCATION_ENV", "KEEL_SYNTH_STACKS", "KEEL_SYNTH_MODEL",
                 "KEEL_SYNTH_OUTDIR"):
        env.pop(name, None)
    env.update({"CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps({**context, **CLI_CONTEXT}),
                "KEEL_PLATFORM": platform, "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONPATH": os.pathsep.join([str(root), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)})
    if stacks is not None:
        env["KEEL_SYNTH_STACKS"] = ",".join(stacks)
    if not validation:
        env["CDK_VALIDATION"] = "false"
    return env


class Worker:
    """One worker process, started before its share is known (`synth_worker --ready`): it warms up while the
    parent plans, then builds what `assign` sends it into its own assembly under `work`."""

    def __init__(self, index: int, *, work: Path, root: Path, python: str, env: Mapping[str, str]) -> None:
        self._folders(index, work)
        with self.log.open("wb") as stderr:
            self.proc = subprocess.Popen([python, "-m", "keel.delivery.synth_worker", "--ready",
                                          str(self.result_file)], cwd=root, env=dict(env), stdin=subprocess.PIPE,
                                         stdout=subprocess.DEVNULL, stderr=stderr)

    def _folders(self, index: int, work: Path) -> None:
        """Its assembly, result file and log under `work`; nothing assigned yet."""
        self.outdir, self.result_file = work / f"worker{index}", work / f"worker{index}.json"
        self.log = work / f"worker{index}.log"
        self.outdir.mkdir(parents=True)
        self.group: tuple[str, ...] | None = None
        self.assigned = False
        self.start = time.perf_counter()

    def assign(self, group: tuple[str, ...] | None, model: Path) -> None:
        self.group, self.assigned = group, True
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps({"stacks": group, "model": str(model)}) + "\n").encode())
            self.proc.stdin.close()
        except OSError:  # it died warming up: its log says why (finish reports it)
            pass

    def stop(self) -> None:
        """Nothing to build: end it now rather than let it finish warming up."""
        self.proc.terminate()
        self.proc.wait()

    def idle(self) -> bool:
        """Started, never given work, still running."""
        return not self.assigned and self.proc.poll() is None

    def wait(self) -> int:
        return self.proc.wait()

    def finish(self) -> WorkerResult:
        code = self.wait()
        seconds = time.perf_counter() - self.start
        try:
            doc = _read(self.result_file)
        except (OSError, json.JSONDecodeError):
            tail = self.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-12:]
            doc = {"exit_code": 2, "error": "\n".join(tail) or f"worker exited {code}"}
        error = doc.get("error") or ""
        if doc["exit_code"] == 0 and not (self.outdir / MANIFEST).exists():
            doc["exit_code"], error = 2, f"worker {self.outdir.name} reported success but wrote no cloud assembly"
        if doc["exit_code"] == 2 and not error:
            error = self.log.read_text(encoding="utf-8", errors="replace").strip()
        return WorkerResult(tuple(self.group or ()), self.outdir, int(doc["exit_code"]), error,
                            int(doc.get("peak_python_kb", 0)), int(doc.get("peak_node_kb", 0)), seconds,
                            isinstance(self, ClaimedWorker))


class ClaimedWorker(Worker):
    """A standby left by an earlier synth (keel.delivery.standby), warm already: its share goes over the socket
    that claimed it, with this synth's folders; it answers `done` when its result file is written."""

    def __init__(self, index: int, *, work: Path, conn: socket.socket) -> None:  # no process of its own to start
        self._folders(index, work)
        self.conn = conn

    def assign(self, group: tuple[str, ...] | None, model: Path) -> None:
        self.group, self.assigned = group, True
        doc = {"stacks": group, "model": str(model), "outdir": str(self.outdir), "result": str(self.result_file),
               "log": str(self.log)}
        with contextlib.suppress(OSError):  # it is gone: finish reports what its result file lacks
            self.conn.sendall((json.dumps(doc) + "\n").encode())

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.sendall(b"\n")
        self.conn.close()

    def idle(self) -> bool:
        return not self.assigned

    def wait(self) -> int:
        with contextlib.suppress(OSError):
            while self.conn.recv(4096):
                pass
        self.conn.close()
        return 0


def run_workers(groups: Sequence[tuple[str, ...] | None], *, started: Sequence[Worker], model: Path,
                spawn: Callable[[int], Worker], meanwhile: Callable[[], None] = lambda: None) -> list[WorkerResult]:
    """One worker per group (those already `started` first, more spawned as needed), all at once; the started
    ones left over are stopped. `meanwhile` runs here while they build."""
    workers = list(started[:len(groups)])
    for extra in started[len(groups):]:
        extra.stop()
    workers += [spawn(index) for index in range(len(workers), len(groups))]
    for worker, group in zip(workers, groups, strict=True):
        worker.assign(group, model)
    try:
        meanwhile()
    finally:  # even when it failed: no worker is left running
        results = [worker.finish() for worker in workers]
    return results


# -- cutting an assembly into one piece per stack, and joining pieces -------------------------------------

def _stack_files(outdir: Path, artifact_id: str, artifacts: Mapping[str, Any],
                 listing: Sequence[str] | None = None) -> list[str]:
    """One stack's files: `<id>.*` (template, asset manifest, metadata, assembly files) and its asset folders.
    `listing`: the folder's names, read once for all its stacks."""
    names = sorted(n for n in (listing if listing is not None else [p.name for p in outdir.iterdir()])
                   if n.startswith(f"{artifact_id}."))
    for artifact in artifacts.values():
        if artifact.get("type") != "cdk:asset-manifest":
            continue
        doc = _read(outdir / artifact["properties"]["file"])
        for section in ("files", "dockerImages"):
            for asset in (doc.get(section) or {}).values():
                source = asset.get("source") or {}
                path = source.get("path") or source.get("directory")
                if path and (outdir / path).exists() and path not in names:
                    names.append(path)
    return names


def _report_parts(report: Mapping[str, Any] | None, artifact_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Each stack's findings, per plugin, in one pass over the report (each finding goes to the stacks of its
    constructs, with only their constructs)."""
    parts: dict[str, list[dict[str, Any]]] = {a: [] for a in artifact_ids}
    for plugin in (report or {}).get("pluginReports", []):
        head = {k: v for k, v in plugin.items() if k not in ("violations", "suppressedViolations", "conclusion")}
        mine = {a: {**head, "violations": [], "suppressedViolations": []} for a in artifact_ids}
        for section in ("violations", "suppressedViolations"):
            for violation in plugin.get(section, []):
                by_stack: dict[str, list[Any]] = {}
                for c in violation.get("violatingConstructs", []):
                    by_stack.setdefault(str(c.get("constructPath", "")).split("/")[0], []).append(c)
                for stack, constructs in by_stack.items():
                    if stack in mine:
                        mine[stack][section].append({**violation, "violatingConstructs": constructs})
        for a in artifact_ids:
            parts[a].append(mine[a])
    return parts


def cut(outdir: Path, artifact_id: str) -> dict[str, Any]:
    """One stack's piece of a worker's assembly."""
    return cut_all(outdir, [artifact_id])[artifact_id]


def cut_all(outdir: Path, artifact_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each named stack's piece of a worker's assembly; its manifest, tree and report are read once (a worker
    of 250 stacks writes a tree.json of many megabytes)."""
    manifest = _read(outdir / MANIFEST)
    tree = _read(outdir / TREE) if (outdir / TREE).exists() else {}
    report = _read(outdir / REPORT) if (outdir / REPORT).exists() else None
    listing = [p.name for p in outdir.iterdir()]
    children = tree.get("tree", {}).get("children", {})
    reports = _report_parts(report, artifact_ids)
    pieces = {}
    for artifact_id in artifact_ids:
        artifacts = {k: v for k, v in manifest["artifacts"].items()
                     if k == artifact_id or k.startswith(f"{artifact_id}.")}
        pieces[artifact_id] = {"artifact_id": artifact_id, "artifacts": artifacts,
                               "tree": children.get(artifact_id), "report": reports[artifact_id],
                               "files": _stack_files(outdir, artifact_id, artifacts, listing)}
    return pieces


def _copy(src: Path, dst: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dst, dirs_exist_ok=True)
    else:
        shutil.copy2(src, dst)


def store(piece: Mapping[str, Any], source: Path, cache: Path, key: str) -> None:
    """Write a piece and its files into the cache, atomically (a half-written entry is never read)."""
    final = cache / key
    if final.exists():
        return
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key[:12]}-", dir=cache))
    for name in piece["files"]:
        _copy(source / name, tmp / name)
    _write(tmp / PIECE, piece)
    try:
        tmp.rename(final)
    except OSError:  # another synth stored the same key meanwhile
        shutil.rmtree(tmp, ignore_errors=True)


def load(cache: Path, key: str) -> tuple[dict[str, Any], Path] | None:
    try:
        return _read(cache / key / PIECE), cache / key
    except (OSError, json.JSONDecodeError):
        return None


def skeleton_of(outdir: Path) -> dict[str, Any]:
    """What every assembly of this app shares: the manifest less its stacks, the tree root, the marker file,
    the report's title."""
    manifest = _read(outdir / MANIFEST)
    manifest["artifacts"] = {k: v for k, v in manifest["artifacts"].items()
                             if v.get("type") not in ("aws:cloudformation:stack", "cdk:asset-manifest")}
    tree = _read(outdir / TREE) if (outdir / TREE).exists() else None
    if tree is not None:
        tree["tree"]["children"] = {k: v for k, v in tree["tree"].get("children", {}).items() if k == "Tree"}
    report = _read(outdir / REPORT) if (outdir / REPORT).exists() else None
    return {"manifest": manifest, "tree": tree, "report": {k: v for k, v in (report or {}).items()
                                                           if k != "pluginReports"} or None,
            "marker": (outdir / MARKER).read_text(encoding="utf-8") if (outdir / MARKER).exists() else None}


def _with_dependencies(artifact: Mapping[str, Any], extra: Sequence[str]) -> dict[str, Any]:
    out = json.loads(json.dumps(artifact))
    missing = [d for d in extra if d not in out.get("dependencies", [])]
    if missing and out.get("type") == "aws:cloudformation:stack":
        out["dependencies"] = [*missing, *out.get("dependencies", [])]
    return out


def merge_reports(parts: Sequence[Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """Per-stack findings, joined per plugin in order; a plugin fails when any of its findings is an error."""
    plugins: dict[str, dict[str, Any]] = {}
    for part in parts:
        for plugin in part:
            merged = plugins.setdefault(plugin["pluginName"], {**plugin, "violations": [],
                                                               "suppressedViolations": []})
            for section in ("violations", "suppressedViolations"):
                merged[section].extend(plugin.get(section, []))
    out = []
    for plugin in plugins.values():
        failing = any(v.get("severity", "error") == "error" for v in plugin["violations"])
        out.append({"pluginName": plugin["pluginName"], "conclusion": "failure" if failing else "success",
                    **{k: v for k, v in plugin.items() if k not in ("pluginName", "conclusion")}})
    return out


def copy_files(pieces: Sequence[tuple[Mapping[str, Any], Path]], outdir: Path) -> None:
    """The pieces' files (templates, asset manifests and folders) into `outdir`."""
    outdir.mkdir(parents=True, exist_ok=True)
    for piece, folder in pieces:
        for name in piece["files"]:
            _copy(folder / name, outdir / name)


def join(pieces: Sequence[tuple[Mapping[str, Any], Path]], skeleton: Mapping[str, Any], outdir: Path,
         dependencies: Mapping[str, Sequence[str]], copied: Collection[str] = ()) -> None:
    """One assembly from pieces, in platform order. `dependencies`: stack -> the stacks it deploys after.
    `copied`: the stacks whose files are in `outdir` already (`copy_files`)."""
    copy_files([p for p in pieces if p[0]["artifact_id"] not in copied], outdir)
    manifest = json.loads(json.dumps(skeleton["manifest"]))
    artifacts: dict[str, Any] = {}
    children: dict[str, Any] = {}
    for piece, _ in pieces:
        for artifact_id, artifact in piece["artifacts"].items():
            artifacts[artifact_id] = _with_dependencies(artifact, dependencies.get(artifact_id, ()))
        if piece["tree"] is not None:
            children[piece["artifact_id"]] = piece["tree"]
    manifest["artifacts"] = {**artifacts, **manifest["artifacts"]}
    (outdir / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    if skeleton["tree"] is not None:
        tree = json.loads(json.dumps(skeleton["tree"]))
        tree["tree"]["children"] = {**children, **tree["tree"]["children"]}
        (outdir / TREE).write_text(json.dumps(tree), encoding="utf-8")
    if skeleton["marker"] is not None:
        (outdir / MARKER).write_text(skeleton["marker"], encoding="utf-8")
    reports = [p["report"] for p, _ in pieces if p["report"]]
    if reports:
        doc = {**(skeleton["report"] or {"version": manifest.get("version"), "title": "Validation Report"}),
               "pluginReports": merge_reports(reports)}
        (outdir / REPORT).write_text(json.dumps(doc, indent=2), encoding="utf-8")


# -- the synth ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    """What `keel synth` was asked: the platform file, the CLI context (cdk.json's plus `-c`), the switches."""

    platform: str
    outdir: Path
    jobs: int
    context: Mapping[str, Any]
    root: Path
    cache: Path | None = None
    validation: bool = True
    python: str = sys.executable
    #: Where standby workers wait (keel.delivery.standby): claim one, and leave one for the next synth.
    standby: Path | None = None


class Synthesis:
    """One `keel synth`, begun before the model is loaded: the first worker starts at once and warms up (imports,
    CDK's validation engine) while this process reads the spec, plans and computes the cache keys; `run` then
    hands it its share. Leaving the block stops what was never given work and drops the work folder."""

    def __init__(self, request: Request) -> None:
        self.request = request
        parent = request.outdir.resolve().parent
        parent.mkdir(parents=True, exist_ok=True)
        self.work = Path(tempfile.mkdtemp(prefix=".keel-synth-", dir=parent))
        self.start = time.perf_counter()
        self.standby_key: str | None = None
        self.started = [self.first()]  # most synths need at least one worker

    def env(self, index: int) -> dict[str, str]:
        request = self.request
        return worker_env(root=request.root, outdir=self.work / f"worker{index}", context=request.context,
                          platform=request.platform, stacks=None, validation=request.validation)

    def spawn(self, index: int) -> Worker:
        return Worker(index, work=self.work, root=self.request.root, python=self.request.python,
                      env=self.env(index))

    def first(self) -> Worker:
        """The standby an earlier synth left, when it is the worker this synth would start; else a new one."""
        if self.request.standby is not None:
            from keel.delivery.standby import claim, key_of

            self.standby_key = key_of(self.request.root, self.env(0), self.request.python)
            conn = claim(self.request.standby, self.standby_key)
            if conn is not None:
                return ClaimedWorker(0, work=self.work, conn=conn)
        return self.spawn(0)

    def run(self, model: PlatformModel) -> SynthResult:
        """Write the platform's cloud assembly into `request.outdir`, replaced only when the synth succeeded."""
        result = _synthesize(self.request, model, self.work, self.started, self.spawn)
        result.seconds = time.perf_counter() - self.start
        return result

    def close(self) -> None:
        for worker in self.started:
            if worker.idle():
                worker.stop()
        shutil.rmtree(self.work, ignore_errors=True)
        if self.request.standby is not None and self.standby_key is not None:
            from keel.delivery.standby import leave_one

            leave_one(self.request.standby, self.standby_key, root=self.request.root, python=self.request.python,
                      env=self.env(0))

    def __enter__(self) -> Synthesis:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def synthesize(request: Request, model: PlatformModel) -> SynthResult:
    """Write the platform's cloud assembly into `request.outdir` (a model already loaded)."""
    with Synthesis(request) as synthesis:
        return synthesis.run(model)


def _synthesize(request: Request, model: PlatformModel, work: Path, started: Sequence[Worker],
                spawn: Callable[[int], Worker]) -> SynthResult:
    from keel.delivery.model_pickle import write_model
    from keel.delivery.synth_cache import KeyMaker

    keys = None if request.cache is None else KeyMaker(root=request.root.resolve(), model=model,
                                                       context=dict(request.context), switches=switches(request))
    model_file = work / "model.pickle"
    write_model(model, model_file)
    if model.delivery is not None:
        return _synthesize_whole(request, keys, work, started, spawn, model_file)
    cache = request.cache
    units = plan(model, keys)
    result = SynthResult(stacks=len(units))
    cached = {u.name: found for u in units if cache is not None and u.key
              for found in [load(cache, u.key)] if found is not None}
    groups: list[tuple[str, ...] | None] = list(
        batches(units, [u for u in units if u.name not in cached], request.jobs))
    building = {name for group in groups for name in group or ()}
    pieces = {name: found for name, found in cached.items() if name not in building}
    result.reused = len(pieces)
    final = work / "out"
    # the reused stacks' files are copied while the workers build (the rest of the assembly waits for them)
    result.workers = run_workers(groups, started=started, model=model_file, spawn=spawn,
                                 meanwhile=lambda: copy_files(list(pieces.values()), final))
    _raise_failures(result.workers)
    skeleton = _skeleton(result.workers, cache, keys)
    key_of = {u.name: u.key for u in units}
    for worker in result.workers:
        for name, piece in cut_all(worker.outdir, worker.stacks).items():
            key = key_of[name]
            if cache is not None and key:
                store(piece, worker.outdir, cache, key)
            pieces[name] = (piece, worker.outdir)
    dependencies = {u.name: [u.environment_stack] for u in units if u.name != u.environment_stack}
    join([pieces[u.name] for u in units], skeleton, final, dependencies, copied=set(cached) - building)
    result.built = len(units) - result.reused
    _replace(request.outdir, final)
    return result


def _replace(outdir: Path, final: Path) -> None:
    if outdir.exists():
        shutil.rmtree(outdir)
    final.rename(outdir)


#: The cache's folder of whole assemblies (platforms with delivery stacks), by whole-platform key.
WHOLE = "whole"


def _synthesize_whole(request: Request, keys: KeyMaker | None, work: Path, started: Sequence[Worker],
                      spawn: Callable[[int], Worker], model_file: Path) -> SynthResult:
    """A platform with delivery stacks: one app, one worker. The deploy pipeline's stack needs every stage (the
    environments and their instances) in its app, and a service pipeline's reads its service's instances, so
    the assembly is one piece: reused whole (under a key of the whole platform) or built whole."""
    key = keys.whole_key(keys.shared()) if keys is not None else None
    entry = request.cache / WHOLE / key if request.cache is not None and key else None
    final = work / "out"
    result = SynthResult()
    if entry is not None and (entry / MANIFEST).exists():
        for worker in started:
            worker.stop()
        shutil.copytree(entry, final)
        result.stacks = result.reused = count_stacks(final)
    else:
        result.workers = run_workers([None], started=started, model=model_file, spawn=spawn)
        _raise_failures(result.workers)
        result.workers[0].outdir.rename(final)
        result.stacks = result.built = count_stacks(final)
        if entry is not None:
            tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name[:12]}-", dir=_mkdir(entry.parent)))
            shutil.copytree(final, tmp, dirs_exist_ok=True)
            try:
                tmp.rename(entry)
            except OSError:  # stored meanwhile by another synth
                shutil.rmtree(tmp, ignore_errors=True)
    _replace(request.outdir, final)
    return result


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def count_stacks(outdir: Path) -> int:
    """The stacks of an assembly, those of nested (stage) assemblies included."""
    count = 0
    for artifact in _read(outdir / MANIFEST).get("artifacts", {}).values():
        if artifact.get("type") == "aws:cloudformation:stack":
            count += 1
        elif artifact.get("type") == "cdk:cloud-assembly":
            count += count_stacks(outdir / artifact["properties"]["directoryName"])
    return count


def switches(request: Request) -> dict[str, Any]:
    """What else changes a stack's output: validation, the CRD folder's content, the interpreter, CDK's
    default account and region."""
    crds = request.context.get("keel:eksa-crds") or os.environ.get("KEEL_EKSA_CRDS")
    digest = None
    if crds:
        from keel.delivery.synth_cache import hash_tree

        sha = hashlib.sha256()
        hash_tree(Path(str(crds)), sha)
        digest = sha.hexdigest()
    return {"validation": request.validation, "eksa_crds": digest, "python": sys.version,
            "cdk_default": [os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")]}


def _skeleton(workers: Sequence[WorkerResult], cache: Path | None, keys: KeyMaker | None) -> dict[str, Any]:
    """Any worker's skeleton (kept in the cache for a synth where every stack is reused)."""
    entry = cache / SKELETON / keys.shared() if cache is not None and keys is not None else None
    if workers:
        skeleton = skeleton_of(workers[0].outdir)
        if entry is not None:
            entry.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=".skeleton-", dir=entry.parent)
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(json.dumps(skeleton))
            Path(name).replace(entry)  # atomic: a synth running beside this one reads the old or the new
        return skeleton
    if entry is not None and entry.exists():
        return dict(_read(entry))
    raise SynthFailed("every stack came from the cache, but its skeleton is missing: run `keel synth --no-cache`",
                      2)


def _raise_failures(workers: Sequence[WorkerResult]) -> None:
    """Findings (exit 1): every worker's findings on its own stacks, joined into one report."""
    failed = [w for w in workers if w.exit_code != 0]
    if not failed:
        return
    if any(w.exit_code != 1 for w in failed):
        errors = [w.error for w in failed if w.exit_code != 1]
        raise SynthFailed("\n".join(dict.fromkeys(errors)), 2)
    parts = []
    for worker in workers:
        report = _read(worker.outdir / REPORT) if (worker.outdir / REPORT).exists() else None
        if not worker.stacks:  # the whole app: every finding is its own
            parts.append((report or {}).get("pluginReports", []))
        else:
            parts += list(_report_parts(report, worker.stacks).values())
    first = {k: v for k, v in _read(failed[0].outdir / REPORT).items() if k != "pluginReports"}
    raise SynthFailed("unacknowledged compliance findings", 1, {**first, "pluginReports": merge_reports(parts)})


def peak_lines(result: SynthResult) -> list[str]:
    return [f"worker {i}: {len(w.stacks) or 'all'} stack(s), {w.seconds:.1f} s, peak memory "
            f"{w.peak_python_kb / 1024:.0f} MiB (Python) + {w.peak_node_kb / 1024:.0f} MiB (Node)"
            f"{', the standby an earlier synth left' if w.standby else ''}"
            for i, w in enumerate(result.workers)]
