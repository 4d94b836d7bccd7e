"""A hostile Proton-layout template folder (a platform's `template_dirs`) is a located refusal: `keel validate`
exits 2 with `file:path: message` lines, never a traceback, never a hang, never a file read from outside the
template folder. Manifests, `.compatible-envs`, acknowledgements, symlinks, version folders, Jinja that loops,
recurses or grows without end, and rendered CloudFormation of the wrong shape; then any mutation of our own
fixture (a sample here, at length under `heavy`)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.spec.hostile_cases import validate

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "proton"
ENV = Path("templates/shop-env/v1")
SVC = Path("templates/shop-svc/v1")
ENV_CF = ENV / "infrastructure" / "cloudformation.yaml"
#: `file:path: message` or `file: message`; the file may be any of a template folder's (`.compatible-envs`).
LOCATED = re.compile(r"^[^\s:]+(:[^\n]*?)?: \S.*$")


def assert_located(code: int, err: str) -> list[str]:
    assert "Traceback" not in err, err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert re.fullmatch(r"\d+ problems?; nothing was synthesized\.", lines[-1]), err
    for line in lines[:-1]:
        assert LOCATED.match(line), line
    return lines[:-1]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "p")
    (tmp_path / "p" / ".git").mkdir()
    return tmp_path / "p"


def _replace(project: Path, rel: Path, old: str, new: str) -> None:
    text = (project / rel).read_text()
    assert old in text
    (project / rel).write_text(text.replace(old, new, 1))


def _jinja(expression: str):
    return lambda p: _replace(p, ENV_CF, "{{ environment.name }}", expression)


def _resource(body: str):
    return lambda p: _replace(p, ENV_CF, "Resources:\n", "Resources:\n  X:\n    Type: AWS::SSM::Parameter\n"
                              f"    Properties:\n      Type: String\n      Value: {body}\n")


def _write(rel: Path, text: str | bytes):
    def edit(p: Path) -> None:
        (p / rel).unlink()
        (p / rel).write_bytes(text) if isinstance(text, bytes) else (p / rel).write_text(text)
    return edit


def _symlink_out(rel: Path):
    def edit(p: Path) -> None:
        secret = p.parent / "secret.txt"
        secret.write_text("root:x:0:0:TOP-SECRET\n")
        (p / rel).unlink()
        os.symlink(secret, p / rel)
    return edit


# (case, edit of the project, what the problem line says, the file it names)
CASES = [
    ("manifest infrastructure a list", _write(ENV / "infrastructure/manifest.yaml", "infrastructure: [1]\n"),
     "expected one template entry", "manifest.yaml:infrastructure.templates"),
    ("manifest names a file outside", _write(ENV / "infrastructure/manifest.yaml",
                                             "infrastructure:\n  templates:\n    - file: ../../../../platform.yaml\n"),
     "is not a file of the folder", "manifest.yaml:infrastructure.templates[0].file"),
    ("compatible-envs binary", _write(SVC / ".compatible-envs", b"\xff\xfe\x00"), "is not UTF-8 text",
     ".compatible-envs"),
    ("compatible-envs major of 5000 digits", _write(SVC / ".compatible-envs", "shop-env:" + "9" * 5000 + "\n"),
     "is not an environment template", ".compatible-envs:line 1"),
    ("compatible-envs superscript digit", _write(SVC / ".compatible-envs", "shop-env:\u00b2\n"),
     "is not an environment template", ".compatible-envs:line 1"),
    ("compatible-envs empty", _write(SVC / ".compatible-envs", "# none\n"), "lists no environment template",
     ".compatible-envs"),
    ("compatible-envs symlink out", _symlink_out(SVC / ".compatible-envs"), "leads outside its template folder",
     ".compatible-envs"),
    ("schema symlink out", _symlink_out(ENV / "schema/schema.yaml"), "leads outside its template folder",
     "schema.yaml"),
    ("acknowledgement resource a list", _write(SVC / "keel-acknowledgements.yaml",
                                               "acknowledgements:\n  - rule: AwsSolutions-SQS3\n    resource: [a]\n"
                                               "    reason: a reason long enough\n"),
     "is not a logical ID", "keel-acknowledgements.yaml:acknowledgements[0].resource"),
    ("version folder v01", lambda p: shutil.copytree(p / ENV, p / "templates/shop-env/v01"),
     "is not a version folder", "v01"),
    ("a loop of 10**9", _jinja("{% for i in range(10**9) %}x{% endfor %}"), "beyond what a template needs",
     "cloudformation.yaml"),
    ("nested loops of 10**10", _jinja("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}"
                                      "{% endfor %}"), "more than 1000000 steps", "cloudformation.yaml:line 2"),
    ("a string of 10**9", _jinja("{{ 'x' * 10**9 }}"), "would build a value beyond", "cloudformation.yaml"),
    ("a doubling string", _jinja("{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
                                 "{% endfor %}"), "a value grows beyond", "cloudformation.yaml"),
    ("center(10**9)", _jinja("{{ 'x'|center(10**9) }}"), "beyond what a template needs", "cloudformation.yaml"),
    ("recursive macro", _jinja("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"),
     "recursive too deeply", "cloudformation.yaml"),
    ("division by zero", _jinja("{{ 1 / 0 }}"), "ZeroDivisionError", "cloudformation.yaml:line 2"),
    ("include of a file outside", _jinja("{% include '/etc/passwd' %}"), "cannot render", "cloudformation.yaml"),
    ("forged list marker", lambda p: _replace(p, ENV_CF, "Resources:\n", "Resources:\n  \u27e6keel-list:{bad\u27e7\n"),
     "not YAML", "cloudformation.yaml"),
    ("!GetAtt of a number", _resource("!GetAtt 5"), "Fn::GetAtt has the wrong shape",
     "cloudformation.yaml:Resources.X.Properties.Value.Fn::GetAtt"),
    ("!Sub [1]", _resource("!Sub [1]"), "Fn::Sub has the wrong shape", "cloudformation.yaml:Resources.X"),
    ("!Ref to nothing", _resource("!Ref Nope"), "refers to nothing the template defines", "Resources.X"),
    ("an output without Value", lambda p: _replace(p, ENV_CF, "Outputs:\n", "Outputs:\n  Bad: 5\n"),
     "is not an output", "cloudformation.yaml:Outputs.Bad"),
    ("a resource without Type", lambda p: _replace(p, ENV_CF, "Resources:\n", "Resources:\n  X: {Properties: {}}\n"),
     "is not a resource", "cloudformation.yaml:Resources.X"),
]


@pytest.mark.parametrize(("edit", "message", "where"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_hostile_template_folder_is_a_located_problem(project: Path, edit, message: str, where: str) -> None:
    edit(project)
    lines = assert_located(*validate(project / "platform.yaml"))
    assert any(where in line and message in line for line in lines), lines
    assert not any("TOP-SECRET" in line for line in lines)


# -- any mutation of our own fixture: valid, or refused with located problems -----------------------------
FILES = sorted(p.relative_to(FIXTURE) for p in (FIXTURE / "templates").rglob("*") if p.is_file())
SNIPPETS = st.sampled_from([
    "{{ nope }}", "{% for i in range(10**6) %}{% endfor %}", "{{ 'x' * 10**7 }}", "{% if %}", "{{ 1/0 }}",
    "  X: !GetAtt 5", "  Y: !Sub [1, 2, 3]", "Resources: [1]", "- a", ": :", "&a [*a]", "*nope", "{{", "%}",
    "{% include 'x' %}", "{{ ''.__class__ }}", "\u27e6keel-list:[\u27e7", "\t", "\x00", "infrastructure: 5",
    "shop-env:x", "!!python/object:os.system", "Outputs: {A: {Value: !Ref Z}}", "{{ environment.outputs.Z }}",
]) | st.text(max_size=20)


def mutation_never_crashes(data: st.DataObject, root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(FIXTURE, root)
    (root / ".git").mkdir()
    for _ in range(data.draw(st.integers(1, 2))):
        file = root / data.draw(st.sampled_from(FILES))
        lines = file.read_text().splitlines()
        at = data.draw(st.integers(0, len(lines)))
        snippet = data.draw(SNIPPETS)
        if data.draw(st.booleans()) and at < len(lines):
            lines[at] = snippet
        else:
            lines.insert(at, snippet)
        file.write_text("\n".join(lines) + "\n")
    code, err = validate(root / "platform.yaml")
    if code != 0:
        assert_located(code, err)


SLOW = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


@settings(max_examples=6, deadline=None, suppress_health_check=SLOW)
@given(data=st.data())
def test_a_mutated_proton_fixture_validates_or_is_refused_with_its_place(data: st.DataObject, tmp_path: Path) -> None:
    mutation_never_crashes(data, tmp_path / "p")


@pytest.mark.heavy
@settings(max_examples=300, deadline=None, suppress_health_check=SLOW)
@given(data=st.data())
def test_a_mutated_proton_fixture_validates_or_is_refused_with_its_place_at_length(data: st.DataObject,
                                                                                   tmp_path: Path) -> None:
    mutation_never_crashes(data, tmp_path / "p")
