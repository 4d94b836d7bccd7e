"""`make conformance`: Keel against outside reference data, read where it is (never copied in).

Without the data folder, or without any one data set in it, the run stops with a failure that names each
missing set, its public origin and the pinned version: it never skips.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.reference_data import missing, missing_message, reference_root


def pytest_configure(config: pytest.Config) -> None:
    """Checked once, in the controller: an xdist worker that exits would only read as a crashed test."""
    if hasattr(config, "workerinput"):
        return
    data = reference_root()
    absent = missing(data)
    if absent:
        pytest.exit(missing_message(data, absent), returncode=1)


@pytest.fixture(scope="session")
def reference_data() -> Path:
    return reference_root()


@pytest.fixture(scope="session")
def proton_samples(reference_data: Path) -> Path:
    return reference_data / "proton-samples"


@pytest.fixture(scope="session")
def eks_anywhere_crds(reference_data: Path) -> Path:
    return reference_data / "eks-anywhere-crds"


@pytest.fixture(scope="session")
def copilot_manifests(reference_data: Path) -> Path:
    return reference_data / "copilot-manifests"
