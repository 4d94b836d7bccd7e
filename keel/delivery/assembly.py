"""Read a synthesized cloud assembly (cdk.out): every CloudFormation stack, including those in stages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class AssemblyError(Exception):
    """The directory is not a readable cloud assembly."""


@dataclass(frozen=True)
class StackTemplate:
    name: str  # the CloudFormation stack name (what a deploy creates), unique per account/region
    artifact_id: str
    environment: str  # aws://account/region as the manifest says
    template: dict[str, Any]


def read_assembly(outdir: Path) -> dict[str, StackTemplate]:
    """Stacks by display name; nested assemblies (pipeline stages) are read recursively."""
    stacks: dict[str, StackTemplate] = {}
    _read(Path(outdir), stacks, prefix="")
    return stacks


def _read(outdir: Path, stacks: dict[str, StackTemplate], prefix: str) -> None:
    manifest_file = outdir / "manifest.json"
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssemblyError(f"{manifest_file} not found: not a cloud assembly (synthesize first)") from None
    except json.JSONDecodeError as exc:
        raise AssemblyError(f"{manifest_file}: {exc}") from None
    for artifact_id, artifact in (manifest.get("artifacts") or {}).items():
        kind = artifact.get("type")
        props = artifact.get("properties") or {}
        if kind == "cdk:cloud-assembly":
            _read(outdir / props["directoryName"], stacks, prefix=f"{prefix}{props.get('displayName', '')}/")
        elif kind == "aws:cloudformation:stack":
            template_file = outdir / props["templateFile"]
            try:
                template = json.loads(template_file.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise AssemblyError(f"{template_file}: {exc}") from None
            name = prefix + str(props.get("stackName") or artifact.get("displayName") or artifact_id)
            stacks[name] = StackTemplate(name=name, artifact_id=artifact_id,
                                         environment=str(artifact.get("environment", "")), template=template)
