"""Where `make conformance` finds the outside reference data, and the message when it is not there.

The data is public (AWS's Proton samples, EKS Anywhere's CRDs, Copilot's test manifests) and is never
committed here: docs/reference-data.md says how to get each set at its pinned version.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV_VAR = "KEEL_REFERENCE_DATA"


@dataclass(frozen=True)
class DataSet:
    name: str
    origin: str
    pinned: str
    needs: tuple[str, ...]  # sub-folders a usable copy has

    def describe(self) -> str:
        return f"{self.name}/: {self.origin}, pinned at {self.pinned}"


DATA_SETS = (
    DataSet("proton-samples", "github.com/aws-samples/aws-proton-cloudformation-sample-templates (MIT-0)",
            "commit 7780cf7 (January 2023)", ("environment-templates", "service-templates", "lambda-multi-svc")),
    DataSet("eks-anywhere-crds", "github.com/aws/eks-anywhere, config/crd/bases (Apache-2.0)",
            "the August 2026 state of main", ()),
    DataSet("copilot-manifests", "github.com/aws/copilot-cli (Apache-2.0): internal/pkg/manifest/testdata as "
            "manifest-testdata/, internal/pkg/deploy/cloudformation/stack/testdata/workloads as stack-testdata/",
            "commit 4c858e7 (March 2024)", ("manifest-testdata", "stack-testdata")),
)


def reference_root(environ: Mapping[str, str] = os.environ, root: Path = ROOT) -> Path:
    """$KEEL_REFERENCE_DATA, else ../shared/data beside the repository (a relative value: from the root)."""
    value = environ.get(ENV_VAR) or "../shared/data"
    path = Path(value)
    return path if path.is_absolute() else (root / path).resolve()


def is_present(data: Path, data_set: DataSet) -> bool:
    folder = data / data_set.name
    if not folder.is_dir() or not any(folder.iterdir()):
        return False
    return all((folder / need).is_dir() for need in data_set.needs)


def missing(data: Path) -> list[DataSet]:
    return [s for s in DATA_SETS if not is_present(data, s)]


def missing_message(data: Path, absent: list[DataSet]) -> str:
    """Names every missing data set with its public origin and pinned version: conformance fails on it."""
    where = f"{data} (from ${ENV_VAR})" if os.environ.get(ENV_VAR) else f"{data} (default ../shared/data; " \
        f"set ${ENV_VAR} to another folder)"
    lines = [f"make conformance needs the reference data in {where}; missing:"]
    lines += [f"  - {s.describe()}" for s in absent]
    lines.append("How to get each set: docs/reference-data.md (the CI workflow fetches them at these pins).")
    return "\n".join(lines)
