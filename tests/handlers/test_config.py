"""keel_runtime.config: cached reads, last good value on an outage (timeouts, throttling, 5xx) and only then,
AccessDenied fails loudly, secrets both ways, lazy clients with short timeouts."""

from __future__ import annotations

import ast
import json
import math
import subprocess
import sys
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber

from keel_runtime.config import Config, ConfigAccessDenied, classify
from tests.handlers.conftest import LAMBDA_SRC


def counting_ssm() -> tuple[Any, dict[str, int]]:
    client = boto3.client("ssm")
    calls = {"GetParameter": 0}

    def count(**_: Any) -> None:
        calls["GetParameter"] += 1

    client.meta.events.register("before-call.ssm.GetParameter", count)
    return client, calls


def fail_every_call(client: Any, service: str) -> None:
    def outage(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url=f"https://{service}.eu-west-1.amazonaws.com")

    client.meta.events.register(f"before-call.{service}.*", outage)


def test_parameter_names_follow_the_keel_scheme() -> None:
    cfg = Config(environment="dev", service="orders", max_age=1)
    assert cfg.parameter_name("db/pool-size") == "/keel/dev/orders/db/pool-size"
    assert cfg.parameter_name("log-level", shared=True) == "/keel/dev/shared/log-level"
    assert cfg.secret_name("api-key") == "keel/dev/orders/api-key"


def test_max_age_comes_from_the_powertools_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_PARAMETERS_MAX_AGE", "42")
    assert Config(environment="dev", service="orders").max_age == 42


def test_ssm_calls_over_1000_invocations_stay_within_duration_over_max_age(aws: None) -> None:
    boto3.client("ssm").put_parameter(Name="/keel/dev/orders/greeting", Value="hello", Type="String")
    client, calls = counting_ssm()
    max_age = 1
    cfg = Config(environment="dev", service="orders", max_age=max_age, ssm_client=client)
    started = time.monotonic()
    for _ in range(1000):
        assert cfg.get("greeting") == "hello"
        time.sleep(0.002)
    duration = time.monotonic() - started
    assert calls["GetParameter"] <= math.ceil(duration / max_age)
    assert calls["GetParameter"] >= math.floor(duration / max_age)  # it does refresh after max_age


def test_outage_serves_the_last_good_value_and_logs_a_warning(aws: None, caplog: pytest.LogCaptureFixture) -> None:
    boto3.client("ssm").put_parameter(Name="/keel/dev/orders/greeting", Value="hello", Type="String")
    client = boto3.client("ssm")
    cfg = Config(environment="dev", service="orders", max_age=0, ssm_client=client)
    assert cfg.get("greeting") == "hello"
    fail_every_call(client, "ssm")
    assert cfg.get("greeting") == "hello"
    warning = next(r for r in caplog.records if r.levelname == "WARNING")
    assert warning.config_name == "/keel/dev/orders/greeting"  # type: ignore[attr-defined]
    assert "hello" not in json.dumps(vars(warning), default=str)


def test_outage_without_a_previous_read_raises(aws: None) -> None:
    client = boto3.client("ssm")
    fail_every_call(client, "ssm")
    with pytest.raises(Exception, match="Could not connect"):
        Config(environment="dev", service="orders", max_age=0, ssm_client=client).get("greeting")


def test_missing_parameter_gives_the_default(aws: None) -> None:
    assert Config(environment="dev", service="orders").get("batch-size", default=100) == 100


def test_outage_is_not_mistaken_for_a_missing_parameter(aws: None) -> None:
    client = boto3.client("ssm")
    fail_every_call(client, "ssm")
    with pytest.raises(Exception, match="Could not connect"):
        Config(environment="dev", service="orders", ssm_client=client).get("batch-size", default=100)


def test_string_list_parameter_reads_as_a_list(aws: None) -> None:
    boto3.client("ssm").put_parameter(Name="/keel/dev/shared/origins", Value="https://a,https://b",
                                      Type="StringList")
    assert Config(environment="dev", service="orders").get_list("origins", shared=True) == ["https://a", "https://b"]


def test_secret_reads_from_secrets_manager(aws: None) -> None:
    boto3.client("secretsmanager").create_secret(Name="keel/dev/orders/api-key", SecretString="s3cr3t")
    assert Config(environment="dev", service="orders").secret("api-key") == "s3cr3t"


def test_secret_reads_through_the_parameter_store_reference(aws: None) -> None:
    boto3.client("secretsmanager").create_secret(Name="keel/dev/orders/db", SecretString='{"username": "app"}')
    cfg = Config(environment="dev", service="orders")
    assert cfg.secret("db", via_parameter_store=True, transform="json") == {"username": "app"}


def test_secrets_manager_outage_serves_the_last_good_secret(aws: None) -> None:
    client = boto3.client("secretsmanager")
    client.create_secret(Name="keel/dev/orders/api-key", SecretString="s3cr3t")
    cfg = Config(environment="dev", service="orders", max_age=0, secrets_client=client)
    assert cfg.secret("api-key") == "s3cr3t"
    fail_every_call(client, "secretsmanager")
    assert cfg.secret("api-key") == "s3cr3t"


def test_importing_handlers_creates_no_aws_client() -> None:
    """Lazy initialization: a cold start pays for a client only when an invocation needs it."""
    code = (
        "import sys, botocore.session\n"
        "created = []\n"
        "original = botocore.session.Session.create_client\n"
        "def spy(self, name, *a, **k):\n"
        "    created.append(name)\n"
        "    return original(self, name, *a, **k)\n"
        "botocore.session.Session.create_client = spy\n"
        "import api.handler, event_worker.handler, scheduled_job.handler, secret_rotation.handler\n"
        "print(created)\n")
    from tests.handlers.conftest import ENVIRONMENT
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=LAMBDA_SRC,
                         env={**ENVIRONMENT, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(LAMBDA_SRC)}, check=True)
    assert ast.literal_eval(out.stdout) == []


def test_sdk_call_tracing_loads_powertools_tracer_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    from aws_lambda_powertools import Tracer

    from keel_runtime import tracing

    monkeypatch.delenv(tracing.TRACE_SDK_ENV, raising=False)
    assert isinstance(tracing.tracer(), tracing.NoTracer)
    monkeypatch.setenv(tracing.TRACE_SDK_ENV, "true")
    assert isinstance(tracing.tracer(), Tracer)


def test_no_tracer_decorators_leave_the_function_alone() -> None:
    from keel_runtime.tracing import NoTracer

    def handler(event: dict[str, Any], context: Any) -> str:
        return "ok"

    assert NoTracer().capture_lambda_handler(handler) is handler
    assert NoTracer().capture_method()(handler) is handler


@pytest.mark.parametrize("function", ["api", "event_worker", "scheduled_job", "secret_rotation"])
def test_handler_imports_from_its_own_folder_as_lambda_runs_it(function: str) -> None:
    """The package root in Lambda is lambda_src/<function> (keel_runtime arrives through its link)."""
    from tests.handlers.conftest import ENVIRONMENT

    root = LAMBDA_SRC / function
    out = subprocess.run([sys.executable, "-c", "import handler; print(callable(handler.handler))"],
                         capture_output=True, text=True, cwd=root, check=True,
                         env={**ENVIRONMENT, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)})
    assert out.stdout.strip() == "True"


def stubbed(service: str) -> tuple[Any, Stubber]:
    client = boto3.client(service)
    return client, Stubber(client)


def parameter(value: str) -> dict[str, Any]:
    return {"Parameter": {"Name": "/keel/dev/orders/greeting", "Type": "String", "Value": value, "Version": 1}}


def test_clients_time_out_in_seconds_and_retry_a_bounded_number_of_times(aws: None) -> None:
    cfg = Config(environment="dev", service="orders")
    for provider in (cfg.ssm, cfg.secrets):
        settings = provider.client.meta.config
        assert settings.connect_timeout + settings.read_timeout <= 5
        assert settings.retries == {"total_max_attempts": 2, "mode": "standard"}


def test_a_read_timeout_serves_the_last_good_value(aws: None) -> None:
    boto3.client("ssm").put_parameter(Name="/keel/dev/orders/greeting", Value="hello", Type="String")
    client = boto3.client("ssm")
    cfg = Config(environment="dev", service="orders", max_age=0, ssm_client=client)
    assert cfg.get("greeting") == "hello"

    def hang(**_: Any) -> None:
        raise ReadTimeoutError(endpoint_url="https://ssm.eu-west-1.amazonaws.com")

    client.meta.events.register("before-call.ssm.*", hang)
    assert cfg.get("greeting") == "hello"


@pytest.mark.parametrize("code", ["ThrottlingException", "InternalServerError"])
def test_throttling_or_a_service_error_serves_the_last_good_value(code: str) -> None:
    client, stub = stubbed("ssm")
    stub.add_response("get_parameter", parameter("hello"))
    stub.add_client_error("get_parameter", service_error_code=code,
                          http_status_code=400 if code.startswith("Throttl") else 500)
    with stub:
        cfg = Config(environment="dev", service="orders", max_age=0, ssm_client=client)
        assert cfg.get("greeting") == "hello"
        assert cfg.get("greeting") == "hello"


def test_access_denied_fails_loudly_and_forgets_the_last_good_value(caplog: pytest.LogCaptureFixture) -> None:
    client, stub = stubbed("ssm")
    stub.add_response("get_parameter", parameter("hello"))
    stub.add_client_error("get_parameter", service_error_code="AccessDeniedException", http_status_code=400)
    stub.add_client_error("get_parameter", service_error_code="ThrottlingException", http_status_code=400)
    with stub:
        cfg = Config(environment="dev", service="orders", max_age=0, ssm_client=client)
        assert cfg.get("greeting") == "hello"
        with pytest.raises(ConfigAccessDenied, match="access denied"):
            cfg.get("greeting")
        with pytest.raises(Exception, match="Throttling"):  # nothing stale left to serve afterwards
            cfg.get("greeting")
    assert any(r.levelname == "ERROR" and "denied" in r.getMessage() for r in caplog.records)


def test_access_denied_to_a_secret_is_not_served_stale() -> None:
    client, stub = stubbed("secretsmanager")
    stub.add_response("get_secret_value", {"Name": "keel/dev/orders/api-key", "SecretString": "s3cr3t"})
    stub.add_client_error("get_secret_value", service_error_code="AccessDeniedException", http_status_code=400)
    with stub:
        cfg = Config(environment="dev", service="orders", max_age=0, secrets_client=client)
        assert cfg.secret("api-key") == "s3cr3t"
        with pytest.raises(ConfigAccessDenied):
            cfg.secret("api-key")


def test_a_cold_start_during_an_outage_fails() -> None:
    """A new container has no last good value, and none is invented: the invocation fails."""
    client, stub = stubbed("ssm")
    stub.add_client_error("get_parameter", service_error_code="ThrottlingException", http_status_code=400)
    with stub, pytest.raises(Exception, match="Throttling"):
        Config(environment="dev", service="orders", max_age=0, ssm_client=client).get("greeting")


def test_an_error_that_is_not_an_outage_is_not_served_stale() -> None:
    client, stub = stubbed("ssm")
    stub.add_response("get_parameter", parameter("hello"))
    stub.add_client_error("get_parameter", service_error_code="ValidationException", http_status_code=400)
    with stub:
        cfg = Config(environment="dev", service="orders", max_age=0, ssm_client=client)
        assert cfg.get("greeting") == "hello"
        with pytest.raises(Exception, match="ValidationException"):
            cfg.get("greeting")


@pytest.mark.parametrize(("error", "kind"), [
    (EndpointConnectionError(endpoint_url="https://x"), "outage"),
    (ReadTimeoutError(endpoint_url="https://x"), "outage"),
    (ClientError({"Error": {"Code": "ThrottlingException"}}, "GetParameter"), "outage"),
    (ClientError({"Error": {"Code": "AccessDeniedException"}}, "GetParameter"), "denied"),
    (ClientError({"Error": {"Code": "ParameterNotFound"}}, "GetParameter"), "not_found"),
    (ClientError({"Error": {"Code": "ValidationException"}}, "GetParameter"), "other"),
])
def test_errors_are_classified_through_the_powertools_wrapper(error: Exception, kind: str) -> None:
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        try:
            raise error
        except Exception as exc:
            raise GetParameterError(str(exc)) from exc
    except GetParameterError as wrapped:
        assert classify(wrapped) == kind
