"""Windows containers (issue 15) on the container templates' 1.3, in the spec layer: what Fargate runs with
Windows validates; what it does not (small tasks, ARM64, EC2 capacity, FireLens, Service Connect, sidecar
presets, EFS) is refused with located errors; the service pipeline's build host matches the instances' release."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from keel.spec import SpecError, load_platform

ENV = {"name": "edge", "template": "ecs-env:1.3", "region": "eu-west-1",
       "availability_zones": ["eu-west-1a", "eu-west-1b"], "spec": {"load_balancer": {"enabled": True}}}
BASE = {"load-balanced-fargate-svc": {}, "worker-fargate-svc": {},
        "scheduled-fargate-svc": {}, "backend-fargate-svc": {"discovery": "cloud-map"}}
TEMPLATES = list(BASE)
PREFIX = "platform.yaml:services[svc].instances[0].spec."
WINDOWS = {"operating_system_family": "WINDOWS_SERVER_2022_CORE", "task_size": "medium"}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def problems(tmp_path: Path, template: str, *specs: dict[str, Any], pipeline: dict[str, Any] | None = None,
             version: str = "1.3", components: list[dict[str, Any]] | None = None) -> list[str]:
    instances = [{"name": f"i{n}", "environment": "edge",
                  "spec": {"image": "mcr.microsoft.com/dotnet/framework/aspnet:4.8", **BASE[template], **spec}}
                 for n, spec in enumerate(specs)]
    if components:
        instances[0]["components"] = components
    service: dict[str, Any] = {"name": "svc", "template": f"{template}:{version}", "instances": instances}
    if pipeline is not None:
        service["pipeline"] = pipeline
    (tmp_path / "platform.yaml").write_text(yaml.safe_dump({"name": "t", "environments": [ENV],
                                                            "services": [service]}))
    try:
        load_platform(tmp_path / "platform.yaml")
    except SpecError as exc:
        return [p.render().replace("instances[i0]", "instances[0]") for p in exc.problems]
    return []


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("family", ["WINDOWS_SERVER_2019_CORE", "WINDOWS_SERVER_2019_FULL",
                                    "WINDOWS_SERVER_2022_CORE", "WINDOWS_SERVER_2022_FULL"])
def test_every_windows_family_validates_on_every_container_template(tmp_path: Path, template: str,
                                                                    family: str) -> None:
    assert problems(tmp_path, template, {**WINDOWS, "operating_system_family": family}) == []


@pytest.mark.parametrize("template", TEMPLATES)
def test_1_2_takes_no_operating_system_family(tmp_path: Path, template: str) -> None:
    found = problems(tmp_path, template, WINDOWS, version="1.2")
    assert any("operating_system_family" in line for line in found), found


@pytest.mark.parametrize("template", TEMPLATES)
def test_a_windows_task_below_one_vcpu_is_refused(tmp_path: Path, template: str) -> None:
    (line,) = problems(tmp_path, template, {**WINDOWS, "task_size": "small"})
    assert line == (PREFIX + "task_size: is below 1 vCPU, and operating_system_family is WINDOWS_SERVER_2022_CORE "
                    "(Windows tasks on Fargate take at least 1 vCPU) (got \"small\", expected one of medium, large, "
                    "x-large)")


@pytest.mark.parametrize(("extra", "path", "wanted"), [
    ({"cpu_architecture": "ARM64"}, "cpu_architecture", "X86_64"),
    ({"capacity": "ec2"}, "capacity", "fargate"),
    ({"firelens": True}, "firelens", "false: the containers log to CloudWatch through awslogs"),
])
def test_what_fargate_does_not_run_with_windows_is_refused(tmp_path: Path, extra: dict[str, Any], path: str,
                                                           wanted: str) -> None:
    found = [line for line in problems(tmp_path, "worker-fargate-svc", {**WINDOWS, **extra})
             if line.startswith(PREFIX + path + ":") and "operating_system_family" in line]
    assert len(found) == 1, found
    assert "operating_system_family is WINDOWS_SERVER_2022_CORE" in found[0]
    assert found[0].endswith(f"expected {wanted})")


def test_service_connect_is_refused_with_windows(tmp_path: Path) -> None:
    (line,) = problems(tmp_path, "backend-fargate-svc", {**WINDOWS, "discovery": "service-connect"})
    assert line.startswith(PREFIX + "discovery: is service-connect, and operating_system_family is ")
    assert line.endswith('(got "service-connect", expected cloud-map or none)')


def test_a_sidecar_preset_is_refused_with_windows(tmp_path: Path) -> None:
    (line,) = problems(tmp_path, "worker-fargate-svc",
                       {**WINDOWS, "sidecars": [{"name": "otel", "preset": "otel-collector"}]})
    assert line.startswith(PREFIX + "sidecars[0].preset: runs a Linux image (public.ecr.aws/aws-observability/")


def test_an_efs_volume_is_refused_on_a_windows_task(tmp_path: Path) -> None:
    found = problems(tmp_path, "worker-fargate-svc", WINDOWS,
                     components=[{"kind": "efs-filesystem", "name": "shared", "mount_path": "/data"}])
    assert any("efs-filesystem mounts into Linux Fargate tasks only, and operating_system_family is "
               "WINDOWS_SERVER_2022_CORE" in line for line in found), found


def test_linux_keeps_every_option(tmp_path: Path) -> None:
    assert problems(tmp_path, "worker-fargate-svc", {"task_size": "x-small", "firelens": True,
                                                     "cpu_architecture": "ARM64"}) == []


# --- the service pipeline's build host ------------------------------------------------------------------
PIPELINE = {"service_dir": "web", "dockerfile": "Dockerfile", "unit_test_command": "dotnet test"}


@pytest.mark.parametrize("template", TEMPLATES)
def test_a_build_host_of_the_instances_release_validates(tmp_path: Path, template: str) -> None:
    pipeline = {**PIPELINE, "build_operating_system_family": "WINDOWS_SERVER_2022", "build_compute_type": "large"}
    second = {**WINDOWS, "operating_system_family": "WINDOWS_SERVER_2022_FULL"}
    if template == "load-balanced-fargate-svc":  # two rules on the shared listener
        second["path_pattern"] = "/full/*"
    assert problems(tmp_path, template, WINDOWS, second, pipeline=pipeline) == []


def test_a_build_host_of_another_release_is_refused_on_the_instance(tmp_path: Path) -> None:
    (line,) = problems(tmp_path, "load-balanced-fargate-svc", WINDOWS,
                       pipeline={**PIPELINE, "build_operating_system_family": "WINDOWS_SERVER_2019"})
    assert line == (PREFIX + "operating_system_family: is WINDOWS_SERVER_2022_CORE, and the service's pipeline "
                    "builds WINDOWS_SERVER_2019 images (pipeline.build_operating_system_family) (got "
                    "\"WINDOWS_SERVER_2022_CORE\", expected a WINDOWS_SERVER_2019 family, or "
                    "pipeline.build_operating_system_family WINDOWS_SERVER_2022)")


def test_a_linux_build_host_is_refused_for_windows_tasks(tmp_path: Path) -> None:
    (line,) = problems(tmp_path, "scheduled-fargate-svc", WINDOWS,
                       pipeline={**PIPELINE, "build_operating_system_family": "LINUX"})
    assert line.startswith(PREFIX + "operating_system_family: is WINDOWS_SERVER_2022_CORE, and the service's "
                           "pipeline builds LINUX images")


def test_windows_build_hosts_take_no_small_compute(tmp_path: Path) -> None:
    (line,) = problems(tmp_path, "worker-fargate-svc", WINDOWS, pipeline={**PIPELINE, "build_compute_type": "small"})
    assert line.startswith("platform.yaml:services[svc].pipeline.build_compute_type: ")


def test_a_pipeline_cannot_build_one_image_for_instances_of_two_releases(tmp_path: Path) -> None:
    instances = [{"name": f"i{n}", "environment": "edge",
                  "spec": {"image": "mcr.microsoft.com/dotnet/framework/aspnet:4.8", **WINDOWS,
                           "operating_system_family": family}}
                 for n, family in enumerate(["WINDOWS_SERVER_2019_CORE", "WINDOWS_SERVER_2022_CORE"])]
    doc = {"name": "t", "environments": [ENV], "services": [
        {"name": "svc", "template": "worker-fargate-svc:1.3", "pipeline": PIPELINE, "instances": instances}],
        "delivery": {"source": {"connection_arn": "arn:aws:codestar-connections:eu-west-1:123456789012:connection/"
                                                  "0a1b2c3d-4e5f-6789-abcd-ef0123456789",
                                "repository": "acme/platform"},
                     "service_pipelines": [{"service": "svc", "repository": "acme/svc"}]}}
    (tmp_path / "platform.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(SpecError) as caught:
        load_platform(tmp_path / "platform.yaml")
    (line,) = [p.render() for p in caught.value.problems]
    assert line.startswith("platform.yaml:delivery.service_pipelines[0].service: service \"svc\"'s instances run "
                           "different operating systems (i0 WINDOWS_SERVER_2019, i1 WINDOWS_SERVER_2022)")
