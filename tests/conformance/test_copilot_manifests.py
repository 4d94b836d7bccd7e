"""AWS Copilot's own test manifests: a smoke test that each one reads as a YAML mapping. (The Copilot
importer comes later; it will be tested on the same files.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

FOLDERS = ["manifest-testdata", "stack-testdata"]


def manifests(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".yml", ".yaml"))


@pytest.mark.parametrize("folder", FOLDERS)
def test_the_folder_holds_manifests(copilot_manifests: Path, folder: str) -> None:
    assert manifests(copilot_manifests / folder), f"{copilot_manifests / folder}: no *.yml manifest"


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_manifest_parses_as_a_yaml_mapping_with_a_name(copilot_manifests: Path, folder: str) -> None:
    bad = []
    for path in manifests(copilot_manifests / folder):
        try:
            doc = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
        except Exception as exc:  # any parser error is a finding, named with its file
            bad.append(f"{path.name}: {type(exc).__name__}: {exc}")
            continue
        if not isinstance(doc, dict) or not doc.get("name"):
            bad.append(f"{path.name}: not a mapping with a name (got {type(doc).__name__})")
    assert bad == []
