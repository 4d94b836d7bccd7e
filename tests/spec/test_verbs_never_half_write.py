"""No `keel` verb leaves a half-written file (an error or Ctrl-C mid-way leaves the old file, or none, and no
temporary file), writes some files of a set and not the others, or writes where it may not: a folder, a path
under .git/, through a symlink out of the project, or the command's own input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from keel import fileio
from keel.cli import main
from tests.spec.conftest import LAB_PLATFORM
from tests.spec.lifecycle_helpers import FIXTURES, REGISTRY, keel

ROOT = Path(__file__).resolve().parents[2]
WORKLOADS = ROOT / "tests" / "infra" / "platforms" / "eks-workloads.yaml"
COPILOT = FIXTURES / "copilot" / "clean"
PROTON = FIXTURES / "proton_import"


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*.tmp"))


class Interrupted(BaseException):
    """A Ctrl-C stand-in (KeyboardInterrupt would stop pytest itself)."""


def _interrupt(*_: object) -> None:
    raise Interrupted


# -- the helper ---------------------------------------------------------------------------------------

def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "platform.yaml"
    target.write_text("old\n")
    monkeypatch.setattr(fileio.os, "fsync", _interrupt)
    with pytest.raises(Interrupted):
        fileio.write_text(target, "new\n" * 1000)
    assert target.read_text() == "old\n" and _leftovers(tmp_path) == []


def test_a_set_of_files_is_written_whole_or_not_at_all(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = tmp_path / "a.yaml"
    first.write_text("old\n")
    with pytest.raises(OSError):
        fileio.write_files({first: "new\n", tmp_path / "missing" / "b.yaml": "new\n"})
    assert first.read_text() == "old\n" and _leftovers(tmp_path) == []


def test_a_failed_rename_leaves_no_temporary(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "a.md"
    monkeypatch.setattr(fileio.os, "replace", _interrupt)
    with pytest.raises(Interrupted):
        fileio.write_text(target, "new\n")
    assert not target.exists() and _leftovers(tmp_path) == []


def test_a_rewrite_keeps_the_files_permissions_and_its_symlink(tmp_path) -> None:  # type: ignore[no-untyped-def]
    real = tmp_path / "envs" / "platform.yaml"
    real.parent.mkdir()
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "platform.yaml"
    link.symlink_to(real)
    fileio.write_text(link, "new\n")
    assert link.is_symlink() and real.read_text() == "new\n" and real.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize(("make", "why"), [
    (lambda t: (t / "out").mkdir(), "is a folder (expected a file to write)"),
    (lambda t: (t / ".git").mkdir(), "is inside a .git folder"),
    (lambda t: (t / "out").symlink_to(t.parent / "elsewhere"), "leads through a symlink to"),
])
def test_unsafe_targets_are_named(tmp_path, monkeypatch, make, why) -> None:  # type: ignore[no-untyped-def]
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    make(project)
    target = project / ".git" / "x" if "git" in why else project / "out"
    assert why in str(fileio.unsafe_target(target))


def test_an_input_is_not_a_target(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "copilot").mkdir()
    assert "which this command reads" in str(fileio.unsafe_target(tmp_path / "copilot" / "x",
                                                                 inputs=[tmp_path / "copilot"]))
    (tmp_path / "spec.yaml").write_text("x: 1\n")
    assert "is this command's input" in str(fileio.unsafe_target(tmp_path / "spec.yaml",
                                                                inputs=[tmp_path / "spec.yaml"]))
    assert fileio.unsafe_target(tmp_path / "platform.yaml", inputs=[tmp_path / "copilot"]) is None


# -- the verbs ----------------------------------------------------------------------------------------

def test_add_interrupted_mid_write_leaves_the_platform_as_it_was(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "platform.yaml"
    path.write_text(LAB_PLATFORM)
    monkeypatch.setattr(fileio.os, "fsync", _interrupt)
    with pytest.raises(Interrupted):
        main(["add", "component", "dynamodb-table", "items", "--service", "api", "--platform", str(path)])
    assert path.read_text() == LAB_PLATFORM and _leftovers(tmp_path) == []


def test_add_that_cannot_write_says_so_and_changes_nothing(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "platform.yaml"
    path.write_text(LAB_PLATFORM)

    def full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileio.os, "replace", full)
    run = keel(capsys, "add", "component", "dynamodb-table", "items", "--service", "api", "--platform", str(path))
    assert run.code == 2 and "No space left on device" in run.err and "was not changed" in run.err
    assert path.read_text() == LAB_PLATFORM and _leftovers(tmp_path) == []


def test_diagram_refuses_a_folder_and_a_symlink_out(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "platform.yaml").write_text(LAB_PLATFORM)
    (tmp_path / "docs").mkdir()
    outside = tmp_path.parent / f"{tmp_path.name}-outside.md"
    (tmp_path / "page.md").symlink_to(outside)
    run = keel(capsys, "diagram", "platform.yaml", "--out", "docs")
    assert run.code == 2 and run.err.splitlines()[0] == \
        "keel diagram: --out docs: is a folder (expected a file to write)"
    run = keel(capsys, "diagram", "platform.yaml", "--out", "page.md")
    assert run.code == 2 and "leads through a symlink" in run.err and not outside.exists()
    run = keel(capsys, "diagram", "platform.yaml", "--out", ".git/platform.md")
    assert run.code == 2 and "inside a .git folder" in run.err and not (tmp_path / ".git").exists()


def test_gitops_write_checks_every_path_before_writing_any(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "gitops" / "auto" / "storefront-auto.yaml").mkdir(parents=True)  # a folder where a file goes
    run = keel(capsys, "gitops", "write", str(WORKLOADS), "--root", str(tmp_path))
    assert run.code == 2 and "storefront-auto.yaml: is a folder" in run.err
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # the other manifest was not written either


def test_gitops_write_refuses_a_folder_linked_out_of_the_root(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    root, outside = tmp_path / "repo", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "gitops").symlink_to(outside)
    run = keel(capsys, "gitops", "write", str(WORKLOADS), "--root", str(root))
    assert run.code == 2 and "leads through a symlink" in run.err
    assert list(outside.rglob("*")) == [] and not (root / "clusters").exists()


def test_gitops_reads_a_binary_file_beside_its_own_without_failing(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "gitops" / "auto"
    folder.mkdir(parents=True)
    (folder / "theirs.yaml").write_bytes(b"\xff\xfe\x00binary")
    assert keel(capsys, "gitops", "write", str(WORKLOADS), "--root", str(tmp_path)).code == 0
    assert (folder / "theirs.yaml").read_bytes() == b"\xff\xfe\x00binary"
    assert keel(capsys, "gitops", "check", str(WORKLOADS), "--root", str(tmp_path)).code == 0


def test_docs_writes_every_page_or_none(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "docs"
    (out / "index.md").mkdir(parents=True)  # a folder where the index goes
    run = keel(capsys, "docs", "--out", str(out), "--registry", str(REGISTRY))
    assert run.code == 2 and "index.md: is a folder" in run.err
    assert [p for p in out.rglob("*") if p.is_file()] == []
    (tmp_path / "file").write_text("x")
    run = keel(capsys, "docs", "--out", str(tmp_path / "file"), "--registry", str(REGISTRY))
    assert run.code == 2 and "is a file (expected a folder for the pages)" in run.err


def test_import_copilot_refuses_to_write_into_the_workspace_it_reads(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import shutil

    workspace = tmp_path / "ws"
    shutil.copytree(COPILOT, workspace)
    before = {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file()}
    run = keel(capsys, "import-copilot", str(workspace), "--out", str(workspace / "copilot" / "x.yaml"))
    assert run.code == 2 and "which this command reads" in run.err and run.err.endswith("Nothing was written.\n")
    out = tmp_path / "platform.yaml"
    run = keel(capsys, "import-copilot", str(workspace), "--out", str(out), "--report", str(out))
    assert run.code == 2 and "--report" in run.err and "is also --out" in run.err and not out.exists()
    assert {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file()} == before


def test_import_proton_refuses_to_overwrite_a_spec_it_reads(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import shutil

    folder = tmp_path / "proton"
    shutil.copytree(PROTON, folder)
    spec = next(p for p in sorted(folder.rglob("*.yaml")) if "schema" not in p.parts)
    before = spec.read_bytes()
    run = keel(capsys, "import-proton", str(folder), "--out", str(spec), "--region", "eu-west-1")
    assert run.code == 2 and "is this command's input" in run.err and spec.read_bytes() == before


def test_upgrade_that_cannot_write_changes_no_file(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "platform.yaml"
    path.write_text(LAB_PLATFORM)
    monkeypatch.setattr(fileio.os, "replace", lambda *_: (_ for _ in ()).throw(OSError(5, "I/O error")))
    run = keel(capsys, "upgrade", str(path), "--to", "ecs-env:1")
    if "Nothing to change" in run.out:
        pytest.fail("the lab platform must pin ecs-env below its recommended 1.x")
    assert run.code == 2 and "cannot write" in run.err, run.err + run.out
    assert path.read_text() == LAB_PLATFORM and _leftovers(tmp_path) == []
    assert os.listdir(tmp_path) == ["platform.yaml"]
