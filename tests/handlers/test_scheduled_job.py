"""The example scheduled job: config with a default, one run, JobCompleted on the bus."""

from __future__ import annotations

import boto3
import pytest

from tests.handlers.conftest import FakeContext


def test_run_reads_batch_size_and_reports_completion(aws: None, context: FakeContext,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    boto3.client("events").create_event_bus(Name="keel-dev")
    boto3.client("ssm").put_parameter(Name="/keel/dev/orders/batch-size", Value="500", Type="String")
    import scheduled_job.handler as module

    published = []
    monkeypatch.setattr(module.events, "publish", lambda detail_type, detail: published.append((detail_type, detail)))
    result = module.handler({"scheduled_time": "2026-11-22T02:00:00Z", "execution_id": "x", "attempt": 1}, context)
    assert result["scheduled_time"] == "2026-11-22T02:00:00Z"
    assert published == [("JobCompleted", result)]


def test_event_batch_size_must_be_a_positive_integer() -> None:
    from scheduled_job.handler import parse

    with pytest.raises(ValueError, match="batch_size"):
        parse({"batch_size": 0}, 100)
    assert parse({"scheduled_time": "t"}, 100).batch_size == 100
