"""`keel bundle` of a Lambda service template with its defaults: the default code_dir resolves like platform.yaml's."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.cdk_context import ROOT
from keel.lifecycle.bundle import bundle
from keel.spec.registry import default_registry


def test_bundle_of_a_lambda_service_with_defaults_packages_its_code(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # where `keel bundle` runs, as `make synth` does: lambda_src/ is relative to it
    made = bundle("scheduled-lambda-svc:1.0", tmp_path, default_registry())
    assets = sorted(p.name for p in (made.folder / "assets").iterdir())
    assert len(assets) == 1 and (made.folder / "assets" / assets[0] / "handler.py").is_file()
