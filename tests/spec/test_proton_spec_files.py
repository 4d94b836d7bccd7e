"""Proton spec files that Proton accepted are accepted as `spec_file:` (issue 15): Proton's names (capitals,
underscores) and the Lambda templates' pipeline commands. Our own specs; AWS's: tests/conformance."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.spec import SpecError, load_platform

PLATFORM = """
environments:
  - name: Beta
    template: vpc-env:1.2
    region: eu-west-1
    availability_zones: [eu-west-1a, eu-west-1b]
services:
  - name: orders
    template: {template}
    spec_file: orders.yaml
"""
SPEC = """proton: ServiceSpec
pipeline:
  code_dir: src
  unit_test_command: pytest -q
  packaging_command: zip -r function.zip .
instances:
  - name: Orders_Beta
    environment: Beta
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    (tmp_path / "orders.yaml").write_text(SPEC)
    return tmp_path


@pytest.mark.parametrize("template", ["lambda-api-svc:1.2", "scheduled-lambda-svc:1.1", "event-worker-svc:1.1"])
def test_a_proton_lambda_spec_with_its_pipeline_commands_is_accepted(folder: Path, template: str) -> None:
    spec = {"event-worker-svc:1.1": "    spec: {event_sources: [shop.orders]}\n"}.get(template, "")
    (folder / "orders.yaml").write_text(SPEC + spec)
    (folder / "platform.yaml").write_text(PLATFORM.format(template=template))
    model = load_platform(folder / "platform.yaml")
    service = model.services[0]
    assert (service.pipeline.unit_test_command, service.pipeline.packaging_command) == (
        "pytest -q", "zip -r function.zip .")
    (instance,) = service.instances
    assert (instance.name, instance.environment, instance.stack_name) == ("orders-beta", "beta",
                                                                          "keel-orders-orders-beta")


def test_earlier_lambda_versions_still_name_the_commands_they_do_not_take(folder: Path) -> None:
    (folder / "platform.yaml").write_text(PLATFORM.format(template="lambda-api-svc:1.1"))
    with pytest.raises(SpecError) as info:
        load_platform(folder / "platform.yaml")
    assert [p.render() for p in info.value.problems] == [
        "orders.yaml:pipeline.packaging_command: unknown input (expected one of: code_dir)",
        "orders.yaml:pipeline.unit_test_command: unknown input (expected one of: code_dir)"]


@pytest.mark.parametrize("template", ["backend-fargate-svc:1.1", "load-balanced-fargate-svc:1.1"])
def test_a_proton_container_spec_naming_its_service_discovery_name_is_accepted(tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch,
                                                                               template: str) -> None:
    monkeypatch.chdir(tmp_path)
    extra = ", loadbalancer_type: network" if template.startswith("load-balanced") else ""  # no shared ALB here
    (tmp_path / "svc.yaml").write_text("proton: ServiceSpec\ninstances:\n  - name: api-beta\n    environment: Beta\n"
                                       f"    spec: {{service_discovery_name: orders-api{extra}}}\n")
    (tmp_path / "platform.yaml").write_text(f"""
environments:
  - {{name: Beta, template: "ecs-env:1.2"}}
services:
  - {{name: orders, template: "{template}", spec_file: svc.yaml}}
""")
    (instance,) = load_platform(tmp_path / "platform.yaml").instances
    assert instance.inputs.service_discovery_name == "orders-api"  # type: ignore[attr-defined]
