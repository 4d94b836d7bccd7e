"""Handler tests: lambda_src on the path, fake credentials, moto for AWS. Never imports aws_cdk."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda_src"
if str(LAMBDA_SRC) not in sys.path:
    sys.path.insert(0, str(LAMBDA_SRC))

# Set before any handler module is imported: Powertools reads some of these at import time.
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1",
    "POWERTOOLS_SERVICE_NAME": "orders", "POWERTOOLS_METRICS_NAMESPACE": "Keel",
    "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_DEV": "false",
    "KEEL_ENVIRONMENT": "dev", "KEEL_SERVICE": "orders", "KEEL_EVENT_BUS_NAME": "keel-dev",
    "KEEL_IDEMPOTENCY_TABLE": "orders-idempotency",
}
os.environ.update(ENVIRONMENT)


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
