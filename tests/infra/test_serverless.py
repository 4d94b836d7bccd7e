"""The serverless platform: event bus, config plane and the three Lambda service templates.

One synth of tests/infra/platforms/serverless.yaml per session (xdist worker); one behaviour per test."""

from __future__ import annotations

import fnmatch
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from keel.cdk_context import ROOT
from keel.constructs.function import POWERTOOLS_LAYER_VERSION
from keel.templates.lambda_api_svc.contract import read_contract
from tests.infra.conftest import Synthesized, cfn_lint, environment_read, mask_hashes, open_findings, synthesize

PLATFORM = Path(__file__).parent / "platforms" / "serverless.yaml"


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    yield synthesize(PLATFORM, tmp_path_factory.mktemp("serverless.out"))


def resources(lab: Synthesized, stack: str, type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in lab.json(stack)["Resources"].items() if v["Type"] == type_}


def only(lab: Synthesized, stack: str, type_: str) -> dict[str, Any]:
    found = list(resources(lab, stack, type_).values())
    assert len(found) == 1, f"{stack}: {len(found)} {type_}"
    return found[0]["Properties"]  # type: ignore[no-any-return]


def render(value: Any) -> str:
    """An IAM resource as a string: pseudo parameters and references become wildcards."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return str(sep).join(render(p) for p in parts)
    return "*"


def statements(lab: Synthesized, stack: str, role_prefix: str) -> list[dict[str, Any]]:
    out = []
    for policy in resources(lab, stack, "AWS::IAM::Policy").values():
        roles = [r.get("Ref", "") for r in policy["Properties"].get("Roles", [])]
        if any(r.startswith(role_prefix) for r in roles):
            out += policy["Properties"]["PolicyDocument"]["Statement"]
    return out


def allowed(lab: Synthesized, stack: str, role_prefix: str, action: str, arn: str) -> bool:
    """Whether the role's identity policies allow `action` on `arn` (Allow statements, wildcard match)."""
    for st in statements(lab, stack, role_prefix):
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        targets = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        if st["Effect"] == "Allow" and any(fnmatch.fnmatchcase(action, a) for a in actions) and \
                any(fnmatch.fnmatchcase(arn, render(t)) for t in targets):
            return True
    return False


SSM = "arn:aws:ssm:eu-west-1:111111111111:parameter"
SECRETS = "arn:aws:secretsmanager:eu-west-1:111111111111:secret"


# -- environment: the bus ------------------------------------------------------------------------
def test_bus_is_encrypted_with_the_environment_key(lab: Synthesized) -> None:
    bus = only(lab, "keel-dev", "AWS::Events::EventBus")
    assert bus["Name"] == "keel-dev"
    assert bus["KmsKeyIdentifier"]["Fn::GetAtt"][0].startswith("Key")


def test_bus_has_a_dead_letter_queue(lab: Synthesized) -> None:
    bus = only(lab, "keel-dev", "AWS::Events::EventBus")
    assert bus["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0].startswith("EventBusDeadLetters")


def test_archive_keeps_every_event_for_the_declared_days_encrypted(lab: Synthesized) -> None:
    archive = only(lab, "keel-dev", "AWS::Events::Archive")
    assert archive["RetentionDays"] == 45
    assert archive["EventPattern"] == {"source": [{"prefix": ""}]}
    assert archive["KmsKeyIdentifier"]["Fn::GetAtt"][0].startswith("Key")


def test_archive_retention_zero_keeps_events_indefinitely(lab: Synthesized) -> None:
    assert only(lab, "keel-lab", "AWS::Events::Archive")["RetentionDays"] == 0


def test_bus_policy_lets_listed_accounts_and_the_organization_put_events(lab: Synthesized) -> None:
    policies = [p["Properties"] for p in resources(lab, "keel-dev", "AWS::Events::EventBusPolicy").values()]
    statements_ = [p["Statement"] for p in policies]
    principals = sorted(json.dumps(s.get("Principal")) for s in statements_)
    assert any("222222222222" in p for p in principals) and any("333333333333" in p for p in principals)
    org = next(s for s in statements_ if "Condition" in s)
    assert org["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abcdef1234"}}
    assert {s["Action"] for s in statements_} == {"events:PutEvents"}


def test_bus_without_publishers_has_no_policy(lab: Synthesized) -> None:
    assert resources(lab, "keel-lab", "AWS::Events::EventBusPolicy") == {}


def test_schema_discovery_runs_only_on_the_aws_owned_key_bus(lab: Synthesized) -> None:
    assert "KmsKeyIdentifier" not in only(lab, "keel-lab", "AWS::Events::EventBus")
    assert len(resources(lab, "keel-lab", "AWS::EventSchemas::Discoverer")) == 1
    assert resources(lab, "keel-dev", "AWS::EventSchemas::Discoverer") == {}


def test_log_every_event_rule_writes_an_encrypted_log_group_with_dlq_and_retries(lab: Synthesized) -> None:
    rule = next(r["Properties"] for r in resources(lab, "keel-dev", "AWS::Events::Rule").values())
    target = rule["Targets"][0]
    assert target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0].startswith("EventBusDeadLetters")
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600}
    group = next(g["Properties"] for g in resources(lab, "keel-dev", "AWS::Logs::LogGroup").values()
                 if str(g["Properties"].get("LogGroupName", "")).startswith("/aws/events/"))
    assert group["RetentionInDays"] == 7 and "KmsKeyId" in group


def test_event_log_accepts_writes_from_this_account_only(lab: Synthesized) -> None:
    document = json.loads(render(only(lab, "keel-dev", "AWS::Logs::ResourcePolicy")["PolicyDocument"]))
    assert document["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "111111111111"}}


def test_no_custom_resource_lambda_in_environments(lab: Synthesized) -> None:
    """The event log's resource policy is plain CloudFormation, not a Lambda-backed custom resource."""
    functions = resources(lab, "keel-dev", "AWS::Lambda::Function")
    # vpc-env's own CustomVpcRestrictDefaultSG provider is older than the bus and not its concern.
    assert [k for k in functions if not k.startswith(("ConfigRotation", "CustomVpcRestrictDefaultSG"))] == []
    assert len(resources(lab, "keel-dev", "AWS::Logs::ResourcePolicy")) == 1


# -- environment: the config plane ---------------------------------------------------------------
def test_parameters_follow_the_naming_scheme_and_types(lab: Synthesized) -> None:
    params = {p["Properties"]["Name"]: p["Properties"]
              for p in resources(lab, "keel-dev", "AWS::SSM::Parameter").values()}
    assert params["/keel/dev/orders-api/greeting"]["Type"] == "String"
    assert params["/keel/dev/shared/allowed-origins"]["Type"] == "StringList"
    assert params["/keel/dev/shared/allowed-origins"]["Value"] == "https://a.example.com,https://b.example.com"


def test_secrets_are_generated_and_encrypted_with_the_environment_key(lab: Synthesized) -> None:
    secrets = {s["Properties"]["Name"]: s["Properties"] for s in
               resources(lab, "keel-dev", "AWS::SecretsManager::Secret").values()}
    assert sorted(secrets) == ["keel/dev/orders-api/signing-key", "keel/dev/orders-worker/db/credentials",
                               "keel/dev/shared/partner-token"]
    for secret in secrets.values():
        assert "SecretString" not in secret
        assert secret["KmsKeyId"]["Fn::GetAtt"][0].startswith("Key")
    assert secrets["keel/dev/orders-api/signing-key"]["GenerateSecretString"]["PasswordLength"] == 64
    generator = secrets["keel/dev/orders-worker/db/credentials"]["GenerateSecretString"]
    assert (json.loads(generator["SecretStringTemplate"]), generator["GenerateStringKey"]) == \
        ({"username": "worker"}, "password")


def test_rotating_secrets_use_the_generic_rotation_function(lab: Synthesized) -> None:
    schedules = [s["Properties"] for s in resources(lab, "keel-dev", "AWS::SecretsManager::RotationSchedule").values()]
    assert sorted(s["RotationRules"]["ScheduleExpression"] for s in schedules) == ["rate(30 days)", "rate(7 days)"]
    for schedule in schedules:
        assert schedule["RotationLambdaARN"]["Fn::GetAtt"][0].startswith("ConfigRotation")
    rotation = next(f["Properties"] for k, f in resources(lab, "keel-dev", "AWS::Lambda::Function").items()
                    if k.startswith("ConfigRotation"))
    assert rotation["Handler"] == "handler.handler"


def test_secret_values_appear_nowhere_in_the_cloud_assembly(lab: Synthesized) -> None:
    """Generated secrets have no value at synth time; nothing in cdk.out carries a SecretString or a
    resolved secret (dynamic references only)."""
    for path in lab.outdir.rglob("*.json"):
        assert '"SecretString"' not in path.read_text(), path
    variables = [v for f in functions(lab).values() for v in f.get("Environment", {}).get("Variables", {})]
    assert not [v for v in variables if "SECRET" in v or "PASSWORD" in v]  # names to look up, never values


def test_rotation_function_writes_only_the_secrets_it_rotates(lab: Synthesized) -> None:
    writes = [st for st in statements(lab, "keel-dev", "ConfigRotation")
              if any(a in ("secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage")
                     for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]]))]
    targets = {json.dumps(r) for st in writes for r in (st["Resource"] if isinstance(st["Resource"], list)
                                                        else [st["Resource"]])}
    assert writes and len(targets) == 2 and all('"Ref": "ConfigSecret' in t for t in targets)


# -- least privilege ---------------------------------------------------------------------------
@pytest.mark.parametrize(("stack", "role", "service"), [
    ("keel-orders-api-dev", "FunctionRole", "orders-api"),
    ("keel-orders-worker-dev", "FunctionRole", "orders-worker"),
    ("keel-reports-dev", "FunctionRole", "reports"),
])
def test_service_reads_its_own_and_the_shared_config_path(lab: Synthesized, stack: str, role: str,
                                                         service: str) -> None:
    for path in (service, "shared"):
        assert allowed(lab, stack, role, "ssm:GetParameter", f"{SSM}/keel/dev/{path}/key")
        assert allowed(lab, stack, role, "ssm:GetParametersByPath", f"{SSM}/keel/dev/{path}")
        assert allowed(lab, stack, role, "secretsmanager:GetSecretValue", f"{SECRETS}:keel/dev/{path}/key-AbCdEf")
        assert allowed(lab, stack, role, "ssm:GetParameter",
                       f"{SSM}/aws/reference/secretsmanager/keel/dev/{path}/key")


@pytest.mark.parametrize(("stack", "other"), [
    ("keel-orders-api-dev", "orders-worker"), ("keel-orders-worker-dev", "orders-api"),
    ("keel-orders-api-dev", "orders"), ("keel-reports-dev", "orders-api"),
])
def test_service_cannot_read_another_service_config_path(lab: Synthesized, stack: str, other: str) -> None:
    assert not allowed(lab, stack, "FunctionRole", "ssm:GetParameter", f"{SSM}/keel/dev/{other}/greeting")
    assert not allowed(lab, stack, "FunctionRole", "secretsmanager:GetSecretValue",
                       f"{SECRETS}:keel/dev/{other}/signing-key-AbCdEf")
    assert not allowed(lab, stack, "FunctionRole", "ssm:GetParameter",
                       f"{SSM}/aws/reference/secretsmanager/keel/dev/{other}/signing-key")


def test_service_cannot_read_another_environment_config(lab: Synthesized) -> None:
    assert not allowed(lab, "keel-orders-api-dev", "FunctionRole", "ssm:GetParameter",
                       f"{SSM}/keel/prod/orders-api/greeting")


def test_config_decryption_is_limited_to_ssm_and_secrets_manager(lab: Synthesized) -> None:
    decrypt = next(st for st in statements(lab, "keel-orders-api-dev", "FunctionRole")
                   if st.get("Sid") == "DecryptConfigThroughSsmAndSecretsManager")
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == [
        "secretsmanager.eu-west-1.amazonaws.com", "ssm.eu-west-1.amazonaws.com"]


def test_services_never_change_the_environment_key_policy(lab: Synthesized) -> None:
    """Service stacks reference the key by ARN; their grants live in their own role policies."""
    key = only(lab, "keel-dev", "AWS::KMS::Key")
    assert "FunctionRole" not in json.dumps(key["KeyPolicy"])


# -- functions -----------------------------------------------------------------------------------
def functions(lab: Synthesized) -> dict[str, dict[str, Any]]:
    return {f"{stack}/{k}": v["Properties"] for stack in lab.templates
            for k, v in resources(lab, stack, "AWS::Lambda::Function").items()
            if not k.startswith(("CustomVpcRestrictDefaultSG", "AWS679"))}


def test_every_function_is_traced_unless_the_spec_turned_it_off(lab: Synthesized) -> None:
    modes = {name: f.get("TracingConfig", {}).get("Mode") for name, f in functions(lab).items()}
    assert [n for n, m in modes.items() if m != "Active"] == \
        [n for n in modes if n.startswith("keel-public-api-lab/")]


def test_reserved_concurrency_comes_from_the_spec(lab: Synthesized) -> None:
    assert only(lab, "keel-orders-api-dev", "AWS::Lambda::Function")["ReservedConcurrentExecutions"] == 25
    assert only(lab, "keel-orders-worker-dev", "AWS::Lambda::Function")["ReservedConcurrentExecutions"] == 10


def test_a_scheduled_function_keeps_its_reservation(lab: Synthesized) -> None:
    # (0, a stopped function, is a spec error: tests/spec/test_hostile_values.py)
    assert only(lab, "keel-reports-dev", "AWS::Lambda::Function")["ReservedConcurrentExecutions"] == 2


def test_unset_reserved_concurrency_uses_the_shared_pool(lab: Synthesized) -> None:
    assert "ReservedConcurrentExecutions" not in only(lab, "keel-public-api-lab", "AWS::Lambda::Function")


def test_functions_use_the_public_powertools_layer_for_their_runtime_and_architecture(lab: Synthesized) -> None:
    api = only(lab, "keel-orders-api-dev", "AWS::Lambda::Function")
    assert (api["Runtime"], api["Architectures"]) == ("python3.13", ["arm64"])
    assert api["Layers"] == ["arn:aws:lambda:eu-west-1:017000801446:layer:"
                             f"AWSLambdaPowertoolsPythonV3-python313-arm64:{POWERTOOLS_LAYER_VERSION}"]
    public = only(lab, "keel-public-api-lab", "AWS::Lambda::Function")
    assert "AWSLambdaPowertoolsPythonV3-python312-x86_64" in json.dumps(public["Layers"])


def test_functions_log_json_to_their_own_encrypted_log_group(lab: Synthesized) -> None:
    fn = only(lab, "keel-orders-api-dev", "AWS::Lambda::Function")
    assert fn["LoggingConfig"]["LogFormat"] == "JSON"
    groups = resources(lab, "keel-orders-api-dev", "AWS::Logs::LogGroup")
    assert all("KmsKeyId" in g["Properties"] and g["Properties"]["RetentionInDays"] == 30 for g in groups.values())


def test_function_environment_carries_config_and_powertools_settings(lab: Synthesized) -> None:
    env = only(lab, "keel-orders-api-dev", "AWS::Lambda::Function")["Environment"]["Variables"]
    assert (env["KEEL_ENVIRONMENT"], env["KEEL_SERVICE"], env["POWERTOOLS_PARAMETERS_MAX_AGE"],
            env["POWERTOOLS_SERVICE_NAME"]) == ("dev", "orders-api", "300", "orders-api")
    assert "KEEL_EVENT_BUS_NAME" in env
    assert env["KEEL_TRACE_SDK_CALLS"] == "true"  # the spec asked for SDK subsegments
    assert only(lab, "keel-reports-dev", "AWS::Lambda::Function")["Environment"]["Variables"][
        "KEEL_TRACE_SDK_CALLS"] == "false"


def test_private_function_runs_in_the_private_subnets_with_its_own_security_group(lab: Synthesized) -> None:
    vpc_config = only(lab, "keel-orders-api-dev", "AWS::Lambda::Function")["VpcConfig"]
    assert len(vpc_config["SubnetIds"]) == 2 and len(vpc_config["SecurityGroupIds"]) == 1
    template = lab.json("keel-orders-api-dev")
    assert [environment_read(template, s) for s in vpc_config["SubnetIds"]] == [
        "/keel/dev/vpc/private-subnet-ids[0]", "/keel/dev/vpc/private-subnet-ids[1]"]
    assert "VpcConfig" not in only(lab, "keel-reports-dev", "AWS::Lambda::Function")


def test_packages_exclude_caches_and_tests_and_stay_small(lab: Synthesized) -> None:
    for fn in functions(lab).values():
        asset = lab.outdir / f"asset.{fn['Code']['S3Key'].removesuffix('.zip')}"
        files = [p for p in asset.rglob("*") if p.is_file()]
        assert files and not [p for p in files if "__pycache__" in p.parts or p.suffix == ".pyc"
                              or p.name.startswith("test_")]
        assert sum(p.stat().st_size for p in files) < 1_000_000


# -- async targets and DLQs ----------------------------------------------------------------------
def test_every_rule_target_has_a_dead_letter_queue_and_retry_policy(lab: Synthesized) -> None:
    for stack in lab.templates:
        for name, rule in resources(lab, stack, "AWS::Events::Rule").items():
            for target in rule["Properties"]["Targets"]:
                assert "DeadLetterConfig" in target and "RetryPolicy" in target, f"{stack}/{name}"


def test_worker_rule_filters_at_the_bus(lab: Synthesized) -> None:
    rule = only(lab, "keel-orders-worker-dev", "AWS::Events::Rule")
    assert rule["EventPattern"] == {"source": ["keel.orders-api"], "detail-type": ["ItemCreated"],
                                    "detail": {"quantity": [{"numeric": [">", 0]}]}}
    assert "EventBusName" in rule and rule["Targets"][0]["RetryPolicy"] == \
        {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 3600}


def test_worker_queue_is_encrypted_with_redrive_and_six_times_the_timeout(lab: Synthesized) -> None:
    queues = {k: v["Properties"] for k, v in resources(lab, "keel-orders-worker-dev", "AWS::SQS::Queue").items()}
    main = next(q for k, q in queues.items() if k.startswith("Queue"))
    assert main["VisibilityTimeout"] == 120
    assert main["RedrivePolicy"]["maxReceiveCount"] == 5
    assert all("KmsMasterKeyId" in q for q in queues.values())


def test_worker_reports_partial_batch_failures_with_maximum_concurrency(lab: Synthesized) -> None:
    mapping = only(lab, "keel-orders-worker-dev", "AWS::Lambda::EventSourceMapping")
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]) == (50, 5)
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 10}


def test_worker_has_an_encrypted_idempotency_table_with_ttl(lab: Synthesized) -> None:
    table = only(lab, "keel-orders-worker-dev", "AWS::DynamoDB::Table")
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_schedule_has_retries_a_dead_letter_queue_and_the_time_zone(lab: Synthesized) -> None:
    schedule = only(lab, "keel-reports-dev", "AWS::Scheduler::Schedule")
    assert (schedule["ScheduleExpression"], schedule["ScheduleExpressionTimezone"]) == \
        ("cron(30 3 * * ? *)", "Europe/Dublin")
    assert schedule["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 5}
    assert "DeadLetterConfig" in schedule["Target"]
    assert schedule["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}


def test_scheduled_function_sends_async_failures_to_its_queue(lab: Synthesized) -> None:
    config = only(lab, "keel-reports-dev", "AWS::Lambda::EventInvokeConfig")
    assert config["MaximumRetryAttempts"] == 2
    assert "OnFailure" in config["DestinationConfig"]


# -- the API -------------------------------------------------------------------------------------
def test_api_routes_are_exactly_the_contract(lab: Synthesized) -> None:
    routes = {r["Properties"]["RouteKey"]
              for r in resources(lab, "keel-orders-api-dev", "AWS::ApiGatewayV2::Route").values()}
    contract = read_contract(ROOT / "lambda_src" / "api" / "openapi.yaml")
    assert routes == {f"{m} {p}" for m, p in contract}


def test_api_routes_use_the_jwt_authorizer(lab: Synthesized) -> None:
    routes = resources(lab, "keel-orders-api-dev", "AWS::ApiGatewayV2::Route").values()
    assert {r["Properties"]["AuthorizationType"] for r in routes} == {"JWT"}
    authorizer = only(lab, "keel-orders-api-dev", "AWS::ApiGatewayV2::Authorizer")
    assert authorizer["JwtConfiguration"] == {"Audience": ["orders"], "Issuer": "https://login.example.com/"}


def test_api_stage_throttles_and_writes_json_access_logs(lab: Synthesized) -> None:
    stage = only(lab, "keel-orders-api-dev", "AWS::ApiGatewayV2::Stage")
    assert (stage["DefaultRouteSettings"]["ThrottlingRateLimit"],
            stage["DefaultRouteSettings"]["ThrottlingBurstLimit"]) == (30, 60)
    assert json.loads(stage["AccessLogSettings"]["Format"])["routeKey"] == "$context.routeKey"


def test_api_with_custom_domain_disables_the_default_endpoint(lab: Synthesized) -> None:
    api = only(lab, "keel-orders-api-dev", "AWS::ApiGatewayV2::Api")
    assert api["DisableExecuteApiEndpoint"] is True
    assert api["CorsConfiguration"]["AllowOrigins"] == ["https://app.example.com"]
    assert only(lab, "keel-orders-api-dev", "AWS::ApiGatewayV2::DomainName")["DomainName"] == "orders.dev.example.com"


def test_public_api_has_no_authorizer_and_the_spec_routes(lab: Synthesized) -> None:
    routes = resources(lab, "keel-public-api-lab", "AWS::ApiGatewayV2::Route").values()
    assert {(r["Properties"]["RouteKey"], r["Properties"].get("AuthorizationType", "NONE")) for r in routes} == \
        {("GET /health", "NONE"), ("GET /greeting", "NONE")}


def test_service_outputs_are_published_under_the_service_path(lab: Synthesized) -> None:
    names = {p["Properties"]["Name"] for p in resources(lab, "keel-orders-api-dev", "AWS::SSM::Parameter").values()}
    assert {"/keel/dev/orders-api/api/url", "/keel/dev/orders-api/function/name"} <= names


# -- whole-platform checks -----------------------------------------------------------------------
def test_no_unacknowledged_compliance_findings(lab: Synthesized) -> None:
    assert open_findings(lab.outdir) == []


def test_cfn_lint_finds_nothing(lab: Synthesized) -> None:
    result = cfn_lint(lab.outdir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_templates_match_snapshots(lab: Synthesized, snapshot) -> None:  # type: ignore[no-untyped-def]
    for stack in sorted(lab.templates):
        assert mask_hashes(lab.json(stack)) == snapshot(name=stack)


def test_lambda_zip_is_never_prebuilt(lab: Synthesized) -> None:
    """Assets are plain directories (no Docker bundling, no zips built on the machine)."""
    assert not [p for p in lab.outdir.glob("asset.*") if p.is_file() and zipfile.is_zipfile(p)]


def test_benchmark_packages_what_the_assets_package() -> None:
    import importlib.util

    from keel.constructs.function import ASSET_EXCLUDES

    spec = importlib.util.spec_from_file_location("bench_handlers", ROOT / "bench" / "handlers.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.EXCLUDES == ASSET_EXCLUDES


def test_secret_reference_is_a_dynamic_reference_not_a_value() -> None:
    import aws_cdk as cdk

    from keel.constructs.config_plane import secret_reference

    stack = cdk.Stack(cdk.App(), "Probe")
    value = stack.resolve(secret_reference(environment="dev", service="orders-worker", key="db/credentials",
                                           field="password").unsafe_unwrap())
    assert value == "{{resolve:secretsmanager:keel/dev/orders-worker/db/credentials:SecretString:password::}}"


def test_powertools_layer_of_an_environment_agnostic_stack_follows_the_partition() -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_

    from keel.constructs.function import powertools_layer_arn

    stack = cdk.Stack(cdk.App(), "Agnostic")
    arn = json.dumps(stack.resolve(powertools_layer_arn(stack, runtime=lambda_.Runtime.PYTHON_3_12,
                                                        architecture=lambda_.Architecture.X86_64)))
    assert '"Fn::FindInMap": ["PowertoolsLayerPublisher", {"Ref": "AWS::Partition"}, "account"]' in arn
    assert "AWSLambdaPowertoolsPythonV3-python312-x86_64" in arn
