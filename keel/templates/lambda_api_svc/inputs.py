"""lambda-api-svc inputs and cross-field rules. CDK-free."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from keel.contract.problems import InputProblem
from keel.spec.errors import MISSING
from keel.spec.model import Environment
from keel.spec.paths import OutsideProject, inside_project
from keel.templates.lambda_inputs import LambdaFunctionInputs, LambdaPipelineInputs, check_code, check_function

# The schema's default `routes`: one catch-all route (the function routes by itself).
CATCH_ALL = ("ANY /{proxy+}",)


@dataclass(frozen=True)
class LambdaApiSvcInputs(LambdaFunctionInputs):
    api_contract: str | None
    routes: tuple[str, ...]
    throttling_rate_limit: float
    throttling_burst_limit: int
    cors_allowed_origins: tuple[str, ...]
    authorizer: str
    jwt_issuer: str | None
    jwt_audience: tuple[str, ...]
    domain_name: str | None
    certificate_arn: str | None


@dataclass(frozen=True)
class LambdaApiSvcInputsV11(LambdaApiSvcInputs):
    """lambda-api-svc 1.1: the explicit switch for a public API on a production environment."""

    allow_public_on_production: bool


@dataclass(frozen=True)
class LambdaApiSvcInputsV14(LambdaApiSvcInputsV11):
    """lambda-api-svc 1.4: the handler of every runtime's form, checked against the runtime."""

    handler_forms: ClassVar[bool] = True


def check_sources(inputs: LambdaApiSvcInputs, pipeline: LambdaPipelineInputs | None, *, base: Path,
                  root: Path | None = None) -> Iterator[tuple[str, str, str, Any, str | None]]:
    yield from check_code(inputs, pipeline, base=base, root=root)
    if inputs.api_contract:
        from keel.templates.lambda_api_svc.contract import ContractError, read_contract

        expected = "an OpenAPI 3 file with paths, relative to the file that declares the service"
        try:
            read_contract(inside_project(root or base, base, inputs.api_contract))
        except OutsideProject as exc:
            yield "spec", "api_contract", str(exc), inputs.api_contract, exc.expected
        except ContractError as exc:
            yield "spec", "api_contract", str(exc), inputs.api_contract, expected



def check(inputs: LambdaApiSvcInputs, env: Environment) -> Iterator[InputProblem]:
    yield from check_function(inputs)
    if inputs.api_contract and tuple(inputs.routes) != CATCH_ALL:
        yield "routes", "cannot be combined with api_contract (the contract's paths are the routes)", \
            list(inputs.routes), "routes or api_contract"
    if inputs.authorizer == "jwt":
        if not inputs.jwt_issuer:
            yield "jwt_issuer", "is required with authorizer jwt", MISSING, "an https:// issuer URL"
        if not inputs.jwt_audience:
            yield "jwt_audience", "is required with authorizer jwt", [], "at least one audience"
    elif inputs.jwt_issuer or inputs.jwt_audience:
        yield "jwt_issuer" if inputs.jwt_issuer else "jwt_audience", \
            f"is set but authorizer is {inputs.authorizer}", inputs.jwt_issuer or list(inputs.jwt_audience), \
            "authorizer: jwt"
    if bool(inputs.domain_name) != bool(inputs.certificate_arn):
        missing = "certificate_arn" if inputs.domain_name else "domain_name"
        yield missing, "is required with " + ("domain_name" if inputs.domain_name else "certificate_arn"), \
            MISSING, "both domain_name and certificate_arn, or neither"
    meant = isinstance(inputs, LambdaApiSvcInputsV11) and inputs.allow_public_on_production
    if inputs.authorizer == "none" and env.production and not meant:
        yield "authorizer", "would make a public API on a production environment", "none", \
            "iam or jwt, or (lambda-api-svc 1.1) allow_public_on_production: true to say it is meant"
    if "*" in inputs.cors_allowed_origins and inputs.authorizer != "none":
        yield "cors_allowed_origins", "allows every origin on an authorized API", ["*"], \
            "the browser origins that call the API"
