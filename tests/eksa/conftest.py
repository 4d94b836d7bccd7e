"""Keel's own EKS Anywhere-like CRDs (tests/eksa/fixtures/crds): `make test` needs nothing outside the
repository. The real CRDs are checked by `make conformance` (tests/conformance)."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.eksa.crds import Crd, load_crds

CRD_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "crds"


@pytest.fixture(scope="session")
def crds() -> dict[tuple[str, str], Crd]:
    found = load_crds(CRD_FIXTURES)
    assert found, "the CRD fixture folder holds no served CRD"
    return found
