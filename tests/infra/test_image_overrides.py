"""Images a service pipeline built run in the task definitions: tests/infra/platforms/images.yaml synthesized
once with `keel:image:<service>` overrides, and the pipeline's deploy step held to the key app.py reads."""

from __future__ import annotations

import json
import runpy
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from keel.cdk_context import ROOT, cli_context
from keel.constructs.delivery import ArtifactStore, ContainerServicePipeline, DeployTarget
from keel.spec import load_platform
from keel.spec.images import from_context
from tests.infra.conftest import Synthesized, cfn_lint, open_findings, synthesize

PLATFORM = Path(__file__).parent / "platforms" / "images.yaml"
SHOP = "333333333333.dkr.ecr.eu-west-1.amazonaws.com/keel-shop-build:3f2a1b4c5d6e"
DIGEST = "sha256:" + "0123456789abcdef" * 4
LEDGER = f"111111111111.dkr.ecr.eu-west-1.amazonaws.com/keel/ledger/ledger-dev:v7@{DIGEST}"
MAILER = "ghcr.io/acme/mailer:1.4.2"
OVERRIDES = {"shop": SHOP, "ledger": LEDGER, "mailer": MAILER}


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    yield synthesize(PLATFORM, tmp_path_factory.mktemp("images.out"), image_overrides=OVERRIDES)


def resolved(value: Any, template: dict[str, Any]) -> str:
    """A CloudFormation string value with joins, selects and splits flattened, pseudo parameters resolved
    for eu-west-1, and an ECR repository of the template seen by its name and ARN (account 111111111111)."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(resolved(p, template) for p in parts)
    if "Fn::Select" in value:
        index, source = value["Fn::Select"]
        separator, text = source["Fn::Split"]
        return resolved(text, template).split(separator)[index]
    logical_id, attribute = value["Fn::GetAtt"] if "Fn::GetAtt" in value else (value["Ref"], "Ref")
    pseudo = {"AWS::URLSuffix": "amazonaws.com", "AWS::Region": "eu-west-1", "AWS::Partition": "aws"}
    if logical_id in pseudo:
        return pseudo[logical_id]
    resource = template["Resources"][logical_id]
    assert resource["Type"] == "AWS::ECR::Repository", value
    name = resource["Properties"]["RepositoryName"]
    return name if attribute == "Ref" else f"arn:aws:ecr:eu-west-1:111111111111:repository/{name}"


def app_image(synth: Synthesized, stack: str) -> str:
    template = synth.json(stack)
    (task,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::ECS::TaskDefinition"]
    (app,) = [c for c in task["Properties"]["ContainerDefinitions"] if c["Name"] == "app"]
    return resolved(app["Image"], template)


def execution_role_statements(synth: Synthesized, stack: str) -> list[dict[str, Any]]:
    template = synth.json(stack)
    return [s for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"
            and any(x["Ref"].startswith("TaskExecutionRole") for x in r["Properties"]["Roles"])
            for s in r["Properties"]["PolicyDocument"]["Statement"]]


def test_the_task_runs_the_pipeline_image(synth: Synthesized) -> None:
    assert app_image(synth, "keel-shop-shop-dev") == SHOP


def test_the_execution_role_may_pull_from_the_pipeline_repository(synth: Synthesized) -> None:
    pull = [s for s in execution_role_statements(synth, "keel-shop-shop-dev") if "ecr:BatchGetImage" in s["Action"]]
    assert [s["Resource"] for s in pull] == ["arn:aws:ecr:eu-west-1:333333333333:repository/keel-shop-build"]


def test_an_instance_with_its_own_repository_runs_the_override_digest_from_it(synth: Synthesized) -> None:
    assert app_image(synth, "keel-ledger-ledger-dev") == \
        f"111111111111.dkr.ecr.eu-west-1.amazonaws.com/keel/ledger/ledger-dev@{DIGEST}"


def test_an_image_from_another_registry_is_taken_as_it_is(synth: Synthesized) -> None:
    assert app_image(synth, "keel-mailer-mailer-dev") == MAILER
    assert not [s for s in execution_role_statements(synth, "keel-mailer-mailer-dev")
                if "ecr:BatchGetImage" in s["Action"]]


def test_a_service_without_an_override_runs_its_spec_image(synth: Synthesized) -> None:
    assert app_image(synth, "keel-plain-plain-dev") == "public.ecr.aws/nginx/nginx:1.21"


def test_a_private_ecr_spec_image_gets_a_pull_grant_on_exactly_its_repository(synth: Synthesized) -> None:
    assert app_image(synth, "keel-private-private-dev") == \
        "222222222222.dkr.ecr.eu-west-1.amazonaws.com/team/private-app:3.1"
    pull = [s for s in execution_role_statements(synth, "keel-private-private-dev")
            if "ecr:BatchGetImage" in s["Action"]]
    assert [s["Resource"] for s in pull] == ["arn:aws:ecr:eu-west-1:222222222222:repository/team/private-app"]


@pytest.mark.heavy  # reads cdk-nag's report: nag runs on test platforms in make conformance
def test_no_unacknowledged_compliance_findings(synth: Synthesized) -> None:
    assert open_findings(synth.outdir) == []


@pytest.mark.heavy  # cfn-lint of a test platform: make conformance (the default platform's: make test)
def test_cfn_lint_finds_nothing(synth: Synthesized) -> None:
    result = cfn_lint(synth.outdir)
    assert result.returncode == 0, result.stdout + result.stderr


def _deploy_command() -> str:
    """The deploy step of a synthesized service pipeline for `shop`."""
    app = cdk.App(context=cli_context(),  # feature flags as `cdk synth` has them (partition literals)
                  builtin_cloud_formation_validation=False)  # ~4 s a synth; the default platform checks it
    stack = cdk.Stack(app, "Pipeline", env=cdk.Environment(account="333333333333", region="eu-west-1"))
    connection = "arn:aws:codestar-connections:eu-west-1:333333333333:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    ContainerServicePipeline(
        stack, "Pipeline", service="shop", connection_arn=connection, repository="acme/shop", branch="main",
        platform_connection_arn=connection, platform_repository="acme/platform", platform_branch="main",
        platform_file="tests/infra/platforms/images.yaml", service_dir=".", dockerfile="Dockerfile",
        unit_test_command="make unit", store=ArtifactStore(stack, "Artifacts"),
        targets=[DeployTarget(environment="dev", stacks=("keel-shop-shop-dev",), account="111111111111",
                              region="eu-west-1", approval=False)])
    projects = Template.from_stack(stack).find_resources("AWS::CodeBuild::Project")
    commands = [c for p in projects.values()
                for c in json.loads(p["Properties"]["Source"]["BuildSpec"])["phases"]["build"]["commands"]]
    (deploy,) = [c for c in commands if "cdk deploy" in c]
    return deploy


def test_the_pipeline_deploy_step_passes_the_context_entry_app_py_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """`-c key=value` pairs, as the CDK CLI hands them to app.py in CDK_CONTEXT_JSON, with $IMAGE_URI as
    the build exported it: app.py gives exactly that service the built image."""
    words = shlex.split(_deploy_command().replace("$IMAGE_URI", SHOP))
    context = dict(words[n + 1].split("=", 1) for n, word in enumerate(words) if word == "-c")
    monkeypatch.setenv("CDK_CONTEXT_JSON", json.dumps(context))
    monkeypatch.chdir(ROOT)
    app = runpy.run_path(str(ROOT / "app.py"))  # its functions, without running main()
    read = app["cli_context"]()
    model = load_platform(app["platform_file"](read), image_overrides=from_context(read))
    assert {i.name: str(i.image_override) for i in model.instances if i.image_override} == {"shop-dev": SHOP}
