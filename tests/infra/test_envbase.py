"""The event bus and config plane on every environment template: ecs-env 1.1 and eks-env 1.1 compose them
(on by default) and the Lambda and container services use them there.

One synth of tests/infra/platforms/envbase.yaml per session (xdist worker); one behaviour per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from keel.contract.registry import TemplateRef
from keel.spec.registry import default_registry
from tests.infra.conftest import Synthesized, cfn_lint, environment_read, open_findings, synthesize

PLATFORM = Path(__file__).parent / "platforms" / "envbase.yaml"
BUS_ENVIRONMENTS = ("ecs", "eks")


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    yield synthesize(PLATFORM, tmp_path_factory.mktemp("envbase.out"))


def of_type(lab: Synthesized, stack: str, type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in lab.json(stack)["Resources"].items() if v["Type"] == type_}


def parameters(lab: Synthesized, stack: str) -> set[str]:
    """Named parameters (CDK's kubectl-ready barrier of an EKS cluster is an unnamed one)."""
    names = (r["Properties"].get("Name") for r in of_type(lab, stack, "AWS::SSM::Parameter").values())
    return {n for n in names if isinstance(n, str)}


def on_environment_bus(rule: dict[str, Any], env: str, template: dict[str, Any]) -> bool:
    """The rule's bus is the environment's EventBus (its name read from the environment's SSM parameter), not
    the default bus."""
    return environment_read(template, rule["Properties"]["EventBusName"]) == f"/keel/{env}/events/bus-name"


@pytest.mark.parametrize("env", BUS_ENVIRONMENTS)
def test_the_latest_minor_creates_the_bus_by_default(lab: Synthesized, env: str) -> None:
    assert len(of_type(lab, f"keel-{env}", "AWS::Events::EventBus")) == 1
    assert len(of_type(lab, f"keel-{env}", "AWS::Events::Archive")) == 1


def test_a_pinned_1_0_environment_has_neither_bus_nor_config(lab: Synthesized) -> None:
    assert of_type(lab, "keel-eks-pinned", "AWS::Events::EventBus") == {}
    assert not any(p.startswith(("/keel/eks-pinned/events/", "/keel/eks-pinned/config/"))
                   for p in parameters(lab, "keel-eks-pinned"))


def test_ecs_env_creates_the_declared_secret_and_parameter(lab: Synthesized) -> None:
    secrets = [r["Properties"]["Name"] for r in of_type(lab, "keel-ecs", "AWS::SecretsManager::Secret").values()]
    assert "keel/ecs/jobs-api/signing-key" in secrets
    assert "/keel/ecs/jobs-api/greeting" in parameters(lab, "keel-ecs")
    assert len(of_type(lab, "keel-ecs", "AWS::SecretsManager::RotationSchedule")) == 1


def test_eks_env_logs_every_event_when_asked(lab: Synthesized) -> None:
    (rule,) = [r for k, r in of_type(lab, "keel-eks", "AWS::Events::Rule").items() if k.startswith("EventBusLog")]
    assert rule["Properties"]["EventPattern"] == {"source": [{"prefix": ""}]}
    assert "/aws/events/keel/eks/all-events" in {
        r["Properties"].get("LogGroupName") for r in of_type(lab, "keel-eks", "AWS::Logs::LogGroup").values()}


@pytest.mark.parametrize("env", ("ecs", "eks", "eks-pinned"))
def test_every_published_environment_parameter_is_a_declared_output(lab: Synthesized, env: str) -> None:
    environment = next(e for e in lab.model.environments if e.name == env)
    declared = {f"/keel/{env}/{key}" for key in environment.template.outputs}
    ours = {p for p in parameters(lab, f"keel-{env}") if p.count("/") >= 3}
    config = {f"/keel/{env}/jobs-api/greeting"}
    assert ours - config <= declared


@pytest.mark.parametrize("env", BUS_ENVIRONMENTS)
def test_the_1_1_outputs_add_only_the_bus_and_config_keys(env: str) -> None:
    template = {"ecs": "ecs-env", "eks": "eks-env"}[env]
    old = default_registry().resolve(TemplateRef.parse(f"{template}:1.0")).outputs
    new = default_registry().resolve(TemplateRef.parse(f"{template}:1.1")).outputs
    assert {k.split("/")[0] for k in set(new) - set(old)} == {"events", "config"}
    assert set(old) <= set(new)


@pytest.mark.parametrize("env", BUS_ENVIRONMENTS)
def test_the_event_worker_rule_is_on_the_environment_bus(lab: Synthesized, env: str) -> None:
    (rule,) = of_type(lab, f"keel-jobs-worker-{env}", "AWS::Events::Rule").values()
    assert on_environment_bus(rule, env, lab.json(f"keel-jobs-worker-{env}"))


@pytest.mark.parametrize("stack", ["keel-jobs-api-ecs", "keel-jobs-api-eks", "keel-jobs-cleanup-ecs",
                                   "keel-jobs-cleanup-eks"])
def test_lambda_services_get_the_bus_name(lab: Synthesized, stack: str) -> None:
    (fn,) = [r for k, r in of_type(lab, stack, "AWS::Lambda::Function").items() if k.startswith("Function")]
    assert "KEEL_EVENT_BUS_NAME" in fn["Properties"]["Environment"]["Variables"]


def test_a_lambda_service_on_a_bus_less_environment_gets_no_bus_name(lab: Synthesized) -> None:
    (fn,) = [r for k, r in of_type(lab, "keel-jobs-cleanup-eks-pinned", "AWS::Lambda::Function").items()
             if k.startswith("Function")]
    assert "KEEL_EVENT_BUS_NAME" not in fn["Properties"]["Environment"]["Variables"]


def test_the_container_worker_subscribes_on_the_environment_bus(lab: Synthesized) -> None:
    (rule,) = of_type(lab, "keel-billing-ecs", "AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"] == {"source": ["keel.jobs-api"], "detail-type": ["JobDone"]}
    assert on_environment_bus(rule, "ecs", lab.json("keel-billing-ecs"))


def test_environment_stacks_are_tagged_with_the_resolved_minor(lab: Synthesized) -> None:
    labels = {e.name: e.template.label for e in lab.model.environments}
    assert labels == {"ecs": "ecs-env@1.2", "eks": "eks-env@1.1", "eks-pinned": "eks-env@1.0"}


@pytest.mark.heavy  # reads cdk-nag's report: nag runs on test platforms in make conformance
def test_no_unacknowledged_compliance_findings(lab: Synthesized) -> None:
    assert open_findings(lab.outdir) == []


@pytest.mark.heavy  # cfn-lint of a test platform: make conformance (the default platform's: make test)
def test_cfn_lint_is_clean(lab: Synthesized) -> None:
    run = cfn_lint(lab.outdir)
    assert run.returncode == 0, run.stdout + run.stderr


# Lambda handler minors: a compiled runtime's handler reaches Lambda as the spec gives it (no Powertools layer)
@pytest.mark.parametrize(("stack", "runtime", "handler"), [
    ("keel-java-api-ecs", "java21", "com.example.quotes.Handler::handleRequest"),
    ("keel-go-job-ecs", "provided.al2023", "bootstrap")])
def test_a_compiled_runtimes_handler_is_built_as_written(lab: Synthesized, stack: str, runtime: str,
                                                         handler: str) -> None:
    (fn,) = [r["Properties"] for k, r in of_type(lab, stack, "AWS::Lambda::Function").items()
             if k.startswith("Function")]
    assert (fn["Runtime"], fn["Handler"]) == (runtime, handler)
    assert "Layers" not in fn
