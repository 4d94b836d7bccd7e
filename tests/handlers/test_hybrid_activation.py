"""The activation custom resource: SSM calls (stubbed: moto has no activations), the secret (moto)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from tests.handlers.conftest import provider_under_test

CODE = "s3cr3t-activation-code-DO-NOT-LEAK"


@pytest.fixture
def mod(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    with provider_under_test(monkeypatch, "hybrid_activation", "ssm", "keel/dev/activation") as ctx:
        yield ctx


def props(arn: str, **over: Any) -> dict[str, Any]:
    base = {"ServiceToken": "arn:fn", "RoleName": "keel-dev-external", "InstanceNamePrefix": "edge",
            "RegistrationLimit": "10", "ExpiryDays": "30", "Epoch": "1", "Tags": {"keel:environment": "dev"},
            "SecretArn": arn, "Region": "eu-west-1", "Description": "Keel dev", "Owner": "keel-dev/Anywhere/Activation"}
    return base | over


def event(kind: str, arn: str, **extra: Any) -> dict[str, Any]:
    return {"RequestType": kind, "ResourceProperties": props(arn), "StackId": "s", "RequestId": "r1",
            "LogicalResourceId": "Activation", "ResponseURL": "https://example.invalid/"} | extra


def expect_lookup(stub: Stubber, found: dict[str, str] | None = None) -> None:
    """describe_activations for this role and prefix: `found` maps activation ids to their request tag."""
    stub.add_response("describe_activations", {"ActivationList": [
        {"ActivationId": a, "Tags": [{"Key": "keel:cfn-request-id", "Value": r}]} for a, r in (found or {}).items()]},
        {"Filters": [{"FilterKey": "IamRole", "FilterValues": ["keel-dev-external"]},
                     {"FilterKey": "DefaultInstanceName", "FilterValues": ["edge"]}]})


def expect_create(stub: Stubber, activation_id: str = "act-1", request_id: str = "r1") -> None:
    expect_lookup(stub)
    stub.add_response("create_activation", {"ActivationId": activation_id, "ActivationCode": CODE}, {
        "Description": "Keel dev", "DefaultInstanceName": "edge", "IamRole": "keel-dev-external",
        "RegistrationLimit": 10, "ExpirationDate": ANY,
        "Tags": [{"Key": "keel:activation", "Value": "keel-dev/Anywhere/Activation"},
                 {"Key": "keel:cfn-request-id", "Value": request_id},
                 {"Key": "keel:environment", "Value": "dev"}]})


def test_create_stores_id_and_code_in_the_secret_only(mod, caplog) -> None:  # type: ignore[no-untyped-def]
    module, stub, secrets, arn, sent = mod
    expect_create(stub)
    with caplog.at_level(logging.DEBUG, logger="keel"):
        module.handler(event("Create", arn), None)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("keel"))
    stored = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
    assert stored["ActivationId"] == "act-1" and stored["ActivationCode"] == CODE
    assert sent == [{"Status": "SUCCESS", "PhysicalResourceId": "act-1", "Data": {"ActivationId": "act-1"},
                     "Reason": ""}]
    assert "created activation act-1" in ours
    assert CODE not in json.dumps(sent) and CODE not in ours


def test_expiry_is_within_ssm_limit(mod) -> None:  # type: ignore[no-untyped-def]
    module, stub, _, arn, _ = mod
    now = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    seen: dict[str, Any] = {}
    real = module._clients["ssm"].create_activation

    def capture(**kwargs: Any) -> Any:
        seen.update(kwargs)
        return real(**kwargs)

    module._clients["ssm"].create_activation = capture
    expect_create(stub)
    module.create_activation(props(arn), "r1", now=now)
    assert now < seen["ExpirationDate"] < now + dt.timedelta(days=30)


def test_update_with_same_inputs_keeps_the_activation(mod) -> None:  # type: ignore[no-untyped-def]
    module, stub, _, arn, sent = mod
    module.handler(event("Update", arn, PhysicalResourceId="act-1", OldResourceProperties=props(arn)), None)
    stub.assert_no_pending_responses()
    assert sent[0]["PhysicalResourceId"] == "act-1"


def test_update_with_changed_inputs_issues_a_new_activation(mod) -> None:  # type: ignore[no-untyped-def]
    module, stub, _, arn, sent = mod
    expect_create(stub, "act-2")
    old = props(arn, RegistrationLimit="5")
    module.handler(event("Update", arn, PhysicalResourceId="act-1", OldResourceProperties=old), None)
    assert sent[0]["PhysicalResourceId"] == "act-2"  # CloudFormation then deletes act-1


def test_delete_removes_the_activation_and_tolerates_it_being_gone(mod) -> None:  # type: ignore[no-untyped-def]
    module, stub, _, arn, sent = mod
    stub.add_response("delete_activation", {}, {"ActivationId": "act-1"})
    stub.add_client_error("delete_activation", "InvalidActivation", expected_params={"ActivationId": "act-9"})
    module.handler(event("Delete", arn, PhysicalResourceId="act-1"), None)
    module.handler(event("Delete", arn, PhysicalResourceId="act-9"), None)
    assert [s["Status"] for s in sent] == ["SUCCESS", "SUCCESS"]


def test_failure_is_reported_to_cloudformation_not_raised(mod) -> None:  # type: ignore[no-untyped-def]
    module, stub, _, arn, sent = mod
    expect_lookup(stub)
    stub.add_client_error("create_activation", "AccessDeniedException", "no iam:PassRole")
    module.handler(event("Create", arn), None)
    assert sent[0]["Status"] == "FAILED" and "AccessDenied" in sent[0]["Reason"]
    assert sent[0]["PhysicalResourceId"] == "failed-r1"


def test_delete_of_a_failed_create_that_left_nothing_deletes_nothing(mod) -> None:  # type: ignore[no-untyped-def]
    module, stub, _, arn, sent = mod
    expect_lookup(stub, {"act-other": "r0"})  # another request's activation: not ours to delete
    module.handler(event("Delete", arn, PhysicalResourceId="failed-r1"), None)
    stub.assert_no_pending_responses()
    assert sent[0]["Status"] == "SUCCESS"
