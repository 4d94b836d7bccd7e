"""Synthesize the default platform once per test session (per xdist worker) and share the templates."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from keel.cdk_context import ROOT, cli_context
from keel.delivery.diff import mask_hashes as mask_hashes  # re-exported: snapshots mask asset hashes
from keel.eksa.crds import CrdFolder
from keel.spec import PlatformModel, load_platform
from keel.stacks.app import BuiltPlatform, build


@dataclass
class Synthesized:
    model: PlatformModel
    built: BuiltPlatform
    outdir: Path
    templates: dict[str, Template]

    def json(self, stack: str) -> dict[str, Any]:
        return json.loads((self.outdir / f"{stack}.template.json").read_text())


def synthesize(platform: Path, outdir: Path, *, validation: bool = False,
               image_overrides: dict[str, str] | None = None, eksa_crds: CrdFolder | None = None) -> Synthesized:
    """The app exactly as `cdk synth` builds it (cdk.json context, nag on); CloudFormation validation
    only where a test asks for it, since it costs ~4 s a synth. `image_overrides` and `eksa_crds`: as
    app.py reads them from `keel:image:<service>` and `keel:eksa-crds` context."""
    model = load_platform(platform, image_overrides=image_overrides)
    app = cdk.App(context=cli_context(), outdir=str(outdir), builtin_cloud_formation_validation=validation)
    built = build(app, model, eksa_crds=eksa_crds)
    app.synth()
    templates = {s.stack_name: Template.from_json(json.loads((outdir / f"{s.artifact_id}.template.json").read_text()))
                 for s in built.stacks}
    found = cross_stack_references(outdir)  # issue 20: every platform a test synthesizes is checked
    if found:
        raise AssertionError(f"{platform.name}: stacks reference each other: {found}")
    return Synthesized(model=model, built=built, outdir=outdir, templates=templates)


def environment_read(template: dict[str, Any], value: Any) -> str | None:
    """The SSM parameter a service template reads `value` from (issue 20): `{"Ref": <parameter>}` -> its name,
    one element of a list parameter -> `<name>[<index>]`; None for anything else."""
    if isinstance(value, dict) and set(value) == {"Fn::Select"}:
        index, inner = value["Fn::Select"]
        split = inner.get("Fn::Split") if isinstance(inner, dict) else None
        name = environment_read(template, split[1]) if split and split[0] == "," else None
        return f"{name}[{index}]" if name else None
    if isinstance(value, dict) and set(value) == {"Ref"}:
        parameter = (template.get("Parameters") or {}).get(value["Ref"], {})
        if parameter.get("Type", "").startswith("AWS::SSM::Parameter::Value"):
            return str(parameter["Default"])
    return None


def cross_stack_references(outdir: Path) -> dict[str, list[str]]:
    """Per template of a cloud assembly (pipeline stages' nested assemblies too): its `Fn::ImportValue`s and
    `Fn::GetStackOutput`s, its exported outputs, and its outputs CDK adds only for another stack to read."""
    found: dict[str, list[str]] = {}
    for file in sorted(outdir.rglob("*.template.json")):
        template = json.loads(file.read_text())
        text = json.dumps(template.get("Resources", {})) + json.dumps(template.get("Outputs", {}))
        refs = [f"{fn} x{text.count(fn)}" for fn in ('"Fn::ImportValue"', '"Fn::GetStackOutput"') if fn in text]
        refs += [f"output {k}" for k, v in (template.get("Outputs") or {}).items()
                 if "Export" in v or k.startswith(("PublishOutput", "ExportsOutput"))]
        if refs:
            found[str(file.relative_to(outdir))] = refs
    return found


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    yield synthesize(ROOT / "platform.yaml", tmp_path_factory.mktemp("cdk.out"))


def open_findings(outdir: Path) -> list[Any]:
    """Findings of the gate packs nobody acknowledged (the synth raises on errors; this also catches
    warnings). Report-only packs (NIST 800-53 R5) are counted by `report_findings`."""
    from keel.report import REPORT_PACKS

    report = outdir / "validation-report.json"
    if not report.exists():
        return []
    return [v for p in json.loads(report.read_text())["pluginReports"] if p["pluginName"] not in REPORT_PACKS
            for v in p.get("violations", [])]


def report_findings(outdir: Path, pack: str = "NIST.800.53.R5") -> list[str]:
    """Open findings of a report-only pack, one `construct path: rule` line each."""
    report = outdir / "validation-report.json"
    if not report.exists():
        return []
    return [f"{c['constructPath']}: {v['ruleName']}" for p in json.loads(report.read_text())["pluginReports"]
            if p["pluginName"] == pack for v in p.get("violations", []) for c in v["violatingConstructs"]]


def cfn_lint(outdir: Path) -> subprocess.CompletedProcess[str]:
    """cfn-lint over every template of a cloud assembly (pipeline stages' nested assemblies included),
    with the repository's configuration."""
    files = sorted(str(p) for p in outdir.rglob("*.template.json"))
    return subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), "--config-file",
                           str(ROOT / ".cfnlintrc.yaml"), "--", *files], capture_output=True, text=True, cwd=ROOT)



@pytest.fixture(scope="session")
def eks_workloads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    """tests/infra/platforms/eks-workloads.yaml (eks-env 1.2, kubernetes-svc in the cloud, on hybrid nodes
    and on EKS Anywhere), synthesized once per session."""
    yield synthesize(ROOT / "tests" / "infra" / "platforms" / "eks-workloads.yaml",
                     tmp_path_factory.mktemp("eks-workloads.out"))
