"""Issue 13's defaults that need a construct of their own to show: the notification topic an environment
without one creates for its alarms, and deletion protection of the idempotency table in production."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import yaml
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match, Template

from keel.cdk_context import cli_context
from keel.contract.outputs import EcsEnvOutputs
from keel.spec import load_platform
from keel.stacks.app import build
from keel.templates.event_worker_svc.builder import idempotency_table
from keel.templates.notifications import NOTIFICATIONS_KEY, notification_topic


def test_an_environment_without_a_topic_creates_one_encrypted_and_published(tmp_path: Path) -> None:
    path = tmp_path / "platform.yaml"
    path.write_text(yaml.safe_dump({"name": "t", "environments": [{
        "name": "lab", "template": "vpc-env:1.0", "region": "eu-west-1",
        "availability_zones": ["eu-west-1a", "eu-west-1b"], "spec": {"interface_endpoints": []}}]}))
    app = cdk.App(context=cli_context(), outdir=str(tmp_path / "out"), builtin_cloud_formation_validation=False)
    built = build(app, load_platform(path), compliance=False)
    outputs = built.environments["lab"].outputs
    assert not isinstance(outputs, EcsEnvOutputs)  # vpc-env hands on no topic of its own
    first, second = notification_topic(outputs), notification_topic(outputs)
    assert first is second  # one topic, however many services ask
    template = Template.from_stack(built.environments["lab"])
    key_id = next(iter(template.find_resources("AWS::KMS::Key")))
    template.resource_count_is("AWS::SNS::Topic", 1)
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}})
    template.has_resource_properties("AWS::SSM::Parameter", {"Name": f"/keel/lab/{NOTIFICATIONS_KEY}"})
    template.has_resource_properties("AWS::KMS::Key", {"KeyPolicy": {"Statement": Match.array_with([
        Match.object_like({"Sid": "AllowCloudWatchAlarmsOfThisAccount",
                           "Principal": {"Service": "cloudwatch.amazonaws.com"}})])}})


def _table(deletion_protection: bool) -> dict:  # type: ignore[type-arg]
    stack = cdk.Stack(cdk.App(builtin_cloud_formation_validation=False))
    idempotency_table(stack, key=kms.Key(stack, "Key"), policy=cdk.RemovalPolicy.RETAIN,
                      deletion_protection=deletion_protection)
    return next(iter(Template.from_stack(stack).find_resources("AWS::DynamoDB::Table").values()))["Properties"]


def test_idempotency_table_is_deletion_protected_when_asked() -> None:
    assert _table(True)["DeletionProtectionEnabled"] is True
    assert _table(False).get("DeletionProtectionEnabled") in (None, False)
