"""`keel import-proton DIR` on a hostile DIR: a spec file of the wrong shape at any level, a FIFO, a folder named
like a YAML file, a binary or huge `.compatible-envs`, a symlink out of DIR, a template whose schema names only a
pipeline type: each is reported as unreadable with its file (and field path), never a traceback or a hang; the
rest of DIR still imports."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from keel.lifecycle.proton_import import import_proton
from keel.spec.registry import default_registry
from tests.spec.lifecycle_helpers import FIXTURES, keel

FOLDER = FIXTURES / "proton_import"
SPEC = Path("service-templates/storefront/spec/spec.yaml")
ENVS = Path("service-templates/storefront/v1/.compatible-envs")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copytree(FOLDER, tmp_path / "dir")
    return tmp_path / "dir"


def _errors(folder: Path) -> list[str]:
    return import_proton(folder, default_registry()).errors


@pytest.mark.parametrize(("text", "where"), [
    ("proton: ServiceSpec\ninstances: 5\n", "instances: has the wrong type (got 5"),
    ("proton: ServiceSpec\npipeline: junk\ninstances: []\n", "pipeline: has the wrong type (got \"junk\""),
    ("proton: ServiceSpec\ninstances:\n  - name: a\n    environment: [beta]\n",
     "instances[0].environment: has the wrong type"),
    ("proton: ServiceSpec\ninstances:\n  - name: a\n    environment: beta\n    spec: [1]\n",
     "instances[0].spec: has the wrong type"),
    ("proton: ServiceSpec\ninstances:\n  - 7\n", "instances[0]: has the wrong type"),
], ids=["instances a number", "pipeline a string", "environment a list", "instance spec a list", "instance a number"])
def test_a_spec_of_the_wrong_shape_is_unreadable_with_its_field_path(folder: Path, text: str, where: str) -> None:
    (folder / SPEC).write_text(text)
    assert f"{SPEC}:{where}" in "\n".join(_errors(folder))


def test_an_environment_spec_whose_spec_is_a_list_is_unreadable(folder: Path) -> None:
    spec = folder / "environment-templates/shop-cluster/spec/spec.yaml"
    spec.write_text("proton: EnvironmentSpec\nspec: [1]\n")
    assert any("shop-cluster/spec/spec.yaml:spec: has the wrong type" in e for e in _errors(folder))


def test_files_that_are_no_regular_text_are_unreadable_never_a_block(folder: Path) -> None:
    os.mkfifo(folder / "pipe.yaml")
    (folder / "folder.yaml").mkdir()
    os.symlink(folder / "nowhere", folder / "dangling.yaml")
    (folder / ENVS).unlink()
    (folder / ENVS).write_bytes(b"\xff\xfe\x00")
    errors = "\n".join(_errors(folder))
    assert "pipe.yaml: is not a regular file" in errors
    assert "folder.yaml: is not a regular file" in errors
    assert "dangling.yaml: file not found" in errors
    assert f"{ENVS}: is not UTF-8 text" in errors


def test_a_huge_compatible_envs_is_refused_by_its_size(folder: Path) -> None:
    (folder / ENVS).write_text("shop-cluster:1\n" * 80_000)
    assert f"{ENVS}: the file is too large" in _errors(folder)


def test_a_symlink_out_of_dir_is_not_read(folder: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.yaml").write_text("proton: ServiceSpec\ninstances: TOP-SECRET\n")
    os.symlink(tmp_path / "secret.yaml", folder / "link.yaml")
    errors = "\n".join(_errors(folder))
    assert "link.yaml: leads outside the folder" in errors
    assert "TOP-SECRET" not in errors


def test_a_schema_with_only_a_pipeline_type_is_refused(folder: Path) -> None:
    (folder / "service-templates/storefront/v1/schema/schema.yaml").write_text(
        "schema:\n  format: {openapi: 3.0.0}\n  pipeline_input_type: P\n  types: {P: {type: object}}\n")
    assert any("names neither environment_input_type nor service_input_type" in e for e in _errors(folder))


def test_the_cli_reports_a_bad_spec_and_still_writes_the_rest(folder: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    (folder / SPEC).write_text("proton: ServiceSpec\ninstances: {a: 1}\n")
    out = tmp_path / "out" / "platform.yaml"
    out.parent.mkdir()
    run = keel(capsys, "import-proton", str(folder), "--out", str(out), "--region", "eu-west-1")
    assert "Traceback" not in run.err
    assert run.code == 1, run.err
    assert f"unreadable: {SPEC}:instances: has the wrong type" in run.err
    assert "storefront" not in out.read_text()
