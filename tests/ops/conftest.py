"""A deployed test platform in moto: the stacks of tests/ops/platform.yaml with keel tags, an ECS cluster and
service, log groups with events, a Lambda function with metrics, parameters, secrets and an alarm in ALARM.

Everything in-process (`mock_aws`), no network, no aws_cdk. The stacks' templates are small hand-written
stand-ins carrying what the day-2 verbs read (resource types, tags), not the synthesized templates."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from keel.ops.aws import Clients

PLATFORM = Path(__file__).parent / "platform.yaml"
REGION = "eu-west-1"
SIGNING_KEY = "s3cr3t-Value-never-shown-9f2c"  # the deployed secret's value: must never be printed


def _tags(template: str, environment: str, service: str | None = None) -> list[dict[str, str]]:
    tags = [{"Key": "keel:template", "Value": template}, {"Key": "keel:environment", "Value": environment}]
    return tags + ([{"Key": "keel:service", "Value": service}] if service else [])


_ROLE = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}}

STACKS: dict[str, tuple[dict[str, Any], list[dict[str, str]]]] = {
    "keel-dev": ({"Resources": {
        "ConfigParamApiGreeting0A1B2C3D": {"Type": "AWS::SSM::Parameter", "Properties": {
            "Name": "/keel/dev/api/greeting", "Type": "String", "Value": "Hello from dev"}},
        "VpcFlowLogsLogGroupAB12CD34": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
    }}, _tags("vpc-env@1.2", "dev")),
    # Deployed from ecs-env 1.0 while the platform file now resolves ecs-env:1 to 1.1: a drifted pin.
    "keel-staging": ({"Resources": {
        "ClusterEB0386A7": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": "keel-staging"}},
    }}, _tags("ecs-env@1.0", "staging")),
    "keel-web-web-staging": ({"Resources": {
        "TaskDefinitionB36D86D9": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
            "Family": "keel-web-web-staging",
            "ContainerDefinitions": [{"Name": "web", "Image": "public.ecr.aws/nginx/nginx:1.27", "Memory": 512}]}},
        "ServiceD69D759B": {"Type": "AWS::ECS::Service", "Properties": {
            "Cluster": "keel-staging", "ServiceName": "keel-web-web-staging", "DesiredCount": 2,
            "TaskDefinition": {"Ref": "TaskDefinitionB36D86D9"}}},
        "TaskDefinitionWebLogs6C8F0E21": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
    }}, _tags("load-balanced-fargate-svc@1.0", "staging", "web")),
    "keel-api-dev": ({"Resources": {
        "FunctionServiceRole675BB04A": _ROLE,
        "Function76856677": {"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": "keel-api-dev-handler", "Runtime": "python3.12", "Handler": "handler.handler",
            "Role": {"Fn::GetAtt": ["FunctionServiceRole675BB04A", "Arn"]},
            "Code": {"ZipFile": "def handler(event, context):\n    return {}\n"}}},
        "FunctionLogs0D5B2E8A": {"Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": "/aws/lambda/keel-api-dev-handler"}},
        "ApiAccessLogs9E2F1C3B": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
    }}, _tags("lambda-api-svc@1.0", "dev", "api")),
    # keel-worker-worker-staging is not deployed.
}


@dataclass
class Deployed:
    now: datetime
    log_groups: dict[str, str]  # logical ID -> physical name
    function: str
    clients: Clients  # one session for the module: boto3 loads each service model once

    def client(self, service: str) -> Any:
        return self.clients(service, REGION)


def no_real_aws(monkeypatch: pytest.MonkeyPatch, **extra: str) -> None:
    """No AWS_* from the machine, no config files, no instance metadata: nothing can reach a real account."""
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/keel-test-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/keel-test-credentials")
    for key, value in extra.items():
        monkeypatch.setenv(key, value)


@pytest.fixture(scope="module")
def _platform() -> Iterator[Deployed]:
    with pytest.MonkeyPatch.context() as mp:
        no_real_aws(mp, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION)
        with mock_aws():
            yield _deploy()


@pytest.fixture
def deployed(_platform: Deployed, monkeypatch: pytest.MonkeyPatch) -> Deployed:
    """The deployed test platform; the verbs' clients come from its session."""
    monkeypatch.setattr("keel.ops.commands._clients", lambda args: _platform.clients)
    return _platform


def _deploy() -> Deployed:
    cfn = boto3.client("cloudformation", region_name=REGION)
    for name, (template, tags) in STACKS.items():
        cfn.create_stack(StackName=name, TemplateBody=json.dumps(template), Tags=tags,
                         Capabilities=["CAPABILITY_IAM"], ClientRequestToken=f"keel-test-create-{name}")
    # a second deployment of the web stack (a new task count), started by a pipeline's token
    web, web_tags = STACKS["keel-web-web-staging"]
    web = json.loads(json.dumps(web))
    web["Resources"]["ServiceD69D759B"]["Properties"]["DesiredCount"] = 3
    cfn.update_stack(StackName="keel-web-web-staging", TemplateBody=json.dumps(web), Tags=web_tags,
                     ClientRequestToken="pipeline-web-release-42")
    groups = {r["LogicalResourceId"]: r["PhysicalResourceId"]
              for stack in STACKS for r in cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]
              if r["ResourceType"] == "AWS::Logs::LogGroup"}
    now = datetime.now(UTC)
    logs = boto3.client("logs", region_name=REGION)

    def put(group: str, stream: str, *lines: tuple[int, str]) -> None:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
            {"timestamp": int((now - timedelta(minutes=m)).timestamp() * 1000), "message": text}
            for m, text in lines])

    put(groups["TaskDefinitionWebLogs6C8F0E21"], "web/web/1f2e", (30, "GET /shop/cart 200"),
        (10, "ERROR payment backend timed out"), (3, "GET /health 200"))
    put(groups["FunctionLogs0D5B2E8A"], "2026/12/01/[$LATEST]abc", (20, "START RequestId: 1"),
        (5, "ERROR item not found"))
    put(groups["ApiAccessLogs9E2F1C3B"], "access", (19, '{"status": 200, "path": "/items"}'))
    put(groups["TaskDefinitionWebLogs6C8F0E21"], "web/web/old", (180, "three hours ago: not in the last hour"))

    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=[
        {"MetricName": "Errors", "Dimensions": [{"Name": "FunctionName", "Value": "keel-api-dev-handler"}],
         "Timestamp": now - timedelta(minutes=5), "Value": 3.0},
        {"MetricName": "Throttles", "Dimensions": [{"Name": "FunctionName", "Value": "keel-api-dev-handler"}],
         "Timestamp": now - timedelta(minutes=5), "Value": 1.0}])
    for name in ("keel-web-web-staging-CpuHigh-1A2B3C", "keel-api-dev-Errors-9Z8Y7X"):
        cloudwatch.put_metric_alarm(AlarmName=name, MetricName="CPUUtilization", Namespace="AWS/ECS",
                                    Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=80,
                                    ComparisonOperator="GreaterThanThreshold")
    cloudwatch.set_alarm_state(AlarmName="keel-web-web-staging-CpuHigh-1A2B3C", StateValue="ALARM",
                               StateReason="CPU above 80% for 1 minute")

    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name="/keel/dev/api/page-size", Value="50", Type="String")
    ssm.put_parameter(Name="/keel/dev/vpc/id", Value="vpc-0abc", Type="String")  # an environment output
    sm = boto3.client("secretsmanager", region_name=REGION)
    sm.create_secret(Name="keel/dev/api/signing-key", SecretString=SIGNING_KEY,
                     Description="API request signing key")
    return Deployed(now=now, log_groups=groups, function="keel-api-dev-handler",
                    clients=Clients(boto3.Session(region_name=REGION)))
