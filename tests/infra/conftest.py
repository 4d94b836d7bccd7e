"""Synthesize the default platform once per test session (per xdist worker) and share the templates."""

from __future__ import annotations

import json
import re
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
from keel.spec import PlatformModel, load_platform
from keel.stacks.app import BuiltPlatform, build

_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass
class Synthesized:
    model: PlatformModel
    built: BuiltPlatform
    outdir: Path
    templates: dict[str, Template]

    def json(self, stack: str) -> dict[str, Any]:
        return json.loads((self.outdir / f"{stack}.template.json").read_text())


def synthesize(platform: Path, outdir: Path, *, validation: bool = False) -> Synthesized:
    """The app exactly as `cdk synth` builds it (cdk.json context, nag on); CloudFormation validation
    only where a test asks for it, since it costs ~4 s a synth."""
    model = load_platform(platform)
    app = cdk.App(context=cli_context(), outdir=str(outdir), builtin_cloud_formation_validation=validation)
    built = build(app, model)
    app.synth()
    templates = {s.stack_name: Template.from_json(json.loads((outdir / f"{s.artifact_id}.template.json").read_text()))
                 for s in built.stacks}
    return Synthesized(model=model, built=built, outdir=outdir, templates=templates)


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    yield synthesize(ROOT / "platform.yaml", tmp_path_factory.mktemp("cdk.out"))


def mask_hashes(value: Any) -> Any:
    """Asset hashes differ with the machine's Python/Node bytes; snapshots pin everything else."""
    if isinstance(value, dict):
        return {k: mask_hashes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_hashes(v) for v in value]
    if isinstance(value, str):
        return _HASH.sub("<asset-hash>", value)
    return value


def cfn_lint(outdir: Path) -> subprocess.CompletedProcess[str]:
    """cfn-lint over every template in `outdir`, with the project's .cfnlintrc.yaml."""
    files = sorted(str(p) for p in outdir.glob("*.template.json"))
    executable = Path(sys.executable).parent / "cfn-lint"
    return subprocess.run([str(executable), "--config-file", str(ROOT / ".cfnlintrc.yaml"), "--", *files],
                          capture_output=True, text=True, cwd=ROOT)
