"""Keel's Lambda function: code from lambda_src/, stable asset hashes, encrypted logs, X-Ray, arm64."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, SymlinkFollowMode, Validations
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda_src"
RUNTIME = lambda_.Runtime.PYTHON_3_14
# Caches, tests and notes never reach an asset: hashes then depend only on the code.
ASSET_EXCLUDES = ["__pycache__", "*.pyc", "*.pyo", "tests", "test_*.py", "*.md", ".pytest_cache"]


def code_for(function: str) -> lambda_.Code:
    """The function's folder; links (to lambda_src/_shared modules) are packaged as the files they name."""
    return lambda_.Code.from_asset(str(LAMBDA_SRC / function), exclude=ASSET_EXCLUDES,
                                   follow_symlinks=SymlinkFollowMode.ALWAYS)


class KeelFunction(Construct):
    """One function from `lambda_src/<source>/handler.py` with its own log group (retention, CMK)."""

    def __init__(self, scope: Construct, id_: str, *, source: str, description: str, key: kms.IKey,
                 log_retention: logs.RetentionDays, removal_policy: RemovalPolicy,
                 timeout: Duration | None = None, memory_size: int = 256,
                 environment: Mapping[str, str] | None = None,
                 reserved_concurrency: int | None = None, dead_letter_queue: bool = False) -> None:
        super().__init__(scope, id_)
        # Asynchronous callers (CloudFormation, EventBridge, S3) lose failed events without one.
        self.dead_letters = sqs.Queue(
            self, "DeadLetters", encryption_master_key=key, enforce_ssl=True,
            retention_period=Duration.days(14), removal_policy=removal_policy) if dead_letter_queue else None
        if self.dead_letters is not None:
            Validations.of(self.dead_letters).acknowledge(Acknowledgment(
                id="Serverless::Serverless-SQSRedrivePolicy",
                reason="This queue is the function's dead-letter queue; a DLQ of a DLQ only moves the problem."))
        self.log_group = logs.LogGroup(self, "Logs", retention=log_retention, encryption_key=key,
                                       removal_policy=removal_policy)
        self.function = lambda_.Function(
            self, "Resource",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler="handler.handler",
            code=code_for(source),
            description=description,
            timeout=timeout or Duration.seconds(30),
            memory_size=memory_size,
            environment=dict(environment or {}),
            environment_encryption=key,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            reserved_concurrent_executions=reserved_concurrency,
            dead_letter_queue=self.dead_letters,
        )
