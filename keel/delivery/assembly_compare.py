"""Is one cloud assembly what another synth would write? `keel synth`'s equivalence check against `cdk synth`.

Byte for byte: every stack's template and asset manifest, every asset folder and other file; each stack's
metadata file too, once the name of jsii's temporary kernel folder is masked (its creation stack traces name
it, and it differs between any two runs of `cdk synth`).
Equivalent: manifest.json and tree.json (the same artifacts and nodes; dependency lists in any order), and
validation-report.json (the same findings, open and acknowledged; stack traces name jsii's temporary folder).
"""

from __future__ import annotations

import filecmp
import json
import re
from pathlib import Path
from typing import Any

#: Compared as documents, not as bytes.
DOCUMENTS = ("manifest.json", "tree.json", "validation-report.json")
_KERNEL = re.compile(rb"jsii-kernel-[A-Za-z0-9]+")


def _masked(path: Path) -> bytes:
    return _KERNEL.sub(b"jsii-kernel-*", path.read_bytes())


#: Not part of the assembly: the CDK CLI asks the app (CDK_PERF_COUNTERS_FILE) for its timing counters, which
#: aws-cdk-lib writes only when a synth is slow (on a loaded machine), and `cdk deploy --app cdk.out` never reads.
DIAGNOSTICS = frozenset({"performance-counters.json"})


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} - DIAGNOSTICS


def _manifest(doc: dict[str, Any]) -> dict[str, Any]:
    artifacts = {}
    for key, artifact in doc.get("artifacts", {}).items():
        artifact = dict(artifact)
        if "dependencies" in artifact:
            artifact["dependencies"] = sorted(artifact["dependencies"])
        artifacts[key] = artifact
    return {**doc, "artifacts": artifacts}


def _findings(doc: dict[str, Any]) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for plugin in doc.get("pluginReports", []):
        for section in ("violations", "suppressedViolations"):
            for v in plugin.get(section, []):
                for c in v.get("violatingConstructs", []):
                    out.add((plugin["pluginName"], section, v.get("ruleName", ""), v.get("severity", ""),
                             c.get("constructPath", ""), v.get("reason", "")))
    return out


def differences(expected: Path, actual: Path) -> list[str]:
    """What differs between two assemblies (empty: `actual` is what `expected`'s synth wrote)."""
    problems: list[str] = []
    want, got = _files(expected), _files(actual)
    problems += [f"missing: {name}" for name in sorted(want - got)]
    problems += [f"extra: {name}" for name in sorted(got - want)]
    for name in sorted(want & got):
        if name in DOCUMENTS:
            a = json.loads((expected / name).read_text(encoding="utf-8"))
            b = json.loads((actual / name).read_text(encoding="utf-8"))
            if name == "manifest.json":
                a, b = _manifest(a), _manifest(b)
            if name == "validation-report.json":
                if _findings(a) != _findings(b):
                    problems.append(f"findings differ: {sorted(_findings(a) ^ _findings(b))[:5]}")
            elif a != b:
                problems.append(f"not equivalent: {name}")
        elif name.endswith(".metadata.json"):
            if _masked(expected / name) != _masked(actual / name):
                problems.append(f"bytes differ (jsii's kernel folder masked): {name}")
        elif not filecmp.cmp(expected / name, actual / name, shallow=False):
            problems.append(f"bytes differ: {name}")
    return problems
