"""The control-plane event formatter: readable notifications from ECS events, published to SNS (moto)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.handlers.conftest import load_handler

EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "ecs_events"


def sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def mod():  # type: ignore[no-untyped-def]
    return load_handler("ecs_event_formatter")


def test_task_failure_names_the_task_stop_code_and_exit_codes(mod) -> None:  # type: ignore[no-untyped-def]
    subject, message = mod.format_event(sample("TaskFailures--essential-container-exited"))
    assert subject == "ECS task stopped (EssentialContainerExited): service:web"
    assert "Reason: Essential container in task exited" in message
    assert "  - web: exit code 1" in message and "  - log-router: exit code 0" in message
    assert "cluster keel-edge, eu-west-1, account 123456789012" in message


def test_task_that_never_started_shows_the_container_reason(mod) -> None:  # type: ignore[no-untyped-def]
    _, message = mod.format_event(sample("TaskFailures--failed-to-start"))
    assert "  - web: exit code none (CannotPullContainerError: ref pull has been retried)" in message


def test_disconnected_agent_names_the_managed_instance(mod) -> None:  # type: ignore[no-untyped-def]
    subject, message = mod.format_event(sample("AgentDisconnected--external-instance"))
    assert subject == "ECS agent disconnected: mi-0a1b2c3d4e5f60718"
    assert "systemctl status ecs amazon-ssm-agent" in message


def test_service_action_names_service_and_reason(mod) -> None:  # type: ignore[no-untyped-def]
    subject, message = mod.format_event(sample("ServiceFailures--placement-failure"))
    assert subject == "ECS service web: SERVICE_TASK_PLACEMENT_FAILURE"
    assert "Reason: RESOURCE:FARGATE" in message


def test_deployment_events_tell_rollback_from_failure(mod) -> None:  # type: ignore[no-untyped-def]
    assert mod.format_event(sample("DeploymentFailures--circuit-breaker-rollback"))[0] == \
        "ECS deployment rolled back: web"
    subject, message = mod.format_event(sample("DeploymentFailures--deployment-failed"))
    assert subject == "ECS deployment failed: web"
    assert "cluster keel-edge," in message  # from the service ARN: deployment events carry no cluster ARN


def test_subject_fits_sns_limits(mod) -> None:  # type: ignore[no-untyped-def]
    event = sample("TaskFailures--essential-container-exited")
    event["detail"]["group"] = "service:" + "é" * 200
    subject, _ = mod.format_event(event)
    assert len(subject) <= 100 and subject.isascii() and "\n" not in subject


def test_unknown_event_still_formats(mod) -> None:  # type: ignore[no-untyped-def]
    subject, message = mod.format_event({"detail-type": "ECS Something New", "detail": {}})
    assert subject == "ECS event: ECS Something New" and "Where: cluster ?" in message


def test_handler_publishes_to_the_topic(mod, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with mock_aws():
        sns = boto3.client("sns", region_name="eu-west-1")
        sqs = boto3.client("sqs", region_name="eu-west-1")
        topic = sns.create_topic(Name="events")["TopicArn"]
        queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        mod._clients.clear()
        monkeypatch.setenv("TOPIC_ARN", topic)
        result = mod.handler(sample("DeploymentFailures--deployment-failed"), None)
        [received] = sqs.receive_message(QueueUrl=queue)["Messages"]
        body = json.loads(received["Body"])
        mod._clients.clear()
    assert body["MessageId"] == result["messageId"]
    assert body["Subject"] == "ECS deployment failed: web"
    assert "Deployment: ecs-svc/1234567890123456789" in body["Message"]
