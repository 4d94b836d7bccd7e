"""`make conformance` without its reference data fails with a message naming each missing data set, its
public origin and pinned version (the check tests/conformance/conftest.py runs); no data needed here."""

from __future__ import annotations

from pathlib import Path

from tests.conformance.reference_data import DATA_SETS, ROOT, missing, missing_message, reference_root


def test_default_folder_is_shared_data_beside_the_repository() -> None:
    assert reference_root({}) == (ROOT / ".." / "shared" / "data").resolve()


def test_keel_reference_data_overrides_the_default(tmp_path: Path) -> None:
    assert reference_root({"KEEL_REFERENCE_DATA": str(tmp_path)}) == tmp_path
    assert reference_root({"KEEL_REFERENCE_DATA": "data"}, root=tmp_path) == tmp_path / "data"


def test_a_missing_folder_misses_every_data_set(tmp_path: Path) -> None:
    assert missing(tmp_path / "nonexistent") == list(DATA_SETS)


def test_the_message_names_each_set_its_origin_and_pinned_version(tmp_path: Path) -> None:
    text = missing_message(tmp_path, list(DATA_SETS))
    assert text.splitlines()[0].startswith(f"make conformance needs the reference data in {tmp_path}")
    for name, origin, pin in [
        ("proton-samples", "github.com/aws-samples/aws-proton-cloudformation-sample-templates", "commit 7780cf7"),
        ("eks-anywhere-crds", "github.com/aws/eks-anywhere, config/crd/bases", "August 2026"),
        ("copilot-manifests", "github.com/aws/copilot-cli", "commit 4c858e7"),
    ]:
        line = next(line for line in text.splitlines() if line.startswith(f"  - {name}/: "))
        assert origin in line and pin in line
    assert "docs/reference-data.md" in text


def test_one_missing_set_is_named_alone(tmp_path: Path) -> None:
    (tmp_path / "proton-samples" / "environment-templates").mkdir(parents=True)
    (tmp_path / "proton-samples" / "service-templates").mkdir()
    (tmp_path / "proton-samples" / "lambda-multi-svc").mkdir()
    (tmp_path / "eks-anywhere-crds").mkdir()
    (tmp_path / "eks-anywhere-crds" / "x.yaml").write_text("{}")
    (tmp_path / "copilot-manifests" / "manifest-testdata").mkdir(parents=True)  # stack-testdata missing
    assert [s.name for s in missing(tmp_path)] == ["copilot-manifests"]


def test_an_empty_data_set_folder_counts_as_missing(tmp_path: Path) -> None:
    (tmp_path / "eks-anywhere-crds").mkdir()
    assert "eks-anywhere-crds" in [s.name for s in missing(tmp_path)]
