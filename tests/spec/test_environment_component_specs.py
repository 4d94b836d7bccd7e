"""Environment components (issue 15, shared data stores) in the spec layer: what an environment owns for its
services, what an instance's `{use: NAME, access: ...}` names, and every mistake located (no aws_cdk)."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.cli import main
from keel.spec import SpecError, load_platform
from keel.spec.components import DynamoDbTableInputs

PLATFORM = """name: lab
environments:
  - name: dev
    template: ecs-env:1.2
    spec: {{vpc_cidr: 10.61.0.0/16}}
    components:
{shared}
services:
  - name: api
    template: backend-fargate-svc:1.0
    instances:
      - name: dev
        environment: dev
        spec: {{port: 8080, subnet_type: private}}
        components:
{uses}
"""
TABLE = "      - {kind: dynamodb-table, name: ledger, partition_key: {name: pk, type: string}, ttl_attribute: ttl}"
BUCKET = "      - {kind: s3-bucket, name: media}"


def load(tmp_path: Path, shared: str, uses: str):  # type: ignore[no-untyped-def]
    (tmp_path / ".git").mkdir(exist_ok=True)
    (tmp_path / "platform.yaml").write_text(PLATFORM.format(shared=shared, uses=uses))
    return load_platform(tmp_path / "platform.yaml")


def problems(tmp_path: Path, shared: str = TABLE, uses: str = "          - {use: ledger, access: read}") -> list[str]:
    try:
        load(tmp_path, shared, uses)
    except SpecError as exc:
        return [p.render().split("platform.yaml:", 1)[-1] for p in exc.problems]
    return []


def test_an_environment_component_is_named_under_the_shared_path_and_used_by_name(tmp_path: Path) -> None:
    model = load(tmp_path, TABLE + "\n" + BUCKET, "          - {use: ledger, access: read}\n"
                                                  "          - {use: media, access: readwrite, kind: s3-bucket}")
    ledger, media = model.environment("dev").components
    assert isinstance(ledger.inputs, DynamoDbTableInputs) and ledger.inputs.ttl_attribute == "ttl"
    assert (ledger.physical_name, ledger.service, media.kind) == ("keel-dev-shared-ledger", "shared", "s3-bucket")
    (instance,) = model.instances
    assert [(u.component.name, u.access) for u in instance.shared_components] == [("ledger", "read"),
                                                                                 ("media", "readwrite")]
    assert instance.components == ()  # it owns none


def test_a_kind_bound_to_one_workload_cannot_be_shared(tmp_path: Path) -> None:
    found = problems(tmp_path, "      - {kind: aurora-postgres, name: db}\n"
                               "      - {kind: efs-filesystem, name: files, mount_path: /data}", uses="          []")
    assert found == [
        'environments[dev].components[db].kind: cannot be shared by an environment\'s services: its security group '
        'admits one workload\'s security group, and its credentials are one service\'s (got "aurora-postgres", '
        'expected one of: dynamodb-table, s3-bucket, sqs-queue, sns-topic (or the component on the instance that '
        'uses it))',
        'environments[dev].components[files].kind: cannot be shared by an environment\'s services: it is mounted '
        'into one service\'s tasks through their security group and access point (got "efs-filesystem", expected '
        'one of: dynamodb-table, s3-bucket, sqs-queue, sns-topic (or the component on the instance that uses it))']


def test_access_is_the_users_choice_not_the_environments(tmp_path: Path) -> None:
    assert problems(tmp_path, "      - {kind: sqs-queue, name: jobs, access: read}", uses="          []") == [
        'environments[dev].components[jobs].access: is chosen by each instance that uses the component (got "read", '
        'expected no access here; {use: jobs, access: read} on an instance)']


def test_an_environment_components_inputs_are_judged_by_its_kinds_schema(tmp_path: Path) -> None:
    found = problems(tmp_path, "      - {kind: sqs-queue, name: jobs, retention_days: 30}", uses="          []")
    assert found == ["environments[dev].components[jobs].retention_days: is greater than the maximum 14 (got 30, "
                     "expected at most 14)"]


def test_an_unknown_name_lists_what_the_environment_offers(tmp_path: Path) -> None:
    assert problems(tmp_path, uses="          - {use: ledgr, access: read}") == [
        'services[api].instances[0].components[ledgr].use: environment "dev" has no component of that name '
        '(got "ledgr", expected one of: ledger)']


def test_a_use_of_the_wrong_kind_is_refused(tmp_path: Path) -> None:
    assert problems(tmp_path, uses="          - {use: ledger, access: read, kind: s3-bucket}") == [
        'services[api].instances[0].components[ledger].kind: environment "dev"\'s component ledger is a '
        'dynamodb-table (got "s3-bucket", expected dynamodb-table)']


def test_a_use_needs_its_access_and_nothing_else(tmp_path: Path) -> None:
    found = problems(tmp_path, uses="          - {use: ledger, partition_key: {name: pk, type: string}}")
    assert found == ["services[api].instances[0].components[ledger].partition_key: unknown input (expected one of: "
                     "access, kind, use)",
                     "services[api].instances[0].components[ledger].access: required input is missing (expected a "
                     "value)"]


def test_a_use_clashing_with_an_owned_component_is_refused(tmp_path: Path) -> None:
    found = problems(tmp_path, uses="          - {use: ledger, access: readwrite}\n"
                                    "          - {kind: sns-topic, name: ledger}")
    assert found == ['services[api].instances[0].components[ledger].use: is also the name of a component the '
                     'instance owns (their environment variables LEDGER_... would collide) (got "ledger", expected a '
                     'name the instance does not own)']


def test_a_proton_format_environment_takes_no_components(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    version = tmp_path / "templates" / "net" / "v1"
    (version / "schema").mkdir(parents=True)
    (version / "infrastructure").mkdir()
    (version / "schema" / "schema.yaml").write_text(
        "schema:\n  format: {openapi: 3.0.0}\n  environment_input_type: In\n"
        "  types:\n    In: {type: object, properties: {}}\n")
    (version / "infrastructure" / "manifest.yaml").write_text(
        "infrastructure:\n  templates:\n    - {file: cloudformation.yaml, rendering_engine: jinja, "
        "template_language: cloudformation}\n")
    (version / "infrastructure" / "cloudformation.yaml").write_text(
        "Resources:\n  Topic: {Type: AWS::SNS::Topic}\n")
    (tmp_path / "platform.yaml").write_text(
        "template_dirs: [templates]\nenvironments:\n  - name: dev\n    template: net:1\n"
        "    components:\n" + TABLE + "\n")
    try:
        load_platform(tmp_path / "platform.yaml")
    except SpecError as exc:
        found = [p.render().split("platform.yaml:", 1)[-1] for p in exc.problems]
    else:
        found = []
    assert len(found) == 1 and found[0].startswith("environments[dev].components: net@1.0 is a Proton-format "
                                                   "template, whose stack holds its own CloudFormation only")


def test_keel_add_component_environment_adds_a_shared_component(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".git").mkdir()
    path = tmp_path / "platform.yaml"
    text = PLATFORM.format(shared="", uses="").replace("    components:\n\n", "").replace(
        "        components:\n\n", "")
    path.write_text(text)
    assert main(["add", "component", "dynamodb-table", "ledger", "--environment", "dev", "--platform",
                 str(path)]) == 0
    assert "added dynamodb-table \"ledger\" to environment dev" in capsys.readouterr().out
    (table,) = load_platform(path).environment("dev").components
    assert (table.physical_name, table.inputs.partition_key.name) == ("keel-dev-shared-ledger", "id")  # type: ignore[attr-defined]


def test_keel_add_component_environment_refuses_a_kind_bound_to_one_workload(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".git").mkdir()
    path = tmp_path / "platform.yaml"
    path.write_text(PLATFORM.format(shared=TABLE, uses="          []"))
    before = path.read_text()
    assert main(["add", "component", "aurora-postgres", "db", "--environment", "dev", "--platform", str(path)]) == 2
    assert "an aurora-postgres cannot be shared by an environment's services" in capsys.readouterr().err
    assert path.read_text() == before
