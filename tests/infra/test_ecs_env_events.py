"""The control-plane rules, as synthesized, against ECS event samples (tests/fixtures/ecs_events).

Each sample's file name says which rule must match it (`<RuleId>--...`) or that none may (`none--...`),
so a pattern that matches nothing, or too much, fails here. Matching uses moto's EventBridge pattern
matcher, extended to flatten arrays of objects the way EventBridge (event-ruler) does: a pattern on
`containers.exitCode` looks at the exit code of every container.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.events.models import EventPattern

from tests.infra.conftest import Synthesized

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "ecs_events"
ACCOUNT, REGION, CLUSTER = "123456789012", "eu-west-1", "keel-edge"


class EventRulerPattern(EventPattern):
    @staticmethod
    def _flatten_dict(node: Any, prefix: str = "", result: dict[str, Any] | None = None) -> dict[str, Any]:
        result = {} if result is None else result
        if isinstance(node, dict):
            for key, value in node.items():
                path = f"{prefix}.{key}" if prefix else key
                if isinstance(value, dict) and value:
                    EventRulerPattern._flatten_dict(value, path, result)
                elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
                    for item in value:  # arrays of objects: every leaf joins a list under its path
                        for leaf, leaf_value in EventRulerPattern._flatten_dict(item, path).items():
                            values = result.setdefault(leaf, [])
                            values.extend(leaf_value if isinstance(leaf_value, list) else [leaf_value])
                else:
                    result[path] = value
        return result


def resolve(node: Any, template: dict[str, Any]) -> Any:
    """The few intrinsics the rule patterns use, with the values they take at deploy time."""
    if isinstance(node, dict):
        if "Ref" in node:
            ref = node["Ref"]
            pseudo = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": "aws"}
            if ref in pseudo:
                return pseudo[ref]
            assert template["Resources"][ref]["Type"] == "AWS::ECS::Cluster", ref
            return CLUSTER
        if "Fn::GetAtt" in node:
            logical, attribute = node["Fn::GetAtt"]
            assert (template["Resources"][logical]["Type"], attribute) == ("AWS::ECS::Cluster", "Arn")
            return f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"
        if "Fn::Join" in node:
            sep, parts = node["Fn::Join"]
            return sep.join(resolve(p, template) for p in parts)
        return {k: resolve(v, template) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, template) for v in node]
    return node


@pytest.fixture(scope="module")
def patterns(ecs: Synthesized) -> Iterator[dict[str, EventPattern]]:
    template = ecs.json("keel-edge")
    out = {}
    for logical, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Events::Rule":
            rule = logical.removeprefix("ControlPlaneEvents")[:-8]
            pattern = resolve(resource["Properties"]["EventPattern"], template)
            out[rule] = EventRulerPattern.load(json.dumps(pattern))
    yield out


SAMPLE_FILES = sorted(SAMPLES.glob("*.json"))


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=[p.stem for p in SAMPLE_FILES])
def test_sample_matches_exactly_the_rule_its_name_says(sample: Path, patterns: dict[str, EventPattern]) -> None:
    expected = sample.stem.split("--")[0]
    event = json.loads(sample.read_text())
    matched = sorted(rule for rule, pattern in patterns.items() if pattern.matches_event(event))
    assert matched == ([] if expected == "none" else [expected])


def test_every_rule_has_a_sample_it_matches(patterns: dict[str, EventPattern]) -> None:
    covered = {p.stem.split("--")[0] for p in SAMPLE_FILES}
    assert set(patterns) <= covered


def test_matcher_flattens_arrays_of_objects_like_eventbridge() -> None:
    pattern = EventRulerPattern.load(json.dumps({"detail": {"containers": {"exitCode": [{"anything-but": 0}]}}}))
    assert pattern.matches_event({"detail": {"containers": [{"exitCode": 0}, {"exitCode": 2}]}})
    assert not pattern.matches_event({"detail": {"containers": [{"exitCode": 0}, {"name": "x"}]}})
