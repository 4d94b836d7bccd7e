"""Assembly files are written for every Keel stack: the synthesizer that writes them is on each one."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk

from keel.cdk_context import ROOT, cli_context
from keel.constructs.assembly_file import AssemblyFile, KeelSynthesizer
from keel.spec import load_platform
from keel.stacks.app import build

PLATFORM = ROOT / "tests" / "infra" / "platforms" / "images.yaml"


def test_an_assembly_file_in_a_service_stack_is_written(tmp_path: Path) -> None:
    app = cdk.App(context=cli_context(), outdir=str(tmp_path), builtin_cloud_formation_validation=False)
    built = build(app, load_platform(PLATFORM), compliance=False)
    stack = next(iter(built.instances.values()))
    AssemblyFile(stack, "Notes", name="notes.txt", content="written by the service stack's synthesizer")
    app.synth()
    assert (tmp_path / f"{stack.artifact_id}.notes.txt").read_text() == "written by the service stack's synthesizer"
    assert all(isinstance(s.synthesizer, KeelSynthesizer) for s in built.stacks)
