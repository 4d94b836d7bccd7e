"""`keel import-proton` on AWS's Proton samples (read in place, never written). The same behaviours on our
own Proton-format folder: tests/spec/test_lifecycle_import_proton.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.lifecycle.proton_import import ImportResult, import_proton, render_fragment
from keel.spec import load_platform
from keel.spec.registry import default_registry, load_registry
from tests.conformance.reference_data import reference_root
from tests.spec.lifecycle_helpers import FIXTURES, keel

SAMPLES = reference_root() / "proton-samples"  # conftest stops the run when it is missing
PROTON_REGISTRY = FIXTURES / "proton_registry"  # Keel's vpc-env 1.1 + a Lambda worker fixture


@pytest.fixture(scope="module")
def result() -> ImportResult:
    return import_proton(SAMPLES, load_registry(PROTON_REGISTRY))


def matches(result: ImportResult) -> dict[str, tuple[str, str]]:
    return {m.proton.label: (m.keel.label if m.keel else "-", m.status) for m in result.matches}


def test_every_proton_template_version_is_found_with_its_kind(result: ImportResult) -> None:
    assert sorted((t.label, t.kind) for t in result.templates) == [
        ("apigw-lambda-svc:1", "service"), ("backend-fargate-svc:1", "service"), ("ecs-ec2-env:1", "environment"),
        ("fargate-env:1", "environment"), ("lambda-env:1", "environment"),
        ("load-balanced-fargate-svc:1", "service"), ("scheduled-fargate-svc:1", "service"),
        ("service-crud:1", "service"), ("vpc-env:1", "environment"), ("worker-lambda-svc:1", "service")]


def test_compatible_envs_files_are_read(result: ImportResult) -> None:
    by_label = {t.label: t for t in result.templates}
    assert by_label["backend-fargate-svc:1"].compatible_environments == (("fargate-env", 1),)
    assert by_label["service-crud:1"].compatible_environments == (("lambda-env", 1),)


def test_each_proton_template_is_matched_by_shared_input_names(result: ImportResult) -> None:
    assert matches(result) == {
        "vpc-env:1": ("vpc-env@1.1", "partial"), "fargate-env:1": ("vpc-env@1.1", "partial"),
        "ecs-ec2-env:1": ("vpc-env@1.1", "partial"), "lambda-env:1": ("-", "no match"),
        "worker-lambda-svc:1": ("worker-svc@1.0", "partial"), "apigw-lambda-svc:1": ("worker-svc@1.0", "partial"),
        "service-crud:1": ("worker-svc@1.0", "partial"), "backend-fargate-svc:1": ("-", "no match"),
        "load-balanced-fargate-svc:1": ("-", "no match"), "scheduled-fargate-svc:1": ("-", "no match")}


def test_differing_inputs_are_named_with_what_differs(result: ImportResult) -> None:
    vpc = next(m for m in result.matches if m.proton.label == "vpc-env:1")
    breaking = {c.render() for c in vpc.changes if c.breaking}
    assert 'spec.vpc_cidr: new format "ipv4-cidr" [breaking]' in breaking
    assert ('spec.public_subnet_one_cidr: default "10.0.0.0/18" removed: specs that omit it get different resources '
            "[breaking]") in breaking
    ecs = next(m for m in result.matches if m.proton.label == "ecs-ec2-env:1")
    assert ecs.proton_only == ("spec.DesiredCapacity", "spec.ECSAMI", "spec.InstanceType", "spec.MaxSize",
                               "spec.subnet_type")


def test_specs_that_validate_are_mapped_with_proton_environment_names(result: ImportResult) -> None:
    assert result.mapped == [
        "environment-templates/fargate-env/spec/spec.yaml -> environment fargate-env-prod (vpc-env:1)",
        "environment-templates/vpc-env/spec/spec.yaml -> environment vpc-env-prod (vpc-env:1)",
        "service-templates/apigw-lambda-svc/spec/spec.yaml -> service apigw-lambda-svc (worker-svc:1, 1 instance(s))",
        "service-templates/worker-lambda-svc/spec/spec.yaml -> service worker-lambda-svc (worker-svc:1, "
        "1 instance(s))"]


def test_specs_that_do_not_fit_say_why(result: ImportResult) -> None:
    reasons = "\n".join(result.unmapped)
    assert ("environment-templates/ecs-ec2-env/spec/spec.yaml as environment ecs-ec2-env (vpc-env@1.1): "
            "environments[ecs-ec2-env].spec.DesiredCapacity: unknown input") in reasons
    assert "service-templates/backend-fargate-svc/spec/spec.yaml: no Keel service template matches " \
           "backend-fargate-svc:1" in result.unmapped
    assert "lambda-multi-svc/specs/svc-spec.yaml: instance front-end: environment multi-svc-beta was not mapped" \
        in result.unmapped


def test_the_fragment_is_a_valid_platform(result: ImportResult, tmp_path: Path) -> None:
    fragment = tmp_path / "platform.yaml"
    fragment.write_text(render_fragment(result, SAMPLES))
    model = load_platform(fragment, registry=load_registry(PROTON_REGISTRY))
    assert [e.name for e in model.environments] == ["fargate-env-prod", "vpc-env-prod"]
    assert [(i.service, i.name, i.environment) for i in model.instances] == [
        ("apigw-lambda-svc", "apigw-lambda-svc-prod", "vpc-env-prod"),
        ("worker-lambda-svc", "worker-lambda-svc-prod", "vpc-env-prod")]
    assert model.service("worker-lambda-svc").pipeline.packaging_command == "zip function.zip app.js"


def test_the_fragment_keeps_the_proton_spec_values_and_names_its_sources(result: ImportResult) -> None:
    text = render_fragment(result, SAMPLES)
    assert "  # from environment-templates/vpc-env/spec/spec.yaml\n  - name: vpc-env-prod\n    template: vpc-env:1\n" \
        "    spec:\n      vpc_cidr: 10.0.0.0/16\n      public_subnet_one_cidr: 10.0.0.0/18\n" in text


def test_keel_registry_maps_the_vpc_env_sample(tmp_path: Path) -> None:
    result = import_proton(SAMPLES, default_registry())
    assert matches(result)["vpc-env:1"] == ("vpc-env@1.2", "partial")
    assert "environment-templates/vpc-env/spec/spec.yaml -> environment vpc-env-prod (vpc-env:1)" in result.mapped


def test_cli_writes_the_fragment_and_reports(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "fragment.yaml"
    run = keel(capsys, "import-proton", str(SAMPLES), "--registry", str(PROTON_REGISTRY), "--out", str(out))
    assert run.code == 0
    assert run.out.splitlines()[0].split() == ["proton", "template", "kind", "folder", "keel", "template", "match",
                                               "inputs", "shared"]
    assert run.out.rstrip().endswith(f"Wrote {out} (4 spec(s) mapped).")
    assert out.read_text().startswith(f"# Written by `keel import-proton {SAMPLES}`")


def test_cli_exits_2_on_a_folder_without_proton_templates(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    run = keel(capsys, "import-proton", str(tmp_path))
    assert (run.code, run.err.strip()) == (
        2, f"keel import-proton: no Proton template (<name>/v<N>/schema/schema.yaml) under {tmp_path}")
