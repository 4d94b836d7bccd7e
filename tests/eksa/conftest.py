"""The EKS Anywhere CRDs live in the shared folder beside the repository (read in place, never copied)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from keel.eksa.crds import Crd, load_crds
from tests.spec.conftest import SHARED


def crd_folder() -> Path:
    """$KEEL_EKSA_CRDS, else shared/data/eks-anywhere-crds; missing CRDs fail the tests, never skip them."""
    folder = Path(os.environ.get("KEEL_EKSA_CRDS") or SHARED / "data" / "eks-anywhere-crds")
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: the EKS Anywhere documents cannot be validated without the CRDs")
    return folder


@pytest.fixture(scope="session")
def crds() -> dict[tuple[str, str], Crd]:
    found = load_crds(crd_folder())
    assert found, "the CRD folder holds no served CRD"
    return found
