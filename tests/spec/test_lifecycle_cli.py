"""The lifecycle verbs stay fast: no aws_cdk import; `keel bundle` (an export to Proton) is gone."""

from __future__ import annotations

import subprocess
import sys

import pytest

from keel.cdk_context import ROOT
from tests.spec.lifecycle_helpers import keel


def test_lifecycle_modules_do_not_import_aws_cdk() -> None:
    code = ("import sys, keel.cli, keel.lifecycle.compat, keel.lifecycle.outdated, keel.lifecycle.upgrade, "
            "keel.lifecycle.docs, keel.lifecycle.proton_import; "
            "sys.exit('aws_cdk' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_bundle_is_no_longer_a_verb(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as info:
        keel(capsys, "bundle", "vpc-env:1.1", "--out", "x")
    assert info.value.code == 2 and "invalid choice: 'bundle'" in capsys.readouterr().err
