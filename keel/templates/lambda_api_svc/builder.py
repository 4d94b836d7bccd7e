"""lambda-api-svc 1.x builder: HTTP API -> Lambda, routes from the contract or the spec."""

from __future__ import annotations

import json
from pathlib import Path

import jsii
from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_logs as logs
from constructs import Construct

from keel.constructs.common import RETENTION
from keel.contract.outputs import NetworkOutputs
from keel.spec.model import Service, ServiceInstance
from keel.templates.lambda_api_svc.contract import parse_route, read_contract
from keel.templates.lambda_api_svc.inputs import LambdaApiSvcInputs
from keel.templates.lambda_inputs import LambdaPipelineInputs
from keel.templates.lambda_service import build_function, environment_key, function_discovery

# JSON access logs (structured, queryable with Logs Insights).
ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId", "ip": "$context.identity.sourceIp", "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod", "routeKey": "$context.routeKey", "status": "$context.status",
    "protocol": "$context.protocol", "responseLength": "$context.responseLength",
    "integrationLatency": "$context.integrationLatency", "integrationError": "$context.integrationErrorMessage",
    "userAgent": "$context.identity.userAgent", "authorizerError": "$context.authorizer.error",
}, separators=(",", ":"))


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogs:
    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(ACCESS_LOG_FORMAT)


def routes_of(service: Service, inputs: LambdaApiSvcInputs) -> list[tuple[str, str]]:
    if inputs.api_contract:
        return read_contract((Path(service.source).resolve().parent / inputs.api_contract).resolve())
    return [parse_route(r) for r in inputs.routes]


def build(scope: Construct, *, service: Service, instance: ServiceInstance, inputs: LambdaApiSvcInputs,
          pipeline: LambdaPipelineInputs, environment: NetworkOutputs) -> dict[str, str]:
    routes = routes_of(service, inputs)
    fn = build_function(scope, "Function", service=service, instance=instance, inputs=inputs, pipeline=pipeline,
                        environment=environment, description=f"{service.name} ({instance.name}): HTTP API handler",
                        invoked_by="API Gateway invokes it synchronously: a failure is the HTTP response the "
                                   "caller gets, there is no event to keep")
    key = environment_key(scope, environment)
    access_logs = logs.LogGroup(scope, "AccessLogs", retention=RETENTION[inputs.log_retention_days],
                                encryption_key=key, removal_policy=environment.removal_policy)

    authorizer: apigwv2.IHttpRouteAuthorizer | None = None
    if inputs.authorizer == "iam":
        authorizer = authorizers.HttpIamAuthorizer()
    elif inputs.authorizer == "jwt":
        authorizer = authorizers.HttpJwtAuthorizer("Jwt", inputs.jwt_issuer or "",
                                                    jwt_audience=list(inputs.jwt_audience))
    cors = apigwv2.CorsPreflightOptions(
        allow_origins=list(inputs.cors_allowed_origins),
        allow_methods=[apigwv2.CorsHttpMethod.ANY],
        allow_headers=["content-type", "authorization", "x-amz-date", "x-amz-security-token"],
        max_age=Duration.hours(1)) if inputs.cors_allowed_origins else None
    api = apigwv2.HttpApi(
        scope, "Api", api_name=f"keel-{environment.name}-{service.name}-{instance.name}",
        description=f"Keel service {service.name}, instance {instance.name}",
        create_default_stage=False, cors_preflight=cors, default_authorizer=authorizer,
        disable_execute_api_endpoint=bool(inputs.domain_name))
    domain = None
    if inputs.domain_name and inputs.certificate_arn:
        domain = apigwv2.DomainName(
            scope, "Domain", domain_name=inputs.domain_name,
            certificate=acm.Certificate.from_certificate_arn(scope, "Certificate", inputs.certificate_arn))
    stage = apigwv2.HttpStage(
        scope, "Stage", http_api=api, stage_name="$default", auto_deploy=True,
        throttle=apigwv2.ThrottleSettings(rate_limit=inputs.throttling_rate_limit,
                                          burst_limit=inputs.throttling_burst_limit),
        access_log_settings=_AccessLogs(access_logs),  # type: ignore[arg-type]
        domain_mapping=apigwv2.DomainMappingOptions(domain_name=domain) if domain else None)
    integration = integrations.HttpLambdaIntegration("Function", fn.function)
    for method, path in routes:
        api.add_routes(path=path, methods=[apigwv2.HttpMethod[method]], integration=integration)
    if authorizer is None:
        Validations.of(api).acknowledge(Acknowledgment(
            id="AwsSolutions::AwsSolutions-APIG4",
            reason="the spec declares a public API (authorizer: none); stage throttling still applies"))
    values = function_discovery(fn) | {"api/id": api.api_id, "api/url": stage.url}
    if domain is not None:
        values["api/domain-target"] = domain.regional_domain_name
    return values
