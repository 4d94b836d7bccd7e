"""`keel templates check`: every minor accepts what its previous minor accepted; environments exist."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from keel.contract.registry import TemplateRef
from keel.lifecycle.compat import check_registry, compare_versions
from keel.spec.registry import default_registry, load_registry
from tests.spec.lifecycle_helpers import FIXTURES, REGISTRY, keel


def test_keel_registry_minors_are_compatible_and_environments_exist() -> None:
    problems, _ = check_registry(default_registry())
    assert [p.render() for p in problems] == []


def test_vpc_env_1_resolves_to_the_recommended_minor() -> None:
    assert default_registry().resolve(TemplateRef.parse("vpc-env:1")).label == "vpc-env@1.3"
    assert default_registry().resolve(TemplateRef.parse("vpc-env:1.1")).label == "vpc-env@1.1"
    assert default_registry().resolve(TemplateRef.parse("vpc-env:1.0")).label == "vpc-env@1.0"


def test_vpc_env_1_1_only_adds_one_optional_input_without_default() -> None:
    old, new = default_registry().templates["vpc-env"].versions[:2]
    assert [c.render() for c in compare_versions(old, new)] == [
        "spec.flow_log_max_aggregation_seconds: new optional input (no default: nothing changes unless it is set)"
        " [compatible]"]


def test_vpc_env_1_2_adds_the_event_bus_and_config_groups_and_their_outputs() -> None:
    old, new = default_registry().templates["vpc-env"].versions[1:3]
    changes = compare_versions(old, new)
    assert [c.path for c in changes if c.path.startswith("spec.")] == ["spec.event_bus", "spec.config"]
    assert not [c for c in changes if c.blocking]
    assert {c.path for c in changes if c.path.startswith("outputs.")} == {
        "outputs.events/bus-name", "outputs.events/bus-arn", "outputs.events/archive-arn",
        "outputs.events/dead-letter-queue-url", "outputs.events/log-group", "outputs.config/prefix"}


def test_vpc_env_versions_share_one_builder() -> None:
    versions = default_registry().templates["vpc-env"].versions
    for old, new in itertools.pairwise(versions):
        assert old.builder == new.builder
        assert issubclass(new.inputs_type(), old.inputs_type())


def test_check_passes_on_a_registry_with_compatible_minors(capsys) -> None:  # type: ignore[no-untyped-def]
    run = keel(capsys, "templates", "check", "--registry", str(REGISTRY))
    assert run.code == 0
    assert run.out.strip() == ("2 template(s), 6 version(s): every minor accepts every spec its previous minor "
                               "accepted; every compatible environment exists.")


def test_check_reports_each_breaking_change_with_its_input_path(capsys) -> None:  # type: ignore[no-untyped-def]
    run = keel(capsys, "templates", "check", "--registry", str(FIXTURES / "broken"))
    assert run.code == 1
    assert run.err.splitlines()[:4] == [
        "net-env@1.1 (from 1.0): spec.nat: maximum narrowed from 3 to 2 [breaking]",
        "net-env@1.1 (from 1.0): spec.nat: default changed from 1 to 2: specs that omit it get different "
        "resources [breaking]",
        "net-env@1.1 (from 1.0): spec.retention: input removed: specs that set it are refused [breaking]",
        "net-env@1.1 (from 1.0): spec.owner: new required input without a default: every spec must add it "
        "[breaking]",
    ]
    assert run.err.splitlines()[-1].startswith("7 problem(s) in 3 template version(s): a minor version must accept")


def test_check_shows_acknowledged_changes_as_notes(capsys) -> None:  # type: ignore[no-untyped-def]
    run = keel(capsys, "templates", "check", "--registry", str(FIXTURES / "broken"))
    assert run.out.splitlines() == [
        'note: net-env@1.1 (from 1.0): spec.cidr: pattern changed from "^10\\\\." to "^10\\\\.0\\\\." '
        "[acknowledged] (acknowledged: only 10.0.x.x was ever deployable (fixture))"]


def test_check_flags_a_stale_acknowledgement(capsys) -> None:  # type: ignore[no-untyped-def]
    run = keel(capsys, "templates", "check", "--registry", str(FIXTURES / "broken"))
    assert "net-env@1.1: acknowledged_changes.port: no breaking change at this input" in run.err.splitlines()


def test_check_flags_compatible_environments_that_do_not_exist(capsys) -> None:  # type: ignore[no-untyped-def]
    lines = keel(capsys, "templates", "check", "--registry", str(FIXTURES / "broken")).err.splitlines()
    assert 'web-svc@1.0: compatible environment gone-env:1: no template named "gone-env" (known environment ' \
           "templates: net-env)" in lines
    assert "web-svc@1.0: compatible environment net-env:3: net-env has no major version 3 (available: 1.0, 1.1)" \
        in lines


def test_check_flags_a_default_that_breaks_its_own_constraints(tmp_path: Path) -> None:
    folder = tmp_path / "bad_env"
    (folder / "schema").mkdir(parents=True)
    (folder / "schema" / "v1.0.yaml").write_text(
        (REGISTRY / "net_env" / "schema" / "v1.0.yaml").read_text().replace("default: 90", "default: 45"))
    (folder / "template.yaml").write_text(
        'name: bad-env\nkind: environment\nversions:\n  "1.0":\n    schema: schema/v1.0.yaml\n'
        "    inputs: tests.spec.fixtures.inputs:NetEnv10\n    builder: tests.spec.fixtures.inputs:build\n")
    problems, _ = check_registry(load_registry(tmp_path))
    assert [p.render() for p in problems] == [
        "bad-env@1.0: spec.retention: the default 45 is not an allowed value (expected one of 30, 90)"]


@pytest.mark.parametrize(("ref", "label"), [("vpc-env", "1.3"), ("vpc-env:1", "1.3"), ("vpc-env:1.1", "1.1")])
def test_templates_show_renders_the_inputs_table(capsys, ref: str, label: str) -> None:  # type: ignore[no-untyped-def]
    run = keel(capsys, "templates", "show", ref)
    assert run.code == 0
    assert run.out.startswith(f"vpc-env@{label} (environment)")
    assert any(re.match(r"flow_log_max_aggregation_seconds +integer", line) for line in run.out.splitlines())
