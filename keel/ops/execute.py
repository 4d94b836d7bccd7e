"""`keel exec`: ECS ExecuteCommand into a running task, through the Session Manager plugin (as the AWS CLI)."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from keel.ops.aws import Clients, OpsError, Target, stack_resources
from keel.ops.status import cluster_of

PLUGIN = "session-manager-plugin"
INSTALL = ("the Session Manager plugin (session-manager-plugin) is not on PATH; install it: "
           "https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html"
           " (Debian/Ubuntu: the session-manager-plugin.deb package; "
           "macOS: `brew install --cask session-manager-plugin`)")
_SIDECARS = {"log_router", "log-router", "firelens"}


@dataclass(frozen=True)
class ExecTarget:
    cluster: str
    task: str  # the task ARN
    container: str
    runtime_id: str


def check_spec(target: Target) -> None:
    """The platform file decides first: no container, or exec off there, and nothing else matters."""
    if target.exec_enabled is None:
        raise OpsError(f"{target.name} ({target.template}) is not a container service: nothing to exec into")
    if not target.exec_enabled:
        raise OpsError(f"{target.name}: exec is disabled (enable_exec: false in the platform file); set "
                       "enable_exec: true on the instance and deploy it first")


def find_service(call: Clients, target: Target) -> dict[str, Any]:
    """The instance's ECS service as ECS describes it; OpsError when the stack has none or exec is off."""
    check_spec(target)
    arns = [r["PhysicalResourceId"] for r in stack_resources(call, target, "AWS::ECS::Service")
            if r.get("PhysicalResourceId")]
    if not arns:
        raise OpsError(f"{target.stack}: no ECS service deployed (is the stack deployed?)")
    cluster = cluster_of(arns[0])
    if cluster is None:
        raise OpsError(f"{target.stack}: cannot tell the cluster from the service ARN {arns[0]}")
    services = call("ecs", target.region).describe_services(cluster=cluster, services=[arns[0]]).get("services", [])
    if not services:
        raise OpsError(f"{target.stack}: ECS does not know the service {arns[0]}")
    service: dict[str, Any] = services[0]
    if not service.get("enableExecuteCommand"):
        raise OpsError(f"{target.name}: the deployed ECS service has enableExecuteCommand off; deploy the instance "
                       "with enable_exec: true (running tasks keep the old setting until replaced)")
    service["clusterName"] = cluster
    return service


def choose(call: Clients, target: Target, service: dict[str, Any], *, task: str | None,
           container: str | None) -> ExecTarget:
    ecs = call("ecs", target.region)
    cluster = service["clusterName"]
    if task is None:
        running = ecs.list_tasks(cluster=cluster, serviceName=service["serviceName"],
                                 desiredStatus="RUNNING").get("taskArns", [])
        if not running:
            raise OpsError(f"{target.name}: no running task in service {service['serviceName']}")
        task = running[0]
    tasks = ecs.describe_tasks(cluster=cluster, tasks=[task]).get("tasks", [])
    if not tasks:
        raise OpsError(f'{target.name}: no task "{task}" in cluster {cluster}')
    containers = tasks[0].get("containers", [])
    names = [c["name"] for c in containers]
    if container is None:
        candidates = [c for c in containers if c["name"] not in _SIDECARS] or containers
        if not candidates:
            raise OpsError(f"{target.name}: the task has no containers")
        chosen = candidates[0]
    else:
        match = [c for c in containers if c["name"] == container]
        if not match:
            raise OpsError(f'{target.name}: no container "{container}" in the task (containers: {", ".join(names)})')
        chosen = match[0]
    return ExecTarget(cluster=cluster, task=tasks[0]["taskArn"], container=chosen["name"],
                      runtime_id=str(chosen.get("runtimeId", "")))


def plugin_path() -> str:
    path = shutil.which(PLUGIN)
    if path is None:
        raise OpsError(INSTALL)
    return path


def execute(call: Clients, target: Target, *, task: str | None, container: str | None, command: str,
            profile: str | None) -> int:
    """Open the session ECS gives and hand it to the plugin, as `aws ecs execute-command` does (the plugin
    takes the session's token on its command line, as it does from the AWS CLI). Tests replace
    `shutil.which` and `subprocess.call` here: they never spawn the plugin."""
    check_spec(target)
    plugin = plugin_path()  # before any AWS call: the fix is local
    service = find_service(call, target)
    where = choose(call, target, service, task=task, container=container)
    ecs = call("ecs", target.region)
    response = ecs.execute_command(cluster=where.cluster, task=where.task, container=where.container,
                                   command=command, interactive=True)
    task_id = where.task.rsplit("/", 1)[-1]
    parameters = {"Target": f"ecs:{where.cluster}_{task_id}_{where.runtime_id}"}
    return subprocess.call([plugin, json.dumps(response["session"]), ecs.meta.region_name, "StartSession",
                            profile or "", json.dumps(parameters), ecs.meta.endpoint_url])
