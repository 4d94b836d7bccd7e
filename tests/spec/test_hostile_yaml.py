"""Abusive YAML (alias bombs, deep nesting, duplicate keys, a non-mapping root, huge values, NaN) is
refused with a located problem and exit 2, before anything is expanded."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.spec.hostile_cases import YAML_CASES, assert_located_rejection, validate, write


@pytest.mark.parametrize("name", sorted(YAML_CASES))
def test_abusive_yaml_is_refused_with_a_located_problem(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.chdir(tmp_path)
    case = YAML_CASES[name]
    code, err = validate(write(case, tmp_path))
    assert_located_rejection(code, err)
    assert case.expect in err, err
