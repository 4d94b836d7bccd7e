"""CloudFormation custom resource: registers an on-premises (EKS Anywhere) cluster with the EKS Connector.

Create calls eks:RegisterCluster and writes the connector activation {ActivationId, ActivationCode,
ActivationExpiry} to a secret; the operator then has until the expiry (3 days) to apply the EKS Connector
manifest with it. Update with changed inputs deregisters and registers again under the same name (a fresh
activation); Delete deregisters. The activation code is never returned to CloudFormation, never logged.
Registration is once per CloudFormation request (its RequestId is RegisterCluster's idempotency token and a
tag): a repeated Create gets the same registration, and Delete of a failed Create (physical id
`failed-<RequestId>`) deregisters what that request left, and nothing else.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from cfn_response import failed_request, inputs, respond, send

logger = logging.getLogger("keel.eks_connector")
logger.setLevel(logging.INFO)

_clients: dict[str, Any] = {}
# Deregistration is asynchronous: how long an update waits for the old registration to go.
DEREGISTER_WAIT_SECONDS = 240
POLL_SECONDS = 5.0
REQUEST_TAG = "keel:cfn-request-id"


def client(name: str) -> Any:
    """Created on first use and reused while the container lives (cold starts stay cheap); calls time out
    and retry well inside the function's timeout."""
    if name not in _clients:
        import boto3
        from botocore.config import Config

        _clients[name] = boto3.client(name, config=Config(
            connect_timeout=5, read_timeout=20, retries={"max_attempts": 3, "mode": "standard"}))
    return _clients[name]


def registration(name: str) -> dict[str, Any] | None:
    """The registered cluster `name`, or None."""
    eks = client("eks")
    try:
        return dict(eks.describe_cluster(name=name)["cluster"])
    except eks.exceptions.ResourceNotFoundException:
        return None


def made_by(cluster: dict[str, Any], request_id: str) -> bool:
    """Whether this request registered `cluster` (its idempotency token, or the RequestId tag)."""
    return cluster.get("clientRequestToken") == request_id or \
        (cluster.get("tags") or {}).get(REQUEST_TAG) == request_id


def stored(secret_arn: str) -> dict[str, Any]:
    """What the secret holds now ({} when it holds nothing usable)."""
    try:
        value = json.loads(client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"])
    except Exception:  # never written, or not JSON: nothing of ours in it
        return {}
    return value if isinstance(value, dict) else {}


def register(props: dict[str, Any], request_id: str) -> dict[str, str]:
    """Registers once per request: RegisterCluster carries the RequestId as its idempotency token (and
    tag), so a repeated request gets the same registration back; a name someone else registered is
    refused, never taken over; a failure after the registration deregisters it before raising."""
    name = props["ClusterName"]
    existing = registration(name)
    if existing is not None:
        if not made_by(existing, request_id):
            raise RuntimeError(f"{name} is already registered with the EKS Connector, not by this request: "
                               "deregister it or choose another cluster name")
        held = stored(props["SecretArn"])
        if held.get("RequestId") == request_id and held.get("ClusterName") == name:
            logger.info("%s was already registered by this request; nothing to do", name)
            return {"ClusterName": name}
    tags = {k: str(v) for k, v in sorted((props.get("Tags") or {}).items())} | {REQUEST_TAG: request_id}
    response = client("eks").register_cluster(
        name=name,
        connectorConfig={"roleArn": props["ConnectorRoleArn"], "provider": props.get("Provider", "EKS_ANYWHERE")},
        clientRequestToken=request_id, tags=tags,
    )
    connector = response["cluster"]["connectorConfig"]
    expiry = connector.get("activationExpiry")
    expiry_text = expiry.isoformat() if hasattr(expiry, "isoformat") else str(expiry or "")
    try:
        client("secretsmanager").put_secret_value(
            SecretId=props["SecretArn"],
            SecretString=json.dumps({"ActivationId": connector["activationId"],
                                     "ActivationCode": connector["activationCode"],
                                     "ActivationExpiry": expiry_text, "ClusterName": name,
                                     "Region": props.get("Region", ""), "RequestId": request_id}))
    except Exception:
        logger.error("could not store the activation of %s; deregistering it", name)
        try:
            deregister(name)
        except Exception:  # Delete of the failed resource finds it by its RequestId
            logger.exception("could not deregister %s; the stack's Delete will", name)
        raise
    logger.info("registered %s (activation %s, expires %s)", name, connector["activationId"], expiry_text)
    return {"ClusterName": name}


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
    kind, request_id = event["RequestType"], event["RequestId"]
    props = event.get("ResourceProperties", {})
    if kind == "Create":
        return props["ClusterName"], register(props, request_id)
    physical = event["PhysicalResourceId"]
    if kind == "Update":
        old = event.get("OldResourceProperties", {})
        if inputs(props) == inputs(old):
            return physical, {"ClusterName": physical}
        if props["ClusterName"] == physical and deregister(physical):
            wait_until_gone(physical, sleep=sleep)
        return props["ClusterName"], register(props, request_id)
    if kind == "Delete":
        failed = failed_request(physical)
        if failed is None:
            deregister(physical)
        else:  # a Create that failed half-way: deregister only what that request registered
            leftover = registration(props["ClusterName"]) if props.get("ClusterName") else None
            if leftover is not None and made_by(leftover, failed):
                deregister(props["ClusterName"])
        return physical, {}
    raise ValueError(f"unknown RequestType {kind!r}")


def handler(event: dict[str, Any], context: Any) -> None:
    respond(event, process, send=send, logger=logger)
