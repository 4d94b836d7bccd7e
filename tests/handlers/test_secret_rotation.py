"""The generic rotation function, step by step against moto's Secrets Manager."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest
from secret_rotation import handler as rotation

from keel.contract import naming as common_inputs

NAME = "keel/dev/orders/api-key"


def make_secret(value: str) -> tuple[Any, str]:
    sm = boto3.client("secretsmanager")
    return sm, sm.create_secret(Name=NAME, SecretString=value)["ARN"]


def shape(length: int = 32, *, exclude_punctuation: bool = True, json_: bool = False) -> Any:
    return rotation.Shape(length=length, exclude_punctuation=exclude_punctuation, json=json_)


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
    sm, arn = make_secret("a" * 48)
    client = _Describe(sm)
    token = str(uuid.uuid4())
    rotation.create_secret(client, arn, token, client.describe_secret(SecretId=arn), shape(48))
    metadata = client.describe_secret(SecretId=arn)
    assert "AWSPENDING" in metadata["VersionIdsToStages"][token]
    rotation.set_secret(client, arn, token, metadata, shape(48))
    rotation.test_secret(client, arn, token, metadata, shape(48))
    rotation.finish_secret(client, arn, token, metadata, shape(48))
    version, value = current(sm, arn)
    assert version == token
    assert len(value) == 48 and value != "a" * 48 and value.isalnum()


def test_json_secret_keeps_its_username_and_changes_only_the_password(aws: None) -> None:
    sm, arn = make_secret(json.dumps({"username": "app", "password": "p" * 32}))
    client = _Describe(sm)
    token = str(uuid.uuid4())
    rotation.create_secret(client, arn, token, client.describe_secret(SecretId=arn), shape(json_=True))
    pending = json.loads(sm.get_secret_value(SecretId=arn, VersionId=token)["SecretString"])
    assert pending["username"] == "app" and len(pending["password"]) == 32 and pending["password"] != "p" * 32


def test_create_secret_is_idempotent(aws: None) -> None:
    sm, arn = make_secret("a" * 32)
    client = _Describe(sm)
    token = str(uuid.uuid4())
    rotation.create_secret(client, arn, token, client.describe_secret(SecretId=arn), shape())
    first = sm.get_secret_value(SecretId=arn, VersionId=token)["SecretString"]
    rotation.create_secret(client, arn, token, client.describe_secret(SecretId=arn), shape())
    assert sm.get_secret_value(SecretId=arn, VersionId=token)["SecretString"] == first


def test_test_secret_rejects_a_pending_value_of_the_wrong_length(aws: None) -> None:
    sm, arn = make_secret("a" * 32)
    client = _Describe(sm)
    token = str(uuid.uuid4())
    sm.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString="short", VersionStages=["AWSPENDING"])
    with pytest.raises(rotation.RotationError, match="length 5, expected 32"):
        rotation.test_secret(client, arn, token, client.describe_secret(SecretId=arn), shape())


def test_rotate_refuses_a_token_that_is_not_pending(aws: None) -> None:
    sm, arn = make_secret("a" * 32)
    with pytest.raises(rotation.RotationError, match="not a version"):
        rotation.rotate(_Describe(sm), secret_id=arn, token=str(uuid.uuid4()), step="createSecret",
                        shapes={NAME: shape()})


def test_rotate_refuses_a_secret_without_rotation(aws: None) -> None:
    sm, arn = make_secret("a" * 32)
    with pytest.raises(rotation.RotationError, match="not enabled"):
        rotation.rotate(sm, secret_id=arn, token="t", step="createSecret", shapes={NAME: shape()})


def test_rotate_runs_the_four_steps_through_the_handler_entry_point(aws: None) -> None:
    sm, arn = make_secret("a" * 32)
    client = _Describe(sm)
    token = str(uuid.uuid4())
    # A pending value exists already (a retried rotation): createSecret keeps it, the rest promote it.
    sm.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString="b" * 32,
                        VersionStages=["AWSPENDING"])
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        rotation.rotate(client, secret_id=arn, token=token, step=step, shapes={NAME: shape()})
    assert current(sm, arn) == (token, "b" * 32)


def test_setting_and_field_names_match_the_config_plane() -> None:
    assert (rotation.SETTINGS_ENV, rotation.PASSWORD_FIELD) == \
        (common_inputs.ROTATION_SETTINGS_ENV, common_inputs.PASSWORD_FIELD)


def test_a_json_secret_without_a_password_never_becomes_a_bare_string(aws: None) -> None:
    sm, arn = make_secret(json.dumps({"username": "app", "token": "t" * 32}))
    client = _Describe(sm)
    token = str(uuid.uuid4())
    with pytest.raises(rotation.RotationError, match="not a JSON object with a string 'password' field"):
        rotation.create_secret(client, arn, token, client.describe_secret(SecretId=arn), shape(json_=True))
    stages = sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
    assert token not in stages  # nothing pending: AWSCURRENT stays the JSON document


def test_a_bare_secret_that_happens_to_parse_as_json_is_replaced_whole(aws: None) -> None:
    sm, arn = make_secret("12345678901234567890123456789012")  # a JSON number
    client = _Describe(sm)
    token = str(uuid.uuid4())
    rotation.create_secret(client, arn, token, client.describe_secret(SecretId=arn), shape())
    pending = sm.get_secret_value(SecretId=arn, VersionId=token)["SecretString"]
    assert len(pending) == 32 and pending.isalnum()


def test_the_length_comes_from_the_function_configuration_not_a_tag(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    sm, arn = make_secret("a" * 40)
    sm.tag_resource(SecretId=arn, Tags=[{"Key": "keel:secret-length", "Value": "4"}])  # anyone with TagResource
    monkeypatch.setenv(rotation.SETTINGS_ENV, json.dumps({NAME: {"length": 40, "exclude_punctuation": True,
                                                                 "json": False}}))
    client = _Describe(sm)
    token = str(uuid.uuid4())
    sm.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString="b" * 4, VersionStages=["AWSPENDING"])
    with pytest.raises(rotation.RotationError, match="length 4, expected 40"):  # the forged tag changes nothing
        rotation.rotate(client, secret_id=arn, token=token, step="testSecret", shapes=rotation.declared_shapes())


def test_a_length_below_the_minimum_is_refused() -> None:
    with pytest.raises(rotation.RotationError, match="from 16 to 4096"):
        rotation.declared_shapes({rotation.SETTINGS_ENV: json.dumps({NAME: {"length": 8}})})


def test_missing_configuration_is_refused() -> None:
    with pytest.raises(rotation.RotationError, match="missing or not JSON"):
        rotation.declared_shapes({})


def test_a_secret_the_spec_does_not_rotate_is_refused(aws: None) -> None:
    sm, arn = make_secret("a" * 32)
    with pytest.raises(rotation.RotationError, match="not declared for generic rotation"):
        rotation.rotate(_Describe(sm), secret_id=arn, token="t", step="createSecret",
                        shapes={"keel/dev/orders/other": shape()})


@pytest.mark.parametrize(("current", "pending", "problem"), [
    ('{"username": "app", "password": "' + "p" * 32 + '"}', "q" * 32, "not a JSON object"),
    ('{"username": "app", "password": "' + "p" * 32 + '"}',
     '{"username": "root", "password": "' + "q" * 32 + '"}', "changed a field other than the password"),
    ('{"username": "app", "password": "' + "p" * 32 + '"}',
     '{"username": "app", "password": "' + "q" * 32 + '", "extra": 1}', "does not have the fields"),
    ('{"username": "app", "password": "' + "p" * 32 + '"}',
     '{"username": "app", "password": "' + "q" * 31 + '!"}', "characters the declared generator never produces"),
    ('{"username": "app", "password": "' + "p" * 32 + '"}',
     '{"username": "app", "password": "' + "p" * 32 + '"}', "equals the current value"),
])
def test_test_secret_checks_the_shape_of_a_json_value(aws: None, current: str, pending: str, problem: str) -> None:
    sm, arn = make_secret(current)
    client = _Describe(sm)
    token = str(uuid.uuid4())
    sm.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=pending, VersionStages=["AWSPENDING"])
    with pytest.raises(rotation.RotationError, match=problem):
        rotation.test_secret(client, arn, token, client.describe_secret(SecretId=arn), shape(json_=True))


def test_test_secret_rejects_punctuation_when_the_spec_excludes_it(aws: None) -> None:
    sm, arn = make_secret("a" * 32)
    client = _Describe(sm)
    token = str(uuid.uuid4())
    sm.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString="b" * 31 + "$",
                        VersionStages=["AWSPENDING"])
    with pytest.raises(rotation.RotationError, match="characters"):
        rotation.test_secret(client, arn, token, client.describe_secret(SecretId=arn), shape())
    rotation.test_secret(client, arn, token, client.describe_secret(SecretId=arn),
                         shape(exclude_punctuation=False))  # allowed when punctuation is on
