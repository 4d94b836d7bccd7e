"""Event patterns EventBridge would refuse (and NaN or infinite numbers in them) are spec errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.spec.hostile_cases import PATTERN_CASES, assert_located_rejection, validate, write


@pytest.mark.parametrize("name", sorted(PATTERN_CASES))
def test_an_event_pattern_eventbridge_refuses_is_a_spec_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.chdir(tmp_path)
    case = PATTERN_CASES[name]
    code, err = validate(write(case, tmp_path))
    assert_located_rejection(code, err)
    assert case.expect in err, err
