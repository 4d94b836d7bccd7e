"""Rendering a Proton template as Proton rendered it: its filters and namespaces (no CDK, no files but tmp)."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.spec.proton import RenderError, ServiceRepository, render, service_context, service_repository

TEMPLATE = """Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/ReadOnlyAccess
        {{ service_instance.components.default.outputs | proton_cfn_iam_policy_arns }}
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions:
        - Name: {{ service_instance.name | proton_cfn_sanitize }}
          Environment:
            - Name: FIXED
              Value: one
            {{ outputs | proton_cfn_ecs_task_definition_formatted_env_vars }}
          Secrets: {{ outputs | proton_cfn_ecs_task_definition_formatted_secrets }}
          Image: '{{ service_instance.inputs.image | default("nginx") }}'
"""


def _render(tmp_path: Path, outputs: dict[str, str], text: str = TEMPLATE) -> dict:  # type: ignore[type-arg]
    file = tmp_path / "cloudformation.yaml"
    file.write_text(text)
    context = service_context(service="svc", instance="web-1", inputs={}, pipeline=None, environment="dev",
                              account="123456789012", environment_outputs=())
    context["service_instance"]["components"]["default"]["outputs"] = {
        "Policy": "arn:aws:iam::123456789012:policy/extra", "Name": "not-an-arn"}
    context["outputs"] = outputs
    return dict(render(file, context).template)


def test_list_filters_append_items_to_the_list_the_template_started(tmp_path: Path) -> None:
    doc = _render(tmp_path, {"A": "x", "B": "y"})
    assert doc["Resources"]["Role"]["Properties"]["ManagedPolicyArns"] == [
        "arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::123456789012:policy/extra"]
    container = doc["Resources"]["Task"]["Properties"]["ContainerDefinitions"][0]
    assert container["Environment"] == [{"Name": "FIXED", "Value": "one"}, {"Name": "A", "Value": "x"},
                                        {"Name": "B", "Value": "y"}]
    assert container["Secrets"] == [{"Name": "A", "ValueFrom": "x"}, {"Name": "B", "ValueFrom": "y"}]


def test_sanitize_and_default_filters(tmp_path: Path) -> None:
    container = _render(tmp_path, {})["Resources"]["Task"]["Properties"]["ContainerDefinitions"][0]
    assert container["Name"] == "web1" and container["Image"] == "nginx"
    assert container["Environment"] == [{"Name": "FIXED", "Value": "one"}]  # no outputs: nothing appended


def test_a_value_the_raw_false_filter_refuses_fails_the_render(tmp_path: Path) -> None:
    text = TEMPLATE.replace("formatted_env_vars }}", "formatted_env_vars(raw=False) }}")
    with pytest.raises(RenderError) as info:
        _render(tmp_path, {"A": "has space"}, text)
    assert info.value.line == 16 and "raw=False" in info.value.message


# proton import (issue 15)
REPOSITORY_TEMPLATE = """Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: '{{ service.name }}@{{ service.branch_name }}'
      Tags:
        - {Key: repository, Value: '{{ service.repository_id }}'}
        - {Key: connection, Value: '{{ service.repository_connection_arn }}'}
        - {Key: where, Value: '{{ environment.name }}/{{ environment.account_id }}'}
        - {Key: instance-env, Value: '{{ service_instance.environment.name }}'}
"""
DELIVERY = {"source": {"connection_arn": "arn:aws:codeconnections:eu-west-1:123456789012:connection/abc",
                       "repository": "acme/platform"},
            "service_pipelines": [{"service": "ledger", "repository": "acme/ledger", "branch": "release"},
                                  {"service": "other", "repository": "acme/other"}]}


def _tags(tmp_path: Path, repository: ServiceRepository | None) -> tuple[str, dict[str, str]]:
    file = tmp_path / "cloudformation.yaml"
    file.write_text(REPOSITORY_TEMPLATE)
    context = service_context(service="ledger", instance="ledger-dev", inputs={}, pipeline=None, environment="dev",
                              account="123456789012", environment_outputs=(), repository=repository)
    props = render(file, context).template["Resources"]["Topic"]["Properties"]
    return props["DisplayName"], {t["Key"]: t["Value"] for t in props["Tags"]}


def test_the_service_namespace_names_the_repository_its_pipeline_builds_from(tmp_path: Path) -> None:
    name, tags = _tags(tmp_path, service_repository(DELIVERY, "ledger"))
    assert name == "ledger@release"
    assert tags == {"repository": "acme/ledger", "connection": DELIVERY["source"]["connection_arn"],
                    "where": "dev/123456789012", "instance-env": "dev"}


def test_a_service_without_a_pipeline_renders_empty_repository_names(tmp_path: Path) -> None:
    assert service_repository(DELIVERY, "nobody") == ServiceRepository()
    name, tags = _tags(tmp_path, service_repository(None, "ledger"))
    assert (name, tags["repository"], tags["connection"]) == ("ledger@", "", "")


def test_an_unset_component_output_is_an_undefined_variable_with_its_line(tmp_path: Path) -> None:
    file = tmp_path / "cloudformation.yaml"
    file.write_text("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n"
                    "      QueueName: '{{ service_instance.components.default.outputs.QueueName }}'\n")
    context = service_context(service="s", instance="i", inputs={}, pipeline=None, environment="dev",
                              account=None, environment_outputs=())
    with pytest.raises(RenderError) as err:
        render(file, context)
    assert err.value.line == 5 and "undefined variable" in err.value.message
