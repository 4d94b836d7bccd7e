"""Issue 20, step 1: a service stack reads its environment through the SSM parameters the environment
publishes (and the model), never through a cross-stack reference; every field of every outputs class has a
rebuild rule; and each stack's template depends on the platform model only."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from keel.cdk_context import cli_context
from keel.contract.outputs import OUTPUTS_CLASSES, EcsEnvOutputs
from keel.stacks.app import build_stacks
from keel.stacks.environment_reads import REBUILDERS, Deferred, _complete, check_rebuilt
from keel.stacks.logical_ids import LOAD_BALANCER_SECURITY_GROUP, unique_id
from tests.infra.conftest import Synthesized, cross_stack_references

pytestmark = pytest.mark.early  # stacks built alone, each output class rebuilt

#: Built alone, each without its siblings; the two services without their environments' stacks.
ALONE = ("keel-dev", "keel-web-web-staging", "keel-nightly-report-nightly-report-staging", "keel-catalog-edge")


def test_no_template_of_the_default_platform_reads_another_stack(platform: Synthesized) -> None:
    # conftest.synthesize checks every platform the tests synthesize the same way; this one names the rule.
    assert cross_stack_references(platform.outdir) == {}


def test_cross_stack_references_are_found_where_they_are(tmp_path: Path) -> None:
    (tmp_path / "a.template.json").write_text(json.dumps({
        "Resources": {"R": {"Properties": {"A": [{"Fn::ImportValue": "x"}], "B": {"Fn::GetStackOutput": {}}}}},
        "Outputs": {"PublishOutputRefX": {"Value": "v"}, "Y": {"Value": "v", "Export": {"Name": "n"}}}}))
    (tmp_path / "stage").mkdir()
    (tmp_path / "stage" / "b.template.json").write_text(json.dumps({"Resources": {"R": {"Properties": {
        "A": {"Fn::ImportValue": "x"}}}}}))
    assert cross_stack_references(tmp_path) == {
        "a.template.json": ['"Fn::ImportValue" x1', '"Fn::GetStackOutput" x1', "output PublishOutputRefX",
                            "output Y"],
        "stage/b.template.json": ['"Fn::ImportValue" x1']}


def test_service_stacks_read_environment_values_from_keel_ssm_parameters(platform: Synthesized) -> None:
    template = platform.json("keel-web-web-staging")
    parameters = {k: v for k, v in template["Parameters"].items() if k != "BootstrapVersion"}
    for logical_id, parameter in parameters.items():
        assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>", logical_id
        assert parameter["Default"].startswith("/keel/staging/"), logical_id
    # the shared listener, the cluster and the private subnets all come from those parameters
    assert {p["Default"] for p in parameters.values()} >= {
        "/keel/staging/ecs/listener-arn", "/keel/staging/ecs/cluster-name", "/keel/staging/vpc/private-subnet-ids"}


def test_every_parameter_a_service_reads_is_one_its_environment_publishes(platform: Synthesized) -> None:
    published = {r["Properties"].get("Name") for s in platform.built.environments.values()
                 for r in platform.json(s.stack_name)["Resources"].values() if r["Type"] == "AWS::SSM::Parameter"}
    for instance in platform.model.instances:
        parameters = platform.json(instance.stack_name).get("Parameters", {})
        read = {p["Default"] for p in parameters.values() if p["Default"].startswith("/keel/")}
        assert read <= published, instance.stack_name


def test_a_service_stack_declares_only_the_environment_parameters_its_template_uses(platform: Synthesized) -> None:
    # imported constructs (the VPC with every tier's subnets, the cluster with its ARN and exec log group) take
    # all their attributes; only those something refers to become parameters (no CloudFormation W2001)
    for instance in platform.model.instances:
        template = platform.json(instance.stack_name)
        rest = json.dumps({k: v for k, v in template.items() if k != "Parameters"})
        unused = [k for k, p in template.get("Parameters", {}).items()
                  if p["Default"].startswith("/keel/") and json.dumps({"Ref": k}) not in rest]
        assert unused == [], instance.stack_name


def test_each_instance_stack_deploys_after_its_environment_and_nothing_else(platform: Synthesized) -> None:
    manifest = json.loads((platform.outdir / "manifest.json").read_text())
    stacks = {k for k, a in manifest["artifacts"].items() if a["type"] == "aws:cloudformation:stack"}
    for instance in platform.model.instances:
        deps = set(manifest["artifacts"][instance.stack_name].get("dependencies", [])) & stacks
        assert deps == {platform.model.environment(instance.environment).stack_name}, instance.stack_name
    for environment in platform.model.environments:
        assert not set(manifest["artifacts"][environment.stack_name].get("dependencies", [])) & stacks


def test_stacks_built_without_their_siblings_or_environment_are_byte_identical(
        platform: Synthesized, tmp_path: Path) -> None:
    app = cdk.App(context=cli_context(), outdir=str(tmp_path), builtin_cloud_formation_validation=False)
    build_stacks(app, platform.model, ALONE)
    app.synth()
    for stack in ALONE:
        alone = (tmp_path / f"{stack}.template.json").read_bytes()
        assert alone == (platform.outdir / f"{stack}.template.json").read_bytes(), stack


def test_building_an_unknown_stack_alone_names_it(platform: Synthesized) -> None:
    with pytest.raises(ValueError, match="no such stack in the platform: keel-nope"):
        build_stacks(cdk.App(context=cli_context()), platform.model, ["keel-nope"], compliance=False)


def test_logical_ids_cdk_derives_from_the_environment_are_kept(platform: Synthesized) -> None:
    # ALB -> task rules (named after the environment's group) and the scheduler's target role (named after the
    # environment cluster's ARN), as they were when the service stacks referenced the environment's stack
    web = platform.json("keel-web-web-staging")["Resources"]
    assert web["SecurityGroupfromkeelstagingLoadBalancerSecurityGroup762FBACA808040A874B9"]["Type"] == \
        "AWS::EC2::SecurityGroupIngress"
    assert web["SecurityGroupkeelstagingLoadBalancerSecurityGroup762FBACA8080from4BFEAA98"]["Type"] == \
        "AWS::EC2::SecurityGroupEgress"
    nightly = platform.json("keel-nightly-report-nightly-report-staging")["Resources"]
    assert {"SchedulerRoleForTargetfece0bB2EFF665", "SchedulerRoleForTargetfece0bDefaultPolicyE7F09EC7"} <= set(nightly)


def test_unique_ids_are_computed_as_cdk_computes_them(platform: Synthesized) -> None:
    outputs = platform.built.environments["staging"].outputs
    assert isinstance(outputs, EcsEnvOutputs) and outputs.load_balancer is not None
    group = outputs.load_balancer.security_group
    assert unique_id("keel-staging", *LOAD_BALANCER_SECURITY_GROUP) == group.unique_id \
        == cdk.Names.node_unique_id(group.node)


def test_every_outputs_class_has_a_rebuilder() -> None:
    assert set(OUTPUTS_CLASSES.values()) <= set(REBUILDERS)


def test_an_outputs_field_nobody_rebuilds_fails_instead_of_becoming_a_reference() -> None:
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class WithComponents(EcsEnvOutputs):  # a field another branch might add
        components: Any = None

    given = {f.name: None for f in dataclasses.fields(EcsEnvOutputs)}
    with pytest.raises(TypeError, match=r"WithComponents is not rebuilt completely.*missing: components"):
        _complete(WithComponents, given)


def test_fields_are_read_when_used_and_each_read_once() -> None:
    made: list[int] = []
    field = Deferred(lambda: made.append(1) or "vpc")

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Outputs:
        vpc: str
        name: str

    outputs = _complete(Outputs, {"vpc": field, "name": "dev"})
    assert made == [] and isinstance(outputs, Outputs)
    assert (outputs.vpc, outputs.vpc, outputs.name) == ("vpc", "vpc", "dev")
    assert made == [1]


def test_what_a_service_read_agrees_with_its_environment(platform: Synthesized) -> None:
    for name, stack in platform.built.instances.items():
        real = platform.built.environments[stack.instance.environment].outputs
        assert check_rebuilt(real, stack.environment_outputs, stack=stack) == [], name


def test_the_environment_own_constructs_are_refused_in_a_service_stack(platform: Synthesized) -> None:
    stack = platform.built.instances["keel-web-web-staging"]
    real = platform.built.environments["staging"].outputs
    problems = check_rebuilt(real, real, stack=stack)
    assert any(p.startswith("vpc: keel-staging/") and "is not a construct of keel-web-web-staging" in p
               for p in problems), problems
    assert any(p.startswith("load_balancer.full_name: the environment's own token") for p in problems), problems


def _read_everything(outputs: object) -> None:
    """Every field, so each Deferred is made (as a builder using all of them would)."""
    if dataclasses.is_dataclass(outputs) and not isinstance(outputs, type):
        for f in dataclasses.fields(outputs):
            _read_everything(getattr(outputs, f.name))


@pytest.mark.parametrize("platform_file", ["platform.yaml", "tests/infra/platforms/network.yaml"])
def test_every_field_of_every_outputs_class_rebuilds_and_agrees_with_the_environment(platform_file: str) -> None:
    # the default platform: vpc-env 1.0-1.2, ecs-env with the shared load balancer and ECS Anywhere, eks-env with
    # kubectl delivery; network.yaml: existing VPCs under every family, an existing cluster, EC2 capacity
    from keel.cdk_context import ROOT
    from keel.spec import load_platform
    from keel.stacks.app import build

    built = build(cdk.App(context=cli_context()), load_platform(ROOT / platform_file), compliance=False)
    families: set[str] = set()
    for name, stack in built.instances.items():
        _read_everything(stack.environment_outputs)
        real = built.environments[stack.instance.environment].outputs
        assert check_rebuilt(real, stack.environment_outputs, stack=stack) == [], name
        families.add(type(real).__name__)
    assert families >= ({"NetworkOutputs", "EcsEnvOutputs", "EksEnvOutputs"} if platform_file == "platform.yaml"
                        else {"EcsEnvOutputs"})
