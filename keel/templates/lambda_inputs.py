"""Inputs the three Lambda service templates share (CDK-free). Each template's schema declares these
properties with its own defaults and limits (the API's timeout stops at 29 s), and its dataclass
extends `LambdaFunctionInputs`."""

from __future__ import annotations

from dataclasses import dataclass


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
    log_level: str
    log_retention_days: int
    config_max_age: int


@dataclass(frozen=True)
class LambdaPipelineInputs:
    code_dir: str
