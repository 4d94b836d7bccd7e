"""Generic Secrets Manager rotation for Keel's config plane: createSecret / setSecret / testSecret /
finishSecret. It generates a new random value the way the first one was generated (length and
punctuation from the secret's keel:* tags) and, for JSON secrets, replaces only the `password` field.

A generic secret has no downstream system to update (an API key the service itself checks, a signing
key): setSecret has nothing to do. Database credentials belong to Secrets Manager's hosted rotation.
Secret values are never logged."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
LENGTH_TAG = "keel:secret-length"
PUNCTUATION_TAG = "keel:secret-exclude-punctuation"
PASSWORD_FIELD = "password"
CURRENT, PENDING = "AWSCURRENT", "AWSPENDING"
_client: Any = None


class RotationError(RuntimeError):
    """The rotation cannot proceed; Secrets Manager marks it failed and keeps AWSCURRENT."""


def client() -> Any:
    global _client
    if _client is None:
        import boto3

        _client = boto3.client("secretsmanager")
    return _client


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    rotate(client(), secret_id=event["SecretId"], token=event["ClientRequestToken"], step=event["Step"])


def rotate(sm: Any, *, secret_id: str, token: str, step: str) -> None:
    steps = {"createSecret": create_secret, "setSecret": set_secret, "testSecret": test_secret,
             "finishSecret": finish_secret}
    if step not in steps:
        raise RotationError(f"unknown step {step!r}")
    metadata = sm.describe_secret(SecretId=secret_id)
    if not metadata.get("RotationEnabled"):
        raise RotationError("rotation is not enabled on this secret")
    stages = metadata.get("VersionIdsToStages", {})
    if token not in stages:
        raise RotationError("the token is not a version of this secret")
    if CURRENT in stages[token]:
        logger.info("version is already AWSCURRENT; nothing to do", extra={"step": step})
        return
    if PENDING not in stages[token]:
        raise RotationError("the version is not AWSPENDING")
    logger.info("rotation step", extra={"step": step, "secret": metadata.get("Name")})
    steps[step](sm, secret_id, token, metadata)


def _settings(metadata: dict[str, Any]) -> tuple[int, bool]:
    tags = {t["Key"]: t["Value"] for t in metadata.get("Tags", [])}
    return int(tags.get(LENGTH_TAG, "32")), tags.get(PUNCTUATION_TAG, "true") == "true"


def next_value(current: str, generated: str) -> str:
    """JSON secrets keep every field but the password; plain secrets are replaced whole."""
    try:
        document = json.loads(current)
    except ValueError:
        return generated
    if isinstance(document, dict) and PASSWORD_FIELD in document:
        return json.dumps({**document, PASSWORD_FIELD: generated})
    return generated


def create_secret(sm: Any, secret_id: str, token: str, metadata: dict[str, Any]) -> None:
    current = sm.get_secret_value(SecretId=secret_id, VersionStage=CURRENT)["SecretString"]
    try:
        sm.get_secret_value(SecretId=secret_id, VersionId=token, VersionStage=PENDING)
        logger.info("pending version exists; createSecret is idempotent")
        return
    except sm.exceptions.ResourceNotFoundException:
        pass
    length, exclude_punctuation = _settings(metadata)
    generated = sm.get_random_password(PasswordLength=length, ExcludePunctuation=exclude_punctuation)["RandomPassword"]
    sm.put_secret_value(SecretId=secret_id, ClientRequestToken=token,
                        SecretString=next_value(current, generated), VersionStages=[PENDING])


def set_secret(sm: Any, secret_id: str, token: str, metadata: dict[str, Any]) -> None:
    """Nothing downstream to update for a generic secret."""


def test_secret(sm: Any, secret_id: str, token: str, metadata: dict[str, Any]) -> None:
    pending = sm.get_secret_value(SecretId=secret_id, VersionId=token, VersionStage=PENDING)["SecretString"]
    current = sm.get_secret_value(SecretId=secret_id, VersionStage=CURRENT)["SecretString"]
    length, _ = _settings(metadata)
    try:
        before, after = json.loads(current), json.loads(pending)
    except ValueError:
        before, after = None, None
    if isinstance(before, dict):
        if not isinstance(after, dict) or set(after) != set(before):
            raise RotationError("pending value lost the fields of the current value")
        value = str(after.get(PASSWORD_FIELD, ""))
    else:
        value = pending
    if len(value) != length:
        raise RotationError(f"pending value has length {len(value)}, expected {length}")
    if pending == current:
        raise RotationError("pending value equals the current value")


def finish_secret(sm: Any, secret_id: str, token: str, metadata: dict[str, Any]) -> None:
    current_version = next((version for version, stages in metadata["VersionIdsToStages"].items()
                            if CURRENT in stages), None)
    if current_version == token:
        return
    sm.update_secret_version_stage(SecretId=secret_id, VersionStage=CURRENT, MoveToVersionId=token,
                                   RemoveFromVersionId=current_version)
    logger.info("rotation finished: pending version is now AWSCURRENT")
