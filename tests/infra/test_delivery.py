"""Delivery stacks on tests/infra/platforms/delivery.yaml: the platform pipeline and a service pipeline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from keel.cdk_context import ROOT, cli_context
from keel.contract import pipeline as commands
from keel.delivery.assembly import StackTemplate, read_assembly
from keel.spec import load_platform
from keel.stacks.app import build
from tests.infra.conftest import cfn_lint, mask_hashes, open_findings
from tests.infra.templates import registry

PLATFORM = Path("tests/infra/platforms/delivery.yaml")


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, StackTemplate]]]:
    model = replace(load_platform(ROOT / PLATFORM, registry=registry()), source=str(PLATFORM))  # as from the repo
    outdir = tmp_path_factory.mktemp("delivery.out")
    app = cdk.App(context=cli_context(), outdir=str(outdir), builtin_cloud_formation_validation=False)
    build(app, model)
    app.synth()
    yield outdir, read_assembly(outdir)


@pytest.fixture(scope="module")
def pipeline(assembly: tuple[Path, dict[str, StackTemplate]]) -> Template:
    return Template.from_json(assembly[1]["keel-delivery-pipeline"].template)


@pytest.fixture(scope="module")
def service_pipeline(assembly: tuple[Path, dict[str, StackTemplate]]) -> Template:
    return Template.from_json(assembly[1]["keel-checkout-pipeline"].template)


@pytest.fixture(scope="module")
def lambda_pipeline(assembly: tuple[Path, dict[str, StackTemplate]]) -> Template:
    return Template.from_json(assembly[1]["keel-reports-pipeline"].template)


def _stages(template: Template) -> list[dict[str, Any]]:
    (pipe,) = template.find_resources("AWS::CodePipeline::Pipeline").values()
    return pipe["Properties"]["Stages"]  # type: ignore[no-any-return]


def test_environments_are_deployed_by_stages_of_the_pipeline(assembly: tuple[Path, dict[str, StackTemplate]]) -> None:
    assert sorted(assembly[1]) == sorted([
        "keel-delivery-pipeline", "keel-checkout-pipeline", "keel-reports-pipeline", "dev/keel-dev",
        "dev/keel-checkout-checkout-dev", "dev/keel-reports-reports-dev", "staging/keel-staging", "prod/keel-prod",
        "prod/keel-checkout-checkout-prod"])


def test_pipeline_stages_follow_the_spec_order(pipeline: Template) -> None:
    names = [s["Name"] for s in _stages(pipeline)]
    assert names == ["Source", "Build", "UpdatePipeline", "Assets", "dev", "staging", "prod"]


def test_only_production_waits_for_a_manual_approval(pipeline: Template) -> None:
    manual = {s["Name"]: [a["Name"] for a in s["Actions"] if a["ActionTypeId"]["Provider"] == "Manual"]
              for s in _stages(pipeline)}
    assert manual["prod"] == ["Approve-prod"]
    assert manual["dev"] == [] and manual["staging"] == []
    (approve,) = [a for s in _stages(pipeline) if s["Name"] == "prod" for a in s["Actions"]
                  if a["ActionTypeId"]["Provider"] == "Manual"]
    assert approve["RunOrder"] == 1  # before anything in prod is deployed


def test_source_is_the_platform_repository_through_the_connection(pipeline: Template) -> None:
    source = _stages(pipeline)[0]["Actions"][0]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"] == {
        "ConnectionArn": "arn:aws:codestar-connections:eu-west-1:333333333333:connection/"
                         "0a1b2c3d-4e5f-6789-abcd-ef0123456789",
        "FullRepositoryId": "acme/shop-platform", "BranchName": "main"}


def test_synth_step_runs_make_synth_for_the_platform(pipeline: Template) -> None:
    pipeline.has_resource_properties("AWS::CodeBuild::Project", {"Source": {"BuildSpec": Match.serialized_json(
        Match.object_like({"phases": {"build": {"commands": [commands.synth(str(PLATFORM))]}},
                           "artifacts": {"base-directory": "cdk.out", "files": "**/*"}}))}})
    assert commands.synth(str(PLATFORM)) == f"make synth PLATFORM={PLATFORM}"


def test_pipeline_mutates_itself_with_the_pinned_cli(pipeline: Template) -> None:
    pipeline.has_resource_properties("AWS::CodeBuild::Project", {"Source": {"BuildSpec": Match.serialized_json(
        Match.object_like({"phases": {"install": {"commands": [f"npm install -g aws-cdk@{commands.CDK_CLI_VERSION}"]},
                                      "build": Match.any_value()}}))}})


def test_pinned_cli_is_the_package_json_one() -> None:
    package = json.loads((ROOT / "package.json").read_text())
    assert package["devDependencies"]["aws-cdk"] == commands.CDK_CLI_VERSION


def test_cross_account_stages_get_a_rotated_artifact_key(pipeline: Template) -> None:
    pipeline.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    prod = next(s for s in _stages(pipeline) if s["Name"] == "prod")
    deploy = next(a for a in prod["Actions"] if a["Name"].endswith("keel-prod.Deploy"))
    assert "222222222222" in json.dumps(deploy["RoleArn"])


def test_service_pipeline_builds_from_the_service_repository(service_pipeline: Template) -> None:
    source = _stages(service_pipeline)[0]["Actions"]
    assert {a["Name"]: a["Configuration"]["FullRepositoryId"] for a in source} == {
        "Service": "acme/checkout", "Platform": "acme/shop-platform"}
    assert {a["Name"]: a["Configuration"]["BranchName"] for a in source} == {"Service": "release", "Platform": "main"}


def test_service_build_uses_the_proton_pipeline_inputs(service_pipeline: Template) -> None:
    service_pipeline.has_resource_properties("AWS::CodeBuild::Project", {"Environment": Match.object_like({
        "PrivilegedMode": True,
        "EnvironmentVariables": Match.array_with([
            {"Name": "SERVICE_DIR", "Type": "PLAINTEXT", "Value": "checkout"},
            {"Name": "DOCKERFILE", "Type": "PLAINTEXT", "Value": "Dockerfile.prod"},
            {"Name": "UNIT_TEST_COMMAND", "Type": "PLAINTEXT", "Value": "make unit"}])})})


def test_images_go_to_a_scanned_immutable_repository_of_the_service(service_pipeline: Template) -> None:
    service_pipeline.has_resource("AWS::ECR::Repository", {
        "Properties": Match.object_like({"ImageScanningConfiguration": {"ScanOnPush": True},
                                         "ImageTagMutability": "IMMUTABLE"}),
        "DeletionPolicy": "Retain"})


def test_service_instances_deploy_in_environment_order_with_approval_before_production(
        service_pipeline: Template) -> None:
    stages = {s["Name"]: s["Actions"] for s in _stages(service_pipeline)}
    assert list(stages) == ["Source", "Build", "Deploy-dev", "Deploy-prod"]
    assert [a["ActionTypeId"]["Provider"] for a in stages["Deploy-prod"]] == ["Manual", "CodeBuild"]
    assert [a["ActionTypeId"]["Provider"] for a in stages["Deploy-dev"]] == ["CodeBuild"]
    env = json.loads(stages["Deploy-prod"][1]["Configuration"]["EnvironmentVariables"])
    assert {e["name"]: e["value"] for e in env} == {"STACKS": "keel-checkout-checkout-prod",
                                                    "IMAGE_URI": "#{Build.IMAGE_URI}"}


def test_deploy_role_may_assume_only_the_targets_bootstrap_roles(service_pipeline: Template) -> None:
    policies = service_pipeline.find_resources("AWS::IAM::Policy")
    assumed = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]
               if s["Action"] == "sts:AssumeRole"]
    resources = json.dumps([s["Resource"] for s in assumed])
    assert "cdk-hnb659fds-deploy-role-111111111111-eu-west-1" in resources
    assert "cdk-hnb659fds-deploy-role-222222222222-eu-west-1" in resources
    assert "*" not in resources


def test_production_account_may_pull_the_image(service_pipeline: Template) -> None:
    (repo,) = service_pipeline.find_resources("AWS::ECR::Repository").values()
    principals = json.dumps(repo["Properties"]["RepositoryPolicyText"])
    assert "222222222222" in principals and "111111111111" in principals


def test_no_unacknowledged_compliance_findings(assembly: tuple[Path, dict[str, StackTemplate]]) -> None:
    assert open_findings(assembly[0]) == []


def test_cfn_lint_finds_nothing(assembly: tuple[Path, dict[str, StackTemplate]]) -> None:
    assert len(list(assembly[0].rglob("*.template.json"))) == 9  # 7 + the Lambda service pipeline and its instance
    result = cfn_lint(assembly[0])
    assert result.returncode == 0, result.stdout + result.stderr


def test_service_pipeline_matches_snapshot(assembly: tuple[Path, dict[str, StackTemplate]], snapshot) -> None:  # type: ignore[no-untyped-def]
    assert mask_hashes(assembly[1]["keel-checkout-pipeline"].template) == snapshot


def _build_commands(template: Template, description: str) -> dict[str, Any]:
    (project,) = [p for p in template.find_resources("AWS::CodeBuild::Project").values()
                  if p["Properties"]["Description"].endswith(description)]
    return json.loads(project["Properties"]["Source"]["BuildSpec"])  # type: ignore[no-any-return]


def test_lambda_service_pipeline_runs_the_unit_tests_then_the_packaging_command(lambda_pipeline: Template) -> None:
    spec = _build_commands(lambda_pipeline, "unit tests and packaging of the function")
    assert spec["phases"]["build"]["commands"][:3] == [
        'cd "$CODE_DIR"', 'bash -c "$UNIT_TEST_COMMAND"', 'bash -c "$PACKAGING_COMMAND"']
    assert spec["artifacts"] == {"files": ["../../../lambda_src/scheduled_job/function.zip"], "discard-paths": "yes"}
    (project,) = [p for p in lambda_pipeline.find_resources("AWS::CodeBuild::Project").values()
                  if "packaging" in p["Properties"]["Description"]]
    variables = {v["Name"]: v["Value"] for v in project["Properties"]["Environment"]["EnvironmentVariables"]}
    assert variables == {"CODE_DIR": "../../../lambda_src/scheduled_job",
                         "UNIT_TEST_COMMAND": "python -m pytest -q tests",
                         "PACKAGING_COMMAND": "zip -qr function.zip ."}
    assert not project["Properties"]["Environment"].get("PrivilegedMode")  # no Docker: nothing to build an image of


def test_lambda_service_pipeline_deploys_the_package_in_place_of_the_code_folder(lambda_pipeline: Template) -> None:
    commands_run = _build_commands(lambda_pipeline, "instance stacks with its package")["phases"]["build"]["commands"]
    assert commands_run[0] == 'export PACKAGE="$CODEBUILD_SRC_DIR_Package/function.zip"'
    assert commands_run[2:4] == ['rm -rf "lambda_src/scheduled_job" && mkdir -p "lambda_src/scheduled_job"',
                                 'unzip -q "$PACKAGE" -d "lambda_src/scheduled_job"']
    deploy = next(a for s in _stages(lambda_pipeline) if s["Name"] == "Deploy-dev" for a in s["Actions"])
    assert [i["Name"] for i in deploy["InputArtifacts"]] == ["Platform", "Package"]


def test_no_stack_of_the_pipeline_or_its_stages_references_another(
        assembly: tuple[Path, dict[str, StackTemplate]]) -> None:
    # issue 20: the pipelines name stacks by the model, stages' service stacks read their environment from SSM
    from tests.infra.conftest import cross_stack_references

    assert cross_stack_references(assembly[0]) == {}
