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


def test_local_ci_runs_make_test_then_conformance() -> None:
    lines = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert lines[-2:] == [commands.TEST, commands.CONFORMANCE]


def _step(job: dict[str, Any], name: str) -> tuple[int, dict[str, Any]]:
    return next((i, s) for i, s in enumerate(job["steps"]) if s.get("name") == name)


def test_conformance_runs_on_reference_data_fetched_just_before(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["check"]
    fetch_at, fetch = _step(job, "Fetch the reference data")
    run_at, run = _step(job, "Conformance")
    assert run["run"] == commands.CONFORMANCE and run_at == fetch_at + 1
    assert run["env"]["KEEL_REFERENCE_DATA"] == fetch["env"]["DATA"]


def test_reference_data_comes_from_the_public_repositories_at_the_pinned_commits(workflow: dict[str, Any]) -> None:
    _, fetch = _step(workflow["jobs"]["check"], "Fetch the reference data")
    script = fetch["run"]
    assert (fetch["env"]["PROTON_SAMPLES_COMMIT"], fetch["env"]["COPILOT_COMMIT"]) == ("7780cf7", "4c858e7")
    for repo, commit in [("aws-samples/aws-proton-cloudformation-sample-templates", "PROTON_SAMPLES_COMMIT"),
                         ("aws/copilot-cli", "COPILOT_COMMIT"), ("aws/eks-anywhere", "EKSA_BEFORE")]:
        assert f"https://github.com/{repo}.git" in script and f"${commit}" in script


def test_reference_data_is_laid_out_as_the_conformance_tests_expect(workflow: dict[str, Any]) -> None:
    from tests.conformance.reference_data import DATA_SETS

    _, fetch = _step(workflow["jobs"]["check"], "Fetch the reference data")
    script = fetch["run"]
    assert '$DATA/eks-anywhere-crds' in script and 'P="$DATA/proton-samples"' in script
    assert 'C="$DATA/copilot-manifests"' in script
    for data_set in DATA_SETS:
        assert data_set.name in script
    for folder in ("manifest-testdata", "stack-testdata", "environment-templates", "service-templates",
                   "lambda-multi-svc"):
        assert folder in script
    assert "git add" not in script and "git commit" not in script  # fetched into the runner's temp only


def test_pipeline_synth_is_the_makefile_synth() -> None:
    assert commands.synth("platform.yaml") == "make synth"
    assert "synth" in _make_targets() and "diff" in _make_targets()
