"""ECS control-plane events -> readable notifications on the environment's SNS topic.

EventBridge invokes this asynchronously (retries, then the rule target's dead-letter queue). The text
says what happened, where, and where to look; the raw event stays in the events log group.
No dependencies beyond the runtime's boto3.
"""

from __future__ import annotations

import logging
import os
from typing import Any

logger = logging.getLogger("keel.ecs_event_formatter")
logger.setLevel(logging.INFO)

_clients: dict[str, Any] = {}
SUBJECT_MAX = 100  # SNS's limit for e-mail subjects


def client(name: str) -> Any:
    """Created on first use and reused while the container lives."""
    if name not in _clients:
        import boto3

        _clients[name] = boto3.client(name)
    return _clients[name]


def _name(arn: str | None) -> str:
    """`arn:aws:ecs:eu-west-1:1:task/keel-dev/abc` -> `abc`; `service/cluster/web` -> `web`."""
    return (arn or "?").rsplit("/", 1)[-1]


def _cluster(detail: dict[str, Any], resources: list[str]) -> str:
    if detail.get("clusterArn"):
        return _name(detail["clusterArn"])
    for arn in resources:  # deployment events name the service: service/<cluster>/<service>
        parts = arn.split(":", 5)[-1].split("/")
        if len(parts) == 3 and parts[0] == "service":
            return parts[1]
    return "?"


def format_event(event: dict[str, Any]) -> tuple[str, str]:
    """(subject, message) for one EventBridge event from aws.ecs."""
    kind = event.get("detail-type", "")
    detail = event.get("detail") or {}
    resources = event.get("resources") or []
    cluster = _cluster(detail, resources)
    where = f"cluster {cluster}, {event.get('region', '?')}, account {event.get('account', '?')}"
    lines: list[str]
    if kind == "ECS Task State Change":
        group = detail.get("group", "")
        subject = f"ECS task stopped ({detail.get('stopCode', 'unknown')}): {group or _name(detail.get('taskArn'))}"
        lines = [f"Task {detail.get('taskArn', '?')} stopped.", f"Where: {where}",
                 f"Group: {group or '-'}", f"Launch type: {detail.get('launchType', '-')}",
                 f"Stop code: {detail.get('stopCode', '-')}", f"Reason: {detail.get('stoppedReason', '-')}",
                 "Containers:"]
        for c in detail.get("containers") or []:
            lines.append(f"  - {c.get('name', '?')}: exit code {c.get('exitCode', 'none')}"
                         + (f" ({c['reason']})" if c.get("reason") else ""))
    elif kind == "ECS Container Instance State Change":
        instance = detail.get("ec2InstanceId") or _name(detail.get("containerInstanceArn"))
        subject = f"ECS agent disconnected: {instance}"
        lines = [f"The ECS agent on container instance {detail.get('containerInstanceArn', '?')} is disconnected.",
                 f"Where: {where}", f"Instance: {instance}", f"Status: {detail.get('status', '-')}",
                 f"Running tasks: {detail.get('runningTasksCount', '-')}",
                 "For an ECS Anywhere server: check its network, `systemctl status ecs amazon-ssm-agent`."]
    elif kind == "ECS Service Action":
        service = _name(resources[0]) if resources else "?"
        subject = f"ECS service {service}: {detail.get('eventName', '?')}"
        lines = [f"Service {service}: {detail.get('eventName', '?')} ({detail.get('eventType', '?')}).",
                 f"Where: {where}", f"Reason: {detail.get('reason', '-')}"]
    elif kind == "ECS Deployment State Change":
        service = _name(resources[0]) if resources else "?"
        rollback = "rolling back" in str(detail.get("reason", ""))
        subject = f"ECS deployment {'rolled back' if rollback else 'failed'}: {service}"
        lines = [f"Service {service}: {detail.get('eventName', '?')} ({detail.get('eventType', '?')}).",
                 f"Where: {where}", f"Deployment: {detail.get('deploymentId', '-')}",
                 f"Reason: {detail.get('reason', '-')}"]
    else:
        subject = f"ECS event: {kind or 'unknown'}"
        lines = [f"Where: {where}"]
    lines += ["", f"Time: {event.get('time', '?')}  Event id: {event.get('id', '?')}",
              "The full event is in the environment's ECS events log group."]
    return _subject(subject), "\n".join(lines)


def _subject(text: str) -> str:
    """SNS subjects: ASCII-printable, no newlines, at most 100 characters."""
    clean = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)
    return clean if len(clean) <= SUBJECT_MAX else clean[: SUBJECT_MAX - 3] + "..."


def process(event: dict[str, Any], topic_arn: str) -> str:
    subject, message = format_event(event)
    response = client("sns").publish(TopicArn=topic_arn, Subject=subject, Message=message)
    logger.info("published %s for event %s (%s)", response["MessageId"], event.get("id"), event.get("detail-type"))
    return str(response["MessageId"])


def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    return {"messageId": process(event, os.environ["TOPIC_ARN"])}
