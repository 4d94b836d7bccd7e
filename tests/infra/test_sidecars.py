"""Sidecars (issue 17) in the task definition: tests/infra/platforms/sidecars.yaml synthesized once, the
containers as ECS gets them, the collector's grants exactly, nag-clean and cfn-lint-clean."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from keel.templates.container_inputs import OTEL_COLLECTOR_IMAGE, OTEL_METRICS_LOG_GROUP
from tests.infra.conftest import Synthesized, cfn_lint, open_findings, synthesize

PLATFORM = Path(__file__).parent / "platforms" / "sidecars.yaml"
STACK = "keel-orders-orders-dev"


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    yield synthesize(PLATFORM, tmp_path_factory.mktemp("sidecars.out"))


def resources(synth: Synthesized, kind: str, stack: str = STACK) -> dict[str, Any]:
    return {k: r for k, r in synth.json(stack)["Resources"].items() if r["Type"] == kind}


def containers(synth: Synthesized, stack: str = STACK) -> dict[str, Any]:
    (task,) = resources(synth, "AWS::ECS::TaskDefinition", stack).values()
    return {c["Name"]: c for c in task["Properties"]["ContainerDefinitions"]}


def test_the_collector_runs_pinned_with_the_default_config_and_logs_under_its_own_prefix(synth: Synthesized) -> None:
    otel = containers(synth)["otel"]
    assert otel["Image"] == OTEL_COLLECTOR_IMAGE and ":" in OTEL_COLLECTOR_IMAGE.rsplit("/", 1)[1]
    assert otel["Command"] == ["--config=/etc/ecs/ecs-default-config.yaml"]
    assert (otel["Essential"], otel["Cpu"], otel["Memory"]) == (False, 256, 512)
    assert otel["HealthCheck"]["Command"] == ["CMD", "/healthcheck"]
    options = otel["LogConfiguration"]["Options"]
    assert options["awslogs-stream-prefix"] == "otel"
    assert options["awslogs-group"] == containers(synth)["app"]["LogConfiguration"]["Options"]["awslogs-group"]


def test_a_custom_sidecar_has_its_port_variables_secret_and_dependencies(synth: Synthesized) -> None:
    proxy = containers(synth)["proxy"]
    assert proxy["Image"] == "public.ecr.aws/nginx/nginx:1.27"
    assert (proxy["Essential"], proxy["Cpu"], proxy["Memory"]) == (True, 128, 256)
    assert proxy["PortMappings"] == [{"ContainerPort": 8080, "Protocol": "tcp"}]
    assert proxy["Environment"] == [{"Name": "UPSTREAM", "Value": "127.0.0.1:80"}]
    (secret,) = proxy["Secrets"]
    assert secret["Name"] == "PROXY_TOKEN" and "/keel/dev/orders/proxy/token" in str(secret["ValueFrom"])
    assert proxy["DependsOn"] == [{"ContainerName": "otel", "Condition": "HEALTHY"},
                                  {"ContainerName": "app", "Condition": "START"}]
    assert proxy["LogConfiguration"]["Options"]["awslogs-stream-prefix"] == "proxy"


def statements(synth: Synthesized, role_word: str, stack: str = STACK) -> list[dict[str, Any]]:
    template = synth.json(stack)
    out = []
    for policy in resources(synth, "AWS::IAM::Policy", stack).values():
        (role,) = policy["Properties"]["Roles"]
        if role_word in role["Ref"]:
            out += policy["Properties"]["PolicyDocument"]["Statement"]
    assert template  # the stack was read
    return out


def test_the_task_role_may_send_traces_and_metrics_of_the_collector_namespaces_only(synth: Synthesized) -> None:
    granted = statements(synth, "TaskRole")
    assert granted == [
        {"Sid": "CollectorTraces", "Effect": "Allow", "Resource": "*",
         "Action": ["xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords",
                    "xray:PutTraceSegments"]},
        {"Sid": "CollectorMetrics", "Effect": "Allow", "Resource": "*", "Action": "cloudwatch:PutMetricData",
         "Condition": {"StringEquals": {"cloudwatch:namespace": ["ECS/AWSOTel", "ECS/AWSOTel/Application"]}}},
        # the default config's awsemf exporter: exactly its log group and that group's streams
        {"Sid": "CollectorMetricsLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
         "Resource": [f"arn:aws:logs:eu-west-1:111111111111:log-group:{OTEL_METRICS_LOG_GROUP}",
                      f"arn:aws:logs:eu-west-1:111111111111:log-group:{OTEL_METRICS_LOG_GROUP}:log-stream:*"]},
    ]


def test_the_execution_role_reads_the_sidecars_secret_by_name(synth: Synthesized) -> None:
    granted = statements(synth, "ExecutionRole")
    reads = [s for s in granted if "ssm:GetParameters" in s["Action"]]
    assert any("/keel/dev/orders/proxy/token" in str(s["Resource"]) for s in reads)
    assert all(s["Resource"] != "*" for s in granted if "ecr:GetAuthorizationToken" not in s["Action"])


@pytest.mark.heavy  # reads cdk-nag's report: nag runs on test platforms in make conformance
def test_nag_finds_nothing(synth: Synthesized) -> None:
    assert open_findings(synth.outdir) == []


@pytest.mark.heavy  # cfn-lint of a test platform: make conformance (the default platform's: make test)
def test_cfn_lint_finds_nothing(synth: Synthesized) -> None:
    result = cfn_lint(synth.outdir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_metrics_log_group_is_the_collectors_default_configs() -> None:
    """The group the pinned image's /etc/ecs/ecs-default-config.yaml names for awsemf (ADOT collector's ECS
    default config), which the grant must name exactly."""
    assert OTEL_METRICS_LOG_GROUP == "/aws/ecs/application/metrics"


# --- sidecars and secrets (issue 17): a 1.2 sidecar takes every reference the app container takes ---------------
BILLING = "keel-billing-billing-dev"


def test_a_sidecar_reads_config_plane_and_external_secrets_by_arn(synth: Synthesized) -> None:
    shipper = containers(synth, BILLING)["shipper"]
    assert {s["Name"]: s["ValueFrom"] for s in shipper["Secrets"]} == {
        "API_KEY": "arn:aws:ssm:eu-west-1:111111111111:parameter/keel/dev/billing/shipper/api-key",
        "DB": "arn:aws:secretsmanager:eu-west-1:111111111111:secret:keel/dev/billing/shipper/db",
        "LICENSE": "arn:aws:ssm:eu-west-1:111111111111:parameter/copilot/shop/dev/secrets/license",
        "WEBHOOK": "arn:aws:ssm:eu-west-1:111111111111:parameter/billing/webhook",
        "VENDOR_TOKEN": "arn:aws:secretsmanager:eu-west-1:111111111111:secret:vendor/token",
        "SIGNING_KEY": "arn:aws:secretsmanager:eu-west-1:111111111111:secret:billing/signing-AbCdEf:private::"}
    assert "Secrets" not in containers(synth, BILLING)["app"]


def test_the_execution_role_reads_exactly_the_sidecars_secrets(synth: Synthesized) -> None:
    granted = {s.get("Sid", s["Action"][0]): s for s in statements(synth, "ExecutionRole", BILLING)}
    assert granted["ssm:DescribeParameters"]["Resource"] == [
        "arn:aws:ssm:eu-west-1:111111111111:parameter/billing/webhook",
        "arn:aws:ssm:eu-west-1:111111111111:parameter/copilot/shop/dev/secrets/license",
        "arn:aws:ssm:eu-west-1:111111111111:parameter/keel/dev/billing/shipper/api-key"]
    assert granted["secretsmanager:DescribeSecret"]["Resource"] == [
        "arn:aws:secretsmanager:eu-west-1:111111111111:secret:billing/signing-AbCdEf",  # an ARN: exactly it
        # a name: Secrets Manager's random suffix, which the name does not carry
        "arn:aws:secretsmanager:eu-west-1:111111111111:secret:keel/dev/billing/shipper/db-??????",
        "arn:aws:secretsmanager:eu-west-1:111111111111:secret:vendor/token-??????"]
    assert granted["DecryptConfigThroughSsmAndSecretsManager"]["Action"] == "kms:Decrypt"


# --- sidecars (issue 17) on ECS Anywhere (anywhere-svc 1.2) ------------------------------------------------------
AGENT = "keel-agent-agent-edge"


def test_external_sidecars_state_their_memory_and_log_under_the_instances_streams(synth: Synthesized) -> None:
    (task,) = resources(synth, "AWS::ECS::TaskDefinition", AGENT).values()
    assert (task["Properties"]["RequiresCompatibilities"], task["Properties"]["NetworkMode"]) == (["EXTERNAL"], "host")
    found = containers(synth, AGENT)
    assert {name: c.get("Memory") for name, c in found.items()} == {"app": 2048, "otel": 512, "sync": 128}
    prefixes = {name: c["LogConfiguration"]["Options"]["awslogs-stream-prefix"] for name, c in found.items()}
    assert prefixes == {"app": "agent/agent-edge", "otel": "agent/agent-edge/otel", "sync": "agent/agent-edge/sync"}
    assert found["otel"]["Command"] == ["--config=/etc/ecs/ecs-default-config.yaml"]


def test_the_external_collector_sends_with_the_task_roles_exact_grants(synth: Synthesized) -> None:
    sids = [s["Sid"] for s in statements(synth, "TaskRole", AGENT)]
    assert sids == ["CollectorTraces", "CollectorMetrics", "CollectorMetricsLogs"]
    (reads,) = [s for s in statements(synth, "ExecutionRole", AGENT) if "ssm:GetParameters" in s["Action"]]
    assert reads["Resource"] == {"Fn::Join": ["", ["arn:aws:ssm:eu-west-1:", {"Ref": "AWS::AccountId"},
                                                   ":parameter/plants/site-token"]]}
