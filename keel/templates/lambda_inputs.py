"""Inputs the three Lambda service templates share (CDK-free). Each template's schema declares these
properties with its own defaults and limits (the API's timeout stops at 29 s), and its dataclass
extends `LambdaFunctionInputs`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LambdaFunctionInputs:
    lambda_handler: str
    lambda_memory: int
    lambda_timeout: int
    lambda_runtime: str
    architecture: str
    vpc: str  # "none" | "private": only in a VPC when it must reach something there
    reserved_concurrency: int | None  # 0 is the kill switch
    tracing: bool
    trace_sdk_calls: bool  # Powertools Tracer (X-Ray SDK) in the function, not just active tracing
    log_level: str
    log_retention_days: int
    config_max_age: int


@dataclass(frozen=True)
class LambdaPipelineInputs:
    code_dir: str


def check_function(inputs: LambdaFunctionInputs) -> Iterator[tuple[str, str, Any, str | None]]:
    """Rules every Lambda service template applies to the shared inputs."""
    if inputs.trace_sdk_calls and not inputs.tracing:
        yield "trace_sdk_calls", "needs tracing: true", True, "false, or tracing: true"
