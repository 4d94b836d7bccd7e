"""CIDRs in a form EC2 would not read the same (leading zeros), or in space a VPC cannot use, are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.spec.hostile_cases import CIDR_CASES, assert_located_rejection, validate, write


@pytest.mark.parametrize("name", sorted(CIDR_CASES))
def test_a_cidr_ec2_would_refuse_is_a_spec_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.chdir(tmp_path)
    case = CIDR_CASES[name]
    code, err = validate(write(case, tmp_path))
    assert_located_rejection(code, err)
    assert case.expect in err, err
