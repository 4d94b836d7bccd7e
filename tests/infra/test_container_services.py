"""Container service templates on ecs-env: tests/infra/platforms/containers.yaml, synthesized once here.

`shop` (load-balanced, every option on), `edge-proxy` (its own NLB), `ledger` (backend: Cloud Map and
PrivateLink on edge, defaults on plain), `mailer` (worker), `cleanup` (scheduled), `vision` (ECS Anywhere).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from tests.infra.conftest import Synthesized, cfn_lint, environment_read, mask_hashes, open_findings, synthesize
from tests.infra.policy_helpers import flat, role_statements

pytestmark = pytest.mark.early  # the container services' platform synthesized

PLATFORM = Path(__file__).parent / "platforms" / "containers.yaml"
SERVICES = ["keel-shop-shop-edge", "keel-edge-proxy-edge-proxy-plain", "keel-ledger-ledger-edge",
            "keel-ledger-ledger-plain", "keel-mailer-mailer-plain", "keel-cleanup-cleanup-plain",
            "keel-vision-vision-edge"]


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    yield synthesize(PLATFORM, tmp_path_factory.mktemp("containers.out"))


def t(synth: Synthesized, name: str) -> Template:
    return synth.templates[name]


def one(template: Template, kind: str, props: dict[str, Any] | None = None) -> dict[str, Any]:
    found = template.find_resources(kind, {"Properties": Match.object_like(props)} if props else None)
    assert len(found) == 1, sorted(found)
    return next(iter(found.values()))["Properties"]  # type: ignore[no-any-return]


# --- compliance and snapshots -----------------------------------------------------------------------
@pytest.mark.heavy  # reads cdk-nag's report: nag runs on test platforms in make conformance
def test_no_unacknowledged_compliance_findings(synth: Synthesized) -> None:
    assert open_findings(synth.outdir) == []


@pytest.mark.heavy  # cfn-lint of a test platform: make conformance (the default platform's: make test)
def test_cfn_lint_finds_nothing(synth: Synthesized) -> None:
    result = cfn_lint(synth.outdir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_service_stacks_match_snapshots(synth: Synthesized, snapshot) -> None:  # type: ignore[no-untyped-def]
    for stack in SERVICES:
        assert mask_hashes(synth.json(stack)) == snapshot(name=stack)


def test_resources_carry_their_template_label(synth: Synthesized) -> None:
    for instance in synth.model.instances:
        for logical_id, resource in t(synth, instance.stack_name).to_json()["Resources"].items():
            tags = resource.get("Properties", {}).get("Tags")
            if isinstance(tags, list) and tags and isinstance(tags[0], dict) and "Key" in tags[0]:
                assert {x["Key"]: x["Value"] for x in tags}["keel:template"] == instance.template.label, logical_id


# --- deployments -----------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", [s for s in SERVICES if "cleanup" not in s])
def test_every_service_has_the_circuit_breaker_with_rollback(synth: Synthesized, stack: str) -> None:
    props = one(t(synth, stack), "AWS::ECS::Service")
    assert props["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}


@pytest.mark.parametrize(("stack", "alarms"), [
    ("keel-shop-shop-edge", ["UnhealthyTargetsAlarm", "Target5xxAlarm"]),
    ("keel-edge-proxy-edge-proxy-plain", ["UnhealthyTargetsAlarm"]),
    ("keel-ledger-ledger-edge", ["UnhealthyTargetsAlarm"]),
    ("keel-mailer-mailer-plain", ["DeadLetterAlarm"]),
])
def test_alarm_rollback_feeds_the_deployment_alarms(synth: Synthesized, stack: str, alarms: list[str]) -> None:
    config = one(t(synth, stack), "AWS::ECS::Service")["DeploymentConfiguration"]["Alarms"]
    assert config["Enable"] is True and config["Rollback"] is True
    assert [a["Ref"].rstrip("0123456789ABCDEF") for a in config["AlarmNames"]] == alarms


def test_without_alarm_rollback_no_deployment_alarms(synth: Synthesized) -> None:
    assert "Alarms" not in one(t(synth, "keel-ledger-ledger-plain"), "AWS::ECS::Service")["DeploymentConfiguration"]


def test_spec_healthy_percents_reach_the_service(synth: Synthesized) -> None:
    config = one(t(synth, "keel-shop-shop-edge"), "AWS::ECS::Service")["DeploymentConfiguration"]
    assert (config["MinimumHealthyPercent"], config["MaximumPercent"]) == (50, 200)


def test_task_size_gives_fargate_cpu_and_memory(synth: Synthesized) -> None:
    props = one(t(synth, "keel-shop-shop-edge"), "AWS::ECS::TaskDefinition")
    assert (props["Cpu"], props["Memory"]) == ("1024", "2048")


# --- roles: least privilege ------------------------------------------------------------------------
@pytest.mark.parametrize("stack", SERVICES)
def test_task_and_execution_roles_trust_only_this_accounts_ecs_tasks(synth: Synthesized, stack: str) -> None:
    described = Match.string_like_regexp("application's own permissions|ECS agent")
    for role in t(synth, stack).find_resources("AWS::IAM::Role", {"Properties": {"Description": described}}).values():
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        assert "aws:SourceAccount" in statement["Condition"]["StringEquals"]


def test_task_role_of_a_plain_service_has_no_permissions(synth: Synthesized) -> None:
    assert role_statements(t(synth, "keel-ledger-ledger-plain"), "TaskTaskRole") == []


def test_execution_role_reads_exactly_the_named_secrets(synth: Synthesized) -> None:
    statements = role_statements(t(synth, "keel-shop-shop-edge"), "TaskExecutionRole")
    reads = {flat(s["Resource"]) for s in statements if any("secretsmanager:" in a or "ssm:" in a
                                                            for a in s["Action"])}
    assert len(reads) == 2
    assert any("secret:keel/edge/shop/db/password-??????" in r for r in reads)
    assert any("parameter/keel/edge/shop/api/token" in r for r in reads)
    assert not any(r.endswith('/*"]]}') for r in reads)


def test_execution_role_decrypts_only_through_ssm_and_secrets_manager(synth: Synthesized) -> None:
    statements = role_statements(t(synth, "keel-shop-shop-edge"), "TaskExecutionRole")
    (decrypt,) = [s for s in statements if s["Action"] == "kms:Decrypt"]
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == [
        "ssm.eu-west-1.amazonaws.com", "secretsmanager.eu-west-1.amazonaws.com"]


def test_secrets_are_references_not_values(synth: Synthesized) -> None:
    props = one(t(synth, "keel-shop-shop-edge"), "AWS::ECS::TaskDefinition")
    (app,) = [c for c in props["ContainerDefinitions"] if c["Name"] == "app"]
    secrets = {s["Name"]: flat(s["ValueFrom"]) for s in app["Secrets"]}
    assert ":secret:keel/edge/shop/db/password:password::" in secrets["DB_PASSWORD"]
    assert ":parameter/keel/edge/shop/api/token" in secrets["API_TOKEN"]
    assert {e["Name"] for e in app["Environment"]} == {"BACKEND_URL", "LOG_LEVEL"}


def test_worker_task_role_only_consumes_its_queue(synth: Synthesized) -> None:
    statements = role_statements(t(synth, "keel-mailer-mailer-plain"), "TaskTaskRole")
    actions = sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert actions == ["kms:Decrypt", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                       "sqs:GetQueueUrl", "sqs:ReceiveMessage"]
    assert all("Ref" in flat(s["Resource"]) or "GetAtt" in flat(s["Resource"]) for s in statements)


def test_exec_grants_and_service_flag(synth: Synthesized) -> None:
    template = t(synth, "keel-shop-shop-edge")
    assert one(template, "AWS::ECS::Service")["EnableExecuteCommand"] is True
    sids = {s.get("Sid") for s in role_statements(template, "TaskTaskRole")}
    assert {"ExecSessionChannel", "ExecSessionEncryption", "ExecSessionLogs", "FireLensToServiceLogs"} <= sids


def test_firelens_routes_the_app_through_the_log_router(synth: Synthesized) -> None:
    containers = one(t(synth, "keel-shop-shop-edge"), "AWS::ECS::TaskDefinition")["ContainerDefinitions"]
    by_name = {c["Name"]: c for c in containers}
    assert by_name["log-router"]["FirelensConfiguration"]["Type"] == "fluentbit"
    assert by_name["app"]["LogConfiguration"]["LogDriver"] == "awsfirelens"
    assert by_name["app"]["LogConfiguration"]["Options"]["auto_create_group"] == "false"


# --- load balanced ---------------------------------------------------------------------------------
def test_listener_rule_routes_path_and_host_to_the_target_group(synth: Synthesized) -> None:
    rule = one(t(synth, "keel-shop-shop-edge"), "AWS::ElasticLoadBalancingV2::ListenerRule")
    assert rule["Priority"] == 120
    fields = {c["Field"]: c.get("PathPatternConfig", c.get("HostHeaderConfig")) for c in rule["Conditions"]}
    assert fields == {"path-pattern": {"Values": ["/shop/*"]}, "host-header": {"Values": ["shop.example.com"]}}


def test_target_group_checks_the_health_path_on_the_port(synth: Synthesized) -> None:
    group = one(t(synth, "keel-shop-shop-edge"), "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert (group["HealthCheckPath"], group["Port"], group["TargetType"]) == ("/healthz", 8443, "ip")


def test_only_the_shared_load_balancer_reaches_the_tasks(synth: Synthesized) -> None:
    ingress = one(t(synth, "keel-shop-shop-edge"), "AWS::EC2::SecurityGroupIngress")
    assert (ingress["FromPort"], ingress["ToPort"]) == (8443, 8443)
    assert "SourceSecurityGroupId" in ingress and "CidrIp" not in ingress


def test_scaling_on_cpu_and_requests_per_target(synth: Synthesized) -> None:
    template = t(synth, "keel-shop-shop-edge")
    target = one(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 10)
    policies = [p["Properties"]["TargetTrackingScalingPolicyConfiguration"]
                for p in template.find_resources("AWS::ApplicationAutoScaling::ScalingPolicy").values()]
    by_metric = {p["PredefinedMetricSpecification"]["PredefinedMetricType"]: p for p in policies}
    assert by_metric["ECSServiceAverageCPUUtilization"]["TargetValue"] == 55
    requests = by_metric["ALBRequestCountPerTarget"]
    assert requests["TargetValue"] == 500 and "Fn::Split" not in flat(requests)


def test_network_load_balancer_of_its_own_when_asked(synth: Synthesized) -> None:
    template = t(synth, "keel-edge-proxy-edge-proxy-plain")
    nlb = one(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert (nlb["Type"], nlb["Scheme"]) == ("network", "internet-facing")
    assert one(template, "AWS::ElasticLoadBalancingV2::Listener")["Protocol"] == "TCP"


def test_ecr_repository_scans_on_push_and_expires_old_images(synth: Synthesized) -> None:
    repo = one(t(synth, "keel-shop-shop-edge"), "AWS::ECR::Repository")
    assert repo["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert repo["EncryptionConfiguration"]["EncryptionType"] == "KMS"
    assert '"countNumber":5' in repo["LifecyclePolicy"]["LifecyclePolicyText"]


# --- backend ---------------------------------------------------------------------------------------
def test_backend_registers_in_cloud_map_when_asked(synth: Synthesized) -> None:
    template = t(synth, "keel-ledger-ledger-edge")
    assert len(one(template, "AWS::ECS::Service")["ServiceRegistries"]) == 1
    assert one(template, "AWS::ServiceDiscovery::Service")["Name"] == "ledger"


def test_backend_defaults_to_service_connect(synth: Synthesized) -> None:
    config = one(t(synth, "keel-ledger-ledger-plain"), "AWS::ECS::Service")["ServiceConnectConfiguration"]
    (service,) = config["Services"]
    assert config["Enabled"] is True
    assert (service["DiscoveryName"], service["PortName"], service["ClientAliases"][0]["Port"]) == ("ledger", "app", 80)


def test_private_link_offers_an_internal_nlb_to_allowed_principals(synth: Synthesized) -> None:
    template = t(synth, "keel-ledger-ledger-edge")
    assert one(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Scheme"] == "internal"
    assert one(template, "AWS::EC2::VPCEndpointService")["AcceptanceRequired"] is True
    assert one(template, "AWS::EC2::VPCEndpointServicePermissions")["AllowedPrincipals"] == [
        "arn:aws:iam::210987654321:root"]


def test_backend_is_reachable_from_the_vpc_only(synth: Synthesized) -> None:
    ingress = one(t(synth, "keel-ledger-ledger-plain"), "AWS::EC2::SecurityGroup")["SecurityGroupIngress"]
    assert [(i["CidrIp"], i["FromPort"]) for i in ingress] == [("10.61.0.0/16", 80)]


# --- worker ----------------------------------------------------------------------------------------
def test_worker_queue_is_encrypted_with_a_dead_letter_queue(synth: Synthesized) -> None:
    template = t(synth, "keel-mailer-mailer-plain")
    queue = one(template, "AWS::SQS::Queue", {"VisibilityTimeout": 120})
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 3 and "KmsMasterKeyId" in queue
    for policy in template.find_resources("AWS::SQS::QueuePolicy").values():
        assert "aws:SecureTransport" in flat(policy)


def test_worker_subscribes_its_queue_to_the_event_pattern(synth: Synthesized) -> None:
    rule = one(t(synth, "keel-mailer-mailer-plain"), "AWS::Events::Rule")
    assert rule["EventPattern"] == {"source": ["com.example.accounts"], "detail-type": ["Account Created"]}
    (target,) = rule["Targets"]
    assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] == 8


def test_worker_scales_in_steps_on_the_backlog(synth: Synthesized) -> None:
    template = t(synth, "keel-mailer-mailer-plain")
    target = one(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (0, 8)
    steps = [p["Properties"]["StepScalingPolicyConfiguration"]["StepAdjustments"]
             for p in template.find_resources("AWS::ApplicationAutoScaling::ScalingPolicy").values()]
    assert sorted(a["ScalingAdjustment"] for s in steps for a in s) == [-1, 1, 3]
    alarms = template.find_resources("AWS::CloudWatch::Alarm", {"Properties": {
        "MetricName": "ApproximateNumberOfMessagesVisible"}})
    assert {a["Properties"]["Threshold"] for a in alarms.values()} == {0, 20}


# --- scheduled -------------------------------------------------------------------------------------
def test_scheduler_runs_the_task_on_the_cron_in_the_time_zone(synth: Synthesized) -> None:
    template = t(synth, "keel-cleanup-cleanup-plain")
    schedule = one(template, "AWS::Scheduler::Schedule")
    assert schedule["ScheduleExpression"] == "cron(15 3 ? * MON-FRI *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10}
    target = schedule["Target"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 600}
    assert "DeadLetterConfig" in target and target["EcsParameters"]["TaskCount"] == 2
    assert template.find_resources("AWS::ECS::Service") == {}


# --- ECS Anywhere ----------------------------------------------------------------------------------
def test_external_task_definition_places_on_attributes_with_a_gpu(synth: Synthesized) -> None:
    props = one(t(synth, "keel-vision-vision-edge"), "AWS::ECS::TaskDefinition")
    assert props["RequiresCompatibilities"] == ["EXTERNAL"] and props["NetworkMode"] == "host"
    assert props["PlacementConstraints"] == [
        {"Type": "memberOf", "Expression": "attribute:gpu == true and attribute:site in [plant-3, plant-4]"}]
    (app,) = [c for c in props["ContainerDefinitions"] if c["Name"] == "app"]
    assert app["ResourceRequirements"] == [{"Type": "GPU", "Value": "1"}]
    assert app["PortMappings"] == [{"ContainerPort": 9100, "HostPort": 9100, "Protocol": "tcp"}]


def test_external_service_has_no_load_balancer_discovery_or_scaling(synth: Synthesized) -> None:
    template = t(synth, "keel-vision-vision-edge")
    props = one(template, "AWS::ECS::Service")
    assert props["LaunchType"] == "EXTERNAL" and props["DesiredCount"] == 3
    assert props.get("LoadBalancers", []) == []
    assert not {"ServiceRegistries", "ServiceConnectConfiguration"} & set(props)
    assert template.find_resources("AWS::ApplicationAutoScaling::ScalableTarget") == {}


def test_external_firelens_uses_the_environments_log_routing_policy(synth: Synthesized) -> None:
    role = one(t(synth, "keel-vision-vision-edge"), "AWS::IAM::Role", {"Description": Match.string_like_regexp(
        "application's own")})
    template = synth.json("keel-vision-vision-edge")
    assert [environment_read(template, a) for a in role["ManagedPolicyArns"]] == [
        "/keel/edge/ecs/anywhere/log-routing-policy-arn"]


# --- outputs ---------------------------------------------------------------------------------------
def test_outputs_and_pipeline_inputs_are_published_under_the_service_path(synth: Synthesized) -> None:
    names = {p["Properties"]["Name"]: p["Properties"]["Value"]
             for p in t(synth, "keel-shop-shop-edge").find_resources("AWS::SSM::Parameter").values()}
    assert names["/keel/edge/shop/url"] == "https://shop.example.com/shop/"
    assert names["/keel/edge/shop/discovery-name"] == "shop:8443"
    assert names["/keel/edge/shop/pipeline/dockerfile"] == "docker/Dockerfile"
    assert names["/keel/edge/shop/pipeline/unit-test-command"] == "pytest -q"
    assert {"/keel/edge/shop/service-name", "/keel/edge/shop/log-group", "/keel/edge/shop/ecr/repository-uri"} <= set(
        names)


def test_declared_outputs_cover_what_instances_publish(synth: Synthesized) -> None:
    for instance in synth.model.instances:
        prefix = f"/keel/{instance.environment}/{instance.service}/"
        published = {p["Properties"]["Name"].removeprefix(prefix)
                     for p in t(synth, instance.stack_name).find_resources("AWS::SSM::Parameter").values()}
        assert published <= set(instance.template.outputs), instance.stack_name


# --- Windows containers (issue 15) ------------------------------------------------------------------
WINDOWS = {"keel-counter-counter-edge": "WINDOWS_SERVER_2022_CORE",
           "keel-archive-archive-plain": "WINDOWS_SERVER_2019_FULL"}


@pytest.mark.parametrize(("stack", "family"), list(WINDOWS.items()))
def test_windows_tasks_run_their_release_on_x86_64_and_log_through_awslogs(synth: Synthesized, stack: str,
                                                                           family: str) -> None:
    task = one(t(synth, stack), "AWS::ECS::TaskDefinition")
    assert task["RuntimePlatform"] == {"CpuArchitecture": "X86_64", "OperatingSystemFamily": family}
    assert int(task["Cpu"]) >= 1024
    assert [c["LogConfiguration"]["LogDriver"] for c in task["ContainerDefinitions"]] == ["awslogs"]


def test_linux_tasks_keep_the_linux_runtime_platform(synth: Synthesized) -> None:
    task = one(t(synth, "keel-ledger-ledger-plain"), "AWS::ECS::TaskDefinition")
    assert task["RuntimePlatform"]["OperatingSystemFamily"] == "LINUX"


def test_a_windows_service_launches_on_fargate_not_spot(synth: Synthesized) -> None:
    service = one(t(synth, "keel-counter-counter-edge"), "AWS::ECS::Service")
    assert service["LaunchType"] == "FARGATE"  # Fargate Spot runs no Windows tasks
    assert "CapacityProviderStrategy" not in service
    assert service["EnableExecuteCommand"] is True


def test_a_windows_service_builds_on_codebuilds_windows_image_of_its_release(synth: Synthesized) -> None:
    pipeline = Template.from_json(synth.json("keel-counter-pipeline"))
    build = one(pipeline, "AWS::CodeBuild::Project", {"Description": "counter: unit tests, image build, push to ECR"})
    environment = build["Environment"]
    assert (environment["Type"], environment["Image"]) == ("WINDOWS_SERVER_2022_CONTAINER",
                                                           "aws/codebuild/windows-base:2022-1.0")
    assert environment["ComputeType"] == "BUILD_GENERAL1_LARGE"
    assert environment["PrivilegedMode"] is False  # CodeBuild's Windows images run Docker unprivileged
    spec = json.loads(build["Source"]["BuildSpec"])
    assert spec["env"]["shell"] == "powershell.exe"
    assert spec["phases"]["build"]["commands"][-1].startswith("docker build -f $env:DOCKERFILE -t $env:IMAGE_URI .")
    deploy = one(pipeline, "AWS::CodeBuild::Project", {"Description": Match.string_like_regexp("cdk deploy")})
    assert deploy["Environment"]["Type"] == "LINUX_CONTAINER"  # cdk deploy stays on Linux
