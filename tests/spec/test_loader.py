"""Loading platforms: good specs become a typed model; every bad one is a precise, located problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.spec import load_platform
from tests.spec.conftest import ROOT, Platform

DEV = """
environments:
  - name: dev
    template: vpc-env:1
    region: eu-west-1
    availability_zones: [eu-west-1a, eu-west-1b]
"""


def test_default_platform_is_valid() -> None:
    model = load_platform(ROOT / "platform.yaml")
    assert [e.name for e in model.environments][:2] == ["dev", "prod"]


def test_schema_defaults_are_applied(platform: Platform) -> None:
    env = platform.load(DEV).environments[0]
    assert env.inputs.vpc_cidr == "10.0.0.0/16"
    assert env.inputs.nat_gateways == 1
    assert env.inputs.interface_endpoints[:2] == ("ssm", "ssmmessages")
    assert env.template.label == "vpc-env@1.3"  # vpc-env:1 follows the recommended minor


def test_model_is_frozen(platform: Platform) -> None:
    env = platform.load(DEV).environments[0]
    with pytest.raises(AttributeError):
        env.name = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        env.inputs.vpc_cidr = "10.1.0.0/16"


PROTON_ENV_SPEC = Path(__file__).parent / "fixtures" / "proton-environment-spec.yaml"  # written by us
WITH_SPEC_FILE = DEV.replace("    availability_zones", "    spec_file: env_spec.yaml\n    availability_zones")


def test_proton_environment_spec_is_accepted_unchanged(platform: Platform) -> None:
    env = platform.load(WITH_SPEC_FILE, env_spec_yaml=PROTON_ENV_SPEC.read_text()).environments[0]
    plan = env.inputs.subnet_plan(2)
    assert plan.public == ("10.36.0.0/19", "10.36.32.0/19")
    assert plan.private == ("10.36.64.0/19", "10.36.96.0/19")


def test_proton_spec_with_inputs_the_template_lacks_names_them(platform: Platform) -> None:
    lines = platform.problems(WITH_SPEC_FILE, env_spec_yaml="""
        proton: EnvironmentSpec
        spec:
          vpc_cidr: 10.36.0.0/16
          table_ttl_days: 30
    """)
    assert lines == ["env_spec.yaml:spec.table_ttl_days: unknown input (expected one of: config, event_bus, "
                     "existing_vpc, flow_log_max_aggregation_seconds, "
                     "flow_log_retention_days, "
                     "flow_log_traffic, gateway_endpoints, interface_endpoints, isolated_subnet_mask, "
                     "isolated_subnets, nat_gateways, private_subnet_mask, private_subnet_one_cidr, "
                     "private_subnet_three_cidr, private_subnet_two_cidr, public_subnet_mask, "
                     "public_subnet_one_cidr, public_subnet_three_cidr, public_subnet_two_cidr, vpc_cidr)"]


def test_every_problem_is_reported_at_once(platform: Platform) -> None:
    lines = platform.problems("""
        environments:
          - name: dev
            template: vpc-env:1
            spec: {nat_gateways: 9, vpc_cidr: 10.0.0.1/16}
          - name: prod
            template: vpc-env:7
        extra: true
    """)
    assert len(lines) == 4
    assert "platform.yaml:extra: unknown input" in lines[0]
    assert any(line.startswith("platform.yaml:environments[dev].spec.nat_gateways: is greater than the maximum 3 "
                               "(got 9, expected at most 3)") for line in lines)
    assert any(line.startswith("platform.yaml:environments[dev].spec.vpc_cidr: is not a valid CIDR block")
               and "has host bits set" in line for line in lines)
    assert any(line == 'platform.yaml:environments[prod].template: template "vpc-env" has no version 7.x '
                       '(available: 1.0, 1.1, 1.2, 1.3) (got "vpc-env:7")' for line in lines)


@pytest.mark.parametrize(("snippet", "expected"), [
    ("    template: nope-env:1", 'platform.yaml:environments[dev].template: unknown template "nope-env"'),
    ("    template: vpc-env", "platform.yaml:environments[dev].template: is not a template reference "
                              '(got "vpc-env", expected name:major or name:major.minor, e.g. vpc-env:1)'),
    ("    template: vpc-env:1.4", 'template "vpc-env" has no version 1.4 (available: 1.0, 1.1, 1.2, 1.3)'),
    ("    template: web-svc:1", 'environments[dev].template: template "web-svc" is a service template '
                                '(got "web-svc:1", expected an environment template)'),
])
def test_template_reference_problems(platform: Platform, snippet: str, expected: str) -> None:
    lines = platform.problems(DEV.replace("    template: vpc-env:1", snippet))
    assert any(expected in line for line in lines), lines


def test_recommended_minor_is_picked_for_a_major_pin(platform: Platform) -> None:
    model = platform.load(DEV.replace("vpc-env:1", "other-env:2"))
    assert str(model.environments[0].template.version) == "2.1"


@pytest.mark.parametrize(("spec", "path", "fragment"), [
    ("{vpc_cidr: 999.0.0.0/16}", "spec.vpc_cidr", "is not a valid CIDR block"),
    ("{vpc_cidr: 10.0.0.0/8}", "spec.vpc_cidr", "does not match the required pattern"),
    ("{nat_gateways: 0}", "spec.nat_gateways", "is less than the minimum 1 (got 0, expected at least 1)"),
    ("{nat_gateways: two}", "spec.nat_gateways", 'has the wrong type (got "two", expected an integer)'),
    ("{nat_gateways: true}", "spec.nat_gateways", "has the wrong type (got true, expected an integer)"),
    ("{interface_endpoints: [ssm, sqs]}", "spec.interface_endpoints[1]", 'is not an allowed value (got "sqs"'),
    ("{interface_endpoints: [ssm, ssm]}", "spec.interface_endpoints", "has duplicate items"),
    ("{flow_log_retention_days: 10}", "spec.flow_log_retention_days", "is not an allowed value (got 10"),
    ("{flow_log_traffic: all}", "spec.flow_log_traffic", 'expected one of "ALL", "ACCEPT", "REJECT"'),
    ("{nat_gateways: 3}", "spec.nat_gateways",
     "exceeds the number of availability zones (2) (got 3, expected at most 2)"),
    ("{public_subnet_three_cidr: 10.0.200.0/24}", "spec.public_subnet_three_cidr",
     "is set but the environment has only 2 availability zones"),
    ("{public_subnet_one_cidr: 10.9.0.0/24}", "spec.public_subnet_one_cidr",
     'is outside the VPC CIDR 10.0.0.0/16 (got "10.9.0.0/24", expected a subnet of 10.0.0.0/16)'),
    ("{public_subnet_one_cidr: 10.0.0.0/24, private_subnet_one_cidr: 10.0.0.0/20}", "spec.private_subnet_one_cidr",
     "overlaps public_subnet_one_cidr (10.0.0.0/24)"),
    ("{vpc_cidr: 10.0.0.0/22, private_subnet_mask: 23}", "spec.private_subnet_mask",
     "no free /23 left in 10.0.0.0/22 for the private subnet of AZ 2"),
    ("{vpc_cidr: 10.0.0.0/20, public_subnet_mask: 16}", "spec.public_subnet_mask", "/16 is larger than the VPC /20"),
    ("{scaling: {}}", "spec.scaling", "unknown input"),
])
def test_environment_input_problems_name_the_exact_field(platform: Platform, spec: str, path: str,
                                                         fragment: str) -> None:
    lines = platform.problems(DEV + f"    spec: {spec}\n")
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"platform.yaml:environments[dev].{path}: "), lines
    assert fragment in lines[0], lines


@pytest.mark.parametrize(("extra", "expected"), [
    ("    account: '123456789012'\n", None),
    ("    account: '12345'\n", "platform.yaml:environments[dev].account: does not match the required pattern"),
    ("    production: yes\n", "platform.yaml:environments[dev].production: has the wrong type"),
    ("    tags: {aws:owner: me}\n", "platform.yaml:environments[dev].tags: is not a valid tag key (got \"aws:owner\""),
    ("    tags: {team: 7}\n",
     "platform.yaml:environments[dev].tags.team: has the wrong type (got 7, expected a string)"),
    ("    colour: blue\n", "platform.yaml:environments[dev].colour: unknown input"),
])
def test_environment_fields(platform: Platform, extra: str, expected: str | None) -> None:
    if expected is None:
        assert platform.load(DEV + extra).environments[0].account == "123456789012"
        return
    lines = platform.problems(DEV + extra)
    assert len(lines) == 1 and lines[0].startswith(expected), lines


def test_region_needs_availability_zones(platform: Platform) -> None:
    lines = platform.problems("environments:\n  - {name: dev, template: 'vpc-env:1', region: eu-west-1}\n")
    assert lines == ["platform.yaml:environments[dev].availability_zones: is required when region is set (synth "
                     "never looks AZs up) (expected a list such as [eu-west-1a, eu-west-1b])"]


def test_account_needs_region(platform: Platform) -> None:
    lines = platform.problems("environments:\n  - {name: dev, template: 'vpc-env:1', account: '123456789012'}\n")
    assert lines[0].startswith("platform.yaml:environments[dev].region: is required when account is set")


def test_availability_zone_outside_region(platform: Platform) -> None:
    lines = platform.problems(DEV.replace("eu-west-1b]", "us-east-1b]"))
    assert lines == ['platform.yaml:environments[dev].availability_zones[1]: is not in region eu-west-1 '
                     '(got "us-east-1b", expected eu-west-1 followed by a letter)']


def test_vpc_env_needs_two_or_three_zones(platform: Platform) -> None:
    lines = platform.problems(DEV.replace("[eu-west-1a, eu-west-1b]", "[eu-west-1a]"))
    assert lines[0].startswith("platform.yaml:environments[dev].spec: vpc-env needs 2 or 3 availability zones")


def test_environment_agnostic_environment_gets_two_zones(platform: Platform) -> None:
    env = platform.load("environments:\n  - {name: dev, template: 'vpc-env:1'}\n").environments[0]
    assert env.az_count == 2 and env.region is None


def test_duplicate_environment_names(platform: Platform) -> None:
    lines = platform.problems(DEV + DEV.replace("environments:\n", ""))
    assert lines == ['platform.yaml:environments[dev].name: duplicate environment name (got "dev", expected each '
                     'environment name once)']


def test_names_must_follow_protons_naming_rule(platform: Platform) -> None:
    lines = platform.problems(DEV.replace("name: dev", "name: dev.1"))
    assert lines[0].startswith('platform.yaml:environments[dev.1].name: does not match the required pattern '
                               '(got "dev.1"')


def test_proton_names_with_capitals_and_underscores_get_lowercase_stack_names(platform: Platform) -> None:
    """Proton allows `Beta_EU` (its ResourceName: letters, digits, - and _); stacks and resources use `beta-eu`."""
    model = platform.load(DEV.replace("name: dev", "name: Beta_EU"))
    assert [(e.name, e.stack_name) for e in model.environments] == [("beta-eu", "keel-beta-eu")]


def test_two_proton_names_with_one_stack_name_are_refused(platform: Platform) -> None:
    lines = platform.problems(DEV.replace("name: dev", "name: Beta") + DEV.replace("environments:\n", "")
                              .replace("name: dev", "name: beta"))
    assert lines == ['platform.yaml:environments[beta].name: gives the same stack name "keel-beta" as environment '
                     '"Beta" (got "beta", expected names that differ in more than case, _ and -)']


def test_a_proton_name_too_long_for_keels_stack_names_says_so(platform: Platform) -> None:
    long = "Env_" + "x" * 40
    lines = platform.problems(DEV.replace("name: dev", f"name: {long}"))
    assert lines == [f'platform.yaml:environments[{long}].name: is too long for Keel\'s stack and resource names '
                     f'(44 characters as "{long.lower().replace("_", "-")}") (got "{long}", expected at most 40 '
                     'characters)']


def test_spec_and_spec_file_are_exclusive(platform: Platform) -> None:
    lines = platform.problems(DEV + "    spec: {}\n    spec_file: env.yaml\n")
    assert lines[0].startswith("platform.yaml:environments[dev].spec_file: cannot be combined with an inline spec")


def test_missing_spec_file(platform: Platform) -> None:
    lines = platform.problems(DEV + "    spec_file: specs/none.yaml\n")
    assert lines == ['platform.yaml:environments[dev].spec_file: cannot use spec file: file not found '
                     '(got "specs/none.yaml")']


def test_spec_file_of_the_wrong_kind(platform: Platform) -> None:
    lines = platform.problems(DEV + "    spec_file: env.yaml\n",
                              env_yaml="proton: ServiceSpec\ninstances: []\n")
    assert any(line.startswith('env.yaml:proton: is not an allowed value (got "ServiceSpec"') for line in lines)
    assert any(line.startswith("env.yaml:instances: unknown input") for line in lines)


def test_errors_in_spec_files_name_that_file(platform: Platform) -> None:
    lines = platform.problems(DEV + "    spec_file: specs/dev.yaml\n",
                              specs__dev_yaml="proton: EnvironmentSpec\nspec:\n  nat_gateways: 5\n")
    assert lines == ["specs/dev.yaml:spec.nat_gateways: is greater than the maximum 3 (got 5, expected at most 3)"]


def test_yaml_syntax_error_names_line(platform: Platform) -> None:
    lines = platform.problems("environments:\n  - name: dev\n   template: [\n")
    assert len(lines) == 1 and lines[0].startswith("platform.yaml: line ") and "invalid YAML" in lines[0]


def test_top_level_must_be_a_mapping(platform: Platform) -> None:
    assert platform.problems("- a\n- b\n") == [
        "platform.yaml: the platform file must be a mapping (got \"a list\", expected keys name, environments, "
        "services)"]


def test_missing_platform_file(tmp_path: Path) -> None:
    from keel.spec import SpecError

    with pytest.raises(SpecError) as info:
        load_platform(tmp_path / "nope.yaml")
    assert info.value.problems[0].message == "file not found"


def test_environments_are_required(platform: Platform) -> None:
    assert platform.problems("name: x\n") == [
        "platform.yaml:environments: required input is missing (expected a list)"]
