"""CloudFormation custom resource: registers an on-premises (EKS Anywhere) cluster with the EKS Connector.

Create calls eks:RegisterCluster and writes the connector activation {ActivationId, ActivationCode,
ActivationExpiry} to a secret; the operator then has until the expiry (3 days) to apply the EKS Connector
manifest with it. Update with changed inputs deregisters and registers again under the same name (a fresh
activation); Delete deregisters. The activation code is never returned to CloudFormation, never logged.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from cfn_response import inputs, respond, send

logger = logging.getLogger("keel.eks_connector")
logger.setLevel(logging.INFO)

_clients: dict[str, Any] = {}
# Deregistration is asynchronous: how long an update waits for the old registration to go.
DEREGISTER_WAIT_SECONDS = 240
POLL_SECONDS = 5.0


def client(name: str) -> Any:
    """Created on first use and reused while the container lives (cold starts stay cheap)."""
    if name not in _clients:
        import boto3

        _clients[name] = boto3.client(name)
    return _clients[name]


def register(props: dict[str, Any]) -> dict[str, str]:
    tags = {k: str(v) for k, v in sorted((props.get("Tags") or {}).items())}
    response = client("eks").register_cluster(
        name=props["ClusterName"],
        connectorConfig={"roleArn": props["ConnectorRoleArn"], "provider": props.get("Provider", "EKS_ANYWHERE")},
        **({"tags": tags} if tags else {}),
    )
    connector = response["cluster"]["connectorConfig"]
    expiry = connector.get("activationExpiry")
    expiry_text = expiry.isoformat() if hasattr(expiry, "isoformat") else str(expiry or "")
    client("secretsmanager").put_secret_value(
        SecretId=props["SecretArn"],
        SecretString=json.dumps({"ActivationId": connector["activationId"],
                                 "ActivationCode": connector["activationCode"],
                                 "ActivationExpiry": expiry_text, "ClusterName": props["ClusterName"],
                                 "Region": props.get("Region", "")}))
    logger.info("registered %s (activation %s, expires %s)", props["ClusterName"], connector["activationId"],
                expiry_text)
    return {"ClusterName": props["ClusterName"]}


def deregister(name: str) -> bool:
    """True when a registration was removed, False when there was none."""
    eks = client("eks")
    try:
        eks.deregister_cluster(name=name)
    except eks.exceptions.ResourceNotFoundException:
        logger.info("%s is not registered; nothing to deregister", name)
        return False
    logger.info("deregistered %s", name)
    return True


def wait_until_gone(name: str, *, sleep: Callable[[float], None] = time.sleep,
                    timeout: float = DEREGISTER_WAIT_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
    """Polls until the registration is gone. Both the sleeps and the AWS calls count against `timeout`
    (the function's own timeout leaves a margin), so CloudFormation always gets an answer."""
    eks = client("eks")
    start, slept = clock(), 0.0
    while slept + (clock() - start) < timeout:
        try:
            eks.describe_cluster(name=name)
        except eks.exceptions.ResourceNotFoundException:
            return
        sleep(POLL_SECONDS)
        slept += POLL_SECONDS
    raise TimeoutError(f"{name} was still registered after {timeout:.0f} s")


def process(event: dict[str, Any], *, sleep: Callable[[float], None] = time.sleep) -> tuple[str, dict[str, str]]:
    """(physical id, data) for one custom-resource event; raises on failure. The physical id is the
    registered name, so a rename is a replacement (CloudFormation deletes the old name afterwards)."""
    kind = event["RequestType"]
    props = event.get("ResourceProperties", {})
    if kind == "Create":
        return props["ClusterName"], register(props)
    physical = event["PhysicalResourceId"]
    if kind == "Update":
        old = event.get("OldResourceProperties", {})
        if inputs(props) == inputs(old):
            return physical, {"ClusterName": physical}
        if props["ClusterName"] == physical and deregister(physical):
            wait_until_gone(physical, sleep=sleep)
        return props["ClusterName"], register(props)
    if kind == "Delete":
        if not physical.startswith("failed-"):
            deregister(physical)
        return physical, {}
    raise ValueError(f"unknown RequestType {kind!r}")


def handler(event: dict[str, Any], context: Any) -> None:
    respond(event, process, send=send, logger=logger)
