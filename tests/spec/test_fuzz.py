"""Property: any malformed platform is rejected with exit 2 and located messages, never a traceback."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keel.cli import main
from keel.contract.registry import TemplateVersion
from tests.spec.fuzz_strategies import (
    TEXT_MUTATIONS,
    VERSIONS,
    check_outcome,
    mutate,
    paths,
    platform_for,
    run_case,
    to_yaml,
)

pytestmark = pytest.mark.early  # hundreds of hostile platforms

BASE: dict[str, Any] = {
    "name": "fuzz",
    "environments": [
        {"name": "dev", "template": "vpc-env:1", "region": "eu-west-1",
         "availability_zones": ["eu-west-1a", "eu-west-1b"], "tags": {"team": "a"},
         "spec": {"vpc_cidr": "10.1.0.0/16", "nat_gateways": 1, "interface_endpoints": ["ssm"]}},
        {"name": "prod", "template": "vpc-env:1.0", "production": True,
         "spec": {"isolated_subnets": True}},
    ],
}
# Mapping nodes whose schema is closed: an unknown key there must always be an error.
CLOSED = [(), ("environments", 0), ("environments", 1), ("environments", 0, "spec"), ("environments", 1, "spec")]
LINE = re.compile(r"^\S+\.yaml(:[^\n]+?)?: \S.*$")

junk = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6)


def parent_and_key(doc: Any, path: tuple[Any, ...]) -> tuple[Any, Any]:
    node = doc
    for part in path[:-1]:
        node = node[part]
    return node, path[-1]


def run(doc: Any) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "platform.yaml"
        file.write_text(json.dumps(doc))
        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main(["validate", "--quiet", str(file)])
        return code, err.getvalue()


def assert_well_formed_rejection(code: int, err: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert lines[-1] == f"{len(lines) - 1} problem{'s' if len(lines) != 2 else ''}; nothing was synthesized."
    for line in lines[:-1]:
        assert LINE.match(line), line


# make test runs a sample of each property (~40 ms a case); the same properties at full length are marked
# `heavy` (make conformance), beside tests/conformance/test_fuzz_thousands.py's long run.
SLOW = [HealthCheck.too_slow]


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW)
@given(st.data())
def test_mutated_platforms_never_crash(data: st.DataObject) -> None:
    mutated_platform_never_crashes(data)


@pytest.mark.heavy
@settings(max_examples=150, deadline=None, suppress_health_check=SLOW)
@given(st.data())
def test_mutated_platforms_never_crash_at_length(data: st.DataObject) -> None:
    mutated_platform_never_crashes(data)


def mutated_platform_never_crashes(data: st.DataObject) -> None:
    doc = copy.deepcopy(BASE)
    for _ in range(data.draw(st.integers(1, 3))):
        candidates = paths(doc)
        if not candidates:
            break
        path = data.draw(st.sampled_from(candidates))
        parent, key = parent_and_key(doc, path)
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[key]
        else:
            parent[key] = data.draw(junk)
    code, err = run(doc)
    assert "Traceback" not in err
    if code != 0:
        assert_well_formed_rejection(code, err)


@settings(max_examples=20, deadline=None)
@given(where=st.sampled_from(CLOSED), value=junk)
def test_unknown_keys_are_always_rejected_with_their_path(where: tuple[Any, ...], value: Any) -> None:
    unknown_key_is_rejected(where, value)


@pytest.mark.heavy
@settings(max_examples=60, deadline=None)
@given(where=st.sampled_from(CLOSED), value=junk)
def test_unknown_keys_are_always_rejected_with_their_path_at_length(where: tuple[Any, ...], value: Any) -> None:
    unknown_key_is_rejected(where, value)


def unknown_key_is_rejected(where: tuple[Any, ...], value: Any) -> None:
    doc = copy.deepcopy(BASE)
    node = doc
    for part in where:
        node = node[part]
    node["zz_unknown"] = value
    code, err = run(doc)
    assert_well_formed_rejection(code, err)
    assert "zz_unknown: unknown input" in err


# -- every template's inputs, from its own schema, mutated with every class of hostile input -------------------
@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.label)
@settings(max_examples=3, deadline=None, suppress_health_check=SLOW)
@given(data=st.data())
def test_every_template_version_survives_hostile_specs(version: TemplateVersion, data: st.DataObject) -> None:
    template_version_survives(version, data)


@pytest.mark.heavy
@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.label)
@settings(max_examples=8, deadline=None, suppress_health_check=SLOW)
@given(data=st.data())
def test_every_template_version_survives_hostile_specs_at_length(version: TemplateVersion,
                                                                 data: st.DataObject) -> None:
    template_version_survives(version, data)


def template_version_survives(version: TemplateVersion, data: st.DataObject) -> None:
    doc, files = platform_for(version, data)
    if data.draw(st.integers(0, 4)):
        doc = mutate(doc, data)
    check_outcome(*run_case(to_yaml(doc), files))


@settings(max_examples=12, deadline=None, suppress_health_check=SLOW)
@given(data=st.data(), mutation=st.sampled_from(sorted(TEXT_MUTATIONS)))
def test_yaml_abuse_around_any_template_is_refused_cleanly(data: st.DataObject, mutation: str) -> None:
    yaml_abuse_is_refused(data, mutation)


@pytest.mark.heavy
@settings(max_examples=30, deadline=None, suppress_health_check=SLOW)
@given(data=st.data(), mutation=st.sampled_from(sorted(TEXT_MUTATIONS)))
def test_yaml_abuse_around_any_template_is_refused_cleanly_at_length(data: st.DataObject, mutation: str) -> None:
    yaml_abuse_is_refused(data, mutation)


def yaml_abuse_is_refused(data: st.DataObject, mutation: str) -> None:
    doc, files = platform_for(data.draw(st.sampled_from(VERSIONS)), data)
    code, err = run_case(TEXT_MUTATIONS[mutation](to_yaml(mutate(doc, data, rounds=1))), files)
    check_outcome(code, err)
    if mutation not in ("none", "tab-indent"):
        assert code == 2, err
