"""ecs-env inputs: composition with vpc-env, Proton compatibility, bad input with exact paths. No aws_cdk."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from keel.contract.schema import iter_properties
from keel.spec import SpecError, load_platform
from keel.spec.registry import default_registry
from keel.templates.ecs_env.inputs import EcsEnvInputs
from keel.templates.vpc_env.inputs import ExistingVpcInputs, VpcEnvInputs

PROTON_ENV_SPEC = Path(__file__).parent / "fixtures" / "proton-environment-spec.yaml"  # our own


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages name files relative to the working directory, as a user typed them."""
    monkeypatch.chdir(tmp_path)


def write_platform(tmp_path: Path, spec: dict, **env: object) -> Path:
    doc = {"name": "t", "environments": [{
        "name": "edge", "template": "ecs-env:1", "region": "eu-west-1",
        "availability_zones": ["eu-west-1a", "eu-west-1b"], "spec": spec, **env}]}
    path = tmp_path / "platform.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def problems(tmp_path: Path, spec: dict, **env: object) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_platform(write_platform(tmp_path, spec, **env))
    return [p.render() for p in info.value.problems]


def test_network_inputs_are_exactly_vpc_env_inputs() -> None:
    """ecs-env 1.0 composes the network of vpc-env 1.0 (the version its inputs class extends)."""
    from keel.contract.registry import Version

    registry = default_registry()
    vpc = registry.templates["vpc-env"].get(Version(1, 0)).input_schema.properties()  # type: ignore[union-attr]
    ecs = registry.templates["ecs-env"].recommended(1).input_schema.properties()  # type: ignore[union-attr]
    assert {k: ecs[k] for k in vpc} == dict(vpc)


def test_inputs_dataclass_extends_the_vpc_env_one() -> None:
    assert issubclass(EcsEnvInputs, VpcEnvInputs)


def test_every_schema_property_is_a_dataclass_field() -> None:
    import dataclasses

    from keel.templates import common_inputs as common
    from keel.templates.ecs_env import inputs as mod

    version = default_registry().templates["ecs-env"].recommended(1)
    assert version is not None
    classes = {"": version.inputs_type(), "load_balancer": mod.LoadBalancerInputsV12,
               "load_balancer.waf": mod.WafInputs, "anywhere": mod.AnywhereInputs,
               "monitoring": mod.MonitoringInputs, "capacity_provider_strategy[]": mod.CapacityProviderShare,
               "event_bus": common.EventBusInputs, "config": common.ConfigPlaneInputs,
               "config.parameters[]": common.ConfigParameterInputs, "config.secrets[]": common.ConfigSecretInputs,
               "existing_vpc": ExistingVpcInputs, "existing_cluster": mod.ExistingClusterInputs,
               "ec2_capacity[]": mod.Ec2CapacityProviderInputs}
    schema = version.input_schema
    for path, _, _ in iter_properties(schema):
        parent, _, name = path.rpartition(".")
        assert name in {f.name for f in dataclasses.fields(classes[parent])}, path


def test_proton_environment_spec_validates_unchanged(tmp_path: Path) -> None:
    spec = yaml.safe_load(PROTON_ENV_SPEC.read_text())["spec"]
    env = load_platform(write_platform(tmp_path, spec)).environments[0]
    assert env.inputs.public_subnet_one_cidr == "10.36.0.0/19"
    assert env.inputs.anywhere.enabled is False


def test_defaults_come_from_the_schema(tmp_path: Path) -> None:
    inputs = load_platform(write_platform(tmp_path, {})).environments[0].inputs
    assert [(s.capacity_provider, s.weight, s.base) for s in inputs.capacity_provider_strategy] == [("FARGATE", 1, 0)]
    assert inputs.container_insights == "enhanced"
    assert (inputs.anywhere.registration_limit, inputs.anywhere.expiry_days) == (10, 30)
    assert inputs.load_balancer.protocol == "HTTP" and inputs.load_balancer.enabled is False
    assert inputs.namespace_name("edge") == "edge.internal"
    assert inputs.instance_name_prefix("edge") == "keel-edge"


def test_https_without_certificate_is_an_error_at_its_path(tmp_path: Path) -> None:
    assert problems(tmp_path, {"load_balancer": {"enabled": True, "protocol": "HTTPS"}}) == [
        "platform.yaml:environments[edge].spec.load_balancer.certificate_arn: is required when "
        "load_balancer.protocol is HTTPS (expected an ACM certificate ARN, or protocol HTTP)"]


def test_certificate_with_http_is_an_error(tmp_path: Path) -> None:
    arn = "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123"
    [problem] = problems(tmp_path, {"load_balancer": {"enabled": True, "certificate_arn": arn}})
    assert problem.startswith("platform.yaml:environments[edge].spec.load_balancer.certificate_arn: is set but "
                              "load_balancer.protocol is HTTP")


def test_certificate_from_another_region_is_an_error(tmp_path: Path) -> None:
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/abc-123"
    [problem] = problems(tmp_path, {"load_balancer": {"enabled": True, "protocol": "HTTPS", "certificate_arn": arn}})
    assert "spec.load_balancer.certificate_arn: is in us-east-1, the environment is in eu-west-1" in problem


def test_registration_limit_over_1000_is_an_error_at_its_path(tmp_path: Path) -> None:
    assert problems(tmp_path, {"anywhere": {"enabled": True, "registration_limit": 1001}}) == [
        "platform.yaml:environments[edge].spec.anywhere.registration_limit: is greater than the maximum 1000 "
        "(got 1001, expected at most 1000)"]


def test_expiry_over_30_days_is_an_error_at_its_path(tmp_path: Path) -> None:
    assert problems(tmp_path, {"anywhere": {"enabled": True, "expiry_days": 31}}) == [
        "platform.yaml:environments[edge].spec.anywhere.expiry_days: is greater than the maximum 30 "
        "(got 31, expected at most 30)"]


def test_unknown_anywhere_input_is_an_error(tmp_path: Path) -> None:
    [problem] = problems(tmp_path, {"anywhere": {"enable": True}})
    assert problem.startswith("platform.yaml:environments[edge].spec.anywhere.enable: unknown input")


def test_two_bases_in_the_strategy_is_an_error(tmp_path: Path) -> None:
    strategy = [{"capacity_provider": "FARGATE", "base": 1}, {"capacity_provider": "FARGATE_SPOT", "base": 2}]
    assert problems(tmp_path, {"capacity_provider_strategy": strategy}) == [
        "platform.yaml:environments[edge].spec.capacity_provider_strategy[1].base: only one capacity provider "
        "in a strategy can have a base (got 2, expected 0 here, or a base on one provider only)"]


def test_same_provider_twice_is_an_error(tmp_path: Path) -> None:
    strategy = [{"capacity_provider": "FARGATE"}, {"capacity_provider": "FARGATE"}]
    [problem] = problems(tmp_path, {"capacity_provider_strategy": strategy})
    assert "spec.capacity_provider_strategy[1].capacity_provider: appears twice" in problem


def test_all_zero_weights_is_an_error(tmp_path: Path) -> None:
    [problem] = problems(tmp_path, {"capacity_provider_strategy": [{"capacity_provider": "FARGATE", "weight": 0}]})
    assert "spec.capacity_provider_strategy: gives every capacity provider a weight of 0" in problem


def test_anywhere_needs_a_region(tmp_path: Path) -> None:
    doc = {"name": "t", "environments": [{"name": "edge", "template": "ecs-env:1",
                                          "spec": {"anywhere": {"enabled": True}}}]}
    path = tmp_path / "platform.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(SpecError) as info:
        load_platform(path)
    assert [p.path for p in info.value.problems] == ["environments[edge].spec.anywhere.enabled"]


def test_bad_email_is_an_error_at_its_path(tmp_path: Path) -> None:
    [problem] = problems(tmp_path, {"monitoring": {"notification_emails": ["ops@example.com", "not-an-email"]}})
    assert problem.startswith("platform.yaml:environments[edge].spec.monitoring.notification_emails[1]: "
                              "does not match the required pattern")


def test_network_checks_of_vpc_env_apply(tmp_path: Path) -> None:
    [problem] = problems(tmp_path, {"nat_gateways": 3})
    assert problem.startswith("platform.yaml:environments[edge].spec.nat_gateways: exceeds the number of "
                              "availability zones (2)")
