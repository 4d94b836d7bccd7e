"""Status and history details that moto cannot produce (a failed rollout, CloudTrail principals): stubbed clients."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
from botocore.stub import Stubber

from keel.ops.aws import Clients, Target
from keel.ops.history import Deployment, principals
from keel.ops.status import StackStatus, cluster_of, ecs_states, render_rows

TARGET = Target(stack="keel-web-web-staging", kind="service", environment="staging", region="eu-west-1",
                template="load-balanced-fargate-svc@1.0", service="web", instance="web-staging", exec_enabled=True)
ARN = "arn:aws:ecs:eu-west-1:123456789012:service/keel-staging/keel-web-web-staging"


def stubbed(service: str) -> tuple[Clients, Stubber]:
    client = boto3.client(service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    return Clients(boto3.Session(region_name="eu-west-1"), {(service, "eu-west-1"): client}), Stubber(client)


def test_the_last_failed_deployment_gives_its_reason() -> None:
    call, stub = stubbed("ecs")
    stub.add_response("describe_services", {"services": [{
        "serviceName": "keel-web-web-staging", "desiredCount": 2, "runningCount": 1, "pendingCount": 0,
        "deployments": [
            {"status": "PRIMARY", "rolloutState": "IN_PROGRESS", "updatedAt": datetime(2026, 12, 1, 10, tzinfo=UTC)},
            {"status": "ACTIVE", "rolloutState": "FAILED", "updatedAt": datetime(2026, 12, 1, 9, tzinfo=UTC),
             "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to start."}]}]},
        {"cluster": "keel-staging", "services": [ARN]})
    with stub:
        [state] = ecs_states(call, TARGET, [{"ResourceType": "AWS::ECS::Service", "PhysicalResourceId": ARN}])
    assert (state.desired, state.running, state.pending, state.rollout) == (2, 1, 0, "IN_PROGRESS")
    assert state.failure == "ECS deployment circuit breaker: tasks failed to start."
    row = StackStatus(stack=TARGET.stack, kind="service", name=TARGET.name, region="eu-west-1",
                      status="UPDATE_COMPLETE", updated=None, deployed_template=TARGET.template,
                      pinned_template=TARGET.template, ecs=(state,))
    assert render_rows([row])[2] == ["keel-web-web-staging: ECS service keel-web-web-staging: last deployment "
                                     "failed: ECS deployment circuit breaker: tasks failed to start."]


def test_cluster_comes_from_the_long_service_arn() -> None:
    assert cluster_of(ARN) == "keel-staging"
    assert cluster_of("arn:aws:ecs:eu-west-1:123456789012:service/old-format-name") is None


def test_cloudtrail_names_who_started_each_operation() -> None:
    call, stub = stubbed("cloudtrail")
    stub.add_response("lookup_events", {"Events": [
        {"EventName": "UpdateStack", "EventTime": datetime(2026, 12, 1, 10, 0, 30, tzinfo=UTC),
         "Username": "alice@example.com"},
        {"EventName": "DescribeStacks", "EventTime": datetime(2026, 12, 1, 10, 0, 31, tzinfo=UTC),
         "Username": "monitoring"}]},
        {"LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": TARGET.stack}]})
    found = [Deployment(stack=TARGET.stack, operation="update", started="2026-12-01T10:00:00Z", finished=None,
                        result="in progress", who="pipeline-7", reason=None, resources=0),
             Deployment(stack=TARGET.stack, operation="create", started="2026-11-01T10:00:00Z", finished=None,
                        result="succeeded", who="-", reason=None, resources=3)]
    with stub:
        named = principals(call, TARGET, found)
    assert [d.who for d in named] == ["alice@example.com", "-"]  # no call near the old one: left as it was
