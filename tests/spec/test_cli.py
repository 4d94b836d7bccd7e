"""The keel command: exit codes, messages on stderr, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from keel.cli import main
from tests.spec.conftest import ROOT


def test_validate_default_platform_prints_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(ROOT / "platform.yaml")]) == 0
    out = capsys.readouterr().out
    assert "keel-dev" in out and "vpc-env@1.0" in out and "valid (" in out


def test_validate_broken_spec_exits_2_with_every_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "platform.yaml").write_text(
        "environments:\n  - name: dev\n    template: vpc-env:1\n    spec: {nat_gateways: 70, vpc_cidr: nope}\n")
    assert main(["validate", "platform.yaml"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("platform.yaml:environments[dev].spec.nat_gateways: is greater than the maximum 3")
    assert err[1].startswith("platform.yaml:environments[dev].spec.vpc_cidr: ")
    assert err[-1] == "2 problems; nothing was synthesized."


def test_templates_lists_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["templates"]) == 0
    assert "vpc-env" in capsys.readouterr().out


def test_templates_show_renders_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["templates", "show", "vpc-env:1.0"]) == 0
    out = capsys.readouterr().out
    assert "nat_gateways" in out and ">=1 <=3" in out and "ipv4-cidr" in out


def test_templates_show_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["templates", "show", "nope"]) == 2
    assert 'unknown template "nope"' in capsys.readouterr().err


def test_app_py_exits_2_without_traceback_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("environments: 3\n")
    outdir = tmp_path / "cdk.out"
    env = {"KEEL_PLATFORM": str(tmp_path / "bad.yaml"), "CDK_OUTDIR": str(outdir), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, str(ROOT / "app.py")], cwd=ROOT, capture_output=True, text=True,
                            env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0].endswith("bad.yaml:environments: has the wrong type (got 3, expected a list)")
    assert not outdir.exists()
