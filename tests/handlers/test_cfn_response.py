"""The providers' shared CloudFormation plumbing: every outcome is answered, answered NoEcho, and a response
that cannot be delivered is retried with backoff, then given up without raising (a raise would make Lambda
retry the invocation, and so run Create again)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tests.handlers.conftest import LAMBDA_SRC, load_handler
from tests.handlers.fake_cloudformation import FakeCloudFormation

EVENT = {"RequestType": "Create", "StackId": "s", "RequestId": "r1", "LogicalResourceId": "X",
         "ResponseURL": "https://example.invalid/"}


@pytest.fixture
def module() -> Any:
    return load_handler("_shared", "cfn_response")


def event_for(endpoint: FakeCloudFormation) -> dict[str, Any]:
    return EVENT | {"ResponseURL": endpoint.url}


def test_every_provider_links_the_shared_module() -> None:
    for name in ("hybrid_activation", "eks_connector"):
        link = LAMBDA_SRC / name / "cfn_response.py"
        assert link.is_symlink() and link.resolve() == (LAMBDA_SRC / "_shared" / "cfn_response.py").resolve()


def test_send_puts_a_noecho_response_to_the_presigned_url(module: Any) -> None:
    with FakeCloudFormation([200]) as endpoint:
        assert module.send(event_for(endpoint), "SUCCESS", "p1", {"K": "v"}) is True
    [put] = endpoint.requests
    assert put["method"] == "PUT" and put["path"] == "/presigned?X-Amz-Signature=abc"
    assert put["body"]["NoEcho"] is True and put["body"]["PhysicalResourceId"] == "p1"
    assert put["body"]["Status"] == "SUCCESS" and put["body"]["Data"] == {"K": "v"}


def test_a_failed_put_is_retried_with_backoff_until_it_succeeds(module: Any) -> None:
    sleeps: list[float] = []
    with FakeCloudFormation([503, 500, 200]) as endpoint:
        assert module.send(event_for(endpoint), "SUCCESS", "p1", {}, sleep=sleeps.append) is True
    assert [r["body"]["Status"] for r in endpoint.requests] == ["SUCCESS"] * 3
    assert sleeps == [1.0, 2.0]  # growing delays between attempts


def test_a_put_that_always_fails_is_given_up_without_raising(module: Any, caplog: pytest.LogCaptureFixture) -> None:
    sleeps: list[float] = []
    with FakeCloudFormation([500]) as endpoint:
        assert module.send(event_for(endpoint), "SUCCESS", "p1", {}, sleep=sleeps.append) is False
    assert len(endpoint.requests) == len(module.RETRY_DELAYS) + 1
    assert sleeps == list(module.RETRY_DELAYS)
    assert "gave up delivering" in caplog.text and "X-Amz-Signature" not in caplog.text  # the URL is never logged


def test_an_unreachable_endpoint_is_retried_then_given_up(module: Any) -> None:
    with FakeCloudFormation([200]) as endpoint:
        url = endpoint.url
    sleeps: list[float] = []  # the server is gone: connection refused on every attempt
    assert module.send(EVENT | {"ResponseURL": url}, "FAILED", "p1", {}, sleep=sleeps.append) is False
    assert len(sleeps) == len(module.RETRY_DELAYS)


def test_a_refused_url_is_not_retried(module: Any) -> None:
    with FakeCloudFormation([403]) as endpoint:
        assert module.send(event_for(endpoint), "SUCCESS", "p1", {}, sleep=lambda s: None) is False
    assert len(endpoint.requests) == 1  # an expired pre-signed URL stays expired


def test_respond_reports_an_exception_as_failed(module: Any) -> None:
    sent: list[tuple[Any, ...]] = []

    def boom(event: dict[str, Any]) -> tuple[str, dict[str, str]]:
        raise RuntimeError("no")

    module.respond(EVENT, boom, send=lambda *a: sent.append(a), logger=logging.getLogger("keel.test"))
    assert sent[0][1] == "FAILED" and sent[0][2] == "failed-r1" and "RuntimeError: no" in sent[0][4]


def test_respond_never_raises_even_when_sending_does(module: Any) -> None:
    runs: list[str] = []

    def create(event: dict[str, Any]) -> tuple[str, dict[str, str]]:
        runs.append(event["RequestId"])
        return "p1", {}

    def broken_send(*args: Any) -> bool:
        raise OSError("network down")

    module.respond(EVENT, create, send=broken_send, logger=logging.getLogger("keel.test"))
    assert runs == ["r1"]


def test_failed_ids_name_their_request(module: Any) -> None:
    assert module.failed_request(module.failed_id("r-42")) == "r-42"
    assert module.failed_request("act-1") is None
    assert json.dumps(module.failed_id("r")) == '"failed-r"'


def test_cloudformation_s_own_properties_are_not_provider_inputs(module: Any) -> None:
    """Adding ServiceTimeout to a deployed resource is an Update the providers must not act on."""
    assert module.inputs({"ServiceToken": "arn:fn", "ServiceTimeout": "180", "Epoch": "1"}) == {"Epoch": "1"}
