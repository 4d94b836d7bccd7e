"""Handler tests run Lambda code in-process (moto for AWS); they never import aws_cdk."""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda_src"


def load_handler(function: str, module: str = "handler") -> ModuleType:
    """Import lambda_src/<function>/<module>.py under a unique name, with its folder on sys.path
    (as the Lambda runtime has it)."""
    folder = LAMBDA_SRC / function
    name = f"lambda_{function}_{module}"
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location(name, folder / f"{module}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@contextlib.contextmanager
def provider_under_test(monkeypatch: pytest.MonkeyPatch, function: str, service: str,
                        secret_name: str) -> Iterator[tuple[Any, Stubber, Any, str, list[dict[str, Any]]]]:
    """A custom-resource provider with Secrets Manager in moto, `service` stubbed (moto lacks it) and the
    CloudFormation response captured: (module, stub, secrets client, secret ARN, sent responses)."""
    with mock_aws():
        module = load_handler(function)
        client = boto3.client(service, region_name="eu-west-1")
        secrets = boto3.client("secretsmanager", region_name="eu-west-1")
        arn = secrets.create_secret(Name=secret_name, SecretString="{}")["ARN"]
        module._clients.clear()
        module._clients.update({service: client, "secretsmanager": secrets})
        sent: list[dict[str, Any]] = []
        monkeypatch.setattr(module, "send", lambda event, status, physical, data, reason="": sent.append(
            {"Status": status, "PhysicalResourceId": physical, "Data": data, "Reason": reason}))
        with Stubber(client) as stub:
            yield module, stub, secrets, arn, sent


@pytest.fixture(autouse=True)
def _fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """No real credentials can leak into a handler test; moto accepts these."""
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-west-1",
                       "AWS_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(key, value)
