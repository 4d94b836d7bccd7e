"""Values that would stop, break or hide things (a reservation of 0, control characters in tags, an
instance on an unknown environment, a load balancer without a region) are located spec errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.spec.hostile_cases import VALUE_CASES, assert_located_rejection, validate, write


@pytest.mark.parametrize("name", sorted(VALUE_CASES))
def test_a_dangerous_value_is_a_located_spec_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.chdir(tmp_path)
    case = VALUE_CASES[name]
    code, err = validate(write(case, tmp_path))
    assert_located_rejection(code, err)
    assert case.expect in err, err
