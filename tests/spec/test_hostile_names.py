"""A mapping or a list where a name is expected is a located type error, never `TypeError: unhashable`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.spec.hostile_cases import NAME_CASES, assert_located_rejection, validate, write


@pytest.mark.parametrize("name", sorted(NAME_CASES))
def test_a_name_of_the_wrong_type_is_a_located_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.chdir(tmp_path)
    case = NAME_CASES[name]
    code, err = validate(write(case, tmp_path))
    assert_located_rejection(code, err)
    assert case.expect in err, err
