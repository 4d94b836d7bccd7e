"""Generic Secrets Manager rotation for Keel's config plane: createSecret / setSecret / testSecret /
finishSecret. It generates a new random value the way the spec declares it and, for JSON secrets
({username, password}), replaces only the `password` field.

How each secret is generated (length, punctuation, JSON or bare) comes from the function's own
configuration, `KEEL_ROTATION_SHAPES`, which the config plane sets from the environment spec: not from
the secret's tags, which anyone with secretsmanager:TagResource could change to shorten the next value.
A secret the spec does not declare for rotation is refused.

A generic secret has no downstream system to update (an API key the service itself checks, a signing
key): setSecret has nothing to do. Database credentials belong to Secrets Manager's hosted rotation.
Secret values are never logged."""

from __future__ import annotations

import json
import os
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
SETTINGS_ENV = "KEEL_ROTATION_SHAPES"
PASSWORD_FIELD = "password"
# No generated value shorter than this, whatever the configuration says (the spec's minimum too).
MIN_LENGTH = 16
MAX_LENGTH = 4096
CURRENT, PENDING = "AWSCURRENT", "AWSPENDING"
# What GetRandomPassword draws from (no spaces): letters and digits, plus ASCII punctuation unless excluded.
_ALPHANUMERIC = frozenset(string.ascii_letters + string.digits)
_WITH_PUNCTUATION = _ALPHANUMERIC | frozenset(string.punctuation)
_client: Any = None
_declared: dict[str, Shape] | None = None


class RotationError(RuntimeError):
    """The rotation cannot proceed; Secrets Manager marks it failed and keeps AWSCURRENT."""


@dataclass(frozen=True)
class Shape:
    """How one secret's value is generated, as the spec declares it."""

    length: int
    exclude_punctuation: bool
    json: bool  # a JSON object whose `password` field is the generated part

    @classmethod
    def parse(cls, name: str, raw: Any) -> Shape:
        if not isinstance(raw, dict):
            raise RotationError(f"{SETTINGS_ENV}[{name}] is not an object")
        length = raw.get("length")
        if not isinstance(length, int) or isinstance(length, bool) or not MIN_LENGTH <= length <= MAX_LENGTH:
            raise RotationError(f"{SETTINGS_ENV}[{name}].length must be an integer from {MIN_LENGTH} to "
                                f"{MAX_LENGTH} (got {length!r})")
        return cls(length=length, exclude_punctuation=raw.get("exclude_punctuation") is not False,
                   json=raw.get("json") is True)


def declared_shapes(environ: Mapping[str, str] = os.environ) -> dict[str, Shape]:
    """Every secret this function may rotate, by name, from its configuration."""
    try:
        table = json.loads(environ.get(SETTINGS_ENV, ""))
    except ValueError:
        raise RotationError(f"{SETTINGS_ENV} is missing or not JSON") from None
    if not isinstance(table, dict):
        raise RotationError(f"{SETTINGS_ENV} is not an object of secret names")
    return {str(name): Shape.parse(str(name), raw) for name, raw in table.items()}


def client() -> Any:
    global _client
    if _client is None:
        import boto3
        from botocore.config import Config

        _client = boto3.client("secretsmanager", config=Config(
            connect_timeout=3, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"}))
    return _client


def declared() -> dict[str, Shape]:
    global _declared
    if _declared is None:
        _declared = declared_shapes()
    return _declared


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    rotate(client(), secret_id=event["SecretId"], token=event["ClientRequestToken"], step=event["Step"],
           shapes=declared())


def rotate(sm: Any, *, secret_id: str, token: str, step: str, shapes: Mapping[str, Shape]) -> None:
    steps = {"createSecret": create_secret, "setSecret": set_secret, "testSecret": test_secret,
             "finishSecret": finish_secret}
    if step not in steps:
        raise RotationError(f"unknown step {step!r}")
    metadata = sm.describe_secret(SecretId=secret_id)
    if not metadata.get("RotationEnabled"):
        raise RotationError("rotation is not enabled on this secret")
    name = str(metadata.get("Name"))
    shape = shapes.get(name)
    if shape is None:
        raise RotationError(f"secret {name} is not declared for generic rotation in this environment's spec")
    stages = metadata.get("VersionIdsToStages", {})
    if token not in stages:
        raise RotationError("the token is not a version of this secret")
    if CURRENT in stages[token]:
        logger.info("version is already AWSCURRENT; nothing to do", extra={"step": step})
        return
    if PENDING not in stages[token]:
        raise RotationError("the version is not AWSPENDING")
    logger.info("rotation step", extra={"step": step, "secret": name})
    steps[step](sm, secret_id, token, metadata, shape)


def _password_document(value: str, which: str) -> dict[str, Any]:
    """The JSON object of a JSON secret, or RotationError: such a secret never becomes a bare string."""
    try:
        document = json.loads(value)
    except ValueError:
        document = None
    if not isinstance(document, dict) or not isinstance(document.get(PASSWORD_FIELD), str):
        raise RotationError(f"the {which} value is not a JSON object with a string {PASSWORD_FIELD!r} field, "
                            "as the spec declares this secret (username given)")
    return document


def next_value(current: str, generated: str, shape: Shape) -> str:
    """JSON secrets keep every field but the password; bare secrets are replaced whole."""
    if not shape.json:
        return generated
    return json.dumps({**_password_document(current, "current"), PASSWORD_FIELD: generated})


def create_secret(sm: Any, secret_id: str, token: str, metadata: dict[str, Any], shape: Shape) -> None:
    current = sm.get_secret_value(SecretId=secret_id, VersionStage=CURRENT)["SecretString"]
    try:
        sm.get_secret_value(SecretId=secret_id, VersionId=token, VersionStage=PENDING)
        logger.info("pending version exists; createSecret is idempotent")
        return
    except sm.exceptions.ResourceNotFoundException:
        pass
    generated = sm.get_random_password(PasswordLength=shape.length,
                                       ExcludePunctuation=shape.exclude_punctuation)["RandomPassword"]
    sm.put_secret_value(SecretId=secret_id, ClientRequestToken=token,
                        SecretString=next_value(current, generated, shape), VersionStages=[PENDING])


def set_secret(sm: Any, secret_id: str, token: str, metadata: dict[str, Any], shape: Shape) -> None:
    """Nothing downstream to update for a generic secret."""


def test_secret(sm: Any, secret_id: str, token: str, metadata: dict[str, Any], shape: Shape) -> None:
    """The pending value has the declared shape: the same JSON fields with only the password changed (or a
    bare value), the declared length, only the characters the generator may produce, and it is new."""
    pending = sm.get_secret_value(SecretId=secret_id, VersionId=token, VersionStage=PENDING)["SecretString"]
    current = sm.get_secret_value(SecretId=secret_id, VersionStage=CURRENT)["SecretString"]
    if shape.json:
        before, after = _password_document(current, "current"), _password_document(pending, "pending")
        if set(after) != set(before):
            raise RotationError("pending value does not have the fields of the current value")
        if any(after[k] != before[k] for k in before if k != PASSWORD_FIELD):
            raise RotationError("pending value changed a field other than the password")
        value, old = after[PASSWORD_FIELD], before[PASSWORD_FIELD]
    else:
        value, old = pending, current
    if len(value) != shape.length:
        raise RotationError(f"pending value has length {len(value)}, expected {shape.length}")
    allowed = _ALPHANUMERIC if shape.exclude_punctuation else _WITH_PUNCTUATION
    if not set(value) <= allowed:
        raise RotationError("pending value has characters the declared generator never produces")
    if value == old:
        raise RotationError("pending value equals the current value")


def finish_secret(sm: Any, secret_id: str, token: str, metadata: dict[str, Any], shape: Shape) -> None:
    current_version = next((version for version, stages in metadata["VersionIdsToStages"].items()
                            if CURRENT in stages), None)
    if current_version == token:
        return
    sm.update_secret_version_stage(SecretId=secret_id, VersionStage=CURRENT, MoveToVersionId=token,
                                   RemoveFromVersionId=current_version)
    logger.info("rotation finished: pending version is now AWSCURRENT")
