"""Components and overrides in the spec layer: every mistake located, nothing synthesized (no aws_cdk)."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.spec import SpecError, load_platform
from keel.spec.components import DynamoDbTableInputs, variable_name
from tests.spec.conftest import LAB_PLATFORM as HEAD

FUNCTION = """  - name: fn
    template: scheduled-lambda-svc:1.0
    pipeline: {code_dir: code}
    instances:
      - name: dev
        environment: dev
        spec: {schedule_expression: rate(1 hour), lambda_handler: handler.handler}
"""
ADD_ON = """Parameters:
  App: {Type: String}
  Env: {Type: String}
  Name: {Type: String}
  Size: {Type: String}
Resources:
  Thing: {Type: AWS::SSM::Parameter, Properties: {Type: String, Value: !Ref Size}}
  Policy: {Type: AWS::IAM::ManagedPolicy, Properties: {PolicyDocument: {Statement: []}}}
Outputs:
  ThingName: {Value: !Ref Thing}
  PolicyArn: {Value: !Ref Policy}
"""


def problems(tmp_path: Path, components: str = "", *, function: str = "", extra: str = "",
             head: str = HEAD) -> list[str]:
    (tmp_path / ".git").mkdir(exist_ok=True)
    (tmp_path / "code").mkdir(exist_ok=True)
    (tmp_path / "code" / "handler.py").write_text("def handler(event, context): ...\n")
    (tmp_path / "addon.yaml").write_text(ADD_ON)
    text = head + ("        components:\n" + components if components else "") + extra
    if function:
        text += FUNCTION + "        components:\n" + function
    (tmp_path / "platform.yaml").write_text(text)
    try:
        load_platform(tmp_path / "platform.yaml")
    except SpecError as exc:
        return [p.render().split("platform.yaml:", 1)[-1] for p in exc.problems]
    return []


def test_a_valid_table_becomes_typed_inputs_with_defaults(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "platform.yaml").write_text(HEAD + "        components:\n"
                                            "          - {kind: dynamodb-table, name: items, "
                                            "partition_key: {name: id, type: string}}\n")
    (component,) = load_platform(tmp_path / "platform.yaml").instances[0].components
    assert isinstance(component.inputs, DynamoDbTableInputs)
    assert (component.inputs.access, component.inputs.stream, component.inputs.sort_key) == ("readwrite", "none", None)
    assert component.physical_name == "keel-dev-api-items"


def test_unknown_kind_names_the_closest(tmp_path: Path) -> None:
    assert problems(tmp_path, "          - {kind: dynamo-table, name: items}\n") == [
        'services[api].instances[0].components[items].kind: is not a component kind (did you mean dynamodb-table?) '
        '(got "dynamo-table", expected one of: dynamodb-table, s3-bucket, sqs-queue, sns-topic, aurora-postgres, '
        'efs-filesystem, cloudformation)']


def test_inputs_are_checked_against_the_kind_schema_with_their_path(tmp_path: Path) -> None:
    found = problems(tmp_path, "          - {kind: sqs-queue, name: jobs, retention_days: 20, acces: read}\n")
    assert 'services[api].instances[0].components[jobs].retention_days: is greater than the maximum 14 ' \
           '(got 20, expected at most 14)' in found
    assert any(p.startswith("services[api].instances[0].components[jobs].acces:") for p in found)


def test_duplicate_component_names_are_refused(tmp_path: Path) -> None:
    found = problems(tmp_path, "          - {kind: sns-topic, name: events}\n"
                               "          - {kind: sqs-queue, name: events}\n")
    assert found == ['services[api].instances[0].components[events].name: duplicate component name (got "events", '
                     'expected each component name once per instance)']


def test_efs_needs_a_fargate_task(tmp_path: Path) -> None:
    found = problems(tmp_path, function="          - {kind: efs-filesystem, name: files, mount_path: /data}\n")
    assert len(found) == 1 and "components[files].kind: efs-filesystem mounts into Fargate tasks only" in found[0]


def test_a_database_needs_a_function_in_the_vpc(tmp_path: Path) -> None:
    found = problems(tmp_path, function="          - {kind: aurora-postgres, name: db}\n")
    assert len(found) == 1 and "the function runs outside the VPC (spec.vpc: none); set vpc: private" in found[0]


def test_a_physical_name_too_long_for_the_service_is_refused(tmp_path: Path) -> None:
    service, name = "s" * 30, "a" * 30  # keel-dev-<30>-<30>: 69 characters, and a cluster identifier takes 63
    found = problems(tmp_path, f"          - {{kind: aurora-postgres, name: {name}}}\n",
                     head=HEAD.replace("- name: api", f"- name: {service}"))
    assert len(found) == 1 and f"components[{name}].name: gives the phys" in found[0]
    assert found[0].endswith("within 63)")


def test_add_on_parameters_follow_the_template(tmp_path: Path) -> None:
    found = problems(tmp_path, "          - {kind: cloudformation, name: addon, template_file: addon.yaml, "
                               "parameters: {Env: x, Colour: red}}\n")
    assert 'services[api].instances[0].components[addon].parameters.Env: is passed by Keel (the platform, ' \
           'environment or service name) (got "Env", expected only the template\'s own parameters)' in found
    assert 'services[api].instances[0].components[addon].parameters.Colour: is not a parameter of the template ' \
           '(got "Colour", expected one of: Size)' in found
    assert any("gives no value for the template's parameter Size" in p for p in found)


def test_add_on_outside_the_project_is_refused(tmp_path: Path) -> None:
    found = problems(tmp_path, "          - {kind: cloudformation, name: addon, template_file: ../../etc/x.yaml}\n")
    assert len(found) == 1 and "components[addon].template_file: cannot use the template: it leads outside" in found[0]


def test_add_on_outputs_split_into_policies_and_variables(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "addon.yaml").write_text(ADD_ON)
    (tmp_path / "platform.yaml").write_text(HEAD + "        components:\n          - {kind: cloudformation, "
                                            "name: addon, template_file: addon.yaml, parameters: {Size: '3'}}\n")
    (component,) = load_platform(tmp_path / "platform.yaml").instances[0].components
    assert component.add_on is not None
    assert (component.add_on.policy_outputs, component.add_on.variable_outputs) == (("PolicyArn",), ("ThingName",))
    assert component.add_on.app == "lab"


@pytest.mark.parametrize(("output", "variable"), [("MyTableName", "MY_TABLE_NAME"), ("URL", "URL"),
                                                   ("DBEndpoint", "DB_ENDPOINT"), ("queue2Url", "QUEUE2_URL")])
def test_add_on_outputs_become_screaming_snake_variables(output: str, variable: str) -> None:
    assert variable_name(output) == variable


def test_an_override_needs_a_property_path(tmp_path: Path) -> None:
    found = problems(tmp_path,
                     extra="        overrides:\n          - {resource: Default/Service, path: '', value: 1}\n")
    assert len(found) == 1 and found[0].startswith("services[api].instances[0].overrides[0].path:")
