"""Handler tests run Lambda code in-process (moto for AWS); they never import aws_cdk."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda_src"


def load_handler(function: str, module: str = "handler") -> ModuleType:
    """Import lambda_src/<function>/<module>.py under a unique name, with its folder on sys.path
    (as the Lambda runtime has it)."""
    folder = LAMBDA_SRC / function
    name = f"lambda_{function}_{module}"
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location(name, folder / f"{module}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(autouse=True)
def _fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """No real credentials can leak into a handler test; moto accepts these."""
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-west-1",
                       "AWS_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(key, value)
