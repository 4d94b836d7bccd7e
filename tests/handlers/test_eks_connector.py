"""The EKS Connector registration resource: EKS calls stubbed (moto has no connector), the secret in moto."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import pytest
from botocore.stub import Stubber

from tests.handlers.conftest import provider_under_test

CODE = "connector-activation-code-DO-NOT-LEAK"
EXPIRY = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)


@pytest.fixture
def mod(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    with provider_under_test(monkeypatch, "eks_connector", "eks", "keel/edge/connector") as ctx:
        yield ctx


def props(arn: str, **over: Any) -> dict[str, Any]:
    base = {"ServiceToken": "arn:fn", "ClusterName": "edge-anywhere", "Provider": "EKS_ANYWHERE",
            "ConnectorRoleArn": "arn:aws:iam::123456789012:role/keel-edge-connector",
            "Tags": {"keel:environment": "edge"}, "SecretArn": arn, "Region": "eu-west-1"}
    return base | over


def event(kind: str, arn: str, **extra: Any) -> dict[str, Any]:
    return {"RequestType": kind, "ResourceProperties": props(arn), "StackId": "s", "RequestId": "r1",
            "LogicalResourceId": "Registration", "ResponseURL": "https://example.invalid/"} | extra


def expect_register(stub: Stubber, name: str = "edge-anywhere", request_id: str = "r1") -> None:
    stub.add_client_error("describe_cluster", "ResourceNotFoundException", expected_params={"name": name})
    stub.add_response("register_cluster", {"cluster": {"name": name, "connectorConfig": {
        "activationId": "act-1", "activationCode": CODE, "activationExpiry": EXPIRY,
        "provider": "EKS_ANYWHERE", "roleArn": "arn:aws:iam::123456789012:role/keel-edge-connector"}}}, {
        "name": name, "connectorConfig": {"roleArn": "arn:aws:iam::123456789012:role/keel-edge-connector",
                                          "provider": "EKS_ANYWHERE"},
        "clientRequestToken": request_id, "tags": {"keel:environment": "edge", "keel:cfn-request-id": request_id}})


def test_create_registers_and_keeps_the_activation_in_the_secret_only(mod, caplog) -> None:  # type: ignore[no-untyped-def]
    module, stub, secrets, arn, sent = mod
    expect_register(stub)
    with caplog.at_level(logging.DEBUG, logger="keel"):
        module.handler(event("Create", arn), None)
    stored = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
    logs = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("keel"))
    assert stored["ActivationId"] == "act-1" and stored["ActivationCode"] == CODE
    assert stored["ActivationExpiry"] == EXPIRY.isoformat()
    assert sent == [{"Status": "SUCCESS", "PhysicalResourceId": "edge-anywhere",
                     "Data": {"ClusterName": "edge-anywhere"}, "Reason": ""}]
    assert CODE not in json.dumps(sent) and CODE not in logs


def test_delete_deregisters_and_tolerates_a_missing_registration(mod) -> None:  # type: ignore[no-untyped-def]
    module, stub, _, arn, sent = mod
    stub.add_response("deregister_cluster", {}, {"name": "edge-anywhere"})
    stub.add_client_error("deregister_cluster", "ResourceNotFoundException", expected_params={"name": "gone"})
    module.handler(event("Delete", arn, PhysicalResourceId="edge-anywhere"), None)
    module.handler(event("Delete", arn, PhysicalResourceId="gone"), None)
    stub.assert_no_pending_responses()
    assert [s["Status"] for s in sent] == ["SUCCESS", "SUCCESS"]


def test_update_with_same_inputs_keeps_the_registration(mod) -> None:  # type: ignore[no-untyped-def]
    module, stub, _, arn, sent = mod
    module.handler(event("Update", arn, PhysicalResourceId="edge-anywhere", OldResourceProperties=props(arn)), None)
    stub.assert_no_pending_responses()
    assert sent[0]["PhysicalResourceId"] == "edge-anywhere"


def test_update_under_the_same_name_reregisters_after_the_old_one_is_gone(mod) -> None:  # type: ignore[no-untyped-def]
    module, stub, _, arn, _ = mod
    stub.add_response("deregister_cluster", {}, {"name": "edge-anywhere"})
    stub.add_response("describe_cluster", {"cluster": {"name": "edge-anywhere", "status": "DELETING"}},
                      {"name": "edge-anywhere"})
    stub.add_client_error("describe_cluster", "ResourceNotFoundException", expected_params={"name": "edge-anywhere"})
    expect_register(stub)
    sleeps: list[float] = []
    old = props(arn, Epoch="1")
    physical, _ = module.process(event("Update", arn, PhysicalResourceId="edge-anywhere", OldResourceProperties=old),
                                 sleep=sleeps.append)
    stub.assert_no_pending_responses()
    assert physical == "edge-anywhere" and sleeps == [module.POLL_SECONDS]


def test_waiting_for_deregistration_counts_slow_calls_and_gives_up_in_time(mod) -> None:  # type: ignore[no-untyped-def]
    module, stub, _, _, _ = mod
    now = [0.0]
    for _ in range(10):  # the clock moves 50 s between polls (slow calls), sleeps add 5 s each
        stub.add_response("describe_cluster", {"cluster": {"name": "edge-anywhere", "status": "DELETING"}},
                          {"name": "edge-anywhere"})

    def clock() -> float:
        now[0] += 50.0
        return now[0]

    with pytest.raises(TimeoutError, match="still registered after 240 s"):
        module.wait_until_gone("edge-anywhere", sleep=lambda s: None, clock=clock)
    assert now[0] <= 300  # a handful of polls, not the 48 that 240 s of 5 s sleeps alone would allow


def test_rename_registers_the_new_name_and_leaves_the_old_to_cloudformation(mod) -> None:  # type: ignore[no-untyped-def]
    module, stub, _, arn, _ = mod
    expect_register(stub, "edge-2")
    new = event("Update", arn, PhysicalResourceId="edge-anywhere", OldResourceProperties=props(arn))
    new["ResourceProperties"] = props(arn, ClusterName="edge-2")
    physical, _ = module.process(new)
    assert physical == "edge-2"  # CloudFormation deletes (deregisters) edge-anywhere afterwards


def test_failure_is_reported_to_cloudformation_not_raised(mod) -> None:  # type: ignore[no-untyped-def]
    module, stub, _, arn, sent = mod
    stub.add_client_error("describe_cluster", "ResourceNotFoundException", expected_params={"name": "edge-anywhere"})
    stub.add_client_error("register_cluster", "ResourceInUseException", "name taken")
    module.handler(event("Create", arn), None)
    assert sent[0]["Status"] == "FAILED" and "ResourceInUse" in sent[0]["Reason"]
    assert sent[0]["PhysicalResourceId"] == "failed-r1"


def test_delete_of_a_failed_create_that_left_nothing_deregisters_nothing(mod) -> None:  # type: ignore[no-untyped-def]
    module, stub, _, arn, sent = mod
    stub.add_client_error("describe_cluster", "ResourceNotFoundException", expected_params={"name": "edge-anywhere"})
    module.handler(event("Delete", arn, PhysicalResourceId="failed-r1"), None)
    stub.assert_no_pending_responses()
    assert sent[0]["Status"] == "SUCCESS"
