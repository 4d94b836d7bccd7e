"""platform.yaml `delivery:`: defaults, and every mistake reported at its path."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.spec import SpecError, load_platform
from keel.spec.model import PlatformModel
from tests.infra.templates import registry

PLATFORMS = Path(__file__).resolve().parents[1] / "infra" / "platforms"
CONNECTION = "arn:aws:codestar-connections:eu-west-1:333333333333:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
_ENVS = """
environments:
  - {name: dev, template: 'vpc-env:1'}
  - {name: staging, template: 'vpc-env:1'}
  - {name: prod, template: 'vpc-env:1', production: true}
services:
  - name: checkout
    template: 'echo-svc:1'
    instances: [{name: a, environment: prod}, {name: b, environment: dev}]
"""


def _load(tmp_path: Path, delivery: str) -> PlatformModel:
    file = tmp_path / "platform.yaml"
    file.write_text(_ENVS + delivery)
    return load_platform(file, registry=registry())


def _problems(tmp_path: Path, delivery: str) -> list[str]:
    with pytest.raises(SpecError) as exc:
        _load(tmp_path, delivery)
    return [f"{p.path}: {p.message}" for p in exc.value.problems]


def test_a_platform_without_delivery_has_none(tmp_path: Path) -> None:
    file = tmp_path / "platform.yaml"
    file.write_text(_ENVS)
    assert load_platform(file, registry=registry()).delivery is None


def test_pipeline_defaults_to_every_environment_in_order_with_approval_before_production(tmp_path: Path) -> None:
    model = _load(tmp_path, f"delivery:\n  source: {{connection_arn: '{CONNECTION}', repository: acme/p}}\n"
                            "  pipeline: {}\n")
    assert model.delivery is not None and model.delivery.pipeline is not None
    assert model.delivery.pipeline.stages == ("dev", "staging", "prod")
    assert model.delivery.pipeline.approvals == ("prod",)
    assert model.delivery.source is not None and model.delivery.source.branch == "main"


def test_pipelines_live_in_the_connections_account_and_region_by_default(tmp_path: Path) -> None:
    model = _load(tmp_path, f"delivery:\n  source: {{connection_arn: '{CONNECTION}', repository: acme/p}}\n"
                            "  pipeline: {}\n")
    assert model.delivery is not None
    assert (model.delivery.account, model.delivery.region) == ("333333333333", "eu-west-1")


def test_service_pipeline_deploys_the_services_environments_in_spec_order(tmp_path: Path) -> None:
    model = _load(tmp_path, f"delivery:\n  source: {{connection_arn: '{CONNECTION}', repository: acme/p}}\n"
                            "  service_pipelines: [{service: checkout, repository: acme/checkout}]\n")
    assert model.delivery is not None
    (pipeline,) = model.delivery.service_pipelines
    assert pipeline.stages == ("dev", "prod")
    assert pipeline.approvals == ("prod",)
    assert pipeline.source.connection_arn == CONNECTION


def test_allow_destructive_alone_needs_no_source(tmp_path: Path) -> None:
    model = _load(tmp_path, "delivery:\n  allow_destructive: ['keel-dev/Vpc*']\n")
    assert model.delivery is not None and model.delivery.allow_destructive == ("keel-dev/Vpc*",)


def test_a_pipeline_without_source_is_an_error(tmp_path: Path) -> None:
    assert _problems(tmp_path, "delivery:\n  pipeline: {}\n") == [
        "delivery.source: is required when a pipeline is defined"]


def test_an_unknown_stage_is_an_error_at_its_index(tmp_path: Path) -> None:
    problems = _problems(tmp_path, f"delivery:\n  source: {{connection_arn: '{CONNECTION}', repository: acme/p}}\n"
                                   "  pipeline: {stages: [dev, stagin]}\n")
    assert problems == ['delivery.pipeline.stages[1]: unknown environment "stagin"']


def test_an_approval_outside_the_stages_is_an_error(tmp_path: Path) -> None:
    problems = _problems(tmp_path, f"delivery:\n  source: {{connection_arn: '{CONNECTION}', repository: acme/p}}\n"
                                   "  pipeline: {stages: [dev], approvals: [prod]}\n")
    assert problems == ['delivery.pipeline.approvals[0]: "prod" is not deployed by this pipeline']


def test_a_service_pipeline_for_an_unknown_service_is_an_error(tmp_path: Path) -> None:
    problems = _problems(tmp_path, f"delivery:\n  source: {{connection_arn: '{CONNECTION}', repository: acme/p}}\n"
                                   "  service_pipelines: [{service: cart, repository: acme/cart}]\n")
    assert problems == ['delivery.service_pipelines[0].service: unknown service "cart"']


def test_a_malformed_connection_arn_is_an_error(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "delivery:\n  source: {connection_arn: 'arn:aws:s3:::x', repository: acme/p}\n")
    assert len(problems) == 1 and problems[0].startswith("delivery.source.connection_arn:")


def test_account_without_region_is_an_error(tmp_path: Path) -> None:
    assert _problems(tmp_path, "delivery:\n  account: '123456789012'\n") == [
        "delivery.region: is required when account is set"]


def test_the_delivery_test_platform_validates() -> None:
    model = load_platform(PLATFORMS / "delivery.yaml", registry=registry())
    assert model.delivery is not None and model.delivery.pipeline is not None


def test_a_service_pipeline_for_a_template_without_container_inputs_is_an_error(tmp_path: Path) -> None:
    file = tmp_path / "platform.yaml"
    file.write_text(_ENVS + "  - {name: plain, template: 'plain-svc:1', instances: [{name: a, environment: dev}]}\n"
                    f"delivery:\n  source: {{connection_arn: '{CONNECTION}', repository: acme/p}}\n"
                    "  service_pipelines: [{service: plain, repository: acme/plain}]\n")
    with pytest.raises(SpecError) as exc:
        load_platform(file, registry=registry())
    assert exc.value.problems[0].render().endswith(
        'platform.yaml:delivery.service_pipelines[0].service: service "plain" (plain-svc@1.0) has no container '
        'pipeline inputs (got "plain", expected a service template whose pipeline inputs include dockerfile '
        'and unit_test_command)')


def test_a_service_pipeline_for_a_template_without_an_image_input_is_an_error(tmp_path: Path) -> None:
    file = tmp_path / "platform.yaml"
    file.write_text(_ENVS + "  - {name: batch, template: 'buildonly-svc:1', instances: [{name: a, environment: dev}]}\n"
                    f"delivery:\n  source: {{connection_arn: '{CONNECTION}', repository: acme/p}}\n"
                    "  service_pipelines: [{service: batch, repository: acme/batch}]\n")
    with pytest.raises(SpecError) as exc:
        load_platform(file, registry=registry())
    assert exc.value.problems[0].render().endswith(
        'platform.yaml:delivery.service_pipelines[0].service: buildonly-svc@1.0 takes no image input, so the '
        'image this pipeline builds could never run (got "batch", expected a container service template '
        '(with an image input))')


def test_a_service_pipeline_cannot_feed_instances_with_their_own_repository(tmp_path: Path) -> None:
    file = tmp_path / "platform.yaml"
    file.write_text(f"""
environments:
  - {{name: dev, template: 'ecs-env:1', region: eu-west-1, availability_zones: [eu-west-1a, eu-west-1b]}}
services:
  - name: ledger
    template: backend-fargate-svc:1
    instances: [{{name: ledger-dev, environment: dev, spec: {{ecr_repository: {{enabled: true}}}}}}]
delivery:
  source: {{connection_arn: '{CONNECTION}', repository: acme/p}}
  service_pipelines: [{{service: ledger, repository: acme/ledger}}]
""")
    with pytest.raises(SpecError) as exc:
        load_platform(file, registry=registry())
    assert exc.value.problems[0].render().endswith(
        'platform.yaml:delivery.service_pipelines[0].service: instance "ledger-dev" runs from its own ECR '
        "repository (ecr_repository.enabled), but the pipeline pushes to the pipeline's repository "
        '(got "ledger", expected ecr_repository.enabled: false on every instance of a service with a pipeline)')
