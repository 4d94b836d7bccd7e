"""`keel history`: past deployments of stacks, from CloudFormation's stack events grouped per operation.

Who: CloudFormation's events carry no principal. What they do carry is the operation's ClientRequestToken,
which names the tool for many callers (the console's `Console-UpdateStack-...`, CodePipeline's, a token
the CDK CLI or a script passed). The principal itself is only in CloudTrail (`CreateStack` / `UpdateStack` /
`ExecuteChangeSet` events): `--cloudtrail` looks it up there (90 days of management events).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from keel.ops.aws import Clients, Target

_START = {"CREATE_IN_PROGRESS": "create", "UPDATE_IN_PROGRESS": "update", "DELETE_IN_PROGRESS": "delete",
          "IMPORT_IN_PROGRESS": "import"}
_END = {"CREATE_COMPLETE": "succeeded", "UPDATE_COMPLETE": "succeeded", "DELETE_COMPLETE": "succeeded",
        "IMPORT_COMPLETE": "succeeded", "CREATE_FAILED": "failed", "DELETE_FAILED": "failed",
        "ROLLBACK_COMPLETE": "rolled back", "ROLLBACK_FAILED": "rollback failed",
        "UPDATE_ROLLBACK_COMPLETE": "rolled back", "UPDATE_ROLLBACK_FAILED": "rollback failed",
        "UPDATE_FAILED": "failed", "IMPORT_ROLLBACK_COMPLETE": "rolled back",
        "IMPORT_ROLLBACK_FAILED": "rollback failed"}
_NOISE = ("Resource creation cancelled", "Resource update cancelled")


@dataclass(frozen=True)
class Deployment:
    stack: str
    operation: str  # create | update | delete | import
    started: str
    finished: str | None  # None: still in progress
    result: str  # succeeded | failed | rolled back | rollback failed | in progress
    who: str  # the ClientRequestToken, the CloudTrail principal, or "-"
    reason: str | None  # the first resource failure of the operation
    resources: int  # resource events in the operation

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def stack_events(call: Clients, target: Target) -> list[dict[str, Any]]:
    """Every event of the stack, oldest first; [] when the stack does not exist."""
    import botocore.exceptions

    events: list[dict[str, Any]] = []
    try:
        for page in call("cloudformation", target.region).get_paginator("describe_stack_events") \
                .paginate(StackName=target.stack):
            events += page.get("StackEvents", [])
    except botocore.exceptions.ClientError as exc:
        if "does not exist" in str(exc.response.get("Error", {}).get("Message", "")):
            return []
        raise
    events.sort(key=lambda e: _time(e.get("Timestamp")))
    return events


def group(stack: str, events: Iterable[dict[str, Any]]) -> list[Deployment]:
    """One Deployment from each stack-level *_IN_PROGRESS a person or tool started (the ones whose
    reason is "User Initiated", or the first of a token) to its final COMPLETE / FAILED, newest first."""
    out: list[Deployment] = []
    current: dict[str, Any] | None = None
    for e in events:
        is_stack = e.get("LogicalResourceId") == stack and e.get("ResourceType") == "AWS::CloudFormation::Stack"
        status = str(e.get("ResourceStatus", ""))
        if is_stack and status in _START and (current is None or _user_initiated(e)
                                              or current["token"] != e.get("ClientRequestToken")):
            if current is not None:
                out.append(_close(stack, current, None, "in progress"))
            current = {"operation": _START[status], "started": _time(e.get("Timestamp")),
                       "token": e.get("ClientRequestToken"), "reason": None, "resources": 0}
            continue
        if current is None:
            continue
        if is_stack and status in _END:
            out.append(_close(stack, current, _time(e.get("Timestamp")), _END[status]))
            current = None
            continue
        if not is_stack:
            current["resources"] += 1
            why = e.get("ResourceStatusReason") or ""
            if status.endswith("_FAILED") and current["reason"] is None and not why.startswith(_NOISE):
                current["reason"] = f"{e.get('LogicalResourceId')} ({e.get('ResourceType')}): {why}"
    if current is not None:
        out.append(_close(stack, current, None, "in progress"))
    return list(reversed(out))


def _user_initiated(event: dict[str, Any]) -> bool:
    return str(event.get("ResourceStatusReason", "")).startswith("User Initiated")


def _close(stack: str, current: dict[str, Any], finished: datetime | None, result: str) -> Deployment:
    return Deployment(stack=stack, operation=current["operation"], started=_fmt(current["started"]),
                      finished=_fmt(finished) if finished else None, result=result,
                      who=current["token"] or "-", reason=current["reason"], resources=current["resources"])


def principals(call: Clients, target: Target, deployments: Sequence[Deployment]) -> list[Deployment]:
    """Replace `who` by the CloudTrail principal of the API call that started each operation, when found."""
    from dataclasses import replace
    from datetime import timedelta

    names = {"CreateStack", "UpdateStack", "DeleteStack", "ExecuteChangeSet"}
    trail = call("cloudtrail", target.region)
    calls: list[tuple[datetime, str]] = []
    for page in trail.get_paginator("lookup_events").paginate(
            LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": target.stack}]):
        for event in page.get("Events", []):
            if event.get("EventName") in names:
                calls.append((_time(event.get("EventTime")), str(event.get("Username") or "-")))
    out = []
    for d in deployments:
        started = datetime.strptime(d.started, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        near = [who for when, who in calls if abs(when - started) <= timedelta(minutes=2)]
        out.append(replace(d, who=near[0]) if near else d)
    return out


def _time(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else datetime.min.replace(tzinfo=UTC)


def _fmt(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration(d: Deployment) -> str:
    if d.finished is None:
        return "-"
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    seconds = int((datetime.strptime(d.finished, fmt) - datetime.strptime(d.started, fmt)).total_seconds())
    return f"{seconds // 60}m{seconds % 60:02d}s"
