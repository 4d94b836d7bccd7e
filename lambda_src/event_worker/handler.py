"""Keel's example event worker: EventBridge -> SQS -> this function. Each SQS record carries one
EventBridge event; records are processed one by one, failures are reported per record (the queue
redelivers only those, then moves them to its DLQ), and each event id is processed once within the
idempotency window (Powertools idempotency in DynamoDB, records expiring after KEEL_IDEMPOTENCY_TTL_SECONDS).
The template sets that window past the queue's retention and the bus archive's retention, so a redelivered
or replayed event does no second side effect; with an archive kept indefinitely, a replay of events older
than the window runs them again."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from keel_runtime import tracing

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
tracer = tracing.tracer()
metrics = Metrics()
# Every failed record is reported, even when all fail: the invocation succeeds and SQS redelivers by item.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

TABLE_ENV = "KEEL_IDEMPOTENCY_TABLE"
TTL_ENV = "KEEL_IDEMPOTENCY_TTL_SECONDS"
# Without the template's setting: the queue's retention (4 days) plus a day.
DEFAULT_TTL_SECONDS = 5 * 86400


class PoisonMessage(ValueError):
    """A record that can never succeed: reported as a failure, ends in the DLQ after maxReceiveCount."""


@dataclass(frozen=True)
class Event:
    id: str
    source: str
    detail_type: str
    detail: dict[str, Any]

    @classmethod
    def from_body(cls, body: str) -> Event:
        try:
            raw = json.loads(body)
        except ValueError:
            raise PoisonMessage("body is not JSON") from None
        if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) for k in ("id", "source", "detail-type")):
            raise PoisonMessage("body is not an EventBridge event (id, source, detail-type)")
        if not isinstance(raw.get("detail"), dict):
            raise PoisonMessage("event detail is not an object")
        return cls(id=raw["id"], source=raw["source"], detail_type=raw["detail-type"], detail=raw["detail"])


def handle_event(event: dict[str, Any]) -> dict[str, Any]:
    """The business logic, once per event id. Replace with the service's own."""
    parsed = Event(id=event["id"], source=event["source"], detail_type=event["detail_type"], detail=event["detail"])
    if parsed.detail_type == "ItemCreated" and not isinstance(parsed.detail.get("quantity"), int):
        raise PoisonMessage("ItemCreated without an integer quantity")
    metrics.add_metric(name="EventsProcessed", unit=MetricUnit.Count, value=1)
    logger.info("event processed", extra={"event_id": parsed.id, "detail_type": parsed.detail_type})
    return {"event_id": parsed.id, "status": "processed"}


_idempotent: Callable[..., dict[str, Any]] | None = None
_settings: Any = None


def idempotent_handle(context: LambdaContext | None = None) -> Callable[..., dict[str, Any]]:
    """`handle_event` wrapped in Powertools idempotency, keyed by the event id; the DynamoDB client is
    created on first use, not at import. The context bounds in-progress records by the time left."""
    global _idempotent, _settings
    if _idempotent is None:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        store = DynamoDBPersistenceLayer(table_name=os.environ[TABLE_ENV])
        _settings = IdempotencyConfig(event_key_jmespath="id", raise_on_no_idempotency_key=True,
                                      expires_after_seconds=int(os.environ.get(TTL_ENV, DEFAULT_TTL_SECONDS)))
        _idempotent = idempotent_function(data_keyword_argument="event", persistence_store=store,
                                          config=_settings)(handle_event)
    if context is not None:
        _settings.register_lambda_context(context)
    return _idempotent


def record_handler(record: SQSRecord) -> dict[str, Any]:
    event = Event.from_body(record.body)
    return idempotent_handle()(event={"id": event.id, "source": event.source, "detail_type": event.detail_type,
                                      "detail": event.detail})


def reset() -> None:
    global _idempotent, _settings
    _idempotent = _settings = None


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotent_handle(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
