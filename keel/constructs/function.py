"""Lambda functions the way the whitepaper wants them: small packages with stable asset hashes, encrypted
logs with a retention, X-Ray, arm64, their own least-privilege roles, concurrency as a kill switch.

`KeelFunction` runs Keel's own code from `lambda_src/<source>/`; `ServiceFunction` runs a service
template's code (any code_dir) with the public Powertools layer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import Acknowledgment, CfnMapping, Duration, RemovalPolicy, Stack, SymlinkFollowMode, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda_src"
RUNTIME = lambda_.Runtime.PYTHON_3_14
# Caches, tests and notes never reach an asset (at any depth): hashes then depend only on the code.
ASSET_EXCLUDES = ["__pycache__", "*.pyc", "*.pyo", "tests", "test_*.py", "*_test.py", "*.md", ".pytest_cache",
                  ".mypy_cache", ".ruff_cache", ".DS_Store"]


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
                 reserved_concurrency: int | None = None, dead_letter_queue: bool = False,
                 async_retry_attempts: int | None = None) -> None:
        super().__init__(scope, id_)
        self.timeout = timeout or Duration.seconds(30)
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
            timeout=self.timeout,
            memory_size=memory_size,
            environment=dict(environment or {}),
            environment_encryption=key,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            reserved_concurrent_executions=reserved_concurrency,
            dead_letter_queue=self.dead_letters,
            retry_attempts=async_retry_attempts,
        )


# The public Powertools for AWS Lambda (Python) v3 layer, published per partition by the Powertools
# team (aws: 017000801446, aws-cn: 498634801083). One version for every function: bump it deliberately,
# together with aws-lambda-powertools in requirements-dev.txt (what the handler tests run against).
POWERTOOLS_LAYER_VERSION = 27
_POWERTOOLS_ACCOUNTS = {"aws": {"account": "017000801446"}, "aws-cn": {"account": "498634801083"}}



def powertools_layer_arn(scope: Construct, *, runtime: lambda_.Runtime, architecture: lambda_.Architecture) -> str:
    """`arn:<partition>:lambda:<region>:<publisher>:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:<v>`."""
    stack = Stack.of(scope)
    mapping = stack.node.try_find_child("PowertoolsLayerPublisher")
    if not isinstance(mapping, CfnMapping):
        # Lazy: a stack with a known region (so partition) gets the literal account, no Mappings entry.
        mapping = CfnMapping(stack, "PowertoolsLayerPublisher", mapping=_POWERTOOLS_ACCOUNTS, lazy=True)
    account = mapping.find_in_map(stack.partition, "account")
    name = f"AWSLambdaPowertoolsPythonV3-{runtime.name.replace('.', '')}-{architecture.name}"
    return f"arn:{stack.partition}:lambda:{stack.region}:{account}:layer:{name}:{POWERTOOLS_LAYER_VERSION}"


class ServiceFunction(Construct):
    """Function + role + log group. The role starts with exactly: write to its own log group (and X-Ray
    when traced, ENIs when in a VPC); callers add the grants for what the code touches."""

    def __init__(self, scope: Construct, id_: str, *, code: lambda_.Code, handler: str, runtime: lambda_.Runtime,
                 architecture: lambda_.Architecture, memory_mb: int, timeout: Duration, environment: Mapping[str, str],
                 key: kms.IKey, log_retention: logs.RetentionDays, removal_policy: RemovalPolicy,
                 description: str, tracing: bool = True, reserved_concurrency: int | None = None,
                 vpc: ec2.IVpc | None = None, async_dead_letters: sqs.IQueue | None = None,
                 async_retry_attempts: int | None = None, async_max_event_age: Duration | None = None,
                 extra_layers: Sequence[lambda_.ILayerVersion] = (), synchronous_caller: str | None = None) -> None:
        """`synchronous_caller`: who invokes a function without `async_dead_letters`, and where its failures
        go (e.g. "API Gateway invokes it synchronously: errors return to the client"); it is the reason
        the missing DLQ and async failure destination are acknowledged, so it must be true for this function."""
        super().__init__(scope, id_)
        if async_dead_letters is None and not synchronous_caller:
            raise ValueError("a function without async_dead_letters needs synchronous_caller: who invokes it "
                             "synchronously, and where its failures go")
        self.log_group = logs.LogGroup(self, "Logs", retention=log_retention, encryption_key=key,
                                       removal_policy=removal_policy)
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                             description=f"Execution role: {description}")
        self.role.add_to_policy(iam.PolicyStatement(
            sid="WriteOwnLogs", actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[self.log_group.log_group_arn]))
        # The public Powertools layer is Python's; other runtimes run the code as packaged (issue 15).
        layers = [lambda_.LayerVersion.from_layer_version_arn(
            self, "Powertools", powertools_layer_arn(self, runtime=runtime, architecture=architecture))] \
            if runtime.family == lambda_.RuntimeFamily.PYTHON else []
        self.security_group = self._vpc_access(vpc, description)
        self.function = lambda_.Function(
            self, "Resource",
            description=description,
            code=code, handler=handler, runtime=runtime, architecture=architecture,
            memory_size=memory_mb, timeout=timeout,
            environment=dict(environment), environment_encryption=key,
            role=self.role, log_group=self.log_group, logging_format=lambda_.LoggingFormat.JSON,
            layers=[*layers, *extra_layers],
            tracing=lambda_.Tracing.ACTIVE if tracing else lambda_.Tracing.DISABLED,
            reserved_concurrent_executions=reserved_concurrency,
            vpc=vpc, vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS) if vpc else None,
            security_groups=[self.security_group] if self.security_group else None,
            on_failure=destinations.SqsDestination(async_dead_letters) if async_dead_letters else None,
            retry_attempts=async_retry_attempts, max_event_age=async_max_event_age,
            recursive_loop=lambda_.RecursiveLoop.TERMINATE,
        )
        self.function.node.add_dependency(self.role)
        self._acknowledge(runtime=runtime, tracing=tracing, in_vpc=vpc is not None,
                          asynchronous=async_dead_letters is not None, synchronous_caller=synchronous_caller)

    def _vpc_access(self, vpc: ec2.IVpc | None, description: str) -> ec2.SecurityGroup | None:
        """In a VPC: the function's own security group, and the ENI actions Lambda needs on its role."""
        if vpc is None:
            return None
        security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, allow_all_outbound=True,
            description=f"{description}: no inbound, outbound to the VPC endpoints and NAT")
        # The ENI actions Lambda needs for a VPC function have no resource-level scoping.
        self.role.add_to_policy(iam.PolicyStatement(
            sid="ManageVpcNetworkInterfaces",
            actions=["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
                     "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
                     "ec2:UnassignPrivateIpAddresses"],
            resources=["*"]))
        return security_group

    def _acknowledge(self, *, runtime: lambda_.Runtime, tracing: bool, in_vpc: bool, asynchronous: bool,
                     synchronous_caller: str | None) -> None:
        wildcard_reasons = ["X-Ray's PutTraceSegments/PutTelemetryRecords take no resource ARN"] if tracing else []
        if in_vpc:
            wildcard_reasons.append("Lambda's VPC ENI actions take no resource ARN")
        if wildcard_reasons:
            Validations.of(self.role).acknowledge(Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]", reason="; ".join(wildcard_reasons)))
        if not tracing:
            Validations.of(self.function).acknowledge(Acknowledgment(
                id="Serverless::Serverless-LambdaTracing", reason="the spec turned tracing off (tracing: false)"))
        runtime_reason = (f"{runtime.name} is chosen by the spec among the runtimes the public Powertools layer and "
                          "Keel's handler tests support; a newer one is a deliberate template change"
                          if runtime.family == lambda_.RuntimeFamily.PYTHON else
                          f"{runtime.name} is chosen by the spec among the supported runtimes Keel's Lambda templates "
                          "offer (the import of a Proton spec picks the current one of its language); a newer one is "
                          "a deliberate template change")
        Validations.of(self.function).acknowledge(
            Acknowledgment(id="AwsSolutions::AwsSolutions-L1", reason=runtime_reason),
            Acknowledgment(id="Serverless::Serverless-LambdaLatestVersion", reason=runtime_reason))
        if asynchronous:
            reason = ("sending to the encrypted on-failure queue (CDK's grantSendMessages): the KMS actions "
                      "apply to the environment key only")
            Validations.of(self.role).acknowledge(
                Acknowledgment(id="AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]", reason=reason),
                Acknowledgment(id="AwsSolutions::AwsSolutions-IAM5[Action::kms:ReEncrypt*]", reason=reason))
            Validations.of(self.function).acknowledge(Acknowledgment(
                id="Serverless::Serverless-LambdaDLQ",
                reason="async failures go to an on-failure destination (the same queue), which records the "
                       "request, the error and the attempts; a DLQ would only have the payload"))
        else:
            Validations.of(self.function).acknowledge(Acknowledgment(
                id="Serverless::Serverless-LambdaDLQ", reason=f"{synchronous_caller}; a DLQ is for asynchronous "
                                                              "invocations, which this function does not get"))
            Validations.of(self.function).acknowledge(Acknowledgment(
                id="Serverless::Serverless-LambdaAsyncFailureDestination",
                reason=f"{synchronous_caller}; an async failure destination would never receive anything"))
