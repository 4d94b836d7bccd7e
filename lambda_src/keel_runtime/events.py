"""Publishing to the environment's event bus (`KEEL_EVENT_BUS_NAME`), with a lazily created client."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

_client: Any = None


def client() -> Any:
    global _client
    if _client is None:
        import boto3  # deferred: handlers that never publish never pay for the client

        _client = boto3.client("events")
    return _client


class PublishError(RuntimeError):
    """EventBridge accepted the call but rejected the entry."""


def publish(detail_type: str, detail: Mapping[str, Any], *, source: str | None = None,
            bus_name: str | None = None, events_client: Any = None) -> str:
    """Put one event on the environment bus; returns its id."""
    entry = {
        "EventBusName": bus_name or os.environ["KEEL_EVENT_BUS_NAME"],
        "Source": source or f"keel.{os.environ.get('KEEL_SERVICE', 'unknown')}",
        "DetailType": detail_type,
        "Detail": json.dumps(dict(detail), separators=(",", ":"), sort_keys=True),
    }
    response = (events_client or client()).put_events(Entries=[entry])
    result = response["Entries"][0]
    if response.get("FailedEntryCount") or "EventId" not in result:
        raise PublishError(f"{result.get('ErrorCode')}: {result.get('ErrorMessage')}")
    return str(result["EventId"])
