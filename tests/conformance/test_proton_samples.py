"""AWS's Proton samples against Keel's templates: the inputs keep Proton's contract, and the sample specs
validate unchanged. Our own Proton-format specs test the same in `make test` (tests/spec)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from keel.contract.registry import TemplateRef
from keel.contract.schema import resolve
from keel.spec import SpecError, load_platform
from keel.spec.registry import default_registry

CONTAINER_TEMPLATES = ["load-balanced-fargate-svc", "backend-fargate-svc", "scheduled-fargate-svc"]
VPC = """
environments:
  - name: dev
    template: {template}
    region: eu-west-1
    availability_zones: [eu-west-1a, eu-west-1b]
    spec_file: proton-spec.yaml
"""


def beside(tmp_path: Path, sample: Path, platform: str) -> Path:
    """The sample spec next to a platform file in tmp (a copy made at run time, never committed), so the
    spec_file stays inside the platform's folder."""
    shutil.copy(sample, tmp_path / "proton-spec.yaml")
    path = tmp_path / "platform.yaml"
    path.write_text(platform)
    return path


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("name", CONTAINER_TEMPLATES)
def test_proton_inputs_keep_name_type_default_and_constraints(proton_samples: Path, name: str) -> None:
    proton = yaml.safe_load((proton_samples / "service-templates" / name / "v1" / "schema" / "schema.yaml")
                            .read_text())
    types = proton["schema"]["types"]
    keel = default_registry().resolve(TemplateRef(name, 1))
    for kind, root in (("service", proton["schema"]["service_input_type"]),
                       ("pipeline", proton["schema"]["pipeline_input_type"])):
        schema = keel.schemas[kind]
        ours = schema.properties()
        for prop, theirs in types[root]["properties"].items():
            mine = resolve(ours[prop], schema.json_schema)
            for keyword in ("type", "default", "enum", "minimum", "maximum", "minLength", "maxLength", "pattern"):
                assert mine.get(keyword) == theirs.get(keyword), (name, kind, prop, keyword)


@pytest.mark.parametrize("name", CONTAINER_TEMPLATES)
def test_proton_sample_service_spec_validates_unchanged(proton_samples: Path, tmp_path: Path, name: str) -> None:
    platform = beside(tmp_path, proton_samples / "service-templates" / name / "spec" / "spec.yaml", f"""
environments:
  - name: fargate-env-prod
    template: ecs-env:1
    region: eu-west-1
    availability_zones: [eu-west-1a, eu-west-1b]
    spec: {{load_balancer: {{enabled: true}}}}
services:
  - name: {name}
    template: {name}:1
    spec_file: proton-spec.yaml
""")
    service = load_platform(platform).services[0]
    assert service.pipeline.dockerfile == "Dockerfile"
    assert service.pipeline.unit_test_command == "echo 'add your unit test command here'"
    assert service.pipeline.service_dir in ("ecs-static-website", "ecs-backend", "ecs-ping-sns")
    (instance,) = service.instances
    assert instance.environment == "fargate-env-prod"
    assert instance.inputs.task_size == "x-small" and instance.inputs.image == "public.ecr.aws/nginx/nginx:1.21"


def test_proton_vpc_env_spec_is_accepted_unchanged(proton_samples: Path, tmp_path: Path) -> None:
    platform = beside(tmp_path, proton_samples / "environment-templates" / "vpc-env" / "spec" / "spec.yaml",
                      VPC.format(template="vpc-env:1"))
    plan = load_platform(platform).environments[0].inputs.subnet_plan(2)
    assert plan.public == ("10.0.0.0/18", "10.0.64.0/18")
    assert plan.private == ("10.0.128.0/18", "10.0.192.0/18")


@pytest.mark.parametrize("template", ["vpc-env:1", "ecs-env:1"])
def test_proton_fargate_env_spec_validates_unchanged(proton_samples: Path, tmp_path: Path, template: str) -> None:
    platform = beside(tmp_path, proton_samples / "environment-templates" / "fargate-env" / "spec" / "spec.yaml",
                      VPC.format(template=template))
    inputs = load_platform(platform).environments[0].inputs
    assert inputs.private_subnet_two_cidr == "10.0.192.0/18"
    assert inputs.public_subnet_one_cidr == "10.0.0.0/18"


def test_proton_spec_with_inputs_the_template_lacks_names_them(proton_samples: Path, tmp_path: Path) -> None:
    platform = beside(tmp_path, proton_samples / "lambda-multi-svc" / "specs" / "env-spec.yaml",
                      VPC.format(template="vpc-env:1"))
    with pytest.raises(SpecError) as info:
        load_platform(platform)
    lines = [p.render() for p in info.value.problems]
    assert len(lines) == 1 and lines[0].startswith("proton-spec.yaml:spec.ttl_attribute: unknown input")


def test_every_sample_spec_is_yaml_with_a_proton_kind(proton_samples: Path) -> None:
    specs = sorted(proton_samples.rglob("spec*.yaml"))
    assert len(specs) >= 8
    for spec in specs:
        assert yaml.safe_load(spec.read_text())["proton"] in ("EnvironmentSpec", "ServiceSpec"), spec


@pytest.mark.parametrize(("sample", "template"), [("apigw-lambda-svc", "lambda-api-svc:1.2"),
                                                  ("worker-lambda-svc", "event-worker-svc:1.1")])
def test_proton_lambda_specs_pipeline_commands_are_accepted(proton_samples: Path, tmp_path: Path, sample: str,
                                                            template: str) -> None:
    """Issue 15: `pipeline.packaging_command` / `unit_test_command` were refused on the Lambda templates. The
    code_dir the sample names is made here (our own stub handler): Keel checks it exists."""
    spec = yaml.safe_load((proton_samples / "service-templates" / sample / "spec" / "spec.yaml").read_text())
    code = tmp_path / spec["pipeline"]["code_dir"]
    code.mkdir()
    (code / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    env = spec["instances"][0]["environment"]
    platform = beside(tmp_path, proton_samples / "service-templates" / sample / "spec" / "spec.yaml", f"""
environments:
  - {{name: {env}, template: "vpc-env:1", region: eu-west-1, availability_zones: [eu-west-1a, eu-west-1b]}}
services:
  - name: {sample}
    template: "{template}"
    spec_file: proton-spec.yaml
""")
    if template.startswith("event-worker-svc"):
        # What remains is what Keel's worker needs and Proton's had no input for: where its events come from.
        with pytest.raises(SpecError) as info:
            load_platform(platform)
        assert [p.path for p in info.value.problems] == ["instances[0].spec.event_sources"]
        return
    pipeline = load_platform(platform).services[0].pipeline
    assert (pipeline.unit_test_command, pipeline.packaging_command) == (
        spec["pipeline"]["unit_test_command"], spec["pipeline"]["packaging_command"])
