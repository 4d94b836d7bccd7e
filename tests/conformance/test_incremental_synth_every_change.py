"""Correctness first (issue 20): after each kind of change, `keel synth` with its cache writes, byte for byte,
what a full synth writes; and it rebuilds what the change can reach, reusing the rest.

Heavy (a dozen synths with CloudFormation validation on), so it lives in `make conformance`. It reads no outside
data. The project is copied to a temporary folder, where each change is made in turn (cumulatively): one
instance's spec, one environment's spec, a template version bump, a change in a construct, a change in the CDK
context (cdk.json).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from keel.cdk_context import ROOT
from keel.delivery.assembly_compare import differences
from keel.delivery.parallel import CROSS_STACK_REFERENCES

SOURCE = ROOT / "tests" / "delivery" / "platforms" / "parallel.yaml"
PLATFORM = Path("platform.yaml")  # at the copy's root: the copy is no git repository, its project is that folder
_SYNTH_LINE = re.compile(r"(\d+) built in (\d+) worker\(s\), (\d+) reused")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path}: {old!r} not found"
    path.write_text(text.replace(old, new, 1))


def _context(root: Path) -> None:
    cdk_json = root / "cdk.json"
    doc = json.loads(cdk_json.read_text())
    assert doc["context"]["@aws-cdk/aws-iam:minimizePolicies"] is True
    doc["context"]["@aws-cdk/aws-iam:minimizePolicies"] = False
    cdk_json.write_text(json.dumps(doc, indent=2))


#: (kind, edit, stacks expected rebuilt). Cumulative, in this order.
CHANGES: list[tuple[str, Callable[[Path], None], set[str]]] = [
    ("instance spec", lambda r: _edit(r / PLATFORM, "rate(6 hours)", "rate(2 hours)"),
     {"keel-sweeper-lab", *(["keel-lab"] if CROSS_STACK_REFERENCES else [])}),
    ("environment spec", lambda r: _edit(r / PLATFORM, "flow_log_retention_days: 14", "flow_log_retention_days: 30"),
     {"keel-lab", "keel-sweeper-lab"}),
    ("template version bump", lambda r: _edit(r / PLATFORM, "scheduled-lambda-svc:1.0", "scheduled-lambda-svc:1.1"),
     {"keel-sweeper-lab", *(["keel-lab"] if CROSS_STACK_REFERENCES else [])}),
    ("construct", lambda r: _edit(r / "keel" / "constructs" / "keys.py", "encryption of logs, secrets",
                                  "encryption of the logs, secrets"),
     {"keel-lab", "keel-quiet", "keel-sweeper-lab"}),
    ("cdk context", _context, {"keel-lab", "keel-quiet", "keel-sweeper-lab"}),
]


def _copy_project(dest: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".keel-cache", "cdk.out")
    for name in ("keel", "lambda_src"):
        shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    (dest / PLATFORM).write_text(SOURCE.read_text().replace("../../../lambda_src", "lambda_src"))
    for name in ("app.py", "cdk.json", "requirements.txt", "requirements-dev.txt", "package.json",
                 "package-lock.json", "pyproject.toml"):
        shutil.copy2(ROOT / name, dest / name)
    return dest


def _synth(root: Path, out: Path, cache: Path, *extra: str) -> tuple[int, int, int]:
    env = dict(os.environ, PATH=f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}",
               PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1")
    env.pop("CDK_VALIDATION", None)
    done = subprocess.run([sys.executable, "-m", "keel", "synth", "--platform", str(PLATFORM), "--out", str(out),
                           "--cache-dir", str(cache), "--jobs", "2", "--quiet", *extra],
                          cwd=root, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    found = _SYNTH_LINE.search(done.stdout)
    assert found, done.stdout
    return int(found[1]), int(found[2]), int(found[3])


def _rebuilt(before: Path, after: Path) -> set[str]:
    return {p.name.removesuffix(".template.json") for p in after.glob("*.template.json")
            if (before / p.name).read_bytes() != p.read_bytes()}


def test_incremental_synth_equals_full_synth_after_each_kind_of_change(tmp_path: Path) -> None:
    root = _copy_project(tmp_path / "project")
    cache = tmp_path / "cache"
    previous = tmp_path / "out-0"
    assert _synth(root, previous, cache) == (3, 2, 0)
    for step, (kind, edit, expected) in enumerate(CHANGES, start=1):
        edit(root)
        incremental, full = tmp_path / f"out-{step}", tmp_path / f"full-{step}"
        built, _, reused = _synth(root, incremental, cache)
        assert (built, reused) == (len(expected), 3 - len(expected)), kind
        _synth(root, full, tmp_path / f"throwaway-{step}", "--no-cache")
        assert differences(full, incremental) == [], kind
        assert _rebuilt(previous, incremental) <= expected, kind
        previous = incremental

