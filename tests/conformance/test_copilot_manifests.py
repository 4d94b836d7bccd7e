"""Every Copilot test manifest (aws/copilot-cli, outside reference data) imports into a platform that validates,
and the platform imported from all of the workload manifests together synthesizes nag-clean.

The data is read where it is, never copied: `$KEEL_REFERENCE_DATA/copilot-manifests`, default
`../shared/data/copilot-manifests` beside the repository. Missing data fails these tests; it never skips them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.cli import main
from keel.lifecycle.copilot_import import ENVIRONMENT, PIPELINE, import_copilot, leaves, place_manifest
from keel.spec.yamlio import read_yaml
from tests.conformance.reference_data import reference_root

DATA = reference_root() / "copilot-manifests"
FOLDERS = ("manifest-testdata", "stack-testdata")
MANIFESTS = sorted(p for folder in FOLDERS for p in (DATA / folder).rglob("*.yml")) if DATA.is_dir() else []
_MISSING = Path("(no Copilot manifests)")


def _id(path: Path) -> str:
    return str(path.relative_to(DATA)) if path != _MISSING else "missing-data"


def test_the_copilot_reference_data_is_there() -> None:
    assert DATA.is_dir(), f"{DATA} is missing: set KEEL_REFERENCE_DATA to the folder that holds copilot-manifests/"
    assert {f for f in FOLDERS if any((DATA / f).rglob("*.yml"))} == set(FOLDERS)


@pytest.mark.parametrize("manifest", MANIFESTS or [_MISSING], ids=_id)
def test_each_manifest_imports_into_a_platform_keel_validate_accepts(
        manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if manifest == _MISSING:
        pytest.fail(f"no Copilot manifests under {DATA} (KEEL_REFERENCE_DATA)")
    workspace = tmp_path / "workspace"
    placed = place_manifest(manifest, workspace)
    out = tmp_path / "platform.yaml"
    code = main(["import-copilot", str(workspace), "--out", str(out), "--report", str(tmp_path / "report.md")])
    capsys.readouterr()
    assert code in (0, 1)
    assert main(["validate", "--quiet", str(out)]) == 0, capsys.readouterr().err
    # every field of the manifest was either mapped or reported
    result = import_copilot(workspace)
    doc = read_yaml(placed)
    kind = PIPELINE if placed.parent.parent.name == "pipelines" else doc.get("type") or ENVIRONMENT
    stats = result.stats[kind]
    assert stats.mapped + stats.reported == len(list(leaves(doc)))
    if kind not in (ENVIRONMENT, PIPELINE):  # every workload type, Static Site too, is a service
        assert result.platform["services"], f"{manifest.name} imported no service"


def test_all_workload_manifests_together_synthesize_nag_clean(tmp_path: Path) -> None:
    """One synth for all (it is slow): each workload manifest in a folder of its own, one environment."""
    import aws_cdk as cdk

    from keel.cdk_context import cli_context
    from keel.spec import load_platform
    from keel.stacks.app import build
    from tests.infra.conftest import open_findings

    workloads = [m for m in MANIFESTS if (read_yaml(m) or {}).get("type") not in (None, ENVIRONMENT)]
    assert workloads, f"no Copilot workload manifests under {DATA}"
    workspace = tmp_path / "workspace"
    for n, manifest in enumerate(workloads):
        place_manifest(manifest, workspace, folder=f"w{n:02d}-{manifest.stem}")
    result = import_copilot(workspace, environments=["test"], region="eu-west-1")
    out = tmp_path / "platform.yaml"
    out.write_text(result.text)
    model = load_platform(out)
    stacks = {i.stack_name for i in model.instances}
    # two services on one path of the shared listener cannot both be imported: the second is reported
    assert len(stacks) >= len(workloads) // 2, f"too few instances survived the import: {sorted(stacks)}"
    outdir = tmp_path / "cdk.out"
    app = cdk.App(context=cli_context(), outdir=str(outdir))
    build(app, model)
    app.synth()
    assert open_findings(outdir) == []  # the gate packs; NIST 800-53 R5 only reports
    assert {p.name.removesuffix(".template.json") for p in outdir.glob("keel-*.template.json")} >= stacks
