"""The EKS Anywhere documents Keel generates, against EKS Anywhere's own CRDs (served versions), both
directly and through the synth-time check (`-c keel:eksa-crds=DIR`). Keel's own CRD fixtures test the
same in `make test` (tests/eksa, tests/infra/test_eks_env.py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from keel.eksa.crds import CrdFolder, all_problems, load_crd_folder
from keel.spec import load_platform
from tests.eksa.test_documents import PLATFORM, PROVIDERS, config_of


@pytest.fixture(scope="module")
def real_crds(eks_anywhere_crds: Path) -> CrdFolder:
    return load_crd_folder(eks_anywhere_crds)


@pytest.fixture(scope="module")
def documents() -> dict[str, list[dict]]:  # type: ignore[type-arg]
    environments = {e.name: e for e in load_platform(PLATFORM).environments}
    return {provider: config_of(environments[name]) for provider, name in PROVIDERS.items()}


def test_the_crds_serve_every_kind_keel_writes(real_crds: CrdFolder, documents: dict[str, list[dict]]) -> None:  # type: ignore[type-arg]
    kinds = {(d["apiVersion"], d["kind"]) for docs in documents.values() for d in docs}
    assert kinds <= set(real_crds.crds)


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_cluster_config_is_valid_against_the_real_crds(real_crds: CrdFolder, documents: dict[str, list[dict]],  # type: ignore[type-arg]
                                                       provider: str) -> None:
    assert all_problems(documents[provider], real_crds.crds) == []


def test_a_misspelt_field_is_caught_by_the_real_crds(real_crds: CrdFolder,
                                                     documents: dict[str, list[dict]]) -> None:  # type: ignore[type-arg]
    cluster = copy.deepcopy(documents["vsphere"][0])
    cluster["spec"]["controlPlaneConfiguration"]["cuont"] = 3
    assert all_problems([cluster], real_crds.crds) == [
        "Cluster/edge-anywhere: spec.controlPlaneConfiguration: Additional properties are not allowed "
        "('cuont' was unexpected)"]


@pytest.mark.slow
def test_synth_time_check_passes_on_the_real_crds(real_crds: CrdFolder, tmp_path: Path) -> None:
    from keel.report import eks_anywhere_line
    from tests.infra.conftest import synthesize

    out = synthesize(PLATFORM, tmp_path / "cdk.out", eksa_crds=real_crds).outdir
    record = json.loads((out / "keel-edge.eks-anywhere-crd-check.json").read_text())
    assert record["documents"]["keel-edge.eks-anywhere-cluster.yaml"] == 8
    assert eks_anywhere_line(out) == f"EKS Anywhere documents: 16 in 6 file(s) checked against the CRDs in " \
        f"{real_crds.folder}"
