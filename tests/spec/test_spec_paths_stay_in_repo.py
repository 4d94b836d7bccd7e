"""Every path a spec names (spec_file, code_dir, api_contract) stays inside the platform's repository:
no `..` out, no absolute path elsewhere, no symlink out; the refused file's contents are never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.spec.hostile_cases import PATH_CASES, assert_located_rejection, validate, write


@pytest.mark.parametrize("name", sorted(PATH_CASES))
def test_a_path_out_of_the_project_is_refused_without_showing_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.chdir(tmp_path)
    case = PATH_CASES[name]
    code, err = validate(write(case, tmp_path))
    assert_located_rejection(code, err)
    assert case.expect in err, err
