"""Queues every Keel pattern uses the same way."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct


def dead_letter_queue(scope: Construct, id_: str, *, key: kms.IKey, removal_policy: RemovalPolicy,
                      owner: str) -> sqs.Queue:
    """A DLQ encrypted with the environment key, TLS only, kept 14 days for inspection and redrive."""
    queue = sqs.Queue(scope, id_, encryption=sqs.QueueEncryption.KMS, encryption_master_key=key,
                      enforce_ssl=True, retention_period=Duration.days(14), removal_policy=removal_policy)
    reason = f"this is the dead-letter queue of {owner}: a DLQ of a DLQ only moves the problem"
    Validations.of(queue).acknowledge(Acknowledgment(id="AwsSolutions::AwsSolutions-SQS3", reason=reason),
                                      Acknowledgment(id="Serverless::Serverless-SQSRedrivePolicy", reason=reason))
    return queue
