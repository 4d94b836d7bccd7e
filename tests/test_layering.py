"""The layering rules, checked in fresh interpreters (xdist workers share modules across test files)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imports_cdk(modules: list[str]) -> list[str]:
    code = ("import importlib, sys\n"
            f"for m in {modules!r}:\n    importlib.import_module(m)\n"
            "print(sorted(n for n in sys.modules if n == 'aws_cdk' or n.startswith('aws_cdk.'))[:3])")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return eval(result.stdout.strip().splitlines()[-1])  # a printed list of names


def _test_modules(folder: str) -> list[str]:
    return sorted(f"tests.{folder}.{p.stem}" for p in (ROOT / "tests" / folder).glob("test_*.py"))


@pytest.mark.parametrize("folder", ["spec", "handlers", "ops"])
def test_fast_test_folders_never_import_aws_cdk(folder: str) -> None:
    assert imports_cdk(_test_modules(folder)) == []


def test_spec_layer_cli_and_template_inputs_never_import_aws_cdk() -> None:
    from keel.spec.registry import default_registry

    inputs = sorted({v.inputs.partition(":")[0] for v in default_registry().all_versions()})
    assert imports_cdk(["keel.spec", "keel.cli", "keel.contract", "keel.spec.registry", "keel.netplan",
                        "keel.ops.commands",
                        "keel.ops.status", "keel.ops.logs", "keel.ops.execute", "keel.ops.config",
                        "keel.ops.history", "keel.diagram", *inputs]) == []
