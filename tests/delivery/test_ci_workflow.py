"""The GitHub workflow runs the Makefile targets a developer runs, and the pipelines run the same ones."""

from __future__ import annotations

import re
from typing import Any

import pytest
from ruamel.yaml import YAML

from keel.cdk_context import ROOT
from keel.contract import pipeline as commands


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return YAML(typ="safe").load((ROOT / ".github" / "workflows" / "ci.yml").read_text())  # type: ignore[no-any-return]


def _runs(job: dict[str, Any]) -> list[str]:
    return [step["run"].strip() for step in job["steps"] if "run" in step]


def _uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]


def _make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))


def test_every_make_command_in_the_workflow_is_a_makefile_target(workflow: dict[str, Any]) -> None:
    used = {m for job in workflow["jobs"].values() for run in _runs(job) for m in re.findall(r"\bmake (\w+)", run)}
    assert used and used <= _make_targets()


def test_checks_run_lint_test_synth_and_compliance_in_order(workflow: dict[str, Any]) -> None:
    runs = _runs(workflow["jobs"]["check"])
    assert runs[:4] == ["make setup", commands.LINT, commands.TEST, commands.synth("platform.yaml")]
    assert ".venv/bin/python -m keel report cdk.out" in runs


def test_installs_are_cached(workflow: dict[str, Any]) -> None:
    steps = {s["uses"].split("@")[0]: s.get("with", {}) for s in workflow["jobs"]["check"]["steps"] if "uses" in s}
    assert steps["actions/setup-python"]["cache"] == "pip"
    assert steps["actions/setup-node"]["cache"] == "npm"
    assert "actions/cache" in steps


def test_pull_requests_get_the_diff_as_a_comment_and_the_gate(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["diff"]
    assert job["if"] == "github.event_name == 'pull_request'"
    assert job["permissions"]["pull-requests"] == "write"
    diff = next(r for r in _runs(job) if commands.DIFF in r)
    assert "BASE=origin/${{ github.base_ref }}" in diff and "--markdown keel-diff.md" in diff
    assert "actions/github-script" in _uses(job)
    assert next(s for s in job["steps"] if "checkout" in s.get("uses", ""))["with"]["fetch-depth"] == 0
    gate = _runs(job)[-1]
    assert "1)" in gate and "exit 1" in gate and "exit 2" in gate


def test_main_deploys_through_an_oidc_role(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["deploy"]
    assert job["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert job["permissions"]["id-token"] == "write"
    creds = next(s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials"))
    assert creds["with"]["role-to-assume"] == "${{ vars.KEEL_DEPLOY_ROLE_ARN }}"
    assert "aws-access-key-id" not in creds["with"]  # no long-lived keys
    assert _runs(job)[-1] == "make deploy"


def test_workflow_token_is_read_only_by_default(workflow: dict[str, Any]) -> None:
    assert workflow["permissions"] == {"contents": "read"}


def test_local_ci_runs_make_test() -> None:
    assert (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1] == commands.TEST


def test_pipeline_synth_is_the_makefile_synth() -> None:
    assert commands.synth("platform.yaml") == "make synth"
    assert "synth" in _make_targets() and "diff" in _make_targets()
