"""Breaking and non-breaking schema changes between two versions: a table of cases."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from keel.contract.schema import InputSchema, load_proton_schema
from keel.lifecycle.compat import Change, compare_schemas, compare_versions
from keel.spec.registry import load_registry

FIXTURES = Path(__file__).parent / "fixtures"


def schema(properties: dict[str, Any], required: tuple[str, ...] = ()) -> InputSchema:
    root: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        root["required"] = list(required)
    doc = {"schema": {"format": {"openapi": "3.0.0"}, "environment_input_type": "In", "types": {"In": root}}}
    return load_proton_schema(doc, source="test")["environment"]


def changes(old: dict[str, Any], new: dict[str, Any], old_required: tuple[str, ...] = (),
            new_required: tuple[str, ...] = ()) -> list[Change]:
    return compare_schemas(schema(old, old_required), schema(new, new_required), prefix="spec")


INT = {"type": "integer"}
STR = {"type": "string"}

# (case, old properties, new properties, old required, new required, path, kind, breaking, message)
CASES = [
    ("removed input", {"a": INT, "b": INT}, {"a": INT}, (), (),
     "spec.b", "removed", True, "input removed: specs that set it are refused"),
    ("new required input without default", {"a": INT}, {"a": INT, "b": STR}, (), ("b",),
     "spec.b", "required", True, "new required input without a default: every spec must add it"),
    ("optional input becomes required", {"a": INT}, {"a": INT}, (), ("a",),
     "spec.a", "required", True, "input is now required and has no default"),
    ("required input becomes optional", {"a": INT}, {"a": INT}, ("a",), (),
     "spec.a", "required", False, "input is no longer required"),
    ("type narrowed number to integer", {"a": {"type": "number"}}, {"a": INT}, (), (),
     "spec.a", "type", True, 'type narrowed from "number" to "integer"'),
    ("type widened integer to number", {"a": INT}, {"a": {"type": "number"}}, (), (),
     "spec.a", "type", False, 'type widened from "integer" to "number"'),
    ("type changed string to integer", {"a": STR}, {"a": INT}, (), (),
     "spec.a", "type", True, 'type narrowed from "string" to "integer"'),
    ("enum value removed", {"a": {**STR, "enum": ["x", "y"]}}, {"a": {**STR, "enum": ["x"]}}, (), (),
     "spec.a", "enum", True, 'allowed values removed: "y"'),
    ("enum value added", {"a": {**STR, "enum": ["x"]}}, {"a": {**STR, "enum": ["x", "y"]}}, (), (),
     "spec.a", "enum", False, 'allowed values added: "y"'),
    ("enum introduced", {"a": STR}, {"a": {**STR, "enum": ["x"]}}, (), (),
     "spec.a", "enum", True, 'now limited to "x"'),
    ("enum dropped", {"a": {**STR, "enum": ["x"]}}, {"a": STR}, (), (),
     "spec.a", "enum", False, "no longer limited to a list of values"),
    ("minimum raised", {"a": {**INT, "minimum": 1}}, {"a": {**INT, "minimum": 2}}, (), (),
     "spec.a", "range", True, "minimum narrowed from 1 to 2"),
    ("minimum lowered", {"a": {**INT, "minimum": 2}}, {"a": {**INT, "minimum": 1}}, (), (),
     "spec.a", "range", False, "minimum widened from 2 to 1"),
    ("minimum made exclusive", {"a": {**INT, "minimum": 1}}, {"a": {**INT, "exclusiveMinimum": 1}}, (), (),
     "spec.a", "range", True, "minimum narrowed from 1 to 1 (exclusive)"),
    ("maximum lowered", {"a": {**INT, "maximum": 9}}, {"a": {**INT, "maximum": 8}}, (), (),
     "spec.a", "range", True, "maximum narrowed from 9 to 8"),
    ("maximum raised", {"a": {**INT, "maximum": 8}}, {"a": {**INT, "maximum": 9}}, (), (),
     "spec.a", "range", False, "maximum widened from 8 to 9"),
    ("maximum added", {"a": INT}, {"a": {**INT, "maximum": 9}}, (), (),
     "spec.a", "range", True, "new maximum 9"),
    ("maximum removed", {"a": {**INT, "maximum": 9}}, {"a": INT}, (), (),
     "spec.a", "range", False, "maximum 9 removed"),
    ("maxLength lowered", {"a": {**STR, "maxLength": 10}}, {"a": {**STR, "maxLength": 5}}, (), (),
     "spec.a", "range", True, "maximum length narrowed from 10 to 5"),
    ("minItems raised", {"a": {"type": "array", "minItems": 0}}, {"a": {"type": "array", "minItems": 1}}, (), (),
     "spec.a", "range", True, "minimum item count narrowed from 0 to 1"),
    ("pattern added", {"a": STR}, {"a": {**STR, "pattern": "^x"}}, (), (),
     "spec.a", "pattern", True, 'new pattern "^x"'),
    ("pattern changed", {"a": {**STR, "pattern": "^x"}}, {"a": {**STR, "pattern": "^[xy]"}}, (), (),
     "spec.a", "pattern", True, 'pattern changed from "^x" to "^[xy]"'),
    ("pattern removed", {"a": {**STR, "pattern": "^x"}}, {"a": STR}, (), (),
     "spec.a", "pattern", False, 'pattern "^x" removed'),
    ("format added", {"a": STR}, {"a": {**STR, "format": "ipv4-cidr"}}, (), (),
     "spec.a", "format", True, 'new format "ipv4-cidr"'),
    ("default changed", {"a": {**INT, "default": 1}}, {"a": {**INT, "default": 2}}, (), (),
     "spec.a", "default", True, "default changed from 1 to 2: specs that omit it get different resources"),
    ("default removed", {"a": {**INT, "default": 1}}, {"a": INT}, (), (),
     "spec.a", "default", True, "default 1 removed: specs that omit it get different resources"),
    ("default added to an optional input", {"a": INT}, {"a": {**INT, "default": 1}}, (), (),
     "spec.a", "default", True, "default 1 added: specs that omit it no longer leave it unset"),
    ("optional input added without default", {"a": INT}, {"a": INT, "b": STR}, (), (),
     "spec.b", "added", False, "new optional input (no default: nothing changes unless it is set)"),
    ("optional input added with default", {"a": INT}, {"a": INT, "b": {**STR, "default": "x"}}, (), (),
     "spec.b", "added", False, 'new optional input (default "x"): the builder must reproduce the previous '
     "resources with the default"),
    ("required input with a default added", {"a": INT}, {"a": INT, "b": {**STR, "default": "x"}}, (), ("b",),
     "spec.b", "added", False, 'new optional input (default "x"): the builder must reproduce the previous '
     "resources with the default"),
    ("optional group added with defaults inside",
     {"a": INT}, {"a": INT, "g": {"type": "object", "properties": {"on": {"type": "boolean", "default": True}}}},
     (), (), "spec.g", "added", True,
     'new optional group with defaults inside: specs that omit it get {"on": true}, so their resources change'),
    ("optional group added without defaults inside",
     {"a": INT}, {"a": INT, "g": {"type": "object", "properties": {"x": INT}}}, (), (),
     "spec.g", "added", False, "new optional input (no default: nothing changes unless it is set)"),
    ("items must become unique", {"a": {"type": "array"}}, {"a": {"type": "array", "uniqueItems": True}}, (), (),
     "spec.a", "unique", True, "items must now be unique"),
    ("multipleOf made coarser", {"a": {**INT, "multipleOf": 5}}, {"a": {**INT, "multipleOf": 10}}, (), (),
     "spec.a", "multipleOf", True, "must be a multiple of 10 (was 5)"),
    ("multipleOf made finer", {"a": {**INT, "multipleOf": 10}}, {"a": {**INT, "multipleOf": 5}}, (), (),
     "spec.a", "multipleOf", False, "must be a multiple of 5 (was 10)"),
    ("nested input removed",
     {"g": {"type": "object", "properties": {"x": INT, "y": INT}}},
     {"g": {"type": "object", "properties": {"x": INT}}}, (), (),
     "spec.g.y", "removed", True, "input removed: specs that set it are refused"),
    ("list item enum narrowed",
     {"l": {"type": "array", "items": {**STR, "enum": ["a", "b"]}}},
     {"l": {"type": "array", "items": {**STR, "enum": ["a"]}}}, (), (),
     "spec.l[]", "enum", True, 'allowed values removed: "b"'),
]


@pytest.mark.parametrize(("old", "new", "old_req", "new_req", "path", "kind", "breaking", "message"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_schema_change_is_classified(old, new, old_req, new_req, path, kind, breaking, message) -> None:  # type: ignore[no-untyped-def]
    found = changes(old, new, old_req, new_req)
    assert [(c.path, c.kind, c.breaking, c.message) for c in found] == [(path, kind, breaking, message)]


def test_identical_schemas_have_no_changes() -> None:
    props = {"a": {**INT, "default": 1, "minimum": 0}, "b": {**STR, "enum": ["x"]}}
    assert changes(props, props) == []


def test_removing_the_pipeline_section_removes_each_pipeline_input() -> None:
    old = schema({"dockerfile": STR, "tests": STR})
    found = compare_schemas(old, None, prefix="pipeline")
    assert [(c.path, c.breaking) for c in found] == [("pipeline.dockerfile", True), ("pipeline.tests", True)]


def test_change_renders_path_message_and_verdict() -> None:
    found = changes({"a": {**INT, "maximum": 9}}, {"a": {**INT, "maximum": 8}})
    assert found[0].render() == "spec.a: maximum narrowed from 9 to 8 [breaking]"


@pytest.fixture(scope="module")
def fixture_registry():  # type: ignore[no-untyped-def]
    return load_registry(FIXTURES / "registry")


def test_dropping_a_compatible_environment_is_breaking(fixture_registry) -> None:  # type: ignore[no-untyped-def]
    web = fixture_registry.templates["web-svc"]
    found = [c for c in compare_versions(web.versions[1], web.versions[2]) if c.kind == "environments"]
    assert [(c.message, c.breaking) for c in found] == [
        ("no longer compatible with net-env:1 environments", True)]


def test_removing_a_declared_output_is_breaking(fixture_registry) -> None:  # type: ignore[no-untyped-def]
    old = fixture_registry.templates["net-env"].versions[0]
    new = dataclasses.replace(old, outputs={})
    assert [c.render() for c in compare_versions(old, new)] == [
        "outputs.vpc/id: output removed (consumers that read it break) [breaking]"]


def test_an_acknowledged_change_does_not_block(fixture_registry) -> None:  # type: ignore[no-untyped-def]
    old = fixture_registry.templates["net-env"].versions[0]
    new = dataclasses.replace(old, outputs={}, acknowledged_changes={"outputs.vpc/id": "nobody reads it"})
    (change,) = compare_versions(old, new)
    assert change.breaking and not change.blocking
    assert change.render().endswith("[acknowledged] (acknowledged: nobody reads it)")


def test_an_existing_group_that_gains_its_first_default_inside_is_now_created_when_omitted() -> None:
    old = {"g": {"type": "object", "properties": {"x": INT}}}
    new = {"g": {"type": "object", "properties": {"x": INT, "on": {"type": "boolean", "default": True}}}}
    found = [(c.path, c.kind, c.breaking) for c in changes(old, new)]
    assert found == [("spec.g", "default", True), ("spec.g.on", "added", False)]
