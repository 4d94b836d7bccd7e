"""`keel status`: one row per stack: CloudFormation state, deployed template vs the pin, ECS, Lambda, alarms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from keel.ops.aws import Clients, Target, describe_stack, stack_resources

TEMPLATE_TAG = "keel:template"
_UNHEALTHY = ("FAILED", "ROLLBACK")


@dataclass(frozen=True)
class EcsState:
    service: str
    desired: int
    running: int
    pending: int
    rollout: str  # the primary deployment's rolloutState (COMPLETED, IN_PROGRESS, FAILED) or "-"
    failure: str | None  # the reason of the newest deployment that failed, when one did


@dataclass(frozen=True)
class FunctionState:
    function: str
    errors: float
    throttles: float


@dataclass(frozen=True)
class StackStatus:
    stack: str
    kind: str
    name: str
    region: str | None
    status: str  # CloudFormation's StackStatus, or NOT_DEPLOYED
    updated: str | None  # ISO time of the last update (or the creation)
    deployed_template: str | None  # the stack's keel:template tag
    pinned_template: str  # what the platform file resolves to
    ecs: tuple[EcsState, ...] = ()
    functions: tuple[FunctionState, ...] = ()
    alarms: tuple[str, ...] = field(default_factory=tuple)
    reason: str | None = None  # CloudFormation's StackStatusReason on a failed state

    @property
    def drifted(self) -> bool:
        """The deployed template@version differs from the platform file's pin (deploy or upgrade pending)."""
        return self.deployed_template is not None and self.deployed_template != self.pinned_template

    @property
    def healthy(self) -> bool:
        return (self.status != "NOT_DEPLOYED" and not any(s in self.status for s in _UNHEALTHY)
                and not self.alarms and not any(e.rollout == "FAILED" for e in self.ecs))

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["drifted"], out["healthy"] = self.drifted, self.healthy
        return out


def stack_status(call: Clients, target: Target, *, now: datetime | None = None) -> StackStatus:
    stack = describe_stack(call, target)
    if stack is None:
        return StackStatus(stack=target.stack, kind=target.kind, name=target.name, region=target.region,
                           status="NOT_DEPLOYED", updated=None, deployed_template=None,
                           pinned_template=target.template)
    tags = {t["Key"]: t["Value"] for t in stack.get("Tags", [])}
    updated = stack.get("LastUpdatedTime") or stack.get("CreationTime")
    resources = stack_resources(call, target)
    status = stack["StackStatus"]
    return StackStatus(
        stack=target.stack, kind=target.kind, name=target.name, region=target.region, status=status,
        updated=_iso(updated), deployed_template=tags.get(TEMPLATE_TAG), pinned_template=target.template,
        ecs=tuple(ecs_states(call, target, resources)),
        functions=tuple(function_states(call, target, resources, now=now)),
        alarms=tuple(alarms_in_alarm(call, target, resources)),
        reason=stack.get("StackStatusReason") if any(s in status for s in _UNHEALTHY) else None)


def ecs_states(call: Clients, target: Target, resources: Sequence[dict[str, Any]]) -> list[EcsState]:
    services = [r["PhysicalResourceId"] for r in resources
                if r.get("ResourceType") == "AWS::ECS::Service" and r.get("PhysicalResourceId")]
    if not services:
        return []
    ecs = call("ecs", target.region)
    out = []
    for arn in services:
        cluster = cluster_of(arn)
        if cluster is None:
            continue
        for svc in ecs.describe_services(cluster=cluster, services=[arn]).get("services", []):
            deployments = svc.get("deployments", [])
            primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
            failed = [d for d in deployments if d.get("rolloutState") == "FAILED"]
            failed.sort(key=lambda d: str(d.get("updatedAt") or d.get("createdAt") or ""), reverse=True)
            out.append(EcsState(
                service=svc.get("serviceName", arn.rsplit("/", 1)[-1]), desired=int(svc.get("desiredCount", 0)),
                running=int(svc.get("runningCount", 0)), pending=int(svc.get("pendingCount", 0)),
                rollout=str((primary or {}).get("rolloutState") or "-"),
                failure=(failed[0].get("rolloutStateReason") or "deployment failed") if failed else None))
    return out


def cluster_of(service_arn: str) -> str | None:
    """`arn:...:service/<cluster>/<service>` (the long ARN format every new service has) -> the cluster."""
    parts = service_arn.split(":", 5)[-1].split("/")
    return parts[1] if len(parts) == 3 and parts[0] == "service" else None


def function_states(call: Clients, target: Target, resources: Sequence[dict[str, Any]], *,
                    now: datetime | None = None) -> list[FunctionState]:
    """Errors and throttles of each of the stack's functions over the last hour (CloudWatch, one call)."""
    names = [r["PhysicalResourceId"] for r in resources
             if r.get("ResourceType") == "AWS::Lambda::Function" and r.get("PhysicalResourceId")]
    if not names:
        return []
    end = now or datetime.now(UTC)
    queries = [{"Id": f"m{n}{metric[0].lower()}", "ReturnData": True, "MetricStat": {
        "Metric": {"Namespace": "AWS/Lambda", "MetricName": metric,
                   "Dimensions": [{"Name": "FunctionName", "Value": name}]},
        "Period": 3600, "Stat": "Sum"}}
        for n, name in enumerate(names) for metric in ("Errors", "Throttles")]
    values: dict[str, float] = {}
    cloudwatch = call("cloudwatch", target.region)
    for start in range(0, len(queries), 500):  # GetMetricData takes at most 500 queries
        result = cloudwatch.get_metric_data(MetricDataQueries=queries[start:start + 500],
                                            StartTime=end - timedelta(hours=1), EndTime=end)
        for item in result.get("MetricDataResults", []):
            values[item["Id"]] = float(sum(item.get("Values", [])))
    return [FunctionState(function=name, errors=values.get(f"m{n}e", 0.0), throttles=values.get(f"m{n}t", 0.0))
            for n, name in enumerate(names)]


def alarms_in_alarm(call: Clients, target: Target, resources: Sequence[dict[str, Any]]) -> list[str]:
    """The stack's alarms in ALARM: those it lists as resources, and those named after it (CloudFormation
    names an alarm `<stack>-<logical id>-<suffix>`, Application Auto Scaling's carry the service's name)."""
    names = [r["PhysicalResourceId"] for r in resources
             if r.get("ResourceType") == "AWS::CloudWatch::Alarm" and r.get("PhysicalResourceId")]
    cloudwatch = call("cloudwatch", target.region)
    found: set[str] = set()
    for start in range(0, len(names), 100):  # DescribeAlarms takes at most 100 names
        result = cloudwatch.describe_alarms(AlarmNames=names[start:start + 100], StateValue="ALARM")
        found |= {a["AlarmName"] for a in result.get("MetricAlarms", []) + result.get("CompositeAlarms", [])}
    for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmNamePrefix=f"{target.stack}-",
                                                                     StateValue="ALARM"):
        found |= {a["AlarmName"] for a in page.get("MetricAlarms", []) + page.get("CompositeAlarms", [])
                  if a.get("StateValue") == "ALARM"}
    return sorted(found)


def _iso(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def render_rows(rows: Sequence[StackStatus]) -> tuple[list[str], list[list[str]], list[str]]:
    """(headers, cells, notes): the table, then one note per failure reason, drifted pin or alarm."""
    headers = ["stack", "name", "status", "updated", "template", "ecs desired/running/pending", "rollout",
               "lambda errors/throttles (1h)", "alarms"]
    cells, notes = [], []
    for r in rows:
        template = r.deployed_template or "-"
        if r.drifted:
            template += f" (platform: {r.pinned_template})"
        cells.append([
            r.stack, r.name, r.status, r.updated or "-", template,
            ", ".join(f"{e.desired}/{e.running}/{e.pending}" for e in r.ecs) or "-",
            ", ".join(e.rollout for e in r.ecs) or "-",
            ", ".join(f"{f.errors:g}/{f.throttles:g}" for f in r.functions) or "-",
            str(len(r.alarms)) if r.alarms else "-"])
        if r.reason:
            notes.append(f"{r.stack}: {r.status}: {r.reason}")
        if r.drifted:
            notes.append(f"{r.stack}: deployed {r.deployed_template}, the platform file pins {r.pinned_template} "
                         "(deploy, or `keel upgrade`)")
        notes += [f"{r.stack}: ECS service {e.service}: last deployment failed: {e.failure}" for e in r.ecs
                  if e.failure]
        notes += [f"{r.stack}: alarm {name} is in ALARM" for name in r.alarms]
    return headers, cells, notes
