"""Template lifecycle with CDK: vpc-env 1.1 beside 1.0 (same resources unless its new input is set)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from keel.cdk_context import ROOT
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
