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


def test_a_name_with_control_characters_keeps_every_problem_on_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the fuzzer: a newline in an environment name split the "expected one of" list over lines."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "platform.yaml").write_text(
        'environments:\n  - {name: "10.0.0.0/16\\n\\u001b[31m", template: "vpc-env:1"}\n'
        "services:\n  - name: web\n    template: lambda-api-svc:1\n"
        "    instances: [{name: web-dev, environment: dev}]\n")
    code, err = validate(tmp_path / "platform.yaml")
    assert_located_rejection(code, err)
    assert "\x1b" not in err and '10.0.0.0/16\\n\\u001b[31m' in err
    assert 'unknown environment "dev" (expected one of: 10.0.0.0/16\\n\\u001b[31m)' in err, err
