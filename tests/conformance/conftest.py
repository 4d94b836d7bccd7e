"""`make conformance`: Keel against outside reference data, read where it is (never copied in).

Without the data folder, or without any one data set in it, the run stops with a failure that names each
missing set, its public origin and the pinned version: it never skips.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.reference_data import missing, missing_message, reference_root

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(HERE in Path(str(item.path)).parents for item in items):
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
