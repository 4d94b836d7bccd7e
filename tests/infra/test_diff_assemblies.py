"""`keel diff` on real synthesized assemblies: two test platforms with known differences, and the whole
command against a git ref in a throwaway repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from keel.cdk_context import ROOT
from keel.delivery.assembly import read_assembly
from keel.delivery.diff import StackDiff, diff_assemblies
from keel.delivery.gate import evaluate
from keel.delivery.summary import DiffReport, render_markdown
from tests.infra.conftest import synthesize

PLATFORMS = ROOT / "tests" / "infra" / "platforms"


@pytest.fixture(scope="module")
def diffs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, StackDiff]]:
    base = synthesize(PLATFORMS / "diff-base.yaml", tmp_path_factory.mktemp("base.out")).outdir
    head = synthesize(PLATFORMS / "diff-head.yaml", tmp_path_factory.mktemp("head.out")).outdir
    yield {d.stack: d for d in diff_assemblies(read_assembly(base), read_assembly(head))}


def _types(diff: StackDiff, action: str) -> set[str]:
    return {c.type for c in diff.changes if c.action == action}


def test_the_vpc_cidr_change_replaces_the_vpc_and_its_subnets(diffs: dict[str, StackDiff]) -> None:
    assert {"AWS::EC2::VPC", "AWS::EC2::Subnet"} <= _types(diffs["keel-dev"], "replace")


def test_the_new_endpoint_is_the_only_addition(diffs: dict[str, StackDiff]) -> None:
    assert [(c.type, c.action) for c in diffs["keel-dev"].changes if c.action == "add"] == [
        ("AWS::EC2::VPCEndpoint", "add")]


def test_resources_in_the_replaced_vpc_are_replaced_too(diffs: dict[str, StackDiff]) -> None:
    route_tables = [c for c in diffs["keel-dev"].changes if c.type == "AWS::EC2::RouteTable"]
    assert route_tables and all(c.action == "replace" and "references replaced Network" in c.reasons[0]
                                for c in route_tables)


def test_the_flow_log_retention_is_an_in_place_update(diffs: dict[str, StackDiff]) -> None:
    logs = [c for c in diffs["keel-dev"].changes if c.type == "AWS::Logs::LogGroup"]
    assert [(c.action, c.properties) for c in logs] == [("update", ("RetentionInDays",))]


def test_the_dropped_environment_is_a_removed_stack(diffs: dict[str, StackDiff]) -> None:
    assert diffs["keel-qa"].status == "removed"


def test_the_gate_blocks_the_vpc_subnets_and_the_stack(diffs: dict[str, StackDiff]) -> None:
    gate = evaluate(diffs.values())
    blocked = {(f.stack, f.type) for f in gate.blocking}
    assert blocked == {("keel-dev", "AWS::EC2::VPC"), ("keel-dev", "AWS::EC2::Subnet"),
                       ("keel-qa", "AWS::CloudFormation::Stack")}


def test_the_gate_passes_once_a_reviewer_allows_each(diffs: dict[str, StackDiff]) -> None:
    assert evaluate(diffs.values(), ["keel-dev/Network*", "keel-qa"]).passed


def test_the_summary_reports_the_endpoint_rule_moving_to_the_new_cidr(diffs: dict[str, StackDiff]) -> None:
    report = DiffReport(base="base", head="head", stacks=tuple(diffs.values()), gate=evaluate(diffs.values()))
    text = render_markdown(report)
    assert "| - | `NetworkEndpointSecurityGroup6DEF6240` | in tcp 443 from 10.50.0.0/16 |" in text
    assert "| + | `NetworkEndpointSecurityGroup6DEF6240` | in tcp 443 from 10.51.0.0/16 |" in text


def test_the_summary_lists_iam_statements_a_removed_stack_takes_away(diffs: dict[str, StackDiff]) -> None:
    report = DiffReport(base="base", head="head", stacks=tuple(diffs.values()), gate=evaluate(diffs.values()))
    assert "| - | `NetworkFlowLogIAMRoleB81B1E82` | Allow sts:AssumeRole to Service:vpc-flow-logs.amazonaws.com |" \
        in render_markdown(report)


@pytest.mark.slow
@pytest.mark.heavy  # a whole second synth (two, for the diff): make conformance
def test_keel_diff_against_a_git_ref_blocks_and_explains(tmp_path: Path) -> None:
    """The whole command: the base commit exported with git archive and synthesized beside the working tree."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("app.py", "cdk.json"):
        shutil.copy(ROOT / name, repo / name)
    shutil.copytree(ROOT / "keel", repo / "keel", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(PLATFORMS / "diff-base.yaml", repo / "platform.yaml")
    git = ["git", "-c", "user.name=keel", "-c", "user.email=keel@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], cwd=repo, check=True)
    shutil.copy(PLATFORMS / "diff-head.yaml", repo / "platform.yaml")
    env = {**os.environ, "PYTHONPATH": str(repo), "PATH": f"{ROOT / 'node_modules' / '.bin'}:{os.environ['PATH']}"}
    result = subprocess.run([sys.executable, "-m", "keel", "diff", "--markdown", "diff.md"],
                            cwd=repo, env=env, capture_output=True, text=True)
    assert result.returncode == 1, result.stdout + result.stderr
    # the VPC, its four subnets and the qa stack
    assert "Destructive-change gate: FAILED: 6 destructive change(s) not allowed." in result.stdout
    summary = (repo / "diff.md").read_text()
    assert summary.startswith("## Keel diff `merge base with main (")
    assert "| `keel-qa` | `*` | `AWS::CloudFormation::Stack` | remove stack | ❌ blocked |" in summary
    # Both trees went through `keel synth` and the working tree's cache: the base ref's stacks are kept there
    # (keyed by the base's own code), so the next diff against it rebuilds nothing of it.
    pieces = [p for p in (repo / ".keel-cache" / "synth").iterdir() if (p / "piece.json").exists()]
    assert len(pieces) == 3  # keel-dev and keel-qa of the base, keel-dev of the head (its VPC changed)
