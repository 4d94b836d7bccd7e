"""CloudFormation custom resource: an SSM hybrid activation whose id and code live only in a secret.

Create issues an activation and writes {ActivationId, ActivationCode} to the secret; Update with
changed inputs issues a new one (CloudFormation then deletes the old physical id); Delete removes it.
The code is never returned to CloudFormation, never logged. No dependencies beyond the runtime's boto3;
`cfn_response` is the providers' shared plumbing (lambda_src/_shared, linked into this folder).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from cfn_response import inputs, respond, send

logger = logging.getLogger("keel.hybrid_activation")
logger.setLevel(logging.INFO)

_clients: dict[str, Any] = {}


def client(name: str) -> Any:
    """Created on first use and reused while the container lives (cold starts stay cheap)."""
    if name not in _clients:
        import boto3

        _clients[name] = boto3.client(name)
    return _clients[name]


def create_activation(props: dict[str, Any], *, now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    days = int(props["ExpiryDays"])
    tags = [{"Key": k, "Value": v} for k, v in sorted((props.get("Tags") or {}).items())]
    response = client("ssm").create_activation(
        Description=props.get("Description", "Keel hybrid activation"),
        DefaultInstanceName=props["InstanceNamePrefix"],
        IamRole=props["RoleName"],
        RegistrationLimit=int(props["RegistrationLimit"]),
        # Expiry at most 30 days ahead (SSM's limit); an hour short of it avoids clock-skew rejections.
        ExpirationDate=now + dt.timedelta(days=days) - dt.timedelta(hours=1),
        **({"Tags": tags} if tags else {}),
    )
    activation_id = response["ActivationId"]
    client("secretsmanager").put_secret_value(
        SecretId=props["SecretArn"],
        SecretString=json.dumps({"ActivationId": activation_id, "ActivationCode": response["ActivationCode"],
                                 "Region": props.get("Region", ""),
                                 "ExpiresAt": (now + dt.timedelta(days=days)).isoformat()}))
    logger.info("created activation %s (limit %s, %s days)", activation_id, props["RegistrationLimit"], days)
    return str(activation_id)


def delete_activation(activation_id: str) -> None:
    ssm = client("ssm")
    try:
        ssm.delete_activation(ActivationId=activation_id)
        logger.info("deleted activation %s", activation_id)
    except ssm.exceptions.InvalidActivation:
        logger.info("activation %s already gone", activation_id)
    except ssm.exceptions.InvalidActivationId:
        logger.info("activation id %s not valid (never created); nothing to delete", activation_id)


def process(event: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """(physical id, data) for one custom-resource event; raises on failure."""
    kind = event["RequestType"]
    props = event.get("ResourceProperties", {})
    if kind == "Create":
        activation_id = create_activation(props)
        return activation_id, {"ActivationId": activation_id}
    physical = event["PhysicalResourceId"]
    if kind == "Update":
        if inputs(props) == inputs(event.get("OldResourceProperties", {})):
            return physical, {"ActivationId": physical}
        activation_id = create_activation(props)  # CloudFormation deletes `physical` after success
        return activation_id, {"ActivationId": activation_id}
    if kind == "Delete":
        if physical.startswith("failed-"):
            return physical, {}
        delete_activation(physical)
        return physical, {}
    raise ValueError(f"unknown RequestType {kind!r}")


def handler(event: dict[str, Any], context: Any) -> None:
    respond(event, process, send=send, logger=logger)
