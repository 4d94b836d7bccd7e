"""The example API handler: routes, validation errors as 400, events on the bus, the contract."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from keel.templates.lambda_api_svc.contract import read_contract
from tests.handlers.conftest import LAMBDA_SRC, FakeContext


def http_event(method: str, path: str, body: Any = None, raw_body: str | None = None) -> dict[str, Any]:
    return {
        "version": "2.0", "routeKey": f"{method} {path}", "rawPath": path, "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {"accountId": "123456789012", "apiId": "api", "domainName": "example.com",
                           "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1",
                                    "userAgent": "pytest"},
                           "requestId": "req-1", "routeKey": f"{method} {path}", "stage": "$default",
                           "time": "22/Nov/2026:02:00:00 +0000", "timeEpoch": 1795312800000},
        "body": raw_body if raw_body is not None else (json.dumps(body) if body is not None else None),
        "isBase64Encoded": False,
    }


def call(event: dict[str, Any], context: FakeContext) -> tuple[int, Any]:
    from api.handler import handler

    response = handler(event, context)
    return response["statusCode"], json.loads(response["body"]) if response.get("body") else None


@pytest.fixture
def bus(aws: None) -> Any:
    client = boto3.client("events")
    client.create_event_bus(Name="keel-dev")
    return client


def test_health_answers_200(context: FakeContext, aws: None) -> None:
    assert call(http_event("GET", "/health"), context) == (200, {"status": "ok"})


def test_greeting_comes_from_the_service_config_path(context: FakeContext, aws: None) -> None:
    boto3.client("ssm").put_parameter(Name="/keel/dev/orders/greeting", Value="Hello from dev", Type="String")
    assert call(http_event("GET", "/greeting"), context) == (200, {"greeting": "Hello from dev"})


def test_valid_item_is_accepted_and_published_on_the_bus(context: FakeContext, bus: Any) -> None:
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="observer")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus.put_rule(Name="observe", EventBusName="keel-dev", EventPattern=json.dumps({"source": ["keel.orders"]}))
    bus.put_targets(Rule="observe", EventBusName="keel-dev", Targets=[{"Id": "q", "Arn": arn}])
    status, body = call(http_event("POST", "/items", {"name": "bolt", "quantity": 3}), context)
    assert status == 202
    published = json.loads(sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"])
    assert (published["detail-type"], published["detail"]) == \
        ("ItemCreated", {"item_id": body["item_id"], "name": "bolt", "quantity": 3})


@pytest.mark.parametrize(("body", "raw", "message"), [
    ({"name": "bolt"}, None, "body.quantity"),
    ({"name": "", "quantity": 1}, None, "body.name"),
    ({"name": "bolt", "quantity": 0}, None, "body.quantity"),
    ({"name": "bolt", "quantity": True}, None, "body.quantity"),
    ({"name": "bolt", "quantity": 1, "price": 3}, None, "body.price: unknown field"),
    ([1, 2], None, "body: expected a JSON object"),
    (None, "{not json", "body: not valid JSON"),
])
def test_invalid_item_is_a_400_naming_the_field(context: FakeContext, bus: Any, body: Any, raw: str | None,
                                                message: str) -> None:
    status, answer = call(http_event("POST", "/items", body, raw_body=raw), context)
    assert status == 400
    assert message in answer["message"]


def test_malformed_item_id_is_a_400(context: FakeContext, aws: None) -> None:
    status, answer = call(http_event("GET", "/items/NOT_VALID"), context)
    assert (status, answer["message"].split(":")[0]) == (400, "item_id")


def test_unknown_route_is_a_404(context: FakeContext, aws: None) -> None:
    assert call(http_event("DELETE", "/items/abc"), context)[0] == 404


def test_handler_implements_exactly_the_contract_routes() -> None:
    """Contract first: every route of openapi.yaml has a handler, and the handler serves nothing else."""
    from api.handler import app

    served = {(r.method, r.openapi_path) for r in app._static_routes + app._dynamic_routes}
    assert served == set(read_contract(LAMBDA_SRC / "api" / "openapi.yaml"))
