"""`keel exec` at the boto3 boundary: the ECS client is stubbed, the plugin is never spawned."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from keel.cli import main
from keel.ops.aws import Clients
from tests.ops.conftest import PLATFORM, REGION, Deployed

SERVICE_ARN = "arn:aws:ecs:eu-west-1:123456789012:service/keel-staging/keel-web-web-staging"
TASK_ARN = "arn:aws:ecs:eu-west-1:123456789012:task/keel-staging/0123456789abcdef"
SESSION = {"sessionId": "ecs-execute-command-0abc", "streamUrl": "wss://ssmmessages.eu-west-1.amazonaws.com/x",
           "tokenValue": "session-token"}


@pytest.fixture
def ecs(deployed: Deployed, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """CloudFormation from the moto platform; ECS a stubbed client the verb receives."""
    client = boto3.client("ecs", region_name=REGION)
    clients = Clients(deployed.clients.session, {**deployed.clients._made, ("ecs", REGION): client})
    monkeypatch.setattr("keel.ops.commands._clients", lambda args: clients)
    with Stubber(client) as stubber:
        yield stubber


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []
    monkeypatch.setattr("keel.ops.execute.shutil.which", lambda name: f"/usr/local/bin/{name}")
    monkeypatch.setattr("keel.ops.execute.subprocess.call", lambda argv: calls.append(argv) or 0)
    return calls


def service(exec_on: bool) -> dict[str, Any]:
    return {"services": [{"serviceArn": SERVICE_ARN, "serviceName": "keel-web-web-staging",
                          "enableExecuteCommand": exec_on}]}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["exec", *argv, "--platform", str(PLATFORM)])
    return code, capsys.readouterr().err


def test_exec_hands_the_ecs_session_to_the_plugin(ecs: Stubber, spawned: list[list[str]],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    ecs.add_response("describe_services", service(True), {"cluster": "keel-staging", "services": [SERVICE_ARN]})
    ecs.add_response("list_tasks", {"taskArns": [TASK_ARN]},
                     {"cluster": "keel-staging", "serviceName": "keel-web-web-staging", "desiredStatus": "RUNNING"})
    ecs.add_response("describe_tasks", {"tasks": [{"taskArn": TASK_ARN, "containers": [
        {"name": "log_router", "runtimeId": "0123-1"}, {"name": "web", "runtimeId": "0123-2"}]}]},
        {"cluster": "keel-staging", "tasks": [TASK_ARN]})
    ecs.add_response("execute_command", {"clusterArn": "c", "containerName": "web", "taskArn": TASK_ARN,
                                         "interactive": True, "session": SESSION},
                     {"cluster": "keel-staging", "task": TASK_ARN, "container": "web", "command": "sh",
                      "interactive": True})
    code, err = run(capsys, "web")
    assert (code, err) == (0, "")
    [argv] = spawned
    assert argv[0] == "/usr/local/bin/session-manager-plugin"
    assert json.loads(argv[1]) == SESSION and argv[2:5] == [REGION, "StartSession", ""]
    assert json.loads(argv[5]) == {"Target": "ecs:keel-staging_0123456789abcdef_0123-2"}
    ecs.assert_no_pending_responses()


def test_exec_names_the_container_and_command(ecs: Stubber, spawned: list[list[str]],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    ecs.add_response("describe_services", service(True))
    ecs.add_response("describe_tasks", {"tasks": [{"taskArn": TASK_ARN, "containers": [
        {"name": "log_router", "runtimeId": "0123-1"}, {"name": "web", "runtimeId": "0123-2"}]}]})
    ecs.add_response("execute_command", {"session": SESSION},
                     {"cluster": "keel-staging", "task": TASK_ARN, "container": "log_router",
                      "command": "cat /etc/os-release", "interactive": True})
    code, _ = run(capsys, "web", "--task", TASK_ARN, "--container", "log_router", "--command", "cat /etc/os-release")
    assert code == 0 and len(spawned) == 1


def test_missing_plugin_says_how_to_install_it(ecs: Stubber, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("keel.ops.execute.shutil.which", lambda name: None)
    code, err = run(capsys, "web")
    assert code == 2 and err.count("\n") == 1
    assert "session-manager-plugin) is not on PATH; install it: https://docs.aws.amazon.com/systems-manager/" in err
    ecs.assert_no_pending_responses()  # no AWS call before the local fix


def test_an_instance_with_exec_disabled_in_the_spec_is_refused(ecs: Stubber, spawned: list[list[str]],
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "worker")
    assert code == 2 and "exec is disabled (enable_exec: false in the platform file)" in err and not spawned


def test_a_deployed_service_with_execute_command_off_is_refused(ecs: Stubber, spawned: list[list[str]],
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    ecs.add_response("describe_services", service(False))
    code, err = run(capsys, "web")
    assert code == 2 and "the deployed ECS service has enableExecuteCommand off" in err and not spawned


def test_a_lambda_service_is_not_a_container(ecs: Stubber, spawned: list[list[str]],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "api")
    assert code == 2 and "is not a container service" in err


def test_no_running_task(ecs: Stubber, spawned: list[list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    ecs.add_response("describe_services", service(True))
    ecs.add_response("list_tasks", {"taskArns": []})
    code, err = run(capsys, "web")
    assert (code, err) == (2, "keel exec: web/web-staging: no running task in service keel-web-web-staging\n")


def test_exec_disabled_is_said_before_a_missing_plugin(ecs: Stubber, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("keel.ops.execute.shutil.which", lambda name: None)
    code, err = run(capsys, "worker")
    assert code == 2 and "exec is disabled" in err and "session-manager-plugin" not in err
