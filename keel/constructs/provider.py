"""The shape every Keel custom resource shares: a provider function (lambda_src/<source>) that writes what
it creates into a CMK-encrypted secret, and the resource that calls it. HybridActivation and
EksConnectorRegistration are built from these pieces.

A custom resource must never hold a stack: CloudFormation gives up on it after `ServiceTimeout` (the
provider's timeout plus a margin, not the default hour), and the provider runs each event once:
CloudFormation invokes it asynchronously, and Lambda's own retries (which would run Create again) are off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Acknowledgment, CustomResource, Duration, RemovalPolicy, Validations
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from keel.constructs.function import KeelFunction

# Between the function timing out and CloudFormation giving up: asynchronous invocation queueing.
SERVICE_TIMEOUT_MARGIN = Duration.seconds(60)

BASIC_EXECUTION = Acknowledgment(
    id="AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
       "service-role/AWSLambdaBasicExecutionRole]",
    reason="Basic execution role: write to its own log group only; AWS-maintained.")


def secret_and_provider(scope: Construct, *, secret_id: str, secret_description: str, not_rotated_because: str,
                        source: str, description: str, key: kms.IKey, removal_policy: RemovalPolicy,
                        timeout: Duration) -> tuple[secretsmanager.Secret, KeelFunction]:
    """The secret (id `secret_id`) and the provider (id `Provider`, with a DLQ); the caller grants the
    provider its permissions, `secret.grant_write` last (statement order is part of the template)."""
    secret = secretsmanager.Secret(scope, secret_id, encryption_key=key, removal_policy=removal_policy,
                                   description=secret_description)
    Validations.of(secret).acknowledge(Acknowledgment(id="AwsSolutions::AwsSolutions-SMG4",
                                                      reason=not_rotated_because))
    provider = KeelFunction(
        scope, "Provider", source=source, key=key, description=description,
        log_retention=logs.RetentionDays.ONE_YEAR, removal_policy=removal_policy,
        timeout=timeout, memory_size=256, dead_letter_queue=True,
        # A provider answers CloudFormation itself and never raises; a Lambda retry would only run the
        # same Create again. An event that still fails (a crash, a timeout) lands in the DLQ.
        async_retry_attempts=0)
    Validations.of(provider.function).acknowledge(Acknowledgment(
        id="Serverless::Serverless-LambdaAsyncFailureDestination",
        reason="CloudFormation invokes the provider asynchronously with retries off (it answers CloudFormation "
               "itself and never raises); an event that still fails (a timeout, a crash) goes to the "
               "function's dead-letter queue, the one place its failures are kept."))
    return secret, provider


def provider_resource(scope: Construct, *, provider: KeelFunction, secret: secretsmanager.ISecret,
                      resource_type: str, properties: Mapping[str, Any]) -> CustomResource:
    """The custom resource (id `Resource`), created after its secret; it owns nothing worth retaining
    (the provider deletes what it made). CloudFormation waits at most the provider's timeout plus a
    margin for an answer."""
    resource = CustomResource(scope, "Resource", service_token=provider.function.function_arn,
                              resource_type=resource_type, properties=dict(properties),
                              removal_policy=RemovalPolicy.DESTROY,
                              service_timeout=provider.timeout.plus(SERVICE_TIMEOUT_MARGIN))
    resource.node.add_dependency(secret)
    return resource
