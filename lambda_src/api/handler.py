"""Keel's example API behind an HTTP API: typed routes with Powertools' event handler, validation
errors as 400, config from /keel/<env>/<service>/..., ItemCreated events on the environment bus.

Routes are the contract in openapi.yaml beside this file (a test holds the two equal)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import BadRequestError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from keel_runtime import events, tracing
from keel_runtime.config import config

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
tracer = tracing.tracer()
metrics = Metrics()
app = APIGatewayHttpResolver()

_ITEM_ID = re.compile(r"^[a-z0-9-]{1,64}$")


@dataclass(frozen=True)
class NewItem:
    name: str
    quantity: int

    @classmethod
    def parse(cls, body: Any) -> NewItem:
        """The request body, or BadRequestError naming the first problem (rendered as a 400)."""
        if not isinstance(body, dict):
            raise BadRequestError("body: expected a JSON object")
        unknown = sorted(set(body) - {"name", "quantity"})
        if unknown:
            raise BadRequestError(f"body.{unknown[0]}: unknown field")
        name, quantity = body.get("name"), body.get("quantity")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise BadRequestError("body.name: expected a string of 1 to 100 characters")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 1000:
            raise BadRequestError("body.quantity: expected an integer from 1 to 1000")
        return cls(name=name, quantity=quantity)


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/greeting")
@tracer.capture_method
def greeting() -> dict[str, str]:
    return {"greeting": str(config().get("greeting"))}


@app.post("/items")
@tracer.capture_method
def create_item() -> Response[dict[str, str]]:
    try:
        body = app.current_event.json_body
    except ValueError:
        raise BadRequestError("body: not valid JSON") from None
    item = NewItem.parse(body)
    item_id = str(uuid.uuid4())
    event_id = events.publish("ItemCreated", {"item_id": item_id, "name": item.name, "quantity": item.quantity})
    metrics.add_metric(name="ItemsCreated", unit=MetricUnit.Count, value=1)
    logger.info("item accepted", extra={"item_id": item_id, "event_id": event_id})
    return Response(status_code=202, content_type="application/json",
                    body={"item_id": item_id, "event_id": event_id})


@app.get("/items/<item_id>")
@tracer.capture_method
def get_item(item_id: str) -> dict[str, str]:
    if not _ITEM_ID.match(item_id):
        raise BadRequestError("item_id: expected 1 to 64 lowercase letters, digits or dashes")
    return {"item_id": item_id}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
