"""CloudFormation custom resource: an SSM hybrid activation whose id and code live only in a secret.

Create issues an activation and writes {ActivationId, ActivationCode} to the secret; Update with
changed inputs issues a new one (CloudFormation then deletes the old physical id); Delete removes it.
Every activation is tagged with the RequestId that made it: a repeated Create returns it instead of issuing
another, and Delete of a failed Create (physical id `failed-<RequestId>`) removes whatever it left.
The code is never returned to CloudFormation, never logged. No dependencies beyond the runtime's boto3;
`cfn_response` is the providers' shared plumbing (lambda_src/_shared, linked into this folder).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from cfn_response import failed_request, inputs, respond, send

logger = logging.getLogger("keel.hybrid_activation")
logger.setLevel(logging.INFO)

_clients: dict[str, Any] = {}
OWNER_TAG = "keel:activation"
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


def activation_tags(props: dict[str, Any], request_id: str) -> list[dict[str, str]]:
    """The caller's tags plus the two Keel sets on every activation: which resource owns it (the IAM
    condition the provider is held to) and which request made it (how a retry or Delete finds it)."""
    tags = {str(k): str(v) for k, v in (props.get("Tags") or {}).items()}
    if props.get("Owner"):
        tags[OWNER_TAG] = str(props["Owner"])
    tags[REQUEST_TAG] = request_id
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def activations_of(props: dict[str, Any], request_id: str) -> list[str]:
    """Ids of the activations a request made (its RequestId tag), among those for this role and prefix."""
    ssm, found, token = client("ssm"), [], None
    filters = [{"FilterKey": "IamRole", "FilterValues": [props["RoleName"]]},
               {"FilterKey": "DefaultInstanceName", "FilterValues": [props["InstanceNamePrefix"]]}]
    while True:
        page = ssm.describe_activations(Filters=filters, **({"NextToken": token} if token else {}))
        for activation in page.get("ActivationList", []):
            tags = {t["Key"]: t["Value"] for t in activation.get("Tags", [])}
            if tags.get(REQUEST_TAG) == request_id:
                found.append(str(activation["ActivationId"]))
        token = page.get("NextToken")
        if not token:
            return found


def stored(secret_arn: str) -> dict[str, Any]:
    """What the secret holds now ({} when it holds nothing usable)."""
    try:
        value = json.loads(client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"])
    except Exception:  # never written, or not JSON: nothing of ours in it
        return {}
    return value if isinstance(value, dict) else {}


def create_activation(props: dict[str, Any], request_id: str, *, now: dt.datetime | None = None) -> str:
    """Issues the activation and stores it, once per request: a repeated request returns what the first
    one made; an activation whose code never reached the secret is deleted (its code cannot be read back)
    and issued again; a failure after SSM issued one deletes it before raising."""
    for existing in activations_of(props, request_id):
        if stored(props["SecretArn"]).get("ActivationId") == existing:
            logger.info("activation %s was already made by this request; nothing to do", existing)
            return existing
        logger.info("activation %s of this request never reached the secret; replacing it", existing)
        delete_activation(existing)
    now = now or dt.datetime.now(dt.UTC)
    days = int(props["ExpiryDays"])
    response = client("ssm").create_activation(
        Description=props.get("Description", "Keel hybrid activation"),
        DefaultInstanceName=props["InstanceNamePrefix"],
        IamRole=props["RoleName"],
        RegistrationLimit=int(props["RegistrationLimit"]),
        # Expiry at most 30 days ahead (SSM's limit); an hour short of it avoids clock-skew rejections.
        ExpirationDate=now + dt.timedelta(days=days) - dt.timedelta(hours=1),
        Tags=activation_tags(props, request_id),
    )
    activation_id = str(response["ActivationId"])
    try:
        client("secretsmanager").put_secret_value(
            SecretId=props["SecretArn"],
            SecretString=json.dumps({"ActivationId": activation_id, "ActivationCode": response["ActivationCode"],
                                     "Region": props.get("Region", ""), "RequestId": request_id,
                                     "ExpiresAt": (now + dt.timedelta(days=days)).isoformat()}))
    except Exception:
        logger.error("could not store activation %s; deleting it", activation_id)
        try:
            delete_activation(activation_id)
        except Exception:  # Delete of the failed resource finds it by its RequestId tag
            logger.exception("could not delete activation %s; the stack's Delete will", activation_id)
        raise
    logger.info("created activation %s (limit %s, %s days)", activation_id, props["RegistrationLimit"], days)
    return activation_id


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
    kind, request_id = event["RequestType"], event["RequestId"]
    props = event.get("ResourceProperties", {})
    if kind == "Create":
        activation_id = create_activation(props, request_id)
        return activation_id, {"ActivationId": activation_id}
    physical = event["PhysicalResourceId"]
    if kind == "Update":
        if inputs(props) == inputs(event.get("OldResourceProperties", {})):
            return physical, {"ActivationId": physical}
        activation_id = create_activation(props, request_id)  # CloudFormation deletes `physical` after success
        return activation_id, {"ActivationId": activation_id}
    if kind == "Delete":
        failed = failed_request(physical)
        if failed is None:
            delete_activation(physical)
        else:  # a Create that failed half-way: whatever it left carries its RequestId
            for leftover in activations_of(props, failed):
                delete_activation(leftover)
        return physical, {}
    raise ValueError(f"unknown RequestType {kind!r}")


def handler(event: dict[str, Any], context: Any) -> None:
    respond(event, process, send=send, logger=logger)
