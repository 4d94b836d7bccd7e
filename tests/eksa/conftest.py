"""The EKS Anywhere CRDs live in the shared folder beside the repository (read in place, never copied)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from keel.cdk_context import ROOT
from keel.eksa.crds import Crd, load_crds

CRD_FOLDER = Path("shared/data/eks-anywhere-crds")


def crd_folder() -> Path:
    """$KEEL_EKSA_CRDS, else the nearest `shared/data/eks-anywhere-crds` above the repository."""
    if os.environ.get("KEEL_EKSA_CRDS"):
        return Path(os.environ["KEEL_EKSA_CRDS"])
    for parent in ROOT.parents:
        if (parent / CRD_FOLDER).is_dir():
            return parent / CRD_FOLDER
    raise FileNotFoundError(f"no {CRD_FOLDER} above {ROOT}: the EKS Anywhere documents cannot be validated")


@pytest.fixture(scope="session")
def crds() -> dict[tuple[str, str], Crd]:
    found = load_crds(crd_folder())
    assert found, "the CRD folder holds no served CRD"
    return found
