"""`keel import-proton` of an environment whose CloudFormation creates data stores its services share (issue 15):
our own fixture (tests/spec/fixtures/proton_shared_data, shaped like AWS's lambda-multi-svc sample) maps onto
vpc-env 1.3 with environment components and a Lambda API that `use:`s them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from keel.lifecycle.proton_import import ImportResult, import_proton, render_platform
from keel.spec import load_platform
from keel.spec.registry import default_registry
from tests.spec.lifecycle_helpers import FIXTURES

FOLDER = FIXTURES / "proton_shared_data"
ENV_SPEC, SVC_SPEC = "environment-templates/pantry-env/spec/spec.yaml", "service-templates/stock-api/spec/spec.yaml"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("imported")
    (folder / "stock").mkdir()
    (folder / "stock" / "stock.py").write_text("def handler(event, context):\n    return {}\n")
    return folder / "platform.yaml"


@pytest.fixture(scope="module")
def result(out: Path) -> ImportResult:
    return import_proton(FOLDER, default_registry(), region="eu-west-1", out=out)


def notes(result: ImportResult, spec: str) -> list[str]:
    return next(o for o in result.outcomes if o.spec == spec).notes


def environment(result: ImportResult) -> dict[str, Any]:
    (env,) = result.platform["environments"]
    return env


def test_both_specs_map(result: ImportResult) -> None:
    assert result.mapped == [f"{ENV_SPEC} -> environment pantry-hq (vpc-env:1.3)",
                             f"{SVC_SPEC} -> service stock-api (lambda-api-svc:1.4)"]
    assert result.unmapped == []


def test_the_table_is_read_from_the_rendered_cloudformation(result: ImportResult) -> None:
    table, _ = environment(result)["components"]
    assert table == {
        "kind": "dynamodb-table", "name": "stock-table",
        "partition_key": {"name": "shelf", "type": "string"}, "sort_key": {"name": "slot", "type": "number"},
        "global_secondary_indexes": [{"name": "by-sku", "partition_key": {"name": "sku", "type": "string"}}],
        "ttl_attribute": "use_by",  # the spec's input, rendered into TimeToLiveSpecification
        "stream": "new-and-old-images"}


def test_the_bucket_keeps_the_versioning_the_spec_rendered(result: ImportResult) -> None:
    _, bucket = environment(result)["components"]
    assert bucket == {"kind": "s3-bucket", "name": "receipts-bucket", "versioning": False}


def test_a_vpc_is_added_at_its_cheapest_and_the_inputs_the_stores_consumed_are_no_gaps(result: ImportResult) -> None:
    assert environment(result)["spec"] == {"interface_endpoints": []}
    found = notes(result, ENV_SPEC)
    assert "spec.expiry_field, spec.keep_receipt_versions: carried into the components (read from the rendered " \
           "CloudFormation)" in found
    assert "components[stock-table] (resource StockTable): index by-sku projects all attributes in Keel (Proton's " \
           "projected some)" in found


def test_the_service_uses_the_table_with_the_access_its_policy_template_gave(result: ImportResult) -> None:
    (service,) = result.platform["services"]
    assert service["instances"][0]["components"] == [{"use": "stock-table", "access": "read"}]
    assert "instances[stock-hq]: the function reads STOCK_TABLE_TABLE_NAME where Proton's read STOCK_TABLE " \
           "(environment.outputs.StockTableName)" in notes(result, SVC_SPEC)


def test_the_written_platform_validates_as_written(result: ImportResult, out: Path) -> None:
    out.write_text(render_platform(result, FOLDER))
    model = load_platform(out)
    (instance,) = model.instances
    assert [(u.component.physical_name, u.access) for u in instance.shared_components] == [
        ("keel-pantry-hq-shared-stock-table", "read")]


def write(folder: Path, path: str, text: str) -> None:
    (folder / path).parent.mkdir(parents=True, exist_ok=True)
    (folder / path).write_text(text)


def test_a_table_property_keel_lacks_is_reported_and_nothing_of_the_environment_is_written(tmp_path: Path) -> None:
    write(tmp_path, "shelf-env/v1/schema/schema.yaml", "schema:\n  format: {openapi: 3.0.0}\n"
          "  environment_input_type: In\n  types:\n    In: {type: object, properties: {}}\n")
    write(tmp_path, "shelf-env/v1/infrastructure/manifest.yaml", "infrastructure:\n  templates:\n"
          "    - {file: cloudformation.yaml, rendering_engine: jinja, template_language: cloudformation}\n")
    write(tmp_path, "shelf-env/v1/infrastructure/cloudformation.yaml", "Resources:\n  Shelf:\n"
          "    Type: AWS::DynamoDB::Table\n    Properties:\n"
          "      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]\n"
          "      KeySchema: [{AttributeName: id, KeyType: HASH}]\n"
          "      LocalSecondaryIndexes: []\n")
    write(tmp_path, "shelf-env/spec/spec.yaml", "proton: EnvironmentSpec\nspec: {}\n")
    found = import_proton(tmp_path, default_registry(), region="eu-west-1")
    assert found.unmapped == ["shelf-env/spec/spec.yaml (environment shelf-env, vpc-env:1.3): components[shelf] "
                              "(resource Shelf).LocalSecondaryIndexes: no equivalent on Keel's dynamodb-table "
                              "component"]
    assert found.platform["environments"] == []


def test_a_template_offering_nothing_keel_has_says_what_it_creates(tmp_path: Path) -> None:
    write(tmp_path, "mesh-env/v1/schema/schema.yaml", "schema:\n  format: {openapi: 3.0.0}\n"
          "  environment_input_type: In\n  types:\n    In: {type: object, properties: {}}\n")
    write(tmp_path, "mesh-env/v1/infrastructure/cloudformation.yaml", "Resources:\n  Mesh:\n"
          "    Type: AWS::EKS::Cluster\n")
    write(tmp_path, "mesh-env/v1/infrastructure/manifest.yaml", "infrastructure: {templates: []}\n")
    write(tmp_path, "mesh-env/spec/spec.yaml", "proton: EnvironmentSpec\nspec: {}\n")
    (found,) = import_proton(tmp_path, default_registry()).outcomes
    assert found.reasons == ["no Keel environment template offers what it creates (an EKS cluster)"]
