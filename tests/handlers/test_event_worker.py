"""The example event worker: partial batch failures, poison messages, idempotency by event id."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.handlers.conftest import FakeContext


def eventbridge_event(event_id: str, detail_type: str = "ItemCreated", detail: Any = None) -> dict[str, Any]:
    return {"version": "0", "id": event_id, "detail-type": detail_type, "source": "keel.items-api",
            "account": "123456789012", "time": "2026-11-22T02:00:00Z", "region": "eu-west-1", "resources": [],
            "detail": detail if detail is not None else {"item_id": "i-1", "name": "bolt", "quantity": 3}}


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {"Records": [{
        "messageId": f"m-{n}", "receiptHandle": f"r-{n}", "body": body, "attributes": {
            "ApproximateReceiveCount": "1", "SentTimestamp": "1795312800000", "SenderId": "AIDA",
            "ApproximateFirstReceiveTimestamp": "1795312800000"},
        "messageAttributes": {}, "md5OfBody": "x", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:orders", "awsRegion": "eu-west-1"}
        for n, body in enumerate(bodies)]}


@pytest.fixture
def worker(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, list[str]]]:
    """The handler module with an idempotency table in moto and a counter of real executions."""
    boto3.client("dynamodb").create_table(
        TableName="orders-idempotency", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    import event_worker.handler as module

    executed: list[str] = []
    original = module.handle_event

    def counting(event: dict[str, Any]) -> dict[str, Any]:
        executed.append(event["id"])
        return original(event)

    monkeypatch.setattr(module, "handle_event", counting)
    module.reset()
    yield module, executed
    module.reset()


def test_good_batch_reports_no_failures(worker: tuple[Any, list[str]], context: FakeContext) -> None:
    module, executed = worker
    result = module.handler(sqs_event(json.dumps(eventbridge_event("e-1")), json.dumps(eventbridge_event("e-2"))),
                            context)
    assert result == {"batchItemFailures": []}
    assert executed == ["e-1", "e-2"]


def test_poison_message_is_reported_as_a_batch_item_failure(worker: tuple[Any, list[str]],
                                                            context: FakeContext) -> None:
    module, _ = worker
    result = module.handler(sqs_event(json.dumps(eventbridge_event("e-1")), "not json at all",
                                      json.dumps(eventbridge_event("e-3"))), context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


def test_event_failing_business_rules_is_a_batch_item_failure(worker: tuple[Any, list[str]],
                                                              context: FakeContext) -> None:
    module, _ = worker
    bad = eventbridge_event("e-9", detail={"item_id": "i-9", "name": "bolt"})
    result = module.handler(sqs_event(json.dumps(bad)), context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}


def test_redelivered_event_is_processed_once(worker: tuple[Any, list[str]], context: FakeContext) -> None:
    module, executed = worker
    body = json.dumps(eventbridge_event("e-7"))
    module.handler(sqs_event(body), context)
    result = module.handler(sqs_event(body, body), context)
    assert result == {"batchItemFailures": []}
    assert executed == ["e-7"]


def test_body_that_is_not_an_eventbridge_event_is_poison() -> None:
    from event_worker.handler import Event, PoisonMessage

    with pytest.raises(PoisonMessage, match="not an EventBridge event"):
        Event.from_body(json.dumps({"id": "x"}))
