"""`keel upgrade`: rewrite pins in place (comments and formatting intact), write nothing on a failed check."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.spec.lifecycle_helpers import FIXTURES, REGISTRY, keel


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the mixed-versions platform; the working directory is its folder (paths print relative)."""
    shutil.copytree(FIXTURES / "mixed", tmp_path / "mixed")
    monkeypatch.chdir(tmp_path / "mixed")
    return tmp_path / "mixed" / "platform.yaml"


def upgrade(capsys, *args: str):  # type: ignore[no-untyped-def]
    return keel(capsys, "upgrade", "platform.yaml", "--registry", str(REGISTRY), *args)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_minor_upgrade_rewrites_only_the_pin_keeping_quotes_and_comments(platform: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    before = platform.read_text()
    run = upgrade(capsys, "--to", "net-env:1.1", "--instance", "staging")
    assert run.code == 0, run.err
    assert platform.read_text() == before.replace('template: "net-env:1.0"   # rolled back after an incident',
                                                  'template: "net-env:1.1"   # rolled back after an incident')
    assert run.out.splitlines()[0] == ("platform.yaml:environments[staging].template: net-env:1.0 -> net-env:1.1 "
                                       "(net-env@1.0 -> net-env@1.1, minor upgrade)")


def test_upgrade_without_instance_moves_every_user_of_the_template(platform: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    before = platform.read_text()
    run = upgrade(capsys, "--to", "web-svc:1.1")
    assert run.code == 0, run.err
    assert platform.read_text() == before.replace("template: web-svc:1.0", "template: web-svc:1.1").replace(
        "template: web-svc:1    # api follows major 1", "template: web-svc:1.1    # api follows major 1")
    assert (platform.parent / "specs" / "api.yaml").read_text() == (FIXTURES / "mixed/specs/api.yaml").read_text()


def failed_upgrade(capsys, platform: Path, *args: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Runs an upgrade that must fail its check: exit 1, every file byte-identical; returns stderr lines."""
    before = snapshot(platform.parent)
    run = upgrade(capsys, *args)
    assert run.code == 1
    assert snapshot(platform.parent) == before
    return run.err.splitlines()


def test_major_upgrade_that_needs_hand_edits_writes_nothing(platform: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    lines = failed_upgrade(capsys, platform, "--to", "net-env:2.0", "--instance", "staging")
    assert "The upgrade check failed; nothing was written. Change these by hand first (3):" in lines
    assert "  platform.yaml:environments[staging].spec.owner: required input is missing (expected a string)" in lines
    assert any(line.startswith("  platform.yaml:environments[staging].spec.retention: unknown input") for line in lines)
    assert ("  platform.yaml:services[web]: instance staging runs in environment staging, which would use "
            "net-env:2; web-svc@1.0 supports net-env:1 only: move the service to a version that supports it first "
            "(keel upgrade --to web-svc:X.Y --instance web)") in lines


def test_major_upgrade_lists_inputs_removed_or_now_required(platform: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    run = upgrade(capsys, "--to", "net-env:2.0", "--instance", "staging")
    tail = run.err.split("Inputs removed or now required by the target version:\n")[1].splitlines()
    assert tail == ["  spec.owner: new required input without a default: every spec must add it",
                    "  spec.retention: input removed: specs that set it are refused"]


def test_problems_in_a_proton_spec_file_are_reported_there(platform: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    lines = failed_upgrade(capsys, platform, "--to", "web-svc:2.0", "--instance", "api")
    assert "  specs/api.yaml:instances[0].spec.port: is less than the minimum 1024 (got 80, expected at least 1024)" \
        in lines
    assert ('  specs/api.yaml:instances[0].environment: environment "dev" uses net-env:1, which web-svc@2.0 does not '
            'support (got "dev", expected an environment of template net-env:2)') in lines


def test_major_upgrade_that_validates_is_written(platform: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    before = platform.read_text()
    run = upgrade(capsys, "--to", "net-env:2.0", "--instance", "prod")
    assert run.code == 0, run.err
    assert platform.read_text() == before.replace("template: net-env:2\n", "template: net-env:2.0\n")
    assert "(net-env@2.0 -> net-env@2.0, same version, pin rewritten)" in run.out


def test_dry_run_prints_the_diff_and_writes_nothing(platform: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    before = platform.read_text()
    run = upgrade(capsys, "--to", "net-env:1.1", "--instance", "staging", "--dry-run")
    assert run.code == 0
    assert platform.read_text() == before
    assert '-    template: "net-env:1.0"   # rolled back after an incident\n' in run.out
    assert '+    template: "net-env:1.1"   # rolled back after an incident\n' in run.out
    assert run.out.rstrip().endswith("(dry run: nothing was written)")


def test_already_pinned_entries_are_left_alone(platform: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    run = upgrade(capsys, "--to", "net-env:2", "--instance", "prod")
    assert (run.code, run.out.splitlines()) == (0, ["platform.yaml:environments[prod].template: already net-env:2",
                                                    "Nothing to change."])


def test_one_instance_of_a_service_cannot_be_moved_alone(platform: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    run = upgrade(capsys, "--to", "web-svc:1.1", "--instance", "web/dev")
    assert run.code == 2
    assert run.err.strip() == ("keel upgrade: --instance web/dev: versions are pinned per service, and dev shares "
                               "service web's pin with its other instances; use --instance web")


def test_unknown_instance_names_the_users_of_the_template(platform: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    run = upgrade(capsys, "--to", "net-env:1.1", "--instance", "qa")
    assert (run.code, run.err.strip()) == (2, 'keel upgrade: --instance qa: no environment or service of that name '
                                              'uses "net-env" (these do: dev, prod, staging)')


@pytest.mark.parametrize(("to", "message"), [
    ("net-env", "keel upgrade: --to 'net-env': expected NAME:MAJOR or NAME:MAJOR.MINOR, e.g. vpc-env:1.1"),
    ("net-env:1.9",
     'keel upgrade: --to net-env:1.9: template "net-env" has no version 1.9 (available: 1.0, 1.1, 2.0)'),
    ("nope:1", 'keel upgrade: --to nope:1: unknown template "nope" (known: net-env, web-svc)'),
])
def test_bad_targets_exit_2(platform: Path, capsys, to: str, message: str) -> None:  # type: ignore[no-untyped-def]
    run = upgrade(capsys, "--to", to)
    assert (run.code, run.err.strip()) == (2, message)


def test_an_invalid_platform_is_not_upgraded(platform: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    platform.write_text(platform.read_text().replace("nat: 1\n", "nat: 9\n"))
    before = platform.read_text()
    run = upgrade(capsys, "--to", "net-env:1.1")
    assert run.code == 2
    assert run.err.startswith("keel upgrade: platform.yaml has problems already; fix them before upgrading:\n"
                              "platform.yaml:environments[dev].spec.nat: is greater than the maximum 4")
    assert platform.read_text() == before


def test_flow_style_pins_are_rewritten_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "platform.yaml").write_text(
        "environments:\n  - {name: dev, template: net-env:1.0, spec: {}}  # flow style\n")
    run = upgrade(capsys, "--to", "net-env:1")
    assert run.code == 0, run.err
    assert (tmp_path / "platform.yaml").read_text() == (
        "environments:\n  - {name: dev, template: net-env:1, spec: {}}  # flow style\n")
