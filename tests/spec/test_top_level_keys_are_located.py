"""Every top-level key of the platform file with a wrong-typed value is one located problem,
`platform.yaml:<key>: ... (got ..., expected ...)`, exit 2: never a traceback, never a second, vaguer problem
from reading the wrong value anyway (`template_dirs: 5` was a TypeError; `template_dirs: x` also said
`template_dirs[0]: is not a folder`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.spec.lifecycle_helpers import keel

ENVIRONMENT = """\
  - name: dev
    template: vpc-env:1
    region: eu-west-1
    availability_zones: [eu-west-1a, eu-west-1b]
    spec:
      vpc_cidr: 10.20.0.0/16
"""

CASES = [
    ("name: [x]", 'platform.yaml:name: has the wrong type (got ["x"], expected a string)'),
    ("name: 5", "platform.yaml:name: has the wrong type (got 5, expected a string)"),
    ("description: {a: 1}", 'platform.yaml:description: has the wrong type (got {"a": 1}, expected a string)'),
    ("environments: 5", "platform.yaml:environments: has the wrong type (got 5, expected a list)"),
    ("environments: {a: 1}", 'platform.yaml:environments: has the wrong type (got {"a": 1}, expected a list)'),
    ("services: {a: 1}", 'platform.yaml:services: has the wrong type (got {"a": 1}, expected a list)'),
    ("services: [5]", "platform.yaml:services[0]: has the wrong type (got 5, expected a mapping)"),
    ("services:", "platform.yaml:services: has the wrong type (got null, expected a list)"),
    ("template_dirs: x", 'platform.yaml:template_dirs: has the wrong type (got "x", expected a list)'),
    ("template_dirs: 5", "platform.yaml:template_dirs: has the wrong type (got 5, expected a list)"),
    ("template_dirs: {a: 1}", 'platform.yaml:template_dirs: has the wrong type (got {"a": 1}, expected a list)'),
    ("template_dirs: [5]",
     "platform.yaml:template_dirs[0]: has the wrong type (got 5, expected a string or a mapping)"),
    ("template_dirs: [[x]]",
     'platform.yaml:template_dirs[0]: has the wrong type (got ["x"], expected a string or a mapping)'),
    ("template_dirs: [{path: 5}]",
     "platform.yaml:template_dirs[0].path: has the wrong type (got 5, expected a string)"),
    ("delivery: []", "platform.yaml:delivery: has the wrong type (got [], expected a mapping)"),
    ("delivery: x", 'platform.yaml:delivery: has the wrong type (got "x", expected a mapping)'),
    ("compliance: 3", "platform.yaml:compliance: has the wrong type (got 3, expected a mapping)"),
    ("compliance: {imported: x}",
     'platform.yaml:compliance.imported: is not an allowed value (got "x", expected one of "fail", "report")'),
    # an unknown key has no type to expect: it is named with the keys there are (as everywhere in Keel)
    ("config: 3", "platform.yaml:config: unknown input (expected one of: compliance, delivery, description, "
     "environments, name, services, template_dirs)"),
]


def _platform(tmp_path: Path, line: str) -> Path:
    key = line.split(":", 1)[0]
    text = f"{line}\n" if key == "environments" else f"environments:\n{ENVIRONMENT}{line}\n"
    if key != "name":
        text = "name: demo\n" + text
    path = tmp_path / "platform.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("line", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_wrong_typed_top_level_key_is_one_located_problem(tmp_path, capsys, monkeypatch, line,
                                                            expected) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    _platform(tmp_path, line)
    run = keel(capsys, "validate", "platform.yaml")
    assert run.code == 2
    assert [ln for ln in run.err.splitlines() if ln.startswith("platform.yaml:")] == [expected], run.err
    assert "Traceback" not in run.err + run.out


@pytest.mark.parametrize("line", ["template_dirs: 5", "template_dirs: [5]"])
def test_upgrade_reports_a_wrong_typed_template_dirs_and_writes_nothing(tmp_path, capsys, monkeypatch,
                                                                        line) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    before = _platform(tmp_path, line).read_bytes()
    run = keel(capsys, "upgrade", "platform.yaml", "--to", "vpc-env:1")
    assert run.code == 2, run.err
    assert "platform.yaml:template_dirs" in run.err and "has the wrong type" in run.err
    assert (tmp_path / "platform.yaml").read_bytes() == before


@pytest.mark.parametrize(("line", "expected"), [
    ("template_dirs: 5", "platform.yaml:template_dirs: has the wrong type (got 5, expected a list)"),
    ("template_dirs: [{path: t, prefix: 5}]",
     "platform.yaml:template_dirs[0].prefix: has the wrong type (got 5, expected a string)"),
])
@pytest.mark.parametrize("verb", [["outdated", "platform.yaml"], ["templates", "--platform", "platform.yaml"]])
def test_verbs_that_read_template_dirs_judge_it_as_validate_does(tmp_path, capsys, monkeypatch, verb, line,
                                                                 expected) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t").mkdir()
    _platform(tmp_path, line)
    run = keel(capsys, *verb)
    assert run.code == 2 and expected in run.err.splitlines(), run.err


@pytest.mark.parametrize(("line", "got"), [("environments: 5", "5"), ("services: {a: 1}", '{"a": 1}')])
def test_outdated_names_a_wrong_typed_section(tmp_path, capsys, monkeypatch, line, got) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    _platform(tmp_path, line)
    run = keel(capsys, "outdated", "platform.yaml")
    key = line.split(":", 1)[0]
    assert run.code == 2
    assert run.err == f"keel outdated: platform.yaml:{key}: has the wrong type (got {got}, expected a list)\n"
