"""The lifecycle verbs: `keel bundle` (an export to Proton) is gone. That they stay fast, never importing
aws_cdk, is checked in tests/test_layering.py."""

from __future__ import annotations

import pytest

from tests.spec.lifecycle_helpers import keel


def test_bundle_is_no_longer_a_verb(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as info:
        keel(capsys, "bundle", "vpc-env:1.1", "--out", "x")
    assert info.value.code == 2 and "invalid choice: 'bundle'" in capsys.readouterr().err
