"""`keel diff` as CI calls it: exit codes, files it writes, the allow-list from the spec."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from keel.cli import main
from tests.delivery.fixtures import base_template, changed, write_assembly

_REPLACED_BUCKET = changed(lambda r: r["DataBucketE3889A50"]["Properties"].update(BucketName="v2"))


@pytest.fixture
def assemblies(tmp_path: Path) -> tuple[Path, Path]:
    base = write_assembly(tmp_path / "base", {"keel-dev": base_template()})
    head = write_assembly(tmp_path / "head", {"keel-dev": _REPLACED_BUCKET})
    return base, head


def _run(base: Path, head: Path, *extra: str) -> int:
    return main(["diff", "--base-assembly", str(base), "--head-assembly", str(head),
                 "--platform", "does-not-exist.yaml", *extra])


def test_exit_0_when_nothing_changed(tmp_path: Path) -> None:
    base = write_assembly(tmp_path / "a", {"keel-dev": base_template()})
    assert _run(base, base) == 0


def test_exit_1_when_a_destructive_change_is_not_allowed(assemblies: tuple[Path, Path],
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(*assemblies) == 1
    assert "BLOCKED" in capsys.readouterr().out


def test_exit_0_when_the_flag_allows_it(assemblies: tuple[Path, Path]) -> None:
    assert _run(*assemblies, "--allow", "keel-dev/DataBucket*") == 0


def test_exit_2_when_an_assembly_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = write_assembly(tmp_path / "a", {"keel-dev": base_template()})
    assert _run(base, tmp_path / "nowhere") == 2
    assert "could not compute the diff" in capsys.readouterr().err


def test_exit_2_on_an_unknown_git_ref(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head = write_assembly(tmp_path / "a", {"keel-dev": base_template()})
    code = main(["diff", "--base", "no-such-ref-xyz", "--head-assembly", str(head), "--platform", "nope.yaml"])
    assert code == 2
    assert "no-such-ref-xyz" in capsys.readouterr().err


def test_writes_markdown_and_json(assemblies: tuple[Path, Path], tmp_path: Path) -> None:
    md, js = tmp_path / "diff.md", tmp_path / "diff.json"
    _run(*assemblies, "--markdown", str(md), "--json", str(js))
    assert md.read_text().startswith("## Keel diff")
    data = json.loads(js.read_text())
    assert data["passed"] is False
    assert data["destructive"][0]["logical_id"] == "DataBucketE3889A50"
    assert data["stacks"][0]["changes"][0]["reasons"] == ["BucketName"]


def test_an_output_that_is_a_folder_or_named_twice_is_refused_before_any_synth(
        assemblies: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    assert _run(*assemblies, "--markdown", str(folder)) == 2
    assert f"--markdown {folder}: is a folder" in capsys.readouterr().err
    same = tmp_path / "diff.out"
    assert _run(*assemblies, "--markdown", str(same), "--json", str(same)) == 2
    assert "is also --markdown" in capsys.readouterr().err
    assert not same.exists()


def test_a_failed_write_leaves_neither_file(assemblies: tuple[Path, Path], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    md, js = tmp_path / "diff.md", tmp_path / "diff.json"
    md.write_text("old summary\n")
    real = os.replace

    def fail_for_json(src: str, dst: str) -> None:
        if str(dst).endswith(".json"):
            raise OSError(28, "No space left on device", str(dst))
        real(src, dst)

    monkeypatch.setattr(os, "replace", fail_for_json)
    assert _run(*assemblies, "--markdown", str(md), "--json", str(js)) == 2
    assert "nothing was written" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["diff.md"]
    assert md.read_text() == "old summary\n"  # renamed before the JSON failed, then put back


def test_the_spec_allow_list_is_applied(assemblies: tuple[Path, Path], tmp_path: Path) -> None:
    platform = tmp_path / "platform.yaml"
    platform.write_text("environments:\n  - {name: dev, template: 'vpc-env:1'}\n"
                        "delivery:\n  allow_destructive: ['AWS::S3::Bucket']\n")
    base, head = assemblies
    assert main(["diff", "--base-assembly", str(base), "--head-assembly", str(head),
                 "--platform", str(platform)]) == 0


def test_an_invalid_spec_is_a_failure_not_a_verdict(assemblies: tuple[Path, Path], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    platform = tmp_path / "platform.yaml"
    platform.write_text("environments:\n  - {name: dev, template: 'vpc-env:1'}\ndelivery:\n  allow_destructive: 3\n")
    base, head = assemblies
    assert main(["diff", "--base-assembly", str(base), "--head-assembly", str(head),
                 "--platform", str(platform)]) == 2
    assert "delivery.allow_destructive" in capsys.readouterr().err


def test_deployed_mode_runs_plain_cdk_diff_and_passes_its_exit_code_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bin" / "cdk"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path / 'args'}\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    assert main(["diff", "--deployed", "--platform", "platform.yaml"]) == 1
    assert (tmp_path / "args").read_text().split() == ["diff", "--fail", "-c", "keel:platform=platform.yaml"]
