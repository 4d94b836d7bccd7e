"""`keel outdated` on a platform with mixed versions (fixture registry: net-env 1.0/1.1/2.0, web-svc 1.0/1.1/2.0)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from keel.lifecycle.outdated import find_rows
from keel.spec.registry import load_registry
from tests.spec.lifecycle_helpers import FIXTURES, REGISTRY, keel

PLATFORM = FIXTURES / "mixed" / "platform.yaml"


@pytest.fixture(scope="module")
def rows():  # type: ignore[no-untyped-def]
    return {r.name: r for r in find_rows(PLATFORM, load_registry(REGISTRY))}


def test_one_row_per_environment_and_per_service_instance(rows) -> None:  # type: ignore[no-untyped-def]
    assert list(rows) == ["dev", "staging", "prod", "web/dev", "web/staging", "api/dev"]


def test_a_major_pin_runs_the_recommended_minor_and_sees_the_next_major(rows) -> None:  # type: ignore[no-untyped-def]
    dev = rows["dev"]
    assert (str(dev.current.version), dev.behind_minor, dev.status) == ("1.1", False, "major 2.0 available")


def test_an_exact_older_pin_is_outdated_by_minor_and_major(rows) -> None:  # type: ignore[no-untyped-def]
    assert rows["staging"].status == "minor 1.1 available; major 2.0 available"
    assert rows["web/staging"].status == "minor 1.1 available; major 2.0 available"


def test_the_newest_major_is_up_to_date(rows) -> None:  # type: ignore[no-untyped-def]
    assert (rows["prod"].outdated, rows["prod"].status) == (False, "up to date")


def test_instances_from_a_proton_spec_file_are_listed(rows) -> None:  # type: ignore[no-untyped-def]
    api = rows["api/dev"]
    assert (api.pin.text, str(api.current.version), api.status) == ("web-svc:1", "1.1", "major 2.0 available")


def test_each_row_says_what_changed_in_the_schema(rows) -> None:  # type: ignore[no-untyped-def]
    steps = [(str(old.version), str(new.version), [c.render() for c in ch])
             for old, new, ch in rows["staging"].changes()]
    assert steps[0] == ("1.0", "1.1", [
        "spec.nat: maximum widened from 3 to 4 [compatible]",
        "spec.retention: allowed values added: 365 [compatible]",
        "spec.aggregation: new optional input (no default: nothing changes unless it is set) [compatible]"])
    assert "spec.owner: new required input without a default: every spec must add it [breaking]" in steps[1][2]


def test_cli_table_lists_only_outdated_entries(capsys) -> None:  # type: ignore[no-untyped-def]
    run = keel(capsys, "outdated", str(PLATFORM), "--registry", str(REGISTRY))
    table = run.out.split("\n\n")[0].splitlines()
    assert run.code == 0
    assert table[0].split() == ["name", "kind", "template", "pinned", "runs", "recommended", "newest", "major",
                                "changes", "status"]
    assert [line.split()[0] for line in table[2:]] == ["dev", "staging", "web/dev", "web/staging", "api/dev"]
    assert "5 of 6 environment(s)/instance(s) could move to a newer version" in run.out


def test_cli_all_includes_up_to_date_entries(capsys) -> None:  # type: ignore[no-untyped-def]
    run = keel(capsys, "outdated", str(PLATFORM), "--registry", str(REGISTRY), "--all")
    assert any(line.startswith("prod ") and line.rstrip().endswith("up to date") for line in run.out.splitlines())


def test_cli_fail_exits_1_when_anything_is_outdated(capsys) -> None:  # type: ignore[no-untyped-def]
    assert keel(capsys, "outdated", str(PLATFORM), "--registry", str(REGISTRY), "--fail").code == 1


def test_cli_says_so_when_everything_is_current(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    platform = tmp_path / "platform.yaml"
    platform.write_text("environments:\n  - name: prod\n    template: net-env:2\n    spec: {owner: me}\n")
    run = keel(capsys, "outdated", str(platform), "--registry", str(REGISTRY), "--fail")
    assert (run.code, run.out.strip()) == (0, "All 1 environment(s) and 0 service instance(s) run the recommended "
                                              "version of their major, and no newer major exists.")


def test_a_pin_to_a_version_that_does_not_exist_is_shown(tmp_path: Path) -> None:
    platform = tmp_path / "platform.yaml"
    platform.write_text("environments:\n  - name: dev\n    template: net-env:1.7\n")
    (row,) = find_rows(platform, load_registry(REGISTRY))
    assert (row.outdated, row.status) == (True, "pinned version net-env:1.7 does not exist")


def test_a_rollback_is_an_ordinary_pin_that_outdated_shows(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    shutil.copytree(FIXTURES / "mixed", tmp_path / "mixed")
    platform = tmp_path / "mixed" / "platform.yaml"
    run = keel(capsys, "upgrade", str(platform), "--to", "net-env:1.0", "--instance", "dev",
               "--registry", str(REGISTRY))
    assert run.code == 0
    assert "net-env:1 -> net-env:1.0 (net-env@1.1 -> net-env@1.0, minor rollback)" in run.out
    (dev,) = [r for r in find_rows(platform, load_registry(REGISTRY)) if r.name == "dev"]
    assert dev.status == "minor 1.1 available; major 2.0 available"


def test_cli_reports_an_unreadable_platform_with_exit_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    run = keel(capsys, "outdated", str(tmp_path / "missing.yaml"))
    assert run.code == 2
    assert run.err.startswith("keel outdated: ") and "missing.yaml: cannot read" in run.err
