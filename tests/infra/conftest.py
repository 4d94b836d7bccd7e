"""Synthesize each shared test platform once per test run and share the templates.

Session fixtures run once per xdist worker; `synthesize_once` makes the first worker that needs a platform
synthesize it into the run's shared temp folder (under a file lock) and the others read that assembly,
as pytest-xdist documents ("Making session-scoped fixtures execute only once").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from filelock import FileLock

from keel.cdk_context import ROOT, cli_context
from keel.delivery.diff import mask_hashes as mask_hashes  # re-exported: snapshots mask asset hashes
from keel.eksa.crds import CrdFolder
from keel.spec import PlatformModel, load_platform
from keel.stacks.app import BuiltPlatform, build


@dataclass
class Synthesized:
    model: PlatformModel
    outdir: Path
    templates: dict[str, Template]
    rebuild: Callable[[], BuiltPlatform] = field(repr=False)
    _built: BuiltPlatform | None = field(default=None, repr=False)

    @property
    def built(self) -> BuiltPlatform:
        """The app's stacks; a worker that read the assembly from disk builds them again (no synth)."""
        if self._built is None:
            self._built = self.rebuild()
        return self._built

    def json(self, stack: str) -> dict[str, Any]:
        return json.loads((self.outdir / f"{stack}.template.json").read_text())


def _app(outdir: Path, validation: bool) -> cdk.App:
    return cdk.App(context=cli_context(), outdir=str(outdir), builtin_cloud_formation_validation=validation)


def _templates(outdir: Path, files: dict[str, str]) -> dict[str, Template]:
    return {stack: Template.from_json(json.loads((outdir / file).read_text())) for stack, file in files.items()}


_NAG = [True]  # set once collection is done: see pytest_collection_finish


def pytest_collection_finish(session: pytest.Session) -> None:
    _NAG[0] = any(item.get_closest_marker("heavy") for item in session.items)


def nag_selected() -> bool:
    """cdk-nag on a test platform's synth: only when a selected test reads its report. Those tests are
    marked `heavy` (make conformance); nag is ~70% of a synth's CPU, and make test has a 2-minute budget.
    The default platform (`platform`) is always synthesized with nag on, in make test too."""
    return _NAG[0]


def synthesize(platform: Path, outdir: Path, *, validation: bool = False,
               image_overrides: dict[str, str] | None = None, eksa_crds: CrdFolder | None = None,
               compliance: bool | None = None) -> Synthesized:
    """The app exactly as `cdk synth` builds it (cdk.json context); cdk-nag as `compliance` says (default:
    `nag_selected()`); CloudFormation validation only where a test asks for it, since it costs ~4 s a synth.
    `image_overrides` and `eksa_crds`: as app.py reads them from `keel:image:<service>` and
    `keel:eksa-crds` context."""
    model = load_platform(platform, image_overrides=image_overrides)
    app = _app(outdir, validation)
    built = build(app, model, eksa_crds=eksa_crds, compliance=nag_selected() if compliance is None else compliance)
    app.synth()
    files = {s.stack_name: f"{s.artifact_id}.template.json" for s in built.stacks}
    found = cross_stack_references(outdir)  # issue 20: every platform a test synthesizes is checked
    if found:
        raise AssertionError(f"{platform.name}: stacks reference each other: {found}")
    return Synthesized(model=model, outdir=outdir, templates=_templates(outdir, files), _built=built,
                       rebuild=lambda: build(_app(outdir, validation), model, eksa_crds=eksa_crds))


def synthesize_once(tmp_path_factory: pytest.TempPathFactory, name: str, platform: Path, *,
                    image_overrides: dict[str, str] | None = None, eksa_crds: CrdFolder | None = None,
                    compliance: bool | None = None) -> Synthesized:
    """`synthesize`, once per run however many xdist workers need it (each reads the one assembly)."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return synthesize(platform, tmp_path_factory.mktemp(name), image_overrides=image_overrides,
                          eksa_crds=eksa_crds, compliance=compliance)
    shared = tmp_path_factory.getbasetemp().parent
    outdir, stacks = shared / name, shared / f"{name}.stacks.json"
    with FileLock(str(shared / f"{name}.lock")):
        if not stacks.exists():
            synthesized = synthesize(platform, outdir, image_overrides=image_overrides, eksa_crds=eksa_crds,
                                     compliance=compliance)
            # written after a whole, successful synth only: a failed one is tried (and fails) in each worker
            stacks.write_text(json.dumps({s.stack_name: f"{s.artifact_id}.template.json"
                                          for s in synthesized.built.stacks}))
            return synthesized
    model = load_platform(platform, image_overrides=image_overrides)
    return Synthesized(model=model, outdir=outdir, templates=_templates(outdir, json.loads(stacks.read_text())),
                       rebuild=lambda: build(_app(outdir, False), model, eksa_crds=eksa_crds))


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
    yield synthesize_once(tmp_path_factory, "cdk.out", ROOT / "platform.yaml", compliance=True)


def _nag_report(outdir: Path) -> dict[str, Any]:
    """Fails, rather than finding nothing, when nag did not run (a nag test not marked `heavy`)."""
    report = outdir / "validation-report.json"
    assert report.exists(), f"no cdk-nag report in {outdir}: mark the test heavy (see nag_selected)"
    return dict(json.loads(report.read_text()))


def open_findings(outdir: Path) -> list[Any]:
    """Findings of the gate packs nobody acknowledged (the synth raises on errors; this also catches
    warnings). Report-only packs (NIST 800-53 R5) are counted by `report_findings`."""
    from keel.report import REPORT_PACKS

    return [v for p in _nag_report(outdir)["pluginReports"] if p["pluginName"] not in REPORT_PACKS
            for v in p.get("violations", [])]


def report_findings(outdir: Path, pack: str = "NIST.800.53.R5") -> list[str]:
    """Open findings of a report-only pack, one `construct path: rule` line each."""
    return [f"{c['constructPath']}: {v['ruleName']}" for p in _nag_report(outdir)["pluginReports"]
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
    yield synthesize_once(tmp_path_factory, "eks-workloads.out",
                          ROOT / "tests" / "infra" / "platforms" / "eks-workloads.yaml")


@pytest.fixture(scope="session")
def ecs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    """tests/infra/platforms/ecs.yaml: `edge` has everything on (production, HTTPS, Anywhere with GPU),
    `plain` is the defaults with the formatter off (test_ecs_env, test_ecs_env_events)."""
    yield synthesize_once(tmp_path_factory, "ecs.out", ROOT / "tests" / "infra" / "platforms" / "ecs.yaml")
