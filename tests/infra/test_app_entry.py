"""app.py's backstop: a spec-named file that breaks between validation and build is exit 2, no traceback."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from keel.cdk_context import ROOT
from keel.spec.errors import SourceError


def test_source_error_during_build_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                            tmp_path: Any) -> None:
    import keel.stacks.app

    def broken(*args: Any, **kwargs: Any) -> None:
        raise SourceError("platform.yaml: services[x].pipeline.code_dir: /gone is not a directory")

    monkeypatch.setattr(keel.stacks.app, "build", broken)
    monkeypatch.setenv("KEEL_PLATFORM", str(ROOT / "platform.yaml"))
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path / "out"))
    spec = importlib.util.spec_from_file_location("keel_app_entry", ROOT / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main() == 2
    err = capsys.readouterr().err
    assert "code_dir: /gone is not a directory" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
