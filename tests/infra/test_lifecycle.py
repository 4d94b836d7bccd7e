"""Template lifecycle with CDK: vpc-env 1.1 beside 1.0 (same resources unless its new input is set), and
`keel bundle` (Proton layout, reproducible archive, a schema that validates the same specs)."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from keel.cdk_context import ROOT
from keel.contract.registry import TemplateRef
from keel.contract.schema import load_proton_schema
from keel.lifecycle.bundle import Bundle, bundle
from keel.spec.registry import default_registry
from keel.spec.yamlio import parse_yaml, read_yaml
from tests.infra.conftest import Synthesized, synthesize


@pytest.fixture(scope="module")
def side_by_side(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    yield synthesize(ROOT / "tests/infra/platforms/lifecycle.yaml", tmp_path_factory.mktemp("lifecycle.out"))


def flow_logs(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::EC2::FlowLog"]


def test_vpc_env_1_1_without_its_new_input_builds_what_1_0_builds(side_by_side: Synthesized) -> None:
    old = json.dumps(side_by_side.json("keel-envaaa")).replace("envaaa", "envbbb").replace("vpc-env@1.0", "vpc-env@1.1")
    assert json.loads(old) == side_by_side.json("keel-envbbb")


def test_flow_log_aggregation_is_unset_unless_given(side_by_side: Synthesized) -> None:
    assert [f.get("MaxAggregationInterval") for f in flow_logs(side_by_side.json("keel-envbbb"))] == [None]
    assert [f.get("MaxAggregationInterval") for f in flow_logs(side_by_side.json("keel-envccc"))] == [60]


SPEC = "proton: EnvironmentSpec\nspec:\n  vpc_cidr: 10.50.0.0/16\n  isolated_subnets: true\n"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    tmp = tmp_path_factory.mktemp("bundle")
    (tmp / "spec.yaml").write_text(SPEC)
    return bundle("vpc-env:1.1", tmp / "out", default_registry(), spec_file=tmp / "spec.yaml")


def files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and "assets" not in p.parts)


def test_bundle_has_the_proton_environment_layout(made: Bundle) -> None:
    assert made.folder.name == "vpc-env-1.1"
    assert files(made.folder) == ["infrastructure/cloudformation.yaml", "infrastructure/manifest.yaml",
                                  "keel-bundle.yaml", "schema/schema.yaml"]
    assert read_yaml(made.folder / "infrastructure/manifest.yaml") == {"infrastructure": {"templates": [
        {"file": "cloudformation.yaml", "rendering_engine": "jinja", "template_language": "cloudformation"}]}}


def test_bundle_schema_is_the_released_schema(made: Bundle) -> None:
    version = default_registry().resolve(TemplateRef.parse("vpc-env:1.1"))
    assert (made.folder / "schema/schema.yaml").read_bytes() == version.schema_file.read_bytes()


@pytest.mark.parametrize("spec", [
    {}, {"vpc_cidr": "10.1.0.0/16"}, {"vpc_cidr": "10.1.0.0/12"}, {"vpc_cidr": "999.0.0.0/16"},
    {"nat_gateways": 4}, {"flow_log_max_aggregation_seconds": 60}, {"flow_log_max_aggregation_seconds": 30},
    {"interface_endpoints": ["ssm", "ssm"]}, {"typo": 1},
])
def test_bundle_schema_validates_the_same_specs(made: Bundle, spec: dict[str, Any]) -> None:
    bundled = load_proton_schema(read_yaml(made.folder / "schema/schema.yaml"), source="bundle")["environment"]
    registry = default_registry().resolve(TemplateRef.parse("vpc-env:1.1")).input_schema
    assert bundled.validate(bundled.with_defaults(spec)) == registry.validate(registry.with_defaults(spec))


def test_bundle_cloudformation_is_the_synthesized_stack(made: Bundle) -> None:
    template = parse_yaml((made.folder / "infrastructure/cloudformation.yaml").read_text(), display="cfn")
    types = [r["Type"] for r in template["Resources"].values()]
    assert len(types) == made.resources
    assert types.count("AWS::EC2::VPC") == 1
    assert made.stack == "keel-bundle"


def test_bundle_publishes_every_declared_output(made: Bundle) -> None:
    template = parse_yaml((made.folder / "infrastructure/cloudformation.yaml").read_text(), display="cfn")
    names = {r["Properties"]["Name"] for r in template["Resources"].values() if r["Type"] == "AWS::SSM::Parameter"}
    outputs = default_registry().resolve(TemplateRef.parse("vpc-env:1.1")).outputs
    assert names == {f"/keel/bundle/{key}" for key in outputs}


def test_bundle_records_the_inputs_it_was_built_from(made: Bundle) -> None:
    meta = read_yaml(made.folder / "keel-bundle.yaml")
    assert (meta["template"], meta["version"], meta["kind"]) == ("vpc-env", "1.1", "environment")
    assert meta["inputs"] == {"spec": {"vpc_cidr": "10.50.0.0/16", "isolated_subnets": True}}


def test_bundle_archive_holds_the_folder_reproducibly(made: Bundle) -> None:
    with tarfile.open(made.archive) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names)
    expected = sorted(str(p.relative_to(made.folder.parent)) for p in [made.folder, *made.folder.rglob("*")])
    assert names == expected
    assert {(m.mtime, m.uid, m.gid) for m in members} == {(0, 0, 0)}

