"""`keel import-copilot`: a Copilot workspace becomes a platform that validates; every other field is reported."""

from __future__ import annotations

import contextlib
import io
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from keel.cli import main
from keel.lifecycle.copilot_import import deep_merge, import_copilot
from keel.spec import load_platform
from keel.spec.yamlio import read_yaml

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "copilot"
SHOP = FIXTURES / "shop"
CLEAN = FIXTURES / "clean"
CONNECTION = "arn:aws:codestar-connections:eu-west-1:111122223333:connection/abcd-1234"

SHOP_REPORT = [
    "copilot/environments/prod/manifest.yml:cdn: a CloudFront distribution in front of the load balancer is not an "
    "input of ecs-env (got true)",
    "copilot/api/manifest.yml:environments.prod.deployment.rollback_alarms: Keel's alarm rollback uses the "
    "template's own alarms (5xx and unhealthy targets; the dead-letter queue for a worker), not these thresholds or "
    "names: alarm_rollback is on (got {\"cpu_utilization\": 80})",
    "copilot/api/manifest.yml:http.healthcheck.interval: the health check interval is not an input (got \"10s\")",
    "copilot/orders/manifest.yml:cpu: Keel's task sizes are fixed pairs: 256 CPU / 1024 MiB runs as task_size small "
    "(512 CPU / 1024 MiB) (got 256)",
    "copilot/orders/manifest.yml:memory: Keel's task sizes are fixed pairs: 256 CPU / 1024 MiB runs as task_size "
    "small (512 CPU / 1024 MiB) (got 1024)",
    "copilot/orders/manifest.yml:image.healthcheck: container health checks are not an input of Keel's container "
    "templates (got {\"command\": [\"CMD-SHELL\", \"curl -f http://localhost:9000/ || exit 1\"]})",
    "copilot/pipelines/release/manifest.yml:source: Keel's delivery.source needs a CodeStar connection ARN: run "
    "again with --connection-arn (the connection named 'acme-github'); the delivery section is written commented "
    "out (got {\"properties\": {\"branch\": \"main\", \"connection_name\": \"acme-github\", \"reposito...)",
    "copilot/pipelines/release/manifest.yml:stages[0].test_commands: Keel's deploy pipeline has no "
    "post-deployment test step; a service pipeline runs its unit_test_command before the build (got "
    "[\"make integration-test\"])",
    "copilot/api/addons/addons.parameters.yml:Parameters.ServiceDiscoveryEndpoint: a value from Copilot's own stack "
    "(!Ref, !GetAtt...): Keel passes plain values only (App, Env and Name are Keel's) (got {\"Fn::GetAtt\": "
    "[\"Service\", \"Endpoint\"]})",
    "copilot/api/overrides/cfn.patches.yml:[0]: a CloudFormation patch of Copilot's template (add "
    "/Resources/TaskDefinition/Properties/ContainerDefinitions/0/Ulimits): Keel's templates are CDK; an instance's "
    "overrides (issue 17) set a property of a Keel resource by its construct path: rewrite the patch as one if it "
    "still applies (got {\"op\": \"add\", \"path\": \"/Resources/TaskDefinition/Properties/ContainerDefiniti...)",
]


@dataclass(frozen=True)
class Imported:
    code: int
    err: list[str]
    out: str
    platform: Path
    report: Path

    @property
    def doc(self) -> Any:
        return read_yaml(self.platform)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Imported:
    """The shop workspace imported once (each import validates the platform it writes), the platform file at the
    workspace root, where its add-on's template is inside the project."""
    folder = tmp_path_factory.mktemp("shop")
    workspace = folder / "shop"
    shutil.copytree(SHOP, workspace)
    platform, report = workspace / "platform.yaml", folder / "report.md"
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(["import-copilot", str(workspace), "--out", str(platform), "--report", str(report)])
    return Imported(code, err.getvalue().splitlines(), out.getvalue(), platform, report)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    code = main(["import-copilot", *args])
    captured = capsys.readouterr()
    return code, captured.err.splitlines(), captured.out


def _instance(doc: dict, service: str, environment: str) -> dict:
    entry = next(s for s in doc["services"] if s["name"] == service)
    return next(i for i in entry["instances"] if i["environment"] == environment).get("spec", {})


def test_shop_workspace_reports_exactly_the_fields_keel_lacks(shop: Imported) -> None:
    assert shop.code == 1
    assert [line for line in shop.err if not line.startswith("note: ")] == SHOP_REPORT
    assert "it passes `keel validate`" in shop.out


def test_the_written_platform_validates_as_written(shop: Imported) -> None:
    out = shop.platform
    model = load_platform(out)
    assert [e.name for e in model.environments] == ["prod", "test"]
    assert sorted(s.name for s in model.services) == ["api", "fulfil", "nightly-report", "orders"]
    assert all(len(s.instances) == 2 for s in model.services)  # one instance per environment
    assert main(["validate", "--quiet", str(out)]) == 0


def test_environment_overrides_merge_over_the_manifest(shop: Imported) -> None:
    doc = shop.doc
    prod, test = _instance(doc, "api", "prod"), _instance(doc, "api", "test")
    assert test["scaling"] == {"min_tasks": 2, "max_tasks": 2} and test["desired_count"] == 2
    assert prod["scaling"] == {"min_tasks": 3, "max_tasks": 12, "target_cpu_percent": 60}
    assert prod["target_requests_per_task"] == 500 and prod["host_header"] == "api.shop.example.com"
    assert prod["log_retention_days"] == 90 and prod["deployment"] == {"alarm_rollback": True}
    assert {"name": "LOG_LEVEL", "value": "warn"} in prod["environment_variables"]
    assert {"name": "LOG_LEVEL", "value": "info"} in test["environment_variables"]
    assert {"name": "WORKERS", "value": "4"} in prod["environment_variables"]  # the base's, kept by the merge
    assert "host_header" not in test and "log_retention_days" not in test
    for spec in (prod, test):
        assert spec["port"] == 8080 and spec["task_size"] == "small" and spec["enable_exec"] is True
        assert spec["path_pattern"] == "/api*" and spec["health_check_path"] == "/healthz"
        assert spec["health_check_grace_seconds"] == 45 and spec["discovery"] == "service-connect"


def test_each_workload_type_maps_onto_its_template(shop: Imported) -> None:
    doc = shop.doc
    templates = {s["name"]: s["template"] for s in doc["services"]}
    assert templates == {"api": "load-balanced-fargate-svc:1", "orders": "backend-fargate-svc:1",
                         "fulfil": "worker-fargate-svc:1", "nightly-report": "scheduled-fargate-svc:1"}
    orders = _instance(doc, "orders", "prod")
    assert orders["image"] == "public.ecr.aws/acme/orders:1.4.2" and orders["subnet_type"] == "private"
    assert orders["deployment"] == {"min_healthy_percent": 0, "max_healthy_percent": 100}  # rolling: recreate
    assert orders["scaling"] == {"min_tasks": 1, "max_tasks": 4} and orders["discovery"] == "cloud-map"
    fulfil = _instance(doc, "fulfil", "test")
    assert fulfil["scaling"] == {"min_tasks": 0, "max_tasks": 8, "messages_per_task": 300}  # 10m / 2s
    assert fulfil["queue"] == {"visibility_timeout_seconds": 120, "max_receive_count": 4}
    assert next(s for s in doc["services"] if s["name"] == "fulfil")["pipeline"] == {
        "service_dir": "services", "dockerfile": "fulfil/Dockerfile"}
    assert next(s for s in doc["services"] if s["name"] == "api")["pipeline"] == {
        "service_dir": "services/api", "dockerfile": "Dockerfile"}
    assert _instance(doc, "nightly-report", "test")["schedule_expression"] == "rate(2 hours)"
    assert _instance(doc, "nightly-report", "prod")["schedule_expression"] == "cron(30 9 ? * MON-FRI *)"
    assert _instance(doc, "nightly-report", "prod")["task_size"] == "medium"


def test_environment_manifests_map_onto_ecs_env(shop: Imported) -> None:
    envs = {e["name"]: e for e in shop.doc["environments"]}
    test = envs["test"]
    assert test["template"] == "ecs-env:1" and test["region"] == "eu-west-1"
    assert test["availability_zones"] == ["eu-west-1a", "eu-west-1b"]
    assert test["spec"]["vpc_cidr"] == "10.40.0.0/16" and test["spec"]["private_subnet_two_cidr"] == "10.40.32.0/20"
    assert test["spec"]["container_insights"] == "enabled"
    assert test["spec"]["load_balancer"] == {"enabled": True}  # api needs the shared load balancer
    assert envs["prod"]["spec"]["existing_vpc"] == {
        "vpc_id": "vpc-0abc1234", "vpc_cidr": "10.60.0.0/16",
        "public_subnet_ids": ["subnet-0aaa1111", "subnet-0bbb2222"],
        "private_subnet_ids": ["subnet-0ccc3333", "subnet-0ddd4444"],
        "private_subnet_cidrs": ["10.60.16.0/20", "10.60.32.0/20"], "flow_log": True}
    assert envs["prod"]["spec"]["flow_log_retention_days"] == 30
    assert envs["prod"]["spec"]["load_balancer"] == {
        "enabled": True, "internet_facing": True, "protocol": "HTTPS",
        "certificate_arn": "arn:aws:acm:eu-west-1:111122223333:certificate/1b2c3d4e-aaaa-bbbb-cccc-1234567890ab"}


def test_an_environment_without_subnets_takes_the_region_of_its_load_balancer_certificate(shop: Imported) -> None:
    prod = next(e for e in shop.doc["environments"] if e["name"] == "prod")
    assert prod["region"] == "eu-west-1" and prod["availability_zones"] == ["eu-west-1a", "eu-west-1b"]
    assert any(line.startswith("note: environment prod: region eu-west-1 (the region of its load balancer's ACM "
                               "certificate") for line in shop.err)


def test_pipeline_becomes_delivery_with_a_connection(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "platform.yaml"
    code, err, _ = _run(capsys, str(SHOP), "--out", str(out), "--connection-arn", CONNECTION)
    assert code == 1
    assert not any(":source:" in line for line in err)
    delivery = read_yaml(out)["delivery"]
    assert delivery == {
        "source": {"repository": "acme/shop", "branch": "main", "connection_arn": CONNECTION},
        "pipeline": {"stages": ["test", "prod"], "approvals": ["prod"]},
        "service_pipelines": [{"service": "api", "repository": "acme/shop", "branch": "main"},
                              {"service": "fulfil", "repository": "acme/shop", "branch": "main"}]}
    assert load_platform(out).delivery is not None


def test_without_a_connection_the_delivery_section_is_a_comment(shop: Imported) -> None:
    out = shop.platform
    text = out.read_text()
    assert "delivery" not in read_yaml(out)
    assert "# delivery:\n#   source:\n#     connection_arn: arn:aws:codestar-connections:REGION:ACCOUNT:connection/ID" \
        in text


def test_a_workspace_with_only_mappable_fields_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Copilot kept regions outside its manifests; the shared load balancer needs one, so --region gives it."""
    out, report = tmp_path / "platform.yaml", tmp_path / "report.md"
    code, err, _ = _run(capsys, str(CLEAN), "--out", str(out), "--report", str(report), "--region", "eu-west-1")
    assert code == 0
    assert [line for line in err if not line.startswith("note: ")] == []
    assert read_yaml(out)["environments"][0]["region"] == "eu-west-1"
    assert _instance(read_yaml(out), "web", "dev") == {
        "image": "public.ecr.aws/nginx/nginx:1.27", "port": 80, "task_size": "x-small",
        "environment_variables": [{"name": "MODE", "value": "demo"}], "enable_exec": False, "subnet_type": "private",
        "path_pattern": "/*", "health_check_path": "/health", "discovery": "cloud-map", "desired_count": 2,
        "scaling": {"min_tasks": 2, "max_tasks": 2}}
    assert "Every manifest field was mapped." in report.read_text()
    load_platform(out)


def test_the_markdown_report_lists_each_field_value_and_reason(shop: Imported) -> None:
    text = shop.report.read_text()
    assert "| `copilot/api/manifest.yml:http.healthcheck.interval` | `\"10s\"` | the health check interval is not " \
        "an input |" in text
    assert "| Load Balanced Web Service | 23 | 2 |" in text and "| Scheduled Job | 9 | 0 |" in text
    assert "| Environment | 24 | 1 |" in text
    assert f"{len(SHOP_REPORT)} field(s) have no Keel equivalent" in text


def test_environment_option_adds_environments_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "platform.yaml"
    assert _run(capsys, str(CLEAN), "--out", str(out), "--environment", "dev", "--environment", "qa",
                "--region", "eu-west-1")[0] == 0
    doc = read_yaml(out)
    assert [e["name"] for e in doc["environments"]] == ["dev", "qa"]
    assert [i["environment"] for i in doc["services"][0]["instances"]] == ["dev", "qa"]
    assert _instance(doc, "web", "qa")["desired_count"] == 1  # no override for qa: the manifest's count
    load_platform(out)


def test_override_names_become_environments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workspace = tmp_path / "ws"
    shutil.copytree(CLEAN, workspace)
    shutil.rmtree(workspace / "copilot" / "environments")
    result = import_copilot(workspace)
    assert [e["name"] for e in result.platform["environments"]] == ["dev"]


def test_request_driven_web_services_are_reported_as_mapped_onto_fargate(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / "copilot" / "rdws").mkdir(parents=True)
    (workspace / "copilot" / "rdws" / "manifest.yml").write_text(
        "name: front\ntype: Request-Driven Web Service\nimage:\n  location: public.ecr.aws/a/b:1\n  port: 8080\n"
        "cpu: 1024\nmemory: 2048\n")
    result = import_copilot(workspace, region="eu-west-1")
    assert [f.render() for f in result.findings] == [
        "copilot/rdws/manifest.yml:type: App Runner is closed to new customers: mapped onto "
        "load-balanced-fargate-svc (a Fargate service behind the environment's shared load balancer) "
        "(got \"Request-Driven Web Service\")"]
    assert [(s["name"], s["template"]) for s in result.platform["services"]] == [
        ("front", "load-balanced-fargate-svc:1")]


SITE = """name: site
type: Static Site
http:
  alias: www.shop.example.com
files:
  - source: web/dist
    destination: /
    exclude: "*.map"
  - source: ./web/img
    recursive: true
    destination: /img
environments:
  prod:
    http:
      certificate: arn:aws:acm:us-east-1:111122223333:certificate/1b2c3d4e-aaaa-bbbb-cccc-1234567890ab
"""


def _site_workspace(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    (workspace / "copilot" / "site").mkdir(parents=True)
    (workspace / "copilot" / "site" / "manifest.yml").write_text(SITE)
    for folder in ("web/dist", "web/img"):
        (workspace / folder).mkdir(parents=True)
        (workspace / folder / "index.html").write_text("<html></html>\n")
    return workspace


def test_a_static_site_maps_onto_static_site_svc_with_its_folders(tmp_path: Path) -> None:
    workspace = _site_workspace(tmp_path)
    result = import_copilot(workspace, environments=["prod"], out=workspace / "platform.yaml")
    assert result.platform["services"][0]["template"] == "static-site-svc:1"
    prod = result.platform["services"][0]["instances"][0]["spec"]
    certificate = "arn:aws:acm:us-east-1:111122223333:certificate/1b2c3d4e-aaaa-bbbb-cccc-1234567890ab"
    assert prod == {"alias": "www.shop.example.com", "certificate_arn": certificate,
                    "files": [{"source": "web/dist", "destination": "/", "exclude": ["*.map"]},
                              {"source": "web/img", "destination": "/img"}]}
    assert result.findings == [] and result.stats["Static Site"].reported == 0
    (workspace / "platform.yaml").write_text(result.text)
    load_platform(workspace / "platform.yaml")


def test_static_site_folders_are_written_relative_to_the_platform_file(tmp_path: Path) -> None:
    workspace = _site_workspace(tmp_path)
    (workspace / "infra").mkdir()
    (workspace / ".git").mkdir()  # the repository the folders and the platform file share
    result = import_copilot(workspace, environments=["prod"], out=workspace / "infra" / "platform.yaml")
    files = result.platform["services"][0]["instances"][0]["spec"]["files"]
    assert [f["source"] for f in files] == ["../web/dist", "../web/img"]


def test_an_alias_without_a_certificate_is_reported_and_left_out(tmp_path: Path) -> None:
    workspace = _site_workspace(tmp_path)
    result = import_copilot(workspace, environments=["test"], out=workspace / "platform.yaml")
    assert [(f.path, f.reason.split(" (")[0]) for f in result.findings] == [
        ("http.alias", "static-site-svc serves an alias only with its certificate")]
    assert "alias" not in result.platform["services"][0]["instances"][0]["spec"]


def test_a_static_site_folder_that_is_not_there_is_reported(tmp_path: Path) -> None:
    workspace = _site_workspace(tmp_path)
    shutil.rmtree(workspace / "web" / "img")
    result = import_copilot(workspace, environments=["prod"], out=workspace / "platform.yaml")
    assert [(f.path, f.reason.split(":")[0]) for f in result.findings] == [("files", "Keel refused it as files")]


def test_job_timeout_retries_and_external_secrets_map_onto_1_1_inputs(shop: Imported) -> None:
    report = _instance(shop.doc, "nightly-report", "prod")
    assert report["timeout_seconds"] == 1800 and report["retries"] == 2
    assert _instance(shop.doc, "api", "prod")["external_secrets"] == [
        {"name": "DB_PASSWORD", "reference": "/copilot/shop/test/secrets/db_password"},
        {"name": "API_KEY", "reference": "shop/api-key", "source": "secret", "json_key": "key"}]


def test_worker_topics_name_the_publishing_service_in_keel(shop: Imported) -> None:
    assert _instance(shop.doc, "fulfil", "test")["topics"] == [{"service": "api", "name": "ordered"}]


def test_secrets_manager_versions_and_cloudformation_exports_are_reported(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path, "web", "name: web\ntype: Backend Service\nimage:\n  location: a/b:1\n"
                           "secrets:\n  A: {secretsmanager: 'db:password:AWSPREVIOUS:'}\n  B: {from_cfn: out-x}\n"
                           "  C: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf:password::'\n")
    result = import_copilot(workspace)
    assert [f.path for f in result.findings] == ["secrets.A.secretsmanager", "secrets.B"]
    assert result.platform["services"][0]["instances"][0]["spec"]["external_secrets"] == [
        {"name": "C", "reference": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf",
         "source": "secret", "json_key": "password"}]


def test_a_cpu_memory_pair_fargate_cannot_run_is_reported(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / "copilot" / "big").mkdir(parents=True)
    (workspace / "copilot" / "big" / "manifest.yml").write_text(
        "name: big\ntype: Backend Service\ncpu: 256\nmemory: 4096\nimage:\n  location: a/b:1\n")
    result = import_copilot(workspace)
    assert [f.render() for f in result.findings] == [
        "copilot/big/manifest.yml:cpu: cpu 256 with memory 4096 MiB is not a task size Fargate runs (got 256)",
        "copilot/big/manifest.yml:memory: cpu 256 with memory 4096 MiB is not a task size Fargate runs (got 4096)"]
    assert "task_size" not in result.platform["services"][0]["instances"][0]["spec"]


def test_unknown_fields_are_reported_never_dropped(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / "copilot" / "web").mkdir(parents=True)
    (workspace / "copilot" / "web" / "manifest.yml").write_text(
        "name: web\ntype: Backend Service\nimage:\n  location: a/b:1\nfancy:\n  knob: 3\n")
    result = import_copilot(workspace)
    assert [f.render() for f in result.findings] == [
        "copilot/web/manifest.yml:fancy.knob: not a field the importer knows: no Keel equivalent was found (got 3)"]


def test_a_value_keel_refuses_is_taken_out_and_reported(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / "copilot" / "environments" / "dev").mkdir(parents=True)
    (workspace / "copilot" / "environments" / "dev" / "manifest.yml").write_text(
        "name: dev\ntype: Environment\nnetwork:\n  vpc:\n    cidr: 10.0.0.0/16\n    subnets:\n      public:\n"
        "        - cidr: 192.168.0.0/24\n")
    result = import_copilot(workspace)
    assert len(result.findings) == 1
    finding = result.findings[0]
    assert (finding.file, finding.path, finding.value) == (
        "copilot/environments/dev/manifest.yml", "network.vpc.subnets.public[0].cidr", "192.168.0.0/24")
    assert finding.reason.startswith("Keel refused it as public_subnet_one_cidr: ")
    assert "public_subnet_one_cidr" not in result.platform["environments"][0].get("spec", {})


def test_copilot_merge_semantics() -> None:
    base = {"count": {"range": "1-3", "cpu_percentage": 70}, "http": {"path": "/"}, "variables": {"A": "1"},
            "tags": ["a", "b"], "exec": True}
    override = {"count": {"range": "2-6"}, "http": False, "variables": {"B": "2"}, "tags": ["c"], "exec": None}
    assert deep_merge(base, override) == {"count": {"range": "2-6", "cpu_percentage": 70}, "http": False,
                                          "variables": {"A": "1", "B": "2"}, "tags": ["c"], "exec": True}


def test_no_copilot_folder_exits_2_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "platform.yaml"
    code, err, _ = _run(capsys, str(tmp_path), "--out", str(out), "--report", str(tmp_path / "r.md"))
    assert code == 2
    assert err == [f"keel import-copilot: {tmp_path}: no copilot/ folder (a Copilot workspace root has one)",
                   "Nothing was written."]
    assert not out.exists() and not (tmp_path / "r.md").exists()


def test_unreadable_yaml_exits_2_with_its_location(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workspace = tmp_path / "ws"
    shutil.copytree(CLEAN, workspace)
    (workspace / "copilot" / "web" / "manifest.yml").write_text("name: web\ntype: [unclosed\n")
    out = tmp_path / "platform.yaml"
    code, err, _ = _run(capsys, str(workspace), "--out", str(out))
    assert code == 2
    assert err[0].startswith("keel import-copilot: copilot/web/manifest.yml: line ")
    assert "invalid YAML" in err[0] and "Traceback" not in "\n".join(err)
    assert err[-1] == "Nothing was written." and not out.exists()


def test_a_manifest_that_is_not_a_mapping_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workspace = tmp_path / "ws"
    (workspace / "copilot" / "web").mkdir(parents=True)
    (workspace / "copilot" / "web" / "manifest.yml").write_text("- just\n- a list\n")
    code, err, _ = _run(capsys, str(workspace), "--out", str(tmp_path / "p.yaml"))
    assert code == 2
    assert err[0] == "keel import-copilot: copilot/web/manifest.yml: a manifest is a mapping (got [\"just\", " \
        "\"a list\"])"
    assert not (tmp_path / "p.yaml").exists()


def _workspace(tmp_path: Path, name: str, text: str) -> Path:
    workspace = tmp_path / "ws"
    (workspace / "copilot" / name).mkdir(parents=True)
    (workspace / "copilot" / ".workspace").write_text("application: shop\n")
    (workspace / "copilot" / name / "manifest.yml").write_text(text)
    return workspace


def test_copilot_predefined_variables_are_filled_per_environment(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path, "web", "name: web\ntype: Backend Service\nimage:\n  location: a/b:1\n"
                           "variables:\n  STAGE: ${COPILOT_APPLICATION_NAME}-${COPILOT_ENVIRONMENT_NAME}\n"
                           "  TOKEN: ${SHELL_TOKEN}\n")
    result = import_copilot(workspace, environments=["qa", "prod"])
    specs = {i["environment"]: i["spec"] for i in result.platform["services"][0]["instances"]}
    assert specs["qa"]["environment_variables"] == [{"name": "STAGE", "value": "shop-qa"}]
    assert specs["prod"]["environment_variables"] == [{"name": "STAGE", "value": "shop-prod"}]
    assert [f.render() for f in result.findings] == [
        "copilot/web/manifest.yml:variables.TOKEN: Copilot filled ${...} from the shell at deploy time: write the "
        "value itself (got \"${SHELL_TOKEN}\")"]


def test_a_network_load_balancer_on_the_container_port_maps(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path, "tcp", "name: tcp\ntype: Load Balanced Web Service\nimage:\n  location: a/b:1\n"
                           "  port: 5432\nhttp: false\nnlb:\n  port: 5432/tcp\nenvironments:\n  prod:\n    nlb:\n"
                           "      port: 443/tls\n")
    result = import_copilot(workspace, environments=["dev"])
    specs = {i["environment"]: i["spec"] for i in result.platform["services"][0]["instances"]}
    assert specs["dev"]["loadbalancer_type"] == "network" and specs["dev"]["port"] == 5432
    assert specs["prod"]["loadbalancer_type"] == "network"
    assert [f.render() for f in result.findings] == [
        "copilot/tcp/manifest.yml:environments.prod.nlb.port: Keel's Network Load Balancer has one TCP listener on the "
        "container port (5432): 443/tls is not carried over (got \"443/tls\")"]
    assert "load_balancer" not in result.platform["environments"][0].get("spec", {})


def test_an_unwritable_report_leaves_no_platform_behind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "platform.yaml"
    code, err, _ = _run(capsys, str(CLEAN), "--out", str(out), "--report", str(tmp_path / "missing" / "r.md"))
    assert code == 2 and err[-1] == "Nothing was written."
    assert list(tmp_path.iterdir()) == []


def test_a_second_service_on_the_same_path_is_left_out_and_reported(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    for name in ("alpha", "beta"):
        (workspace / "copilot" / name).mkdir(parents=True)
        (workspace / "copilot" / name / "manifest.yml").write_text(
            f"name: {name}\ntype: Load Balanced Web Service\nhttp:\n  path: /\nimage:\n  location: a/b:1\n"
            "  port: 80\n")
    result = import_copilot(workspace, region="eu-west-1")
    assert [(f.file, f.path) for f in result.findings] == [("copilot/beta/manifest.yml", "")]
    assert result.findings[0].reason.startswith("the instance in environment dev was left out: Keel refused its "
                                                "path_pattern (path_pattern and no host_header equal those of "
                                                "service \"alpha\"")
    assert [len(s["instances"]) for s in result.platform["services"]] == [1, 0]
    out = tmp_path / "platform.yaml"
    out.write_text(result.text)
    load_platform(out)


def _components(doc: dict, service: str, environment: str) -> list[dict]:
    entry = next(s for s in doc["services"] if s["name"] == service)
    return next(i for i in entry["instances"] if i["environment"] == environment).get("components", [])


def test_published_topics_and_add_ons_become_the_instances_components(shop: Imported) -> None:
    for env in ("prod", "test"):
        assert _components(shop.doc, "api", env) == [
            {"kind": "sns-topic", "name": "ordered"},
            {"kind": "cloudformation", "name": "db", "template_file": "copilot/api/addons/db.yml",
             "parameters": {"TableClass": "STANDARD_INFREQUENT_ACCESS"}}]
    model = load_platform(shop.platform)
    api = model.service("api").instances[0]
    assert [(c.kind, c.name) for c in api.components] == [("sns-topic", "ordered"), ("cloudformation", "db")]
    assert api.components[1].add_on is not None and api.components[1].add_on.variable_outputs == ("TableName",)


def test_an_add_on_outside_the_platform_files_project_is_reported(tmp_path: Path) -> None:
    result = import_copilot(SHOP, out=tmp_path / "platform.yaml")
    found = [f for f in result.findings if f.file == "copilot/api/addons/db.yml"]
    assert len(found) == 1 and found[0].reason.startswith(
        "Keel refused it as the cloudformation component db: cannot use the template: it leads outside the project")
    assert all(c["kind"] == "sns-topic" for c in _components(result.platform, "api", "prod"))
    (tmp_path / "platform.yaml").write_text(result.text)
    load_platform(tmp_path / "platform.yaml")


def test_an_add_on_without_copilots_parameters_is_reported(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path, "web", "name: web\ntype: Backend Service\nimage:\n  location: a/b:1\n")
    (workspace / "copilot" / "web" / "addons").mkdir()
    (workspace / "copilot" / "web" / "addons" / "bucket.yml").write_text(
        "Parameters:\n  App: {Type: String}\nResources:\n  Bucket: {Type: 'AWS::S3::Bucket'}\n")
    (workspace / "copilot" / "web" / "addons" / "notes.txt").write_text("not a template\n")
    result = import_copilot(workspace, out=workspace / "platform.yaml")
    assert [(f.file, f.reason.split(" (got")[0]) for f in result.findings] == [
        ("copilot/web/addons/notes.txt", "not a CloudFormation template (.yml, .yaml or .json)"),
        ("copilot/web/addons/bucket.yml", "Keel refused it as the cloudformation component bucket: does not declare "
         "the add-on parameters Env, Name")]
    assert "components" not in result.platform["services"][0]["instances"][0]


def test_a_subscription_to_a_topic_no_service_publishes_is_reported(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path, "api", "name: api\ntype: Backend Service\nimage:\n  location: a/b:1\n"
                           "publish:\n  topics:\n    - name: Orders_Placed\n    - name: refunds\n      fifo: true\n")
    (workspace / "copilot" / "worker").mkdir()
    (workspace / "copilot" / "worker" / "manifest.yml").write_text(
        "name: worker\ntype: Worker Service\nimage:\n  location: a/b:1\nsubscribe:\n  topics:\n"
        "    - {name: Orders_Placed, service: api}\n    - {name: shipped, service: api}\n")
    result = import_copilot(workspace, out=workspace / "platform.yaml")
    assert _components(result.platform, "api", "dev") == [{"kind": "sns-topic", "name": "orders-placed"},
                                                          {"kind": "sns-topic", "name": "refunds"}]
    assert [(f.file, f.path, f.reason.split(":")[0]) for f in result.findings] == [
        ("copilot/api/manifest.yml", "publish.topics[1].fifo", "Keel's sns-topic components are standard topics "
         "(no FIFO)"),
        ("copilot/worker/manifest.yml", "subscribe.topics", "Keel refused it as topics")]
    assert "names sns-topic \"shipped\" of service \"api\"" in result.findings[1].reason
    (workspace / "platform.yaml").write_text(result.text)
    load_platform(workspace / "platform.yaml")


IMPORTED_VPC = """name: prod
type: Environment
network:
  vpc:
    id: vpc-0abc1234
    subnets:
      private:
        - id: subnet-0ccc3333
        - id: subnet-0ddd4444
"""


def _env_workspace(tmp_path: Path, text: str) -> Path:
    workspace = tmp_path / "ws"
    (workspace / "copilot" / "environments" / "prod").mkdir(parents=True)
    (workspace / "copilot" / "environments" / "prod" / "manifest.yml").write_text(text)
    return workspace


def test_an_imported_vpc_without_its_cidr_is_reported_and_gets_a_vpc_of_its_own(tmp_path: Path) -> None:
    result = import_copilot(_env_workspace(tmp_path, IMPORTED_VPC), region="eu-west-1")
    assert [(f.path, f.reason) for f in result.findings] == [
        ("network.vpc.id", "ecs-env's existing_vpc needs the VPC's CIDR block (vpc_cidr), which the manifest does "
         "not give (Copilot looked it up; Keel's synth never does): add network.vpc.cidr to the manifest and import "
         "again, or write existing_vpc by hand: the environment gets a VPC of its own"),
        ("network.vpc.subnets.private[0].id", "describes the imported VPC (network.vpc.id), which was not mapped"),
        ("network.vpc.subnets.private[1].id", "describes the imported VPC (network.vpc.id), which was not mapped")]
    assert "existing_vpc" not in result.platform["environments"][0].get("spec", {})


def test_an_imported_vpc_with_its_cidr_maps_onto_existing_vpc(tmp_path: Path) -> None:
    text = IMPORTED_VPC.replace("    subnets:", "    cidr: 10.60.0.0/16\n    subnets:")
    result = import_copilot(_env_workspace(tmp_path, text), region="eu-west-1")
    assert result.findings == []
    env = result.platform["environments"][0]
    assert env["spec"]["existing_vpc"] == {"vpc_id": "vpc-0abc1234", "vpc_cidr": "10.60.0.0/16",
                                           "private_subnet_ids": ["subnet-0ccc3333", "subnet-0ddd4444"]}
    assert env["availability_zones"] == ["eu-west-1a", "eu-west-1b"]


def test_imported_ids_keel_cannot_take_are_reported(tmp_path: Path) -> None:
    text = IMPORTED_VPC.replace("vpc-0abc1234", "mock-vpc-id").replace("subnet-0ccc3333", "mock-subnet-id-3")
    text = text.replace("    subnets:", "    cidr: 10.60.0.0/16\n    subnets:")
    result = import_copilot(_env_workspace(tmp_path, text), region="eu-west-1")
    assert [(f.path, f.reason.split(":")[0]) for f in result.findings] == [
        ("network.vpc.id", "is not a VPC ID (vpc- and 8 or 17 hex digits) that ecs-env's existing_vpc takes"),
        ("network.vpc.subnets.private[0]", "is not a subnet with an ID (subnet- and 8 or 17 hex digits) that "
         "existing_vpc takes"),
        ("network.vpc.cidr", "describes the imported VPC (network.vpc.id), which was not mapped"),
        ("network.vpc.subnets.private[1].id", "describes the imported VPC (network.vpc.id), which was not mapped")]
    assert "spec" not in result.platform["environments"][0]


@pytest.mark.parametrize(("kind", "mapped"), [("Backend Service", True), ("Worker Service", False)])
def test_linux_arm64_maps_onto_cpu_architecture_where_the_template_has_it(tmp_path: Path, kind: str,
                                                                          mapped: bool) -> None:
    workspace = _workspace(tmp_path, "web", f"name: web\ntype: {kind}\nimage:\n  location: a/b:1\n"
                           "platform: linux/arm64\n")
    result = import_copilot(workspace)
    spec = result.platform["services"][0]["instances"][0]["spec"]
    assert (spec.get("cpu_architecture") == "ARM64") is mapped
    assert [f.path for f in result.findings] == ([] if mapped else ["platform"])


def test_environment_add_ons_are_reported(tmp_path: Path) -> None:
    workspace = _env_workspace(tmp_path, "name: prod\ntype: Environment\n")
    (workspace / "copilot" / "environments" / "addons").mkdir()
    (workspace / "copilot" / "environments" / "addons" / "vpn.yml").write_text("Resources: {}\n")
    result = import_copilot(workspace)
    assert [(f.file, f.reason) for f in result.findings] == [
        ("copilot/environments/addons/vpn.yml", "environment add-ons: Keel's cloudformation components belong to a "
         "service instance, not to an environment")]


def test_an_imported_vpcs_subnet_zones_place_the_environment(tmp_path: Path) -> None:
    text = IMPORTED_VPC.replace("    subnets:", "    cidr: 10.60.0.0/16\n    subnets:")
    text = text.replace("subnet-0ccc3333\n", "subnet-0ccc3333\n          az: eu-central-1b\n").replace(
        "subnet-0ddd4444\n", "subnet-0ddd4444\n          az: eu-central-1c\n")
    result = import_copilot(_env_workspace(tmp_path, text))
    assert result.findings == []
    env = result.platform["environments"][0]
    assert (env["region"], env["availability_zones"]) == ("eu-central-1", ["eu-central-1b", "eu-central-1c"])
