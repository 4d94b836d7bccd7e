"""What a platform engineer meets first: every problem named once, clean exits, docs that match the code."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from keel.cli import main, parser
from tests.spec.conftest import FIXTURES, ROOT, Platform


def test_every_unknown_key_of_one_mapping_is_reported(platform: Platform) -> None:
    lines = platform.problems("""
        environments:
          - name: dev
            template: vpc-env:1
            spec: {vpc_cidrr: 10.0.0.0/16, natgw: 1, zzz: 2}
    """)
    assert [line.split(": ")[0] for line in lines] == [
        "platform.yaml:environments[dev].spec.natgw",
        "platform.yaml:environments[dev].spec.vpc_cidrr",
        "platform.yaml:environments[dev].spec.zzz",
    ]


def test_every_missing_required_key_is_named_once(platform: Platform) -> None:
    lines = platform.problems("""
        environments:
          - {}
    """)
    assert lines == [
        "platform.yaml:environments[0].name: required input is missing (expected a string)",
        "platform.yaml:environments[0].template: required input is missing (expected a string)",
    ]


def test_every_unknown_key_of_the_platform_file_is_reported(platform: Platform) -> None:
    lines = platform.problems("""
        environments:
          - {name: dev, template: vpc-env:1, tempalte: x, regoin: y}
    """)
    assert [line.split(": ")[0] for line in lines] == [
        "platform.yaml:environments[dev].regoin",
        "platform.yaml:environments[dev].tempalte",
    ]


# A Python process each (~4 s CPU): make test runs one command that writes a table and one help text; the other
# commands, which end through the same handler, run in make conformance (`heavy`).
_HEAVY = pytest.mark.heavy


@pytest.mark.parametrize(("argv", "code"), [
    pytest.param(["templates"], 141, marks=_HEAVY), (["templates", "show", "vpc-env"], 141),
    pytest.param(["validate"], 141, marks=_HEAVY), pytest.param(["outdated", "--all"], 141, marks=_HEAVY),
    pytest.param(["templates", "check"], 141, marks=_HEAVY), (["--help"], 0),
    pytest.param(["docs", "--help"], 0, marks=_HEAVY),  # argparse drops help it cannot write
])
def test_a_closed_stdout_pipe_ends_quietly(argv: list[str], code: int) -> None:
    """`keel templates show vpc-env | head -3`: the reader leaves; no traceback, the SIGPIPE exit code."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before keel writes its first byte
    try:
        result = subprocess.run([sys.executable, "-m", "keel", *argv], cwd=ROOT, stdout=write,
                                stderr=subprocess.PIPE, text=True, check=False)
    finally:
        os.close(write)
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr, result.stderr
    assert result.returncode == code


def test_committed_template_docs_match_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/templates is generated (`keel docs --out docs/templates`); it can never drift from the registry."""
    assert main(["docs", "--check", "--out", str(ROOT / "docs" / "templates")]) == 0, capsys.readouterr().err


def test_docs_check_reports_a_page_of_a_version_the_registry_no_longer_has(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["docs", "--out", str(tmp_path)]) == 0
    (tmp_path / "vpc-env" / "0.9.md").write_text("# vpc-env 0.9\n")
    assert main(["docs", "--check", "--out", str(tmp_path)]) == 1
    assert f"{tmp_path}/vpc-env/0.9.md: no such template version in the registry (delete the page)" \
        in capsys.readouterr().err.splitlines()


def test_templates_show_with_a_malformed_version_names_the_accepted_forms(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["templates", "show", "vpc-env:abc"]) == 2
    assert capsys.readouterr().err == ('keel templates show: "vpc-env:abc" is not NAME, NAME:MAJOR or NAME:MAJOR.MINOR '
                                       "(e.g. vpc-env, vpc-env:1, vpc-env:1.2)\n")


def test_templates_list_refuses_a_name_instead_of_ignoring_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["templates", "list", "vpc-env"]) == 2
    assert "did you mean `keel templates show vpc-env`?" in capsys.readouterr().err


def test_templates_list_and_show_use_the_registry_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["templates", "--registry", str(FIXTURES)]) == 0
    assert "web-svc" in capsys.readouterr().out
    assert main(["templates", "show", "web-svc:1.0", "--registry", str(FIXTURES)]) == 0
    assert capsys.readouterr().out.startswith("web-svc@1.0 (service)")


VERBS = ["validate", "templates", "report", "outdated", "upgrade", "import-proton", "import-copilot", "docs",
         "diff", "status", "logs", "exec", "secret", "param", "history", "diagram"]


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_help_explains_each_argument_and_its_exit_codes(verb: str) -> None:
    verb_parser = parser()._subparsers._group_actions[0].choices[verb]  # type: ignore[union-attr]
    undocumented = [a.dest for a in verb_parser._actions if not a.help]
    assert undocumented == []
    assert "Exit 0" in (verb_parser.description or "") or "Exit codes: 0" in (verb_parser.description or "")


def test_top_level_help_lists_every_verb_and_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(f"    {verb} " in out or f"    {verb}\n" in out for verb in VERBS)
    assert "exit codes: 0 done; 1 a check found something" in out


def test_cdk_verbs_run_jsii_on_the_projects_node_not_the_machines(monkeypatch: pytest.MonkeyPatch) -> None:
    from keel.cdk_context import project_node_first

    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    project_node_first()
    first = os.environ["PATH"].split(os.pathsep)[0]
    assert first == str(ROOT / "node_modules" / ".bin") and Path(first, "node").exists()
    project_node_first()  # once is enough
    assert os.environ["PATH"].count("node_modules") == 1


def test_readme_templates_table_names_only_real_template_versions() -> None:
    """The README describes templates in words; the complete list is the generated index (docs/templates/,
    held to the registry by `keel docs --check`), so a new template needs no README edit, and a README row
    can never describe a version that does not exist."""
    from keel.spec.registry import default_registry

    rows = [line.split("|")[1] for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `")]
    listed = {pair for cell in rows for pair in re.findall(r"`([a-z0-9-]+)` ([0-9]+\.[0-9]+)", cell)}
    assert listed and listed <= {(v.name, str(v.version)) for v in default_registry().all_versions()}


def test_the_generated_index_lists_every_template_version() -> None:
    from keel.spec.registry import default_registry

    index = (ROOT / "docs" / "templates" / "index.md").read_text()
    assert all(f"[{v.name} {v.version}]" in index for v in default_registry().all_versions())


def test_readme_command_table_names_only_real_verbs() -> None:
    verbs = set(parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    named = set(re.findall(r"^\| `keel ([a-z-]+)", (ROOT / "README.md").read_text(), flags=re.M))
    assert named == verbs


def test_an_empty_platform_file_is_called_empty(platform: Platform) -> None:
    assert platform.problems("") == [
        'platform.yaml: the platform file must be a mapping (got "an empty file", expected keys name, '
        "environments, services)"]
