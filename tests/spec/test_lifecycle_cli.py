"""The lifecycle verbs stay fast: no aws_cdk import, and `keel bundle` refuses bad input before any synth."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from keel.cdk_context import ROOT
from tests.spec.lifecycle_helpers import keel


def test_lifecycle_modules_do_not_import_aws_cdk() -> None:
    code = ("import sys, keel.cli, keel.lifecycle.compat, keel.lifecycle.outdated, keel.lifecycle.upgrade, "
            "keel.lifecycle.docs, keel.lifecycle.proton_import, keel.lifecycle.bundle; "
            "sys.exit('aws_cdk' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_bundle_refuses_a_spec_of_the_wrong_kind(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "svc.yaml"
    spec.write_text("proton: ServiceSpec\ninstances: []\n")
    run = keel(capsys, "bundle", "vpc-env:1.1", "--out", str(tmp_path / "out"), "--spec", str(spec))
    assert (run.code, run.err.strip()) == (
        2, f"keel bundle: {spec}: expected a Proton EnvironmentSpec (proton: EnvironmentSpec) for vpc-env@1.1, "
           "got proton: ServiceSpec")


def test_bundle_reports_inputs_that_do_not_fit(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "env.yaml"
    spec.write_text("proton: EnvironmentSpec\nspec:\n  nat_gateways: 9\n")
    run = keel(capsys, "bundle", "vpc-env:1", "--out", str(tmp_path / "out"), "--spec", str(spec))
    assert run.code == 2
    assert run.err.startswith("keel bundle: the inputs do not fit vpc-env@1.3:\n")
    assert f"{spec}:spec.nat_gateways: is greater than the maximum 3 (got 9, expected at most 3)" in run.err
    assert not (tmp_path / "out" / "vpc-env-1.3").exists()


def test_bundle_of_an_unknown_version_exits_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    run = keel(capsys, "bundle", "vpc-env:3.0", "--out", str(tmp_path))
    assert (run.code, run.err.strip()) == (
        2, 'keel bundle: template "vpc-env" has no version 3.0 (available: 1.0, 1.1, 1.2, 1.3)')
