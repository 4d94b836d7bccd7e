"""Sidecars (issue 17) in the task definition: tests/infra/platforms/sidecars.yaml synthesized once, the
containers as ECS gets them, the collector's grants exactly, nag-clean and cfn-lint-clean."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from keel.templates.container_inputs import OTEL_COLLECTOR_IMAGE
from tests.infra.conftest import Synthesized, cfn_lint, open_findings, synthesize

PLATFORM = Path(__file__).parent / "platforms" / "sidecars.yaml"
STACK = "keel-orders-orders-dev"


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    yield synthesize(PLATFORM, tmp_path_factory.mktemp("sidecars.out"))


def resources(synth: Synthesized, kind: str) -> dict[str, Any]:
    return {k: r for k, r in synth.json(STACK)["Resources"].items() if r["Type"] == kind}


def containers(synth: Synthesized) -> dict[str, Any]:
    (task,) = resources(synth, "AWS::ECS::TaskDefinition").values()
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


def statements(synth: Synthesized, role_word: str) -> list[dict[str, Any]]:
    template = synth.json(STACK)
    out = []
    for policy in resources(synth, "AWS::IAM::Policy").values():
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
