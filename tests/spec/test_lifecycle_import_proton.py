"""`keel import-proton` on Proton-format templates and specs written for these tests
(tests/spec/fixtures/proton_import: names unlike AWS's samples, so only what the CloudFormation creates can
match them); AWS's own samples: tests/conformance/test_proton_import_samples.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.lifecycle.proton_families import FAMILIES
from keel.lifecycle.proton_import import ImportResult, _one_mapping, import_proton, render_platform
from keel.spec import load_platform
from keel.spec.registry import default_registry
from tests.spec.lifecycle_helpers import FIXTURES, keel

FOLDER = FIXTURES / "proton_import"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the platform goes, with the orders API's code_dir beside it (Keel packages code from there)."""
    folder = tmp_path_factory.mktemp("imported")
    (folder / "orders").mkdir()
    (folder / "orders" / "app.py").write_text("def handler(event, context):\n    return {}\n")
    return folder / "platform.yaml"


@pytest.fixture(scope="module")
def result(out: Path) -> ImportResult:
    return import_proton(FOLDER, default_registry(), region="eu-west-1", out=out)


def outcome(result: ImportResult, spec: str):  # type: ignore[no-untyped-def]
    return next(o for o in result.outcomes if o.spec == spec)


def test_templates_are_recognised_by_what_their_cloudformation_creates(result: ImportResult) -> None:
    assert {m.proton.label: (m.family.name if m.family else None, m.ref if m.keel else None)
            for m in result.matches} == {
        "campus-net:1": ("VPC network", "vpc-env:1.3"),
        "shop-cluster:1": ("ECS cluster for Fargate", "ecs-env:1.3"),
        "gpu-cluster:1": ("ECS cluster on EC2 instances (Auto Scaling group capacity)", "ecs-env:1.3"),
        # shared data stores (issue 15): a table in an environment is an environment component
        "ledger-env:1": ("data stores shared by the environment's services (DynamoDB tables, S3 buckets)",
                         "vpc-env:1.3"),
        "storefront:1": ("Fargate service behind a load balancer", "load-balanced-fargate-svc:1.3"),
        "orders-api:1": ("HTTP API on a Lambda function", "lambda-api-svc:1.4"),
        "nightly-report:1": ("scheduled Lambda function", "scheduled-lambda-svc:1.3")}


def test_jinja_cloudformation_is_read_as_template_infrastructure_not_broken_yaml(result: ImportResult) -> None:
    assert result.errors == []
    assert "environment-templates/campus-net/v1/infrastructure/cloudformation.yaml" in result.jinja_files
    assert len(result.jinja_files) == 7


def test_environments_are_named_after_the_instances_that_run_in_them(result: ImportResult) -> None:
    assert result.mapped == [
        "environment-templates/campus-net/spec/spec.yaml -> environment campus-hq (vpc-env:1.3)",
        "environment-templates/gpu-cluster/spec/spec.yaml -> environment gpu-cluster (ecs-env:1.3)",
        "environment-templates/shop-cluster/spec/spec.yaml -> environment Beta (ecs-env:1.3)",
        "service-templates/nightly-report/spec/spec.yaml -> service nightly-report (scheduled-lambda-svc:1.3)",
        "service-templates/orders-api/spec/spec.yaml -> service orders-api (lambda-api-svc:1.4)",
        "service-templates/storefront/spec/spec.yaml -> service storefront (load-balanced-fargate-svc:1.3)"]
    assert result.spec_count == (6, 7)


def test_inputs_are_renamed_and_translated_and_proton_defaults_kept(result: ImportResult) -> None:
    (orders,) = [s for s in result.platform["services"] if s["name"] == "orders-api"]
    assert orders["instances"][0]["spec"] == {"lambda_memory": 512, "lambda_handler": "app.handler",
                                              "lambda_runtime": "python3.12", "vpc": "private"}
    assert orders["pipeline"] == {"code_dir": "orders", "unit_test_command": "pytest -q tests",
                                  "packaging_command": "zip -r function.zip ."}
    notes = outcome(result, "service-templates/orders-api/spec/spec.yaml").notes
    assert "instances[orders-hq].spec.subnet_type -> spec.vpc" in notes
    assert any(n.startswith("instances[orders-hq].spec.lambda_runtime: python3.8 -> python3.12") for n in notes)


def test_an_environment_gets_what_its_services_need(result: ImportResult) -> None:
    (beta,) = [e for e in result.platform["environments"] if e["name"] == "Beta"]
    assert beta["spec"]["load_balancer"] == {"enabled": True}


def test_an_end_of_life_runtime_maps_onto_the_current_runtime_of_its_language(result: ImportResult) -> None:
    (report,) = [s for s in result.platform["services"] if s["name"] == "nightly-report"]
    assert report["instances"][0]["spec"]["lambda_runtime"] == "nodejs24.x"
    assert report["instances"][0]["spec"]["schedule_expression"] == "cron(0 2 * * ? *)"  # Proton's default, renamed
    notes = outcome(result, "service-templates/nightly-report/spec/spec.yaml").notes
    assert "instances[report-hq].spec.lambda_runtime: nodejs12.x -> nodejs24.x: Lambda no longer runs nodejs12.x " \
           "functions; nodejs24.x is the current runtime of the same language (test the code on it before " \
           "deploying)" in notes


def test_a_missing_code_dir_gets_a_starter_handler_that_fails_until_the_code_replaces_it(
        result: ImportResult, out: Path) -> None:
    starter = out.parent / "nightly-report" / "handler.js"
    assert result.starter_files == [starter.parent, starter]
    assert 'throw new Error("starter written by keel import-proton: copy the code of service nightly-report' in \
        starter.read_text()
    (report,) = [s for s in result.platform["services"] if s["name"] == "nightly-report"]
    assert report["pipeline"]["code_dir"] == "nightly-report"  # Proton built from the repository's root


def test_an_input_without_equivalent_is_named_with_why(result: ImportResult) -> None:
    campus = outcome(result, "environment-templates/campus-net/spec/spec.yaml").notes
    assert any(n.startswith("spec.campus_code: 'hq' (the Proton template's default): left out") for n in campus)


def test_a_data_store_keel_cannot_read_says_what_it_lacks(result: ImportResult) -> None:
    """shared data stores (issue 15); a template offering nothing Keel has: test_proton_import_shared_data.py"""
    assert outcome(result, "environment-templates/ledger-env/spec/spec.yaml").reasons == [
        "components[ledger] (resource Ledger): the table has no KeySchema with a HASH key"]


def test_an_ec2_capacity_cluster_maps_onto_ecs_env_1_3_with_its_inputs_unchanged(result: ImportResult) -> None:
    """ecs-env 1.3 accepts the Proton sample's EC2 inputs by their own names (issue 18)."""
    assert outcome(result, "environment-templates/gpu-cluster/spec/spec.yaml").reasons == []
    (gpu,) = [e for e in result.platform["environments"] if e["name"] == "gpu-cluster"]
    assert (gpu["template"], gpu["spec"]) == ("ecs-env:1.3", {"InstanceType": "g5.2xlarge", "DesiredCapacity": 3})


def test_ec2_capacity_inputs_map_by_name_onto_ec2_capacity_once_it_exists() -> None:
    family = next(f for f in FAMILIES if f.minor_for.startswith("EC2 capacity"))
    ours = {"ec2_capacity.desired_capacity", "ec2_capacity.max_size", "ec2_capacity.instance_types",
            "ec2_capacity.ami_parameter"}
    rules = {r.proton: r for r in family.rules}
    assert {name: _one_mapping("spec", name, rules[name], ours, "ecs-env@1.3").keel for name in rules} == {
        "DesiredCapacity": "ec2_capacity.desired_capacity", "MaxSize": "ec2_capacity.max_size",
        "InstanceType": "ec2_capacity.instance_types", "ECSAMI": "ec2_capacity.ami_parameter",
        "subnet_type": None}


def test_the_written_platform_validates_with_protons_names(result: ImportResult, out: Path) -> None:
    out.write_text(render_platform(result, FOLDER))
    model = load_platform(out)
    assert [(e.name, e.stack_name) for e in model.environments] == [("campus-hq", "keel-campus-hq"),
                                                                     ("gpu-cluster", "keel-gpu-cluster"),
                                                                     ("beta", "keel-beta")]
    assert [(i.service, i.name, i.environment, i.stack_name) for i in model.instances] == [
        ("nightly-report", "report-hq", "campus-hq", "keel-nightly-report-report-hq"),
        ("orders-api", "orders-hq", "campus-hq", "keel-orders-api-orders-hq"),
        ("storefront", "store-beta", "beta", "keel-storefront-store-beta")]
    assert model.service("orders-api").pipeline.packaging_command == "zip -r function.zip ."


def test_cli_writes_the_platform_and_the_report_and_lists_the_rest_on_stderr(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "app.py").write_text("def handler(event, context):\n    return {}\n")
    target = tmp_path / "platform.yaml"
    run = keel(capsys, "import-proton", str(FOLDER), "--out", str(target), "--region", "eu-west-1")
    assert run.code == 1  # written, and some specs reported
    assert run.out.rstrip().endswith(f"Wrote {target} (6 of 7 spec file(s); it passes `keel validate`) and "
                                     f"{tmp_path / 'platform-import-report.md'}; starter code for 1 file(s) in "
                                     "missing code_dirs (the report says which).")
    assert "not mapped: environment-templates/ledger-env/spec/spec.yaml" in run.err
    report = (tmp_path / "platform-import-report.md").read_text()
    assert "6 of 7 Proton spec file(s) are in the written platform." in report
    assert "| service-templates/nightly-report/spec/spec.yaml | service nightly-report | scheduled-lambda-svc:1.3 " \
           "| mapped |" in report
    assert keel(capsys, "validate", str(target), "--quiet").code == 0


def test_nothing_is_written_when_a_relative_path_does_not_resolve_where_the_platform_goes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A code_dir outside the output's folder gets no starter: that service is reported, the rest written."""
    target = tmp_path / "out" / "platform.yaml"
    target.parent.mkdir()
    (tmp_path / "orders").mkdir()  # ../orders from the output: outside its folder
    folder = tmp_path / "templates"
    import shutil
    shutil.copytree(FOLDER, folder)
    spec = folder / "service-templates" / "orders-api" / "spec" / "spec.yaml"
    spec.write_text(spec.read_text().replace("code_dir: orders", "code_dir: ../orders"))
    run = keel(capsys, "import-proton", str(folder), "--out", str(target), "--region", "eu-west-1")
    assert run.code == 1
    assert "service-templates/orders-api/spec/spec.yaml (service orders-api, lambda-api-svc:1.4): " \
           "services[orders-api].pipeline.code_dir: " in run.err
    assert "orders-api" not in target.read_text()
    assert not (tmp_path / "orders" / "app.py").exists()


def test_starter_code_is_removed_when_nothing_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--out in a folder, but the whole platform is refused: no starter folder is left behind."""
    target = tmp_path / "platform.yaml"
    target.write_text("")
    (tmp_path / "platform-import-report.md").mkdir()  # the report cannot be written
    run = keel(capsys, "import-proton", str(FOLDER), "--out", str(target), "--region", "eu-west-1")
    assert run.code == 2 and "Nothing was written." in run.err
    assert not (tmp_path / "nightly-report").exists() and not (tmp_path / "orders").exists()


def test_without_region_an_environment_that_needs_one_is_placed_in_the_assumed_region_and_says_so(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Proton kept the region in its API, not the spec: the environment and its services are still written."""
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    target = tmp_path / "p.yaml"
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "app.py").write_text("def handler(event, context):\n    return {}\n")
    run = keel(capsys, "import-proton", str(FOLDER), "--out", str(target))
    assert "region assumed: environment(s) Beta need a region" in run.err and "placed in us-east-1" in run.err
    platform = load_platform(target)
    beta = next(e for e in platform.environments if e.name == "beta")
    assert beta.region == "us-east-1" and tuple(beta.availability_zones) == ("us-east-1a", "us-east-1b")
    # the load-balanced service that needed the region is in the platform too
    assert ("storefront", "beta") in [(i.service, i.environment) for i in platform.instances]
    assert "# Region us-east-1 assumed for Beta" in target.read_text()
    report = target.with_name("p-import-report.md").read_text()
    assert "region: us-east-1 assumed, since the template needs one" in report


def test_with_region_nothing_is_assumed(result: ImportResult) -> None:
    assert result.assumed_region == []
    assert all(e.get("region") == "eu-west-1" for e in result.platform["environments"])


def test_suggest_names_the_keel_template_and_the_input_mapping(capsys: pytest.CaptureFixture[str]) -> None:
    run = keel(capsys, "import-proton", str(FOLDER), "--suggest")
    assert run.code == 0
    lines = run.out.splitlines()
    assert "orders-api:1 (HTTP API on a Lambda function) -> lambda-api-svc:1.4 [all inputs]: " \
           "`template: lambda-api-svc:1.4`" in lines
    assert "  spec.subnet_type -> spec.vpc" in lines
    assert "ledger-env:1 (data stores shared by the environment's services (DynamoDB tables, S3 buckets)) -> " \
        "vpc-env:1.3 [partial]: `template: vpc-env:1.3`" in lines  # shared data stores (issue 15)


def test_cli_exits_2_on_a_folder_without_proton_templates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = keel(capsys, "import-proton", str(tmp_path))
    assert (run.code, run.err.strip()) == (
        2, f"keel import-proton: no Proton template (<name>/v<N>/schema/schema.yaml) under {tmp_path}")


# proton import (issue 15): the shape of Proton's *-ecs-ec2-svc samples, written for this test
_EC2_SCHEMA = """schema:
  format:
    openapi: "3.0.0"
  service_input_type: "LedgerSyncInput"
  types:
    LedgerSyncInput:
      type: object
      properties:
        port: {type: number, default: 9000}
        desired_count: {type: number, default: 2}
        image: {type: string, default: "public.ecr.aws/docker/library/busybox:1.36"}
"""
_EC2_CFN = """Resources:
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      NetworkMode: bridge
      RequiresCompatibilities: [EC2]
      ContainerDefinitions:
        - {Name: sync, Image: '{{service_instance.inputs.image}}'}
  Sync:
    Type: AWS::ECS::Service
    Properties:
      Cluster: '{{environment.outputs.Cluster}}'
      LaunchType: EC2
      DesiredCount: '{{service_instance.inputs.desired_count}}'
      TaskDefinition: !Ref Task
"""


def test_a_service_launched_on_ec2_instances_maps_with_capacity_ec2(tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "templates"
    shutil.copytree(FOLDER, folder)
    version = folder / "service-templates" / "ledger-sync" / "v1"
    (version / "schema").mkdir(parents=True)
    (version / "schema" / "schema.yaml").write_text(_EC2_SCHEMA)
    (version / "instance_infrastructure").mkdir()
    (version / "instance_infrastructure" / "cloudformation.yaml").write_text(_EC2_CFN)
    (version / ".compatible-envs").write_text("gpu-cluster:1\n")
    (version.parent / "spec").mkdir()
    (version.parent / "spec" / "spec.yaml").write_text(
        "proton: ServiceSpec\ninstances:\n  - name: sync-gpu\n    environment: gpu-cluster\n    spec: {port: 9100}\n")
    result = import_proton(folder, default_registry(), region="eu-west-1", out=tmp_path / "platform.yaml")
    (sync,) = [s for s in result.platform["services"] if s["name"] == "ledger-sync"]
    assert sync["template"] == "backend-fargate-svc:1.3"
    assert sync["instances"] == [{"name": "sync-gpu", "environment": "gpu-cluster",
                                  "spec": {"port": 9100, "desired_count": 2,
                                           "image": "public.ecr.aws/docker/library/busybox:1.36",
                                           "capacity": "ec2"}}]
    notes = outcome(result, "service-templates/ledger-sync/spec/spec.yaml").notes
    assert any(n.startswith('spec: {"capacity": "ec2"} on every instance: the Proton template launched its tasks '
                            "on the cluster's EC2 instances") for n in notes)


# proton import (issue 15): load-balanced, queue-worker and scheduled tasks on EC2 instances, in the shape of
# Proton's *-ecs-ec2-svc samples (written for these tests): the same Keel templates, 1.2, with capacity ec2
_ON_EC2_INPUTS = """schema:
  format:
    openapi: "3.0.0"
  service_input_type: "HostedTaskInput"
  pipeline_input_type: "BuildInput"
  types:
    HostedTaskInput:
      type: object
      properties:
        desired_count: {type: number, default: 3}
        task_size: {type: string, enum: [x-small, small, medium, large], default: small}
        image: {type: string, default: "public.ecr.aws/docker/library/alpine:3.20"}
{extra}
    BuildInput:
      type: object
      properties:
        service_dir: {type: string, default: "src"}
        dockerfile: {type: string, default: "Dockerfile"}
        unit_test_command: {type: string, default: "make check"}
"""
_ON_EC2_SHAPES = {
    "tills": ("""        port: {type: number, default: 8443}
        loadbalancer_type: {type: string, enum: [application, network], default: application}
        backend_record: {type: string, default: "stock.tills.ledger.local"}""", """Resources:
  Front:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties: {Scheme: internet-facing, Type: '{{service_instance.inputs.loadbalancer_type}}'}
  TillTask:
    Type: AWS::ECS::TaskDefinition
    Properties:
      NetworkMode: bridge
      RequiresCompatibilities:
        - EC2
      ContainerDefinitions:
        - {Name: till, Image: '{{service_instance.inputs.image}}'}
  Tills:
    Type: AWS::ECS::Service
    Properties: {Cluster: '{{environment.outputs.Cluster}}', LaunchType: EC2, TaskDefinition: !Ref TillTask}
"""),
    "restock": ("", """Resources:
  Orders:
    Type: AWS::SQS::Queue
  RestockTask:
    Type: AWS::ECS::TaskDefinition
    Properties: {NetworkMode: bridge, RequiresCompatibilities: [EC2]}
  Restock:
    Type: AWS::ECS::Service
    Properties: {LaunchType: "EC2", TaskDefinition: !Ref RestockTask}
"""),
    "stocktake": ("""        schedule_expression: {type: string, default: "cron(30 4 * * ? *)"}""", """Resources:
  StocktakeTask:
    Type: AWS::ECS::TaskDefinition
    Properties: {RequiresCompatibilities: ['EC2']}
  Nightly:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: '{{service_instance.inputs.schedule_expression}}'
      Targets:
        - Id: stocktake
          EcsParameters: {TaskCount: 1, TaskDefinitionArn: !Ref StocktakeTask}  # EC2 from the task alone
"""),
}


@pytest.fixture(scope="module")
def on_ec2(tmp_path_factory: pytest.TempPathFactory) -> tuple[ImportResult, Path]:
    import shutil

    root = tmp_path_factory.mktemp("on-ec2")
    folder = root / "templates"
    shutil.copytree(FOLDER, folder)
    for name, (extra, cloudformation) in _ON_EC2_SHAPES.items():
        version = folder / "service-templates" / name / "v1"
        (version / "schema").mkdir(parents=True)
        (version / "schema" / "schema.yaml").write_text(
            _ON_EC2_INPUTS.replace("{extra}\n", f"{extra}\n" if extra else ""))
        (version / "instance_infrastructure").mkdir()
        (version / "instance_infrastructure" / "cloudformation.yaml").write_text(cloudformation)
        (version / ".compatible-envs").write_text("gpu-cluster:1\n")
        (version.parent / "spec").mkdir()
        (version.parent / "spec" / "spec.yaml").write_text(
            f"proton: ServiceSpec\npipeline:\n  service_dir: {name}\ninstances:\n  - name: {name}-gpu\n"
            "    environment: gpu-cluster\n    spec: {task_size: medium}\n")
    out = root / "platform.yaml"
    return import_proton(folder, default_registry(), region="eu-west-1", out=out), folder


@pytest.mark.parametrize(("name", "family", "template", "spec"), [
    ("tills", "ECS service on EC2 instances behind a load balancer", "load-balanced-fargate-svc:1.3",
     {"port": 8443}),
    ("restock", "ECS queue worker on EC2 instances", "worker-fargate-svc:1.3", {}),
    ("stocktake", "scheduled ECS task on EC2 instances", "scheduled-fargate-svc:1.3",
     {"schedule_expression": "cron(30 4 * * ? *)"}),
])
def test_ecs_tasks_on_ec2_instances_map_onto_the_same_keel_template_1_2_with_capacity_ec2(
        on_ec2: tuple[ImportResult, Path], name: str, family: str, template: str, spec: dict[str, object]) -> None:
    result, _ = on_ec2
    (match,) = [m for m in result.matches if m.proton.label == f"{name}:1"]
    assert (match.family.name if match.family else None, match.ref if match.keel else None) == (family, template)
    assert f"service-templates/{name}/spec/spec.yaml -> service {name} ({template})" in result.mapped
    (service,) = [s for s in result.platform["services"] if s["name"] == name]
    assert service["template"] == template
    assert service["pipeline"] == {"service_dir": name, "unit_test_command": "make check"}
    assert service["instances"] == [{"name": f"{name}-gpu", "environment": "gpu-cluster", "spec": {
        "task_size": "medium", "desired_count": 3, "image": "public.ecr.aws/docker/library/alpine:3.20",
        **spec, "capacity": "ec2"}}]


def test_the_written_platform_with_ecs_on_ec2_services_passes_keel_validate(
        on_ec2: tuple[ImportResult, Path], capsys: pytest.CaptureFixture[str]) -> None:
    result, folder = on_ec2
    assert result.errors == []
    target = folder.parent / "platform.yaml"
    target.write_text(render_platform(result, folder))
    assert keel(capsys, "validate", str(target), "--quiet").code == 0
    model = load_platform(target)
    assert sorted(i.service for i in model.instances if i.environment == "gpu-cluster") == [
        "restock", "stocktake", "tills"]
    (gpu,) = [e for e in result.platform["environments"] if e["name"] == "gpu-cluster"]
    assert gpu["template"] == "ecs-env:1.3"
    assert gpu["spec"]["load_balancer"] == {"enabled": True}  # the load-balanced service's shared ALB


# proton import (issue 15): which environment template an instance runs on, per instance
def _copy_without_compatible_envs(tmp_path: Path, *, storefront_env: str) -> Path:
    import shutil

    folder = tmp_path / "templates"
    shutil.copytree(FOLDER, folder)
    for file in folder.glob("service-templates/*/v*/.compatible-envs"):
        file.unlink()
    spec = folder / "service-templates" / "storefront" / "spec" / "spec.yaml"
    spec.write_text(spec.read_text().replace("environment: Beta", f"environment: {storefront_env}"))
    return folder


def test_without_compatible_envs_the_environment_template_named_by_the_instances_environment_is_taken(
        tmp_path: Path) -> None:
    folder = _copy_without_compatible_envs(tmp_path, storefront_env="shop-cluster-beta")
    result = import_proton(folder, default_registry(), region="eu-west-1", out=tmp_path / "platform.yaml")
    envs = {e["name"]: e["template"] for e in result.platform["environments"]}
    assert envs.get("shop-cluster-beta", "").startswith("ecs-env:")
    (store,) = [s for s in result.platform["services"] if s["name"] == "storefront"]
    assert [i["environment"] for i in store["instances"]] == ["shop-cluster-beta"]
    notes = outcome(result, "service-templates/storefront/spec/spec.yaml").notes
    assert "environment shop-cluster-beta: template storefront:1 has no .compatible-envs; shop-cluster:1 taken " \
           "as its environment template" in notes


def test_without_compatible_envs_two_equally_fitting_environment_templates_are_not_guessed_between(
        tmp_path: Path) -> None:
    """campus-hq names no template, and a Lambda function runs on every Keel environment template."""
    folder = _copy_without_compatible_envs(tmp_path, storefront_env="shop-cluster-beta")
    result = import_proton(folder, default_registry(), region="eu-west-1", out=tmp_path / "platform.yaml")
    assert "campus-hq" not in {e["name"] for e in result.platform["environments"]}
    orders = outcome(result, "service-templates/orders-api/spec/spec.yaml")
    assert not orders.mapped
    assert "environment campus-hq: template orders-api:1 has no .compatible-envs; more than one environment " \
           "template fits it equally: list them in .compatible-envs" in orders.notes


def test_of_several_compatible_envs_the_one_whose_keel_template_accepts_the_service_is_taken(
        tmp_path: Path) -> None:
    """storefront (a load-balanced Fargate service) also lists campus-net (a VPC alone) first: Keel's
    load-balanced template does not run there, so Beta is the cluster environment."""
    import shutil

    folder = tmp_path / "templates"
    shutil.copytree(FOLDER, folder)
    (folder / "service-templates" / "storefront" / "v1" / ".compatible-envs").write_text(
        "campus-net:1\nshop-cluster:1\n")
    result = import_proton(folder, default_registry(), region="eu-west-1", out=tmp_path / "platform.yaml")
    envs = {e["name"]: e["template"] for e in result.platform["environments"]}
    assert envs["Beta"].startswith("ecs-env:") and envs["campus-hq"].startswith("vpc-env:")
    assert outcome(result, "service-templates/storefront/spec/spec.yaml").mapped


def test_an_environment_no_spec_describes_is_written_with_its_templates_defaults_and_said_so(
        tmp_path: Path) -> None:
    """Services name campus-hq, but its EnvironmentSpec was kept elsewhere: the services are not lost."""
    import shutil

    folder = tmp_path / "templates"
    shutil.copytree(FOLDER, folder)
    shutil.rmtree(folder / "environment-templates" / "campus-net" / "spec")
    result = import_proton(folder, default_registry(), region="eu-west-1", out=tmp_path / "platform.yaml")
    (campus,) = [e for e in result.platform["environments"] if e["name"] == "campus-hq"]
    assert campus["template"].startswith("vpc-env:")  # with campus-net's schema defaults, written out
    assert campus["spec"] == {"vpc_cidr": "10.80.0.0/16", "private_subnet_one_cidr": "10.80.0.0/20",
                              "private_subnet_two_cidr": "10.80.16.0/20"}
    assert outcome(result, "service-templates/orders-api/spec/spec.yaml").mapped
    env = outcome(result, "environment-templates/campus-net/v1")
    assert env.mapped and not env.from_spec
    assert any(n.startswith("no EnvironmentSpec under the folder describes environment campus-hq: written with "
                            "campus-net:1's defaults") for n in env.notes)
    written, read = result.spec_count
    assert written <= read and read == len(result.specs)
    assert "# from environment-templates/campus-net/v1 (no spec there: the template's defaults; check them)" \
        in render_platform(result, folder)
