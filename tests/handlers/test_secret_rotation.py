"""The generic rotation function, step by step against moto's Secrets Manager."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest
from secret_rotation import handler as rotation

from keel.contract import naming as common_inputs


def make_secret(value: str, *, length: int = 32, exclude_punctuation: bool = True) -> tuple[Any, str]:
    sm = boto3.client("secretsmanager")
    arn = sm.create_secret(Name="keel/dev/orders/api-key", SecretString=value, Tags=[
        {"Key": common_inputs.LENGTH_TAG, "Value": str(length)},
        {"Key": common_inputs.PUNCTUATION_TAG, "Value": str(exclude_punctuation).lower()}])["ARN"]
    return sm, arn


class _Describe:
    """moto's describe_secret lacks RotationEnabled unless a rotation Lambda ran; wrap the client."""

    def __init__(self, sm: Any) -> None:
        self._sm = sm
        self.exceptions = sm.exceptions

    def describe_secret(self, **kwargs: Any) -> dict[str, Any]:
        return {**self._sm.describe_secret(**kwargs), "RotationEnabled": True}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sm, name)


def current(sm: Any, arn: str) -> tuple[str, str]:
    """(version id, value) of AWSCURRENT, read from the stages (moto's unstaged read lags behind)."""
    stages = sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
    version = next(v for v, s in stages.items() if "AWSCURRENT" in s)
    return version, sm.get_secret_value(SecretId=arn, VersionId=version)["SecretString"]


def test_full_rotation_makes_a_new_value_of_the_declared_length_current(aws: None) -> None:
    sm, arn = make_secret("a" * 48, length=48)
    client = _Describe(sm)
    token = str(uuid.uuid4())
    rotation.create_secret(client, arn, token, client.describe_secret(SecretId=arn))
    metadata = client.describe_secret(SecretId=arn)
    assert "AWSPENDING" in metadata["VersionIdsToStages"][token]
    rotation.set_secret(client, arn, token, metadata)
    rotation.test_secret(client, arn, token, metadata)
    rotation.finish_secret(client, arn, token, metadata)
    version, value = current(sm, arn)
    assert version == token
    assert len(value) == 48 and value != "a" * 48 and value.isalnum()


def test_json_secret_keeps_its_username_and_changes_only_the_password(aws: None) -> None:
    sm, arn = make_secret(json.dumps({"username": "app", "password": "p" * 32}))
    client = _Describe(sm)
    token = str(uuid.uuid4())
    rotation.create_secret(client, arn, token, client.describe_secret(SecretId=arn))
    pending = json.loads(sm.get_secret_value(SecretId=arn, VersionId=token)["SecretString"])
    assert pending["username"] == "app" and len(pending["password"]) == 32 and pending["password"] != "p" * 32


def test_create_secret_is_idempotent(aws: None) -> None:
    sm, arn = make_secret("a" * 32)
    client = _Describe(sm)
    token = str(uuid.uuid4())
    rotation.create_secret(client, arn, token, client.describe_secret(SecretId=arn))
    first = sm.get_secret_value(SecretId=arn, VersionId=token)["SecretString"]
    rotation.create_secret(client, arn, token, client.describe_secret(SecretId=arn))
    assert sm.get_secret_value(SecretId=arn, VersionId=token)["SecretString"] == first


def test_test_secret_rejects_a_pending_value_of_the_wrong_length(aws: None) -> None:
    sm, arn = make_secret("a" * 32)
    client = _Describe(sm)
    token = str(uuid.uuid4())
    sm.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString="short", VersionStages=["AWSPENDING"])
    with pytest.raises(rotation.RotationError, match="length 5, expected 32"):
        rotation.test_secret(client, arn, token, client.describe_secret(SecretId=arn))


def test_rotate_refuses_a_token_that_is_not_pending(aws: None) -> None:
    sm, arn = make_secret("a" * 32)
    with pytest.raises(rotation.RotationError, match="not a version"):
        rotation.rotate(_Describe(sm), secret_id=arn, token=str(uuid.uuid4()), step="createSecret")


def test_rotate_refuses_a_secret_without_rotation(aws: None) -> None:
    sm, arn = make_secret("a" * 32)
    with pytest.raises(rotation.RotationError, match="not enabled"):
        rotation.rotate(sm, secret_id=arn, token="t", step="createSecret")


def test_rotate_runs_the_four_steps_through_the_handler_entry_point(aws: None) -> None:
    sm, arn = make_secret("a" * 32)
    client = _Describe(sm)
    token = str(uuid.uuid4())
    # A pending value exists already (a retried rotation): createSecret keeps it, the rest promote it.
    sm.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString="b" * 32,
                        VersionStages=["AWSPENDING"])
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        rotation.rotate(client, secret_id=arn, token=token, step=step)
    assert current(sm, arn) == (token, "b" * 32)


def test_tag_names_match_the_config_plane() -> None:
    assert (rotation.LENGTH_TAG, rotation.PUNCTUATION_TAG, rotation.PASSWORD_FIELD) == \
        (common_inputs.LENGTH_TAG, common_inputs.PUNCTUATION_TAG, common_inputs.PASSWORD_FIELD)
