"""CloudFormation custom-resource plumbing shared by Keel's providers (each function folder links it).

`respond` runs a provider's `process(event) -> (physical id, data)` and always answers CloudFormation,
success or failure, so a stack never hangs on a crashed provider. Responses are NoEcho: `Data` never
reaches describe-stack-events. Standard library only.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Callable
from typing import Any

Process = Callable[[dict[str, Any]], tuple[str, dict[str, str]]]
Send = Callable[..., None]


def send(event: dict[str, Any], status: str, physical_id: str, data: dict[str, str], reason: str = "") -> None:
    body = json.dumps({
        "Status": status, "Reason": reason[:1000] or "see the function's log group",
        "PhysicalResourceId": physical_id, "StackId": event["StackId"], "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"], "NoEcho": True, "Data": data,
    }).encode()
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",
                                     headers={"content-type": "", "content-length": str(len(body))})
    with urllib.request.urlopen(request, timeout=30) as response:  # CloudFormation's pre-signed URL
        response.read()


def respond(event: dict[str, Any], process: Process, *, send: Send, logger: logging.Logger) -> None:
    """Run `process` and report the outcome with `send` (the caller's, so tests can replace it)."""
    logger.info("%s %s", event.get("RequestType"), event.get("LogicalResourceId"))
    try:
        physical, data = process(event)
    except Exception as exc:  # every failure must still answer CloudFormation, or the stack hangs
        logger.exception("%s failed", event.get("RequestType"))
        physical = event.get("PhysicalResourceId") or f"failed-{event['RequestId']}"
        send(event, "FAILED", physical, {}, f"{type(exc).__name__}: {exc}")
        return
    send(event, "SUCCESS", physical, data)


def inputs(props: dict[str, Any]) -> dict[str, Any]:
    """The resource's own properties (CloudFormation adds ServiceToken)."""
    return {k: v for k, v in props.items() if k != "ServiceToken"}
