"""Keel's custom resources end to end through their handlers: Secrets Manager in moto, SSM and EKS stubbed
(moto has neither activations nor the connector), and CloudFormation's response URL a local HTTP server.

Each path a stack can take: the response PUT fails and then succeeds, it fails for good, Create fails
half-way (after SSM or EKS made something), Delete then cleans up what survived, and a Create delivered
twice (Lambda's asynchronous delivery is at least once) makes one activation or registration."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from tests.handlers.conftest import load_handler
from tests.handlers.fake_cloudformation import FakeCloudFormation

CODE = "activation-code-DO-NOT-LEAK"
ROLE_ARN = "arn:aws:iam::123456789012:role/keel-edge-connector"


@contextlib.contextmanager
def provider(monkeypatch: pytest.MonkeyPatch, function: str, service: str) -> Iterator[tuple[Any, Stubber, Any, str]]:
    """The provider with its real `send` (no sleeping between attempts): (module, stub, secrets, secret ARN)."""
    with mock_aws():
        module = load_handler(function)
        monkeypatch.setattr(sys.modules["cfn_response"], "RETRY_DELAYS", (0.0, 0.0, 0.0, 0.0))
        client = boto3.client(service, region_name="eu-west-1")
        secrets = boto3.client("secretsmanager", region_name="eu-west-1")
        arn = secrets.create_secret(Name=f"keel/edge/{function}", SecretString="{}")["ARN"]
        module._clients.clear()
        module._clients.update({service: client, "secretsmanager": secrets})
        with Stubber(client) as stub:
            yield module, stub, secrets, arn


def cfn_event(kind: str, url: str, props: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"RequestType": kind, "ResourceProperties": props, "StackId": "arn:aws:cloudformation:stack/keel-edge",
            "RequestId": "r1", "LogicalResourceId": "Resource", "ResponseURL": url} | extra


# -- SSM hybrid activation ------------------------------------------------------------------------

def activation_props(arn: str) -> dict[str, Any]:
    return {"ServiceToken": "arn:fn", "RoleName": "keel-edge-external", "InstanceNamePrefix": "edge",
            "RegistrationLimit": "5", "ExpiryDays": "14", "Epoch": "1", "Tags": {}, "SecretArn": arn,
            "Region": "eu-west-1", "Description": "Keel edge", "Owner": "keel-edge/Anywhere/Activation"}


def lookup(stub: Stubber, found: dict[str, str] | None = None) -> None:
    stub.add_response("describe_activations", {"ActivationList": [
        {"ActivationId": a, "Tags": [{"Key": "keel:cfn-request-id", "Value": r}]} for a, r in (found or {}).items()]},
        {"Filters": ANY})


def issue(stub: Stubber, activation_id: str = "act-1") -> None:
    stub.add_response("create_activation", {"ActivationId": activation_id, "ActivationCode": CODE}, {
        "Description": ANY, "DefaultInstanceName": "edge", "IamRole": "keel-edge-external", "RegistrationLimit": 5,
        "ExpirationDate": ANY, "Tags": ANY})


@pytest.fixture
def activation(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Stubber, Any, str]]:
    with provider(monkeypatch, "hybrid_activation", "ssm") as ctx:
        yield ctx


def test_activation_response_put_fails_then_succeeds_without_a_second_create(activation) -> None:  # type: ignore[no-untyped-def]
    module, stub, _, arn = activation
    lookup(stub)
    issue(stub)
    with FakeCloudFormation([500, 502, 200]) as endpoint:
        module.handler(cfn_event("Create", endpoint.url, activation_props(arn)), None)
    stub.assert_no_pending_responses()  # one CreateActivation
    assert endpoint.statuses_sent() == ["SUCCESS"] * 3
    assert endpoint.requests[-1]["body"]["PhysicalResourceId"] == "act-1"


def test_activation_response_put_failing_for_good_returns_without_raising(activation) -> None:  # type: ignore[no-untyped-def]
    module, stub, secrets, arn = activation
    lookup(stub)
    issue(stub)
    with FakeCloudFormation([500]) as endpoint:
        module.handler(cfn_event("Create", endpoint.url, activation_props(arn)), None)  # no exception: no Lambda retry
    assert len(endpoint.requests) == 5
    stub.assert_no_pending_responses()
    assert json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])["ActivationId"] == "act-1"


def test_activation_create_failing_half_way_deletes_the_activation(activation) -> None:  # type: ignore[no-untyped-def]
    module, stub, secrets, arn = activation
    secrets.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)  # storing the code will fail
    lookup(stub)
    issue(stub)
    stub.add_response("delete_activation", {}, {"ActivationId": "act-1"})
    with FakeCloudFormation([200]) as endpoint:
        module.handler(cfn_event("Create", endpoint.url, activation_props(arn)), None)
    stub.assert_no_pending_responses()
    [response] = endpoint.requests
    assert response["body"]["Status"] == "FAILED" and response["body"]["PhysicalResourceId"] == "failed-r1"
    assert CODE not in json.dumps(response)


def test_delete_after_a_half_done_create_removes_what_survived(activation) -> None:  # type: ignore[no-untyped-def]
    module, stub, _, arn = activation
    # The Create's own cleanup failed too: the activation it made is still there, tagged with its request.
    lookup(stub, {"act-1": "r1", "act-other": "r0"})
    stub.add_response("delete_activation", {}, {"ActivationId": "act-1"})
    with FakeCloudFormation([200]) as endpoint:
        module.handler(cfn_event("Delete", endpoint.url, activation_props(arn), PhysicalResourceId="failed-r1",
                                 RequestId="r2"), None)
    stub.assert_no_pending_responses()  # act-other (another request's) is left alone
    assert endpoint.statuses_sent() == ["SUCCESS"]


def test_repeated_create_of_the_same_request_makes_one_activation(activation) -> None:  # type: ignore[no-untyped-def]
    module, stub, _, arn = activation
    lookup(stub)
    issue(stub)
    lookup(stub, {"act-1": "r1"})  # the second delivery finds the first one's activation, stored
    with FakeCloudFormation([200]) as endpoint:
        module.handler(cfn_event("Create", endpoint.url, activation_props(arn)), None)
        module.handler(cfn_event("Create", endpoint.url, activation_props(arn)), None)
    stub.assert_no_pending_responses()
    assert [r["body"]["PhysicalResourceId"] for r in endpoint.requests] == ["act-1", "act-1"]
    assert endpoint.statuses_sent() == ["SUCCESS", "SUCCESS"]


def test_repeated_create_whose_code_was_lost_replaces_the_activation(activation) -> None:  # type: ignore[no-untyped-def]
    module, stub, secrets, arn = activation
    lookup(stub, {"act-1": "r1"})  # made by this request, but the secret never got its code
    stub.add_response("delete_activation", {}, {"ActivationId": "act-1"})
    issue(stub, "act-2")
    with FakeCloudFormation([200]) as endpoint:
        module.handler(cfn_event("Create", endpoint.url, activation_props(arn)), None)
    stub.assert_no_pending_responses()
    assert endpoint.requests[0]["body"]["PhysicalResourceId"] == "act-2"
    assert json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])["ActivationId"] == "act-2"


# -- EKS Connector registration -------------------------------------------------------------------

def connector_props(arn: str) -> dict[str, Any]:
    return {"ServiceToken": "arn:fn", "ClusterName": "edge-anywhere", "Provider": "EKS_ANYWHERE",
            "ConnectorRoleArn": ROLE_ARN, "Tags": {}, "SecretArn": arn, "Region": "eu-west-1", "Epoch": "1"}


def cluster(token: str) -> dict[str, Any]:
    return {"cluster": {"name": "edge-anywhere", "clientRequestToken": token, "tags": {"keel:cfn-request-id": token}}}


def registers(stub: Stubber) -> None:
    stub.add_response("register_cluster", {"cluster": {"name": "edge-anywhere", "connectorConfig": {
        "activationId": "act-1", "activationCode": CODE, "activationExpiry": dt.datetime(2026, 12, 4, tzinfo=dt.UTC),
        "provider": "EKS_ANYWHERE", "roleArn": ROLE_ARN}}},
        {"name": "edge-anywhere", "connectorConfig": ANY, "clientRequestToken": "r1", "tags": ANY})


def not_registered(stub: Stubber) -> None:
    stub.add_client_error("describe_cluster", "ResourceNotFoundException", expected_params={"name": "edge-anywhere"})


@pytest.fixture
def connector(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Stubber, Any, str]]:
    with provider(monkeypatch, "eks_connector", "eks") as ctx:
        yield ctx


def test_connector_response_put_fails_then_succeeds_without_a_second_registration(connector) -> None:  # type: ignore[no-untyped-def]
    module, stub, _, arn = connector
    not_registered(stub)
    registers(stub)
    with FakeCloudFormation([503, 200]) as endpoint:
        module.handler(cfn_event("Create", endpoint.url, connector_props(arn)), None)
    stub.assert_no_pending_responses()
    assert endpoint.statuses_sent() == ["SUCCESS", "SUCCESS"]


def test_connector_response_put_failing_for_good_returns_without_raising(connector) -> None:  # type: ignore[no-untyped-def]
    module, stub, _, arn = connector
    not_registered(stub)
    registers(stub)
    with FakeCloudFormation([500]) as endpoint:
        module.handler(cfn_event("Create", endpoint.url, connector_props(arn)), None)
    assert len(endpoint.requests) == 5
    stub.assert_no_pending_responses()


def test_connector_create_failing_half_way_deregisters(connector) -> None:  # type: ignore[no-untyped-def]
    module, stub, secrets, arn = connector
    secrets.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    not_registered(stub)
    registers(stub)
    stub.add_response("deregister_cluster", {}, {"name": "edge-anywhere"})
    with FakeCloudFormation([200]) as endpoint:
        module.handler(cfn_event("Create", endpoint.url, connector_props(arn)), None)
    stub.assert_no_pending_responses()
    assert endpoint.requests[0]["body"]["Status"] == "FAILED"
    assert endpoint.requests[0]["body"]["PhysicalResourceId"] == "failed-r1"


def test_delete_after_a_half_done_registration_deregisters_what_survived(connector) -> None:  # type: ignore[no-untyped-def]
    module, stub, _, arn = connector
    stub.add_response("describe_cluster", cluster("r1"), {"name": "edge-anywhere"})
    stub.add_response("deregister_cluster", {}, {"name": "edge-anywhere"})
    with FakeCloudFormation([200]) as endpoint:
        module.handler(cfn_event("Delete", endpoint.url, connector_props(arn), PhysicalResourceId="failed-r1",
                                 RequestId="r2"), None)
    stub.assert_no_pending_responses()
    assert endpoint.statuses_sent() == ["SUCCESS"]


def test_delete_after_a_failed_create_leaves_someone_elses_registration(connector) -> None:  # type: ignore[no-untyped-def]
    module, stub, _, arn = connector
    stub.add_response("describe_cluster", cluster("someone-else"), {"name": "edge-anywhere"})
    with FakeCloudFormation([200]) as endpoint:
        module.handler(cfn_event("Delete", endpoint.url, connector_props(arn), PhysicalResourceId="failed-r1",
                                 RequestId="r2"), None)
    stub.assert_no_pending_responses()  # no DeregisterCluster
    assert endpoint.statuses_sent() == ["SUCCESS"]


def test_create_refuses_a_name_registered_by_someone_else(connector) -> None:  # type: ignore[no-untyped-def]
    module, stub, _, arn = connector
    stub.add_response("describe_cluster", cluster("someone-else"), {"name": "edge-anywhere"})
    with FakeCloudFormation([200]) as endpoint:
        module.handler(cfn_event("Create", endpoint.url, connector_props(arn)), None)
    stub.assert_no_pending_responses()  # neither registered nor deregistered
    assert endpoint.statuses_sent() == ["FAILED"]
    assert "already registered" in endpoint.requests[0]["body"]["Reason"]


def test_repeated_create_of_the_same_request_registers_once(connector) -> None:  # type: ignore[no-untyped-def]
    module, stub, _, arn = connector
    not_registered(stub)
    registers(stub)
    stub.add_response("describe_cluster", cluster("r1"), {"name": "edge-anywhere"})
    with FakeCloudFormation([200]) as endpoint:
        module.handler(cfn_event("Create", endpoint.url, connector_props(arn)), None)
        module.handler(cfn_event("Create", endpoint.url, connector_props(arn)), None)
    stub.assert_no_pending_responses()  # one RegisterCluster
    assert [r["body"]["PhysicalResourceId"] for r in endpoint.requests] == ["edge-anywhere", "edge-anywhere"]
    assert endpoint.statuses_sent() == ["SUCCESS", "SUCCESS"]
