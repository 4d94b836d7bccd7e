"""`keel history`: stack events grouped per operation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from keel.cli import main
from keel.ops.history import duration, group
from tests.ops.conftest import PLATFORM, Deployed

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
STACK = "keel-web-web-staging"


def event(minute: int, status: str, logical: str = STACK, reason: str | None = None,
          token: str | None = None) -> dict[str, Any]:
    e: dict[str, Any] = {"Timestamp": T0 + timedelta(minutes=minute), "LogicalResourceId": logical,
                         "ResourceType": "AWS::CloudFormation::Stack" if logical == STACK else "AWS::ECS::Service",
                         "ResourceStatus": status}
    if reason:
        e["ResourceStatusReason"] = reason
    if token:
        e["ClientRequestToken"] = token
    return e


EVENTS = [
    event(0, "CREATE_IN_PROGRESS", reason="User Initiated", token="Console-CreateStack-1a2b"),
    event(1, "CREATE_IN_PROGRESS", "Service", token="Console-CreateStack-1a2b"),
    event(4, "CREATE_COMPLETE", "Service", token="Console-CreateStack-1a2b"),
    event(5, "CREATE_COMPLETE", token="Console-CreateStack-1a2b"),
    event(60, "UPDATE_IN_PROGRESS", reason="User Initiated", token="codepipeline-release-7"),
    event(61, "UPDATE_IN_PROGRESS", "Service", token="codepipeline-release-7"),
    event(70, "UPDATE_FAILED", "Service", token="codepipeline-release-7",
          reason="ECS Deployment Circuit Breaker was triggered"),
    event(71, "UPDATE_ROLLBACK_IN_PROGRESS", token="codepipeline-release-7",
          reason="The following resource(s) failed to update: [Service]."),
    event(75, "UPDATE_ROLLBACK_COMPLETE", token="codepipeline-release-7"),
    event(90, "UPDATE_IN_PROGRESS", reason="User Initiated", token="exec-cdk-deploy-3"),
]


def test_events_group_into_operations_newest_first() -> None:
    found = group(STACK, EVENTS)
    assert [(d.operation, d.result, d.who) for d in found] == [
        ("update", "in progress", "exec-cdk-deploy-3"),
        ("update", "rolled back", "codepipeline-release-7"),
        ("create", "succeeded", "Console-CreateStack-1a2b")]


def test_a_failed_update_names_its_first_failing_resource() -> None:
    failed = group(STACK, EVENTS)[1]
    assert failed.reason == "Service (AWS::ECS::Service): ECS Deployment Circuit Breaker was triggered"
    assert (failed.started, failed.finished, duration(failed)) == ("2026-11-30T10:00:00Z", "2026-11-30T10:15:00Z",
                                                                   "15m00s")


def test_cancelled_resources_are_not_the_reason() -> None:
    events = [event(0, "UPDATE_IN_PROGRESS", reason="User Initiated"),
              event(1, "UPDATE_FAILED", "Other", reason="Resource update cancelled"),
              event(2, "UPDATE_FAILED", "Service", reason="Invalid request provided: bad image"),
              event(3, "UPDATE_ROLLBACK_COMPLETE")]
    assert group(STACK, events)[0].reason == "Service (AWS::ECS::Service): Invalid request provided: bad image"


def test_history_of_a_service_against_moto(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "web", "--platform", str(PLATFORM), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [(d["stack"], d["operation"], d["result"]) for d in found] == [
        (STACK, "update", "succeeded"), (STACK, "create", "succeeded")]


def test_history_of_an_environment_is_its_own_stack(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "dev", "--platform", str(PLATFORM)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["stack", "started", "duration"]
    assert [line.split()[0] for line in out[2:]] == ["keel-dev"]


def test_history_of_a_name_that_is_neither(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "nope", "--platform", str(PLATFORM)]) == 2
    assert capsys.readouterr().err == ('keel history: "nope" is neither an environment (dev, staging) nor a '
                                       "service (api, web, worker)\n")
