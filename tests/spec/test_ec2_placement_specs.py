"""EC2 placement and architecture (issue 18) on the container templates' 1.2 (load-balanced, worker, scheduled;
backend since 1.1), in the spec layer: the same inputs and checks as backend-fargate-svc, located errors, and
Proton ServiceSpecs in the shape of AWS's EC2 service samples (our own files) on an EC2 environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from keel.spec import SpecError, load_platform

PROTON_EC2_ENV = Path(__file__).parent / "fixtures" / "proton-ec2-environment-spec.yaml"  # our own
SAMPLE_SHAPED = Path(__file__).parents[1] / "infra" / "platforms" / "proton-ec2"  # our own
ENV = {"name": "edge", "template": "ecs-env:1.3", "region": "eu-west-1",
       "availability_zones": ["eu-west-1a", "eu-west-1b"],
       "spec": {"ec2_capacity": [{"name": "general", "instance_types": ["m7g.large"]},
                                 {"name": "gpu", "instance_types": ["g5.xlarge"]}]}}
#: What each template needs besides the EC2 inputs (no shared load balancer in this environment).
BASE = {"load-balanced-fargate-svc": {"loadbalancer_type": "network"}, "worker-fargate-svc": {},
        "scheduled-fargate-svc": {}, "backend-fargate-svc": {}}
TEMPLATES = list(BASE)
PREFIX = "platform.yaml:services[svc].instances[0].spec."


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def problems(tmp_path: Path, template: str, spec: dict[str, Any], env_spec: dict[str, Any] | None = None,
             version: str = "1.2") -> list[str]:
    env = ENV if env_spec is None else {**ENV, "spec": env_spec}
    doc = {"name": "t", "environments": [env], "services": [{
        "name": "svc", "template": f"{template}:{version}", "instances": [{
            "name": "edge", "environment": "edge",
            "spec": {"image": "public.ecr.aws/nginx/nginx:1.27", **BASE[template], **spec}}]}]}
    (tmp_path / "platform.yaml").write_text(yaml.safe_dump(doc))
    try:
        load_platform(tmp_path / "platform.yaml")
    except SpecError as exc:
        return [p.render() for p in exc.problems]
    return []


@pytest.mark.parametrize("template", TEMPLATES)
def test_a_gpu_task_validates_on_the_first_gpu_provider(tmp_path: Path, template: str) -> None:
    assert problems(tmp_path, template, {"capacity": "ec2", "requires_gpu": 1}) == []


@pytest.mark.parametrize("template", TEMPLATES)
def test_ec2_only_inputs_need_capacity_ec2(tmp_path: Path, template: str) -> None:
    (line,) = problems(tmp_path, template, {"requires_gpu": 1})
    assert line == (PREFIX + "requires_gpu: needs capacity ec2 (Fargate has no GPUs, instance attributes or daemons) "
                    "(got 1, expected capacity: ec2 on an environment with ec2_capacity, or leave it out)")


@pytest.mark.parametrize("template", TEMPLATES)
def test_capacity_ec2_needs_an_ecs_env_with_ec2_capacity(tmp_path: Path, template: str) -> None:
    (line,) = problems(tmp_path, template, {"capacity": "ec2"}, env_spec={})
    assert line == (PREFIX + 'capacity: is ec2, and environment "edge" has no EC2 capacity providers (got "ec2", '
                    "expected ec2_capacity in the environment's spec (ecs-env 1.3), or capacity fargate)")


@pytest.mark.parametrize("template", TEMPLATES)
def test_requires_gpu_needs_a_gpu_provider(tmp_path: Path, template: str) -> None:
    lines = problems(tmp_path, template, {"capacity": "ec2", "capacity_provider": "general", "requires_gpu": 1,
                                          "cpu_architecture": "ARM64"})
    assert lines == [PREFIX + "requires_gpu: needs GPUs, and capacity provider general has none (got 1, expected a "
                     "GPU capacity provider (g5, g6, p4d...), or requires_gpu 0)"]


@pytest.mark.parametrize("template", TEMPLATES)
def test_the_architecture_must_match_the_providers_instances(tmp_path: Path, template: str) -> None:
    (line,) = problems(tmp_path, template, {"capacity": "ec2", "capacity_provider": "general"})
    assert line == (PREFIX + "cpu_architecture: differs from capacity provider general's instances (ARM64) "
                    '(got "X86_64", expected ARM64)')


@pytest.mark.parametrize("template", TEMPLATES)
def test_placement_constraints_are_instance_attribute_expressions(tmp_path: Path, template: str) -> None:
    (line,) = problems(tmp_path, template, {"capacity": "ec2", "requires_gpu": 1,
                                            "placement_constraints": ["ecs.instance-type ~= g5"]})
    assert line.startswith(PREFIX + "placement_constraints[0]: is not a placement constraint: '~=' is not an "
                           "operator")


@pytest.mark.parametrize("template", ["load-balanced-fargate-svc", "scheduled-fargate-svc"])
def test_only_backend_and_worker_run_daemons(tmp_path: Path, template: str) -> None:
    (line,) = problems(tmp_path, template, {"capacity": "ec2", "requires_gpu": 1, "scheduling": "daemon"})
    assert line.startswith(PREFIX + "scheduling: unknown input")


def test_a_worker_daemon_validates_on_ec2(tmp_path: Path) -> None:
    assert problems(tmp_path, "worker-fargate-svc", {"capacity": "ec2", "capacity_provider": "general",
                                                     "cpu_architecture": "ARM64", "scheduling": "daemon"}) == []


def test_a_scheduled_task_on_ec2_cannot_run_through_step_functions(tmp_path: Path) -> None:
    (line,) = problems(tmp_path, "scheduled-fargate-svc", {"capacity": "ec2", "requires_gpu": 1, "retries": 2})
    assert line == (PREFIX + "capacity: is ec2, and timeout_seconds or retries run the task through Step Functions, "
                    "whose ECS RunTask takes a launch type, not the capacity provider the task must land on "
                    '(got "ec2", expected capacity fargate, or neither timeout_seconds nor retries)')


@pytest.mark.parametrize("template", ["load-balanced-fargate-svc", "worker-fargate-svc", "scheduled-fargate-svc"])
def test_1_1_has_no_ec2_inputs(tmp_path: Path, template: str) -> None:
    (line,) = problems(tmp_path, template, {"capacity": "ec2"}, version="1.1")
    assert line.startswith(PREFIX + "capacity: unknown input")


@pytest.mark.parametrize("template", ["load-balanced-fargate-svc", "worker-fargate-svc", "scheduled-fargate-svc"])
def test_graviton_fargate_validates(tmp_path: Path, template: str) -> None:
    model_problems = problems(tmp_path, template, {"cpu_architecture": "ARM64"})
    assert model_problems == []


# --- Proton ServiceSpecs in the shape of AWS's EC2 service samples ---------------------------------
@pytest.mark.parametrize(("template", "spec_file", "capacity", "pipeline_accounts"), [
    ("load-balanced-fargate-svc:1.2", "storefront.yaml", "ec2", ""),
    ("backend-fargate-svc:1.2", "orders.yaml", "fargate", "111122223333"),
])
def test_a_sample_shaped_ec2_spec_validates_on_a_proton_ec2_environment(tmp_path: Path, template: str,
                                                                        spec_file: str, capacity: str,
                                                                        pipeline_accounts: str) -> None:
    """The environment from a Proton ecs-ec2-env spec (one provider, named ec2, of m6i instances); the service
    spec with the sample's input names, on the environment renamed gpu as the spec files say."""
    (tmp_path / "env.yaml").write_text(PROTON_EC2_ENV.read_text())
    spec = yaml.safe_load((SAMPLE_SHAPED / spec_file).read_text())
    spec["instances"][0]["spec"].pop("capacity_provider", None)  # the Proton environment's one provider
    spec["instances"][0]["spec"].pop("cpu_architecture", None)  # m6i: X86_64, the default
    (tmp_path / "svc.yaml").write_text(yaml.safe_dump(spec))
    (tmp_path / "platform.yaml").write_text(yaml.safe_dump({"name": "t", "environments": [
        {"name": "gpu", "template": "ecs-env:1.3", "region": "eu-west-1",
         "availability_zones": ["eu-west-1a", "eu-west-1b"], "spec_file": "env.yaml"}],
        "services": [{"name": "svc", "template": template, "spec_file": "svc.yaml"}]}))
    model = load_platform(tmp_path / "platform.yaml")
    assert model.environments[0].offers.ec2_capacity == (("ec2", False, "X86_64"),)
    (instance,) = model.instances
    assert instance.inputs.capacity == capacity  # type: ignore[attr-defined]
    assert model.services[0].pipeline.environment_account_ids == pipeline_accounts  # type: ignore[union-attr]


def test_the_samples_pipeline_input_is_checked_as_proton_checks_it(tmp_path: Path) -> None:
    spec = yaml.safe_load((SAMPLE_SHAPED / "orders.yaml").read_text())
    spec["pipeline"]["environment_account_ids"] = "1111"
    spec["instances"][0]["environment"] = "edge"
    (tmp_path / "svc.yaml").write_text(yaml.safe_dump(spec))
    (tmp_path / "platform.yaml").write_text(yaml.safe_dump({"name": "t", "environments": [ENV],
        "services": [{"name": "svc", "template": "backend-fargate-svc:1.2", "spec_file": "svc.yaml"}]}))
    with pytest.raises(SpecError) as info:
        load_platform(tmp_path / "platform.yaml")
    (line,) = [p.render() for p in info.value.problems]
    assert line.startswith("svc.yaml:pipeline.environment_account_ids: ") and "\"1111\"" in line
