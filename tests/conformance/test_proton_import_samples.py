"""`keel import-proton` on AWS's Proton samples (read in place, never written), onto Keel's own templates.
The same behaviours on our own Proton-format folder: tests/spec/test_lifecycle_import_proton.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.lifecycle.proton_import import ImportResult, import_proton, render_platform
from keel.spec import load_platform
from keel.spec.registry import default_registry
from tests.conformance.reference_data import reference_root
from tests.spec.lifecycle_helpers import keel

SAMPLES = reference_root() / "proton-samples"  # conftest stops the run when it is missing
#: Spec files of the seen samples that are in the written platform; the others, and why, are pinned below.
#: AWS's samples repository counts 22 specs; the copy here holds 10 spec files.
MAPPED = 10  # all of them since environment components (issue 15, shared data stores)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("imported") / "platform.yaml"


@pytest.fixture(scope="module")
def result(out: Path) -> ImportResult:
    return import_proton(SAMPLES, default_registry(), region="eu-west-1", out=out)


def targets(result: ImportResult) -> dict[str, str]:
    return {m.proton.label: m.ref if m.keel else "-" for m in result.matches}


def test_each_sample_template_maps_onto_the_keel_template_that_offers_the_same(result: ImportResult) -> None:
    assert targets(result) == {
        "vpc-env:1": "vpc-env:1.3", "fargate-env:1": "ecs-env:1.3",
        "ecs-ec2-env:1": "ecs-env:1.3",  # ec2_capacity (issue 18), the sample's own input names
        "lambda-env:1": "vpc-env:1.3",  # + its table and bucket as environment components (issue 15)
        "apigw-lambda-svc:1": "lambda-api-svc:1.4", "service-crud:1": "lambda-api-svc:1.4",
        "worker-lambda-svc:1": "event-worker-svc:1.3",
        "backend-fargate-svc:1": "backend-fargate-svc:1.3",
        "load-balanced-fargate-svc:1": "load-balanced-fargate-svc:1.3",
        "scheduled-fargate-svc:1": "scheduled-fargate-svc:1.3"}


def test_jinja_cloudformation_files_are_not_reported_as_broken_yaml(result: ImportResult) -> None:
    assert result.errors == []
    assert len(result.jinja_files) == 16


def test_the_mapped_specs_are_counted(result: ImportResult) -> None:
    written, read = result.spec_count
    assert (written, read) == (MAPPED, 10)
    assert result.mapped == [
        "environment-templates/ecs-ec2-env/spec/spec.yaml -> environment ecs-ec2-env (ecs-env:1.3)",
        "environment-templates/fargate-env/spec/spec.yaml -> environment fargate-env-prod (ecs-env:1.3)",
        "environment-templates/vpc-env/spec/spec.yaml -> environment vpc-env-prod (vpc-env:1.3)",
        "lambda-multi-svc/specs/env-spec.yaml -> environment multi-svc-beta (vpc-env:1.3)",
        "lambda-multi-svc/specs/svc-spec.yaml -> service service-crud (lambda-api-svc:1.4)",
        "service-templates/apigw-lambda-svc/spec/spec.yaml -> service apigw-lambda-svc (lambda-api-svc:1.4)",
        "service-templates/backend-fargate-svc/spec/spec.yaml -> service backend-fargate-svc (backend-fargate-svc:1.3)",
        "service-templates/load-balanced-fargate-svc/spec/spec.yaml -> service load-balanced-fargate-svc "
        "(load-balanced-fargate-svc:1.3)",
        "service-templates/scheduled-fargate-svc/spec/spec.yaml -> service scheduled-fargate-svc "
        "(scheduled-fargate-svc:1.3)",
        "service-templates/worker-lambda-svc/spec/spec.yaml -> service worker-lambda-svc (event-worker-svc:1.3)"]


def test_the_shared_table_and_bucket_are_environment_components_the_crud_service_uses(result: ImportResult) -> None:
    """issue 15, shared data stores: read from lambda-env's CloudFormation rendered with the spec's ttl_attribute."""
    assert result.unmapped == []
    (env,) = [e for e in result.platform["environments"] if e["name"] == "multi-svc-beta"]
    assert env["spec"] == {"interface_endpoints": []}  # the VPC Keel adds, at its cheapest
    assert env["components"] == [
        {"kind": "dynamodb-table", "name": "app-table", "partition_key": {"name": "hk", "type": "string"},
         "sort_key": {"name": "rk", "type": "string"},
         "global_secondary_indexes": [{"name": "reverse", "partition_key": {"name": "rk", "type": "string"},
                                       "sort_key": {"name": "hk", "type": "string"}}],
         "ttl_attribute": "ttl"},
        {"kind": "s3-bucket", "name": "app-bucket", "versioning": True}]
    (crud,) = [s for s in result.platform["services"] if s["name"] == "service-crud"]
    assert crud["instances"][0]["components"] == [{"use": "app-table", "access": "readwrite"}]  # DynamoDBCrudPolicy
    assert (crud["pipeline"]["code_dir"], crud["instances"][0]["spec"]["lambda_handler"]) == ("service-crud/src",
                                                                                              "api.handler")


def test_end_of_life_runtimes_map_onto_the_current_runtime_of_their_language(result: ImportResult) -> None:
    runtimes = {s["name"]: s["instances"][0]["spec"]["lambda_runtime"] for s in result.platform["services"]
                if "lambda_runtime" in (s["instances"][0].get("spec") or {})}
    assert runtimes == {"apigw-lambda-svc": "nodejs24.x", "worker-lambda-svc": "nodejs24.x",
                        "service-crud": "ruby3.4"}
    crud = next(o for o in result.outcomes if o.spec == "lambda-multi-svc/specs/svc-spec.yaml").notes
    assert any("lambda_runtime: ruby2.7 -> ruby3.4" in n for n in crud)


def test_the_written_platform_validates_as_written(result: ImportResult, out: Path) -> None:
    out.write_text(render_platform(result, SAMPLES))
    model = load_platform(out)
    assert [(e.name, e.template.label) for e in model.environments] == [
        ("ecs-ec2-env", "ecs-env@1.3"), ("fargate-env-prod", "ecs-env@1.3"), ("vpc-env-prod", "vpc-env@1.3"),
        ("multi-svc-beta", "vpc-env@1.3")]
    assert [(i.service, i.environment) for i in model.instances] == [
        ("service-crud", "multi-svc-beta"),
        ("apigw-lambda-svc", "vpc-env-prod"),
        ("backend-fargate-svc", "fargate-env-prod"), ("load-balanced-fargate-svc", "fargate-env-prod"),
        ("scheduled-fargate-svc", "fargate-env-prod"), ("worker-lambda-svc", "vpc-env-prod")]
    assert (out.parent / "lambda-worker" / "app.js").is_file()  # starter code where the platform goes
    assert model.service("backend-fargate-svc").pipeline.service_dir == "ecs-backend"


def test_cli_writes_the_platform_and_the_markdown_report(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "platform.yaml"
    run = keel(capsys, "import-proton", str(SAMPLES), "--out", str(target), "--region", "eu-west-1",
               "--report", str(tmp_path / "report.md"))
    assert run.code == 0  # written, every spec mapped
    assert f"Wrote {target} ({MAPPED} of 10 spec file(s); it passes `keel validate`)" in run.out
    assert "not mapped" not in run.err
    assert "unreadable" not in run.err
    assert f"{MAPPED} of 10 Proton spec file(s) are in the written platform." in (tmp_path / "report.md").read_text()


def test_without_region_the_same_specs_are_written_in_the_assumed_region(  # type: ignore[no-untyped-def]
        tmp_path: Path, capsys, monkeypatch) -> None:
    """The issue's own command line, `keel import-proton DIR --out FILE`: no environment is lost for want of
    a region the specs never record."""
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    target = tmp_path / "platform.yaml"
    run = keel(capsys, "import-proton", str(SAMPLES), "--out", str(target))
    assert f"Wrote {target} ({MAPPED} of 10 spec file(s); it passes `keel validate`)" in run.out
    assert "region assumed: environment(s)" in run.err and "placed in us-east-1" in run.err


def test_suggest_shows_the_input_mapping_of_every_sample(capsys) -> None:  # type: ignore[no-untyped-def]
    run = keel(capsys, "import-proton", str(SAMPLES), "--suggest")
    assert run.code == 0
    assert "worker-lambda-svc:1 (Lambda worker on an SQS queue) -> event-worker-svc:1.3 [partial]: " \
           "`template: event-worker-svc:1.3`" in run.out
    assert "  spec.subnet_type -> spec.vpc" in run.out
    assert "  spec.code_uri -> (none)  # Keel packages the function from the service's code_dir" in run.out
