"""Handler tests run Lambda code in-process (moto for AWS); they never import aws_cdk.

Keel's own functions (lambda_src/<function>/handler.py) load with `load_handler`; the serverless example
handlers import as packages (`api.handler`, with `keel_runtime` beside them), lambda_src on sys.path."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda_src"
if str(LAMBDA_SRC) not in sys.path:
    sys.path.insert(0, str(LAMBDA_SRC))

# Set before any serverless handler module is imported: Powertools reads some of these at import time.
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1",
    "POWERTOOLS_SERVICE_NAME": "orders", "POWERTOOLS_METRICS_NAMESPACE": "Keel",
    "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_DEV": "false",
    "KEEL_ENVIRONMENT": "dev", "KEEL_SERVICE": "orders", "KEEL_EVENT_BUS_NAME": "keel-dev",
    "KEEL_IDEMPOTENCY_TABLE": "orders-idempotency",
}
os.environ.update(ENVIRONMENT)


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


@dataclass
class FakeContext:
    function_name: str = "keel-orders"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:keel-orders"
    aws_request_id: str = "0b1f6ad5-0000-4000-8000-000000000000"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


@pytest.fixture
def context() -> FakeContext:
    return FakeContext()


@pytest.fixture
def aws() -> Iterator[None]:
    """moto for every AWS call in the test; caches and lazily created clients start empty."""
    from aws_lambda_powertools.utilities import parameters
    from moto import mock_aws

    from keel_runtime import config, events

    with mock_aws():
        parameters.clear_caches()
        config.reset()
        events._client = None
        yield
        parameters.clear_caches()
        config.reset()
        events._client = None
