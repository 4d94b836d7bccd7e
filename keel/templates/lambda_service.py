"""What the Lambda service templates build the same way: the function from the shared inputs, its code
asset, its config grants, and the environment key as seen from a service stack."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aws_cdk import Duration, Stack, SymlinkFollowMode
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from keel.constructs.common import RETENTION, justify, own_inline_policy
from keel.constructs.config_plane import grant_config_read
from keel.constructs.function import ASSET_EXCLUDES, ServiceFunction
from keel.contract.outputs import NetworkOutputs
from keel.spec.errors import SourceError
from keel.spec.model import Service, ServiceInstance
from keel.templates.lambda_inputs import LambdaFunctionInputs, LambdaPipelineInputs, handler_source

METRICS_NAMESPACE = "Keel"
#: The schemas' runtime and architecture enums, as CDK's.
RUNTIMES = {"python3.12": lambda_.Runtime.PYTHON_3_12, "python3.13": lambda_.Runtime.PYTHON_3_13,
            # proton import (issue 15): the other languages (lambda-api-svc 1.3, scheduled-lambda-svc and
            # event-worker-svc 1.2)
            "nodejs22.x": lambda_.Runtime.NODEJS_22_X, "nodejs24.x": lambda_.Runtime.NODEJS_24_X,
            "ruby3.3": lambda_.Runtime.RUBY_3_3, "ruby3.4": lambda_.Runtime.RUBY_3_4,
            "java21": lambda_.Runtime.JAVA_21, "dotnet8": lambda_.Runtime.DOTNET_8,
            "provided.al2023": lambda_.Runtime.PROVIDED_AL2023}
ARCHITECTURES = {"arm64": lambda_.Architecture.ARM_64, "x86_64": lambda_.Architecture.X86_64}


class CodeError(SourceError):
    """The spec names code that is not there; raised before any asset is staged."""


def code_dir(service: Service, pipeline: LambdaPipelineInputs) -> Path:
    """`code_dir` is relative to the file that declares the service (platform.yaml or its spec_file)."""
    return (Path(service.source).resolve().parent / pipeline.code_dir).resolve()


def function_code(service: Service, instance: ServiceInstance, pipeline: LambdaPipelineInputs,
                  handler: str, runtime: str = "python3.13", *, by_form: bool = False) -> lambda_.Code:
    root = code_dir(service, pipeline)
    where = f"{service.source}: services[{service.name}]"
    if not root.is_dir():
        raise CodeError(f"{where}.pipeline.code_dir: {root} is not a directory")
    source = handler_source(runtime, handler, root, by_form=by_form)
    if source is not None and not source.found:
        raise CodeError(f"{where}.instances[{instance.name}].spec.lambda_handler: {source.module} is not in {root} "
                        f"(expected {source.expected})")
    # Links (lambda_src/<function>/keel_runtime -> ../keel_runtime) are packaged as the files they name.
    return lambda_.Code.from_asset(str(root), exclude=list(ASSET_EXCLUDES),
                                   follow_symlinks=SymlinkFollowMode.ALWAYS)


def environment_key(scope: Construct, environment: NetworkOutputs) -> kms.IKey:
    """The environment's key by ARN: grants land in the service's own policies, never in the key policy
    of the environment stack (a service must not change its environment's template)."""
    existing = Stack.of(scope).node.try_find_child("EnvironmentKey")
    if existing is not None:
        return existing  # type: ignore[return-value]
    return kms.Key.from_key_arn(Stack.of(scope), "EnvironmentKey", environment.key.key_arn)


def build_function(scope: Construct, id_: str, *, service: Service, instance: ServiceInstance,
                   inputs: LambdaFunctionInputs, pipeline: LambdaPipelineInputs,
                   environment: NetworkOutputs, description: str,
                   extra_environment: Mapping[str, str] | None = None,
                   invoked_by: str,
                   async_dead_letters: sqs.IQueue | None = None, async_retry_attempts: int | None = None,
                   async_max_event_age: Duration | None = None) -> ServiceFunction:
    """`invoked_by` says who calls the function and how failures come back: the reason of the DLQ
    acknowledgements (cdk-nag's and checkov's), so it must be true for this function."""
    key = environment_key(scope, environment)
    variables = {
        "KEEL_ENVIRONMENT": environment.name,
        "KEEL_SERVICE": service.name,
        "KEEL_INSTANCE": instance.name,
        "POWERTOOLS_SERVICE_NAME": service.name,
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": inputs.log_level,
        "POWERTOOLS_PARAMETERS_MAX_AGE": str(inputs.config_max_age),
        "POWERTOOLS_TRACE_DISABLED": "false" if inputs.tracing else "true",
        "KEEL_TRACE_SDK_CALLS": "true" if inputs.tracing and inputs.trace_sdk_calls else "false",
    }
    if environment.bus is not None:
        variables["KEEL_EVENT_BUS_NAME"] = environment.bus.event_bus_name
    variables.update(extra_environment or {})
    fn = ServiceFunction(
        scope, id_, code=function_code(service, instance, pipeline, inputs.lambda_handler, inputs.lambda_runtime,
                                       by_form=inputs.handler_forms),
        # the handler as the spec gives it, for every runtime (Python's Powertools layer wraps nothing)
        handler=inputs.lambda_handler, runtime=RUNTIMES[inputs.lambda_runtime],
        architecture=ARCHITECTURES[inputs.architecture],
        memory_mb=inputs.lambda_memory, timeout=Duration.seconds(inputs.lambda_timeout),
        environment=variables, key=key, log_retention=RETENTION[inputs.log_retention_days],
        removal_policy=environment.removal_policy, description=description,
        tracing=inputs.tracing, reserved_concurrency=inputs.reserved_concurrency,
        vpc=environment.vpc if inputs.vpc == "private" else None,
        async_dead_letters=async_dead_letters, async_retry_attempts=async_retry_attempts,
        async_max_event_age=async_max_event_age,
        synchronous_caller=invoked_by if async_dead_letters is None else None)
    grant_config_read(fn.role, environment=environment.name, service=service.name, key=key)
    if environment.bus is not None:
        environment.bus.grant_put_events_to(fn.role)
    own_inline_policy(fn.role, f"The execution role of {service.name} ({instance.name})")
    dlq_reason = (f"{invoked_by}; async failures go to the on-failure destination queue, which records the "
                  "request, the error and the attempts (a DLQ would keep only the payload)"
                  if async_dead_letters is not None else invoked_by)
    justify(fn.function, nag={"NIST.800.53.R5-LambdaDLQ": dlq_reason}, checkov={"CKV_AWS_116": dlq_reason})
    if inputs.vpc != "private":
        outside = (f"The spec keeps {service.name} outside the VPC (vpc: none, the template's default, meant for "
                   "functions that reach only AWS APIs, over TLS with their own role); vpc: private places it in "
                   "the environment's private subnets")
        justify(fn.function, nag={"NIST.800.53.R5-LambdaInsideVPC": outside}, checkov={"CKV_AWS_117": outside})
    return fn


def function_discovery(fn: ServiceFunction) -> dict[str, str]:
    return {"function/name": fn.function.function_name, "function/arn": fn.function.function_arn,
            "function/role-arn": fn.role.role_arn}

