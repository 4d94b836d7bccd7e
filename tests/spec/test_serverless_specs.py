"""Spec errors of the serverless inputs name the exact field; the typed inputs equal their schemas."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from keel.spec import SpecError, load_platform
from keel.spec.registry import default_registry
from keel.spec.typed import field_names
from keel.spec.yamlio import read_yaml
from keel.templates.lambda_api_svc.inputs import CATCH_ALL

TEMPLATES = Path(__file__).resolve().parents[2] / "keel" / "templates"
ENV = {"name": "dev", "template": "vpc-env:1", "region": "eu-west-1",
       "availability_zones": ["eu-west-1a", "eu-west-1b"]}


@pytest.fixture(autouse=True)
def lambda_code(tmp_path: Path) -> None:
    """The templates' default code_dir (lambda_src/<function>) beside the platform file: the loader checks it
    (a copy: a symlink out of the platform's folder is refused)."""
    shutil.copytree(TEMPLATES.parents[1] / "lambda_src", tmp_path / "lambda_src")


def problems(tmp_path: Path, *, env_spec: dict[str, Any] | None = None,
             service: dict[str, Any] | None = None) -> list[str]:
    doc: dict[str, Any] = {"environments": [{**ENV, "spec": env_spec or {}}]}
    if service:
        doc["services"] = [service]
    path = tmp_path / "platform.yaml"
    path.write_text(json.dumps(doc))
    with pytest.raises(SpecError) as err:
        load_platform(path)
    return [p.render().split(":", 1)[1] for p in err.value.problems]


def service(template: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"name": "orders", "template": template, "instances": [{"name": "dev", "environment": "dev", "spec": spec}]}


def test_schema_discovery_on_a_key_encrypted_bus_is_an_error(tmp_path: Path) -> None:
    assert problems(tmp_path, env_spec={"event_bus": {"schema_discovery": True}}) == [
        "environments[dev].spec.event_bus.schema_discovery: EventBridge cannot discover schemas on a bus encrypted "
        "with a customer managed key (got true, expected false, or event_bus.encryption \"aws-owned\")"]


def test_parameter_needs_exactly_one_of_value_and_values(tmp_path: Path) -> None:
    spec = {"config": {"parameters": [{"service": "orders", "key": "a", "value": "x", "values": ["y"]}]}}
    assert problems(tmp_path, env_spec=spec) == [
        "environments[dev].spec.config.parameters[0].value: needs exactly one of value (String) or values "
        "(StringList) (got \"x\", expected value or values, not both)"]


def test_duplicate_secret_is_an_error_at_its_key(tmp_path: Path) -> None:
    spec = {"config": {"secrets": [{"service": "orders", "key": "a"}, {"service": "orders", "key": "a"}]}}
    assert problems(tmp_path, env_spec=spec)[0].startswith(
        "environments[dev].spec.config.secrets[1].key: duplicate secret keel/<environment>/orders/a")


def test_unknown_rotation_is_an_error(tmp_path: Path) -> None:
    spec = {"config": {"secrets": [{"service": "orders", "key": "a", "rotation": "weekly"}]}}
    assert problems(tmp_path, env_spec=spec)[0].startswith(
        "environments[dev].spec.config.secrets[0].rotation: is not an allowed value")


def test_api_timeout_above_29_seconds_is_an_error(tmp_path: Path) -> None:
    assert problems(tmp_path, service=service("lambda-api-svc:1", {"lambda_timeout": 30})) == [
        "services[orders].instances[0].spec.lambda_timeout: is greater than the maximum 29 "
        "(got 30, expected at most 29)"]


def test_api_contract_and_routes_together_is_an_error(tmp_path: Path) -> None:
    found = problems(tmp_path, service=service("lambda-api-svc:1", {"api_contract": "x.yaml", "routes": ["GET /a"]}))
    assert found[0].startswith("services[orders].instances[0].spec.routes: cannot be combined with api_contract")


def test_jwt_authorizer_needs_an_issuer(tmp_path: Path) -> None:
    found = problems(tmp_path, service=service("lambda-api-svc:1", {"authorizer": "jwt", "jwt_audience": ["a"]}))
    assert found == ["services[orders].instances[0].spec.jwt_issuer: is required with authorizer jwt "
                     "(expected an https:// issuer URL)"]


def test_worker_needs_event_sources(tmp_path: Path) -> None:
    assert problems(tmp_path, service=service("event-worker-svc:1", {})) == [
        "services[orders].instances[0].spec.event_sources: needs at least one event source: the rule filters at "
        'the bus (got [], expected e.g. ["keel.orders-api"])']


def test_worker_reserved_concurrency_below_maximum_concurrency_is_an_error(tmp_path: Path) -> None:
    spec = {"event_sources": ["a"], "reserved_concurrency": 3, "maximum_concurrency": 5}
    assert problems(tmp_path, service=service("event-worker-svc:1", spec))[0].startswith(
        "services[orders].instances[0].spec.reserved_concurrency: is below maximum_concurrency (5)")


def test_a_reserved_concurrency_of_zero_is_refused_as_a_stopped_function(tmp_path: Path) -> None:
    spec = {"event_sources": ["a"], "reserved_concurrency": 0}
    assert problems(tmp_path, service=service("event-worker-svc:1", spec)) == [
        "services[orders].instances[0].spec.reserved_concurrency: is 0, which stops the function (every invocation "
        "is throttled) (got 0, expected at least 1, or unset (the account's shared pool); to stop a function on "
        "purpose, remove its instance)"]


def test_worker_batch_above_ten_needs_a_batching_window(tmp_path: Path) -> None:
    spec = {"event_sources": ["a"], "batch_size": 100}
    assert problems(tmp_path, service=service("event-worker-svc:1", spec))[0].startswith(
        "services[orders].instances[0].spec.max_batching_window_seconds: must be above 0 when batch_size is above 10")


def test_worker_on_an_environment_without_bus_is_an_error(tmp_path: Path) -> None:
    found = problems(tmp_path, env_spec={"event_bus": {"enabled": False}},
                     service=service("event-worker-svc:1", {"event_sources": ["a"]}))
    assert found[0].startswith("services[orders].instances[0].spec.event_sources: environment \"dev\" has no event bus")


def test_bad_rate_expression_is_an_error(tmp_path: Path) -> None:
    found = problems(tmp_path, service=service("scheduled-lambda-svc:1", {"schedule_expression": "rate(1 minutes)"}))
    assert found[0].startswith("services[orders].instances[0].spec.schedule_expression: is not a schedule EventBridge "
                            "accepts: a rate of 1 takes the singular unit (minute)")


def test_cron_needs_six_fields(tmp_path: Path) -> None:
    found = problems(tmp_path, service=service("scheduled-lambda-svc:1", {"schedule_expression": "cron(0 2 * * *)"}))
    assert found[0].startswith("services[orders].instances[0].spec.schedule_expression: is not a schedule EventBridge "
                               "accepts: a cron expression has 6 fields")


def test_a_lambda_schedule_is_parsed_as_fully_as_a_fargate_one(tmp_path: Path) -> None:
    """One grammar for both: a cron field out of range is caught for Lambda schedules too (it was only counted)."""
    found = problems(tmp_path, service=service("scheduled-lambda-svc:1",
                                               {"schedule_expression": "cron(0 25 * * ? *)"}))
    assert found[0].startswith("services[orders].instances[0].spec.schedule_expression: is not a schedule EventBridge "
                               "accepts: 25 is outside hours 0-23")


@pytest.mark.parametrize("name", ["lambda-api-svc", "event-worker-svc", "scheduled-lambda-svc", "vpc-env", "ecs-env",
                                  "eks-env"])
def test_inputs_dataclass_fields_equal_the_schema_properties(name: str) -> None:
    version = default_registry().templates[name].versions[-1]
    props = version.input_schema.properties()
    fields = field_names(version.inputs_type())
    assert sorted(fields) == sorted(props)
    if version.pipeline_schema is not None:
        assert sorted(field_names(version.pipeline_type())) == sorted(version.pipeline_schema.properties())


def test_every_environment_schema_carries_the_shared_platform_service_types() -> None:
    shared = read_yaml(TEMPLATES / "platform_services.types.yaml")["types"]
    carriers = [v for v in default_registry().all_versions()
                if v.kind == "environment" and "event_bus" in v.input_schema.properties()]
    assert {"vpc-env@1.2", "ecs-env@1.1", "eks-env@1.1"} <= {v.label for v in carriers}
    for version in carriers:
        types = read_yaml(version.schema_file)["schema"]["types"]
        assert {k: types[k] for k in shared} == shared, version.label


def test_api_catch_all_default_is_the_schema_default() -> None:
    schema = default_registry().templates["lambda-api-svc"].versions[-1].input_schema
    assert tuple(schema.properties()["routes"]["default"]) == CATCH_ALL


def test_tracing_sdk_calls_needs_tracing(tmp_path: Path) -> None:
    found = problems(tmp_path, service=service("scheduled-lambda-svc:1", {"tracing": False, "trace_sdk_calls": True}))
    assert found == ["services[orders].instances[0].spec.trace_sdk_calls: needs tracing: true "
                     "(got true, expected false, or tracing: true)"]


def test_lambda_templates_declare_the_shared_function_inputs_alike() -> None:
    """The three schemas repeat the function inputs (a Proton schema is one file); types and choices agree."""
    from dataclasses import fields

    from keel.templates.lambda_inputs import LambdaFunctionInputs

    registry = default_registry()
    schemas = [registry.templates[n].versions[-1].input_schema.properties()
               for n in ("lambda-api-svc", "event-worker-svc", "scheduled-lambda-svc")]
    for f in fields(LambdaFunctionInputs):
        shapes = {json.dumps({k: s[f.name].get(k) for k in ("type", "enum", "pattern", "minimum")}) for s in schemas}
        assert len(shapes) == 1, f.name
