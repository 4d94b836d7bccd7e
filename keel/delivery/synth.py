"""Synthesize a source tree (the working tree, or a git ref exported to a temporary folder) into a cloud
assembly, exactly as `cdk synth` would: `app.py` with the tree's own cdk.json context, no AWS needed."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path


class SynthError(Exception):
    """The diff could not be computed (git or synth failed): distinct from "differences found"."""


def git(root: Path, *args: str) -> str:
    try:
        result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise SynthError("git is not installed") from None
    if result.returncode != 0:
        raise SynthError(f"git {' '.join(args)}: {result.stderr.strip() or 'failed'}")
    return result.stdout.strip()


def default_base(root: Path) -> tuple[str, str]:
    """(commit, label): the merge base with main (origin/main first: what a CI checkout has)."""
    for candidate in ("origin/main", "main"):
        try:
            git(root, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}")
        except SynthError:
            continue
        return git(root, "merge-base", "HEAD", candidate), f"merge base with {candidate}"
    raise SynthError("no base given and neither origin/main nor main exists: pass --base REF")


def export_ref(root: Path, ref: str, dest: Path) -> str:
    """`git archive` the ref into dest (no worktree bookkeeping to clean up); returns the commit id."""
    commit = git(root, "rev-parse", "--verify", f"{ref}^{{commit}}")
    data = subprocess.run(["git", "archive", "--format=tar", commit], cwd=root, capture_output=True, check=False)
    if data.returncode != 0:
        raise SynthError(f"git archive {ref}: {data.stderr.decode(errors='replace').strip()}")
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data.stdout)) as archive:
        archive.extractall(dest, filter="data")
    return commit


def context_of(tree: Path) -> dict[str, object]:
    """cdk.json's context plus cdk.context.json, as the CLI hands them to the app."""
    context: dict[str, object] = {}
    for name, key in (("cdk.json", "context"), ("cdk.context.json", None)):
        file = tree / name
        if file.exists():
            doc = json.loads(file.read_text(encoding="utf-8"))
            context.update(doc.get(key, {}) if key else doc)
    return context


#: A tree with this module synthesizes with `keel synth` (parallel, cached); older trees run app.py.
PARALLEL_SYNTH = Path("keel") / "delivery" / "synth_worker.py"


def has_parallel_synth(tree: Path) -> bool:
    return (tree / PARALLEL_SYNTH).exists()


def synthesize_tree(tree: Path, outdir: Path, platform: str, *, python: str = sys.executable,
                    cache: Path | None = None, jobs: int = 1) -> Path:
    """Run the tree's app.py into outdir with the tree's own keel package first on the path; with `cache` (and a
    tree that has it), the tree's own `keel synth` instead: unchanged stacks come from the cache."""
    if not (tree / "app.py").exists():
        raise SynthError(f"{tree}: no app.py to synthesize")
    env = dict(os.environ)
    env.update({
        "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps(context_of(tree)), "KEEL_PLATFORM": platform,
        "PYTHONPATH": os.pathsep.join([str(tree), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    command = [python, "app.py"]
    if cache is not None and has_parallel_synth(tree):
        command = [python, "-m", "keel", "synth", "--platform", platform, "--out", str(outdir.resolve()),
                   "--cache-dir", str(cache.resolve()), "--jobs", str(jobs), "--quiet"]
    outdir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise SynthError(f"synth of {tree} failed (exit {result.returncode}):\n{tail}")
    if not (outdir / "manifest.json").exists():
        raise SynthError(f"synth of {tree} wrote no cloud assembly to {outdir}")
    return outdir


def empty_assembly(outdir: Path) -> Path:
    """A base with no platform file yet: every stack of the head is new."""
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "manifest.json").write_text(json.dumps({"version": "0.0.0", "artifacts": {}}))
    return outdir
