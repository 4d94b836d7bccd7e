"""Inputs the three Lambda service templates share (CDK-free). Each template's schema declares these
properties with its own defaults and limits (the API's timeout stops at 29 s), and its dataclass
extends `LambdaFunctionInputs`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from keel.contract.components import ComponentHost
from keel.contract.problems import InputProblem
from keel.spec.paths import OutsideProject, inside_project
from keel.templates.lambda_handlers import FORMS, check_handler, form_of


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
    #: lambda-api-svc 1.4, scheduled-lambda-svc 1.3, event-worker-svc 1.3: the handler is checked against its
    #: runtime's form (keel.templates.lambda_handlers); earlier minors keep their released checks.
    handler_forms: ClassVar[bool] = False


@dataclass(frozen=True)
class LambdaPipelineInputs:
    code_dir: str


@dataclass(frozen=True)
class LambdaPackagingPipelineInputs(LambdaPipelineInputs):
    """lambda-api-svc 1.2, scheduled-lambda-svc 1.1, event-worker-svc 1.1: Proton's pipeline steps. The
    service's pipeline runs them in code_dir and deploys the function.zip the packaging command writes."""

    # packaging (issue 15)
    unit_test_command: str | None
    packaging_command: str | None


def check_code(inputs: LambdaFunctionInputs, pipeline: LambdaPipelineInputs | None, *, base: Path,
               root: Path | None = None) -> Iterator[tuple[str, str, str, Any, str | None]]:
    """`code_dir` (relative to the declaring file, inside the project `root`) exists and holds the
    handler's module."""
    if pipeline is None:
        return
    try:
        code = inside_project(root or base, base, pipeline.code_dir)
    except OutsideProject as exc:
        yield "pipeline", "code_dir", str(exc), pipeline.code_dir, exc.expected
        return
    yield from _handler_module(inputs, pipeline, code)


def _handler_module(inputs: LambdaFunctionInputs, pipeline: LambdaPipelineInputs, root: Path
                    ) -> Iterator[tuple[str, str, str, Any, str | None]]:
    if not root.is_dir():
        yield "pipeline", "code_dir", f"is not a directory ({root})", pipeline.code_dir, \
            "a folder with the function's code, relative to the file that declares the service"
        return
    source = handler_source(inputs.lambda_runtime, inputs.lambda_handler, root, by_form=inputs.handler_forms)
    if source is not None and not source.found:
        yield "spec", "lambda_handler", f"names module {source.module}, which is not in {root}", \
            inputs.lambda_handler, source.expected


def check_function(inputs: LambdaFunctionInputs) -> Iterator[InputProblem]:
    """Rules every Lambda service template applies to the shared inputs."""
    if inputs.reserved_concurrency == 0:
        # A reservation of 0 stops the function: every invocation is throttled. A typo or a fuzzed spec must not
        # switch a service off silently; no 1.x input yet says "this is a kill switch on purpose".
        yield "reserved_concurrency", "is 0, which stops the function (every invocation is throttled)", 0, \
            "at least 1, or unset (the account's shared pool); to stop a function on purpose, remove its instance"
    if inputs.trace_sdk_calls and not inputs.tracing:
        yield "trace_sdk_calls", "needs tracing: true", True, "false, or tracing: true"
    if inputs.trace_sdk_calls and not is_python(inputs.lambda_runtime):
        yield "trace_sdk_calls", f"uses Powertools for Python, which {inputs.lambda_runtime} does not run", True, \
            "false (active tracing still traces every invocation), or a python runtime"
    if inputs.handler_forms:
        yield from check_handler(inputs.lambda_runtime, inputs.lambda_handler)


# components (issue 17)
def component_host(inputs: LambdaFunctionInputs) -> ComponentHost:
    """Components attach to the function's role; only `vpc: private` gives it a security group in the VPC."""
    return ComponentHost(kind="function", fargate=False, in_vpc=inputs.vpc == "private",
                         outside_vpc_reason="" if inputs.vpc == "private" else
                         "the function runs outside the VPC (spec.vpc: none); set vpc: private")


# proton import (issue 15)
#: The file extensions of each interpreted runtime's source (compiled runtimes run what packaging built).
_SOURCES = {name: form.sources for name, form in FORMS.items() if form.sources}


@dataclass(frozen=True)
class HandlerSource:
    module: str  # the handler's module, as a path within code_dir without extension
    found: bool
    expected: str


def handler_source(runtime: str, handler: str, root: Path, *, by_form: bool = False) -> HandlerSource | None:
    """Where the handler's source is in code_dir for an interpreted runtime; None for Java, .NET and
    provided.al2023, whose code_dir holds sources the packaging command compiles (nothing to check by name).
    `by_form` (the minors that check handler forms): the module as the runtime reads it (Node.js and Ruby: the
    file before the first dot, `index.a.b` is index.js); None for a handler not in its runtime's form (its
    spec error says so). Earlier minors keep the module before the last dot."""
    language = next((name for name in _SOURCES if runtime.startswith(name)), None)
    if language is None:
        return None
    if by_form:
        form = form_of(runtime)
        named = form.module(handler) if form is not None else None
        if named is None:
            return None
        module = named
    else:
        head = handler.rpartition(".")[0]
        module = head.replace(".", "/") if language == "python" else head
    suffixes = _SOURCES[language]
    found = any((root / f"{module}{suffix}").is_file() for suffix in suffixes) or (
        language == "python" and (root / module / "__init__.py").is_file())
    expected = (f"module.function with {module}.py in code_dir" if language == "python" else
                f"path/file.function with {module}{suffixes[0]} in code_dir ({runtime})")
    return HandlerSource(module=module, found=found, expected=expected)


def is_python(runtime: str) -> bool:
    """The Powertools layer and Keel's Powertools Tracer exist for Python functions only."""
    return runtime.startswith("python")


def check_sources(inputs: LambdaFunctionInputs, pipeline: LambdaPipelineInputs | None, *, base: Path,
                  root: Path | None = None) -> Iterator[tuple[str, str, str, Any, str | None]]:
    yield from check_code(inputs, pipeline, base=base, root=root)
