"""A hostile Copilot workspace never crashes, hangs or escapes `keel import-copilot`: the import writes a platform
that validates and reports what it could not carry (exit 1), or refuses with a located error and writes nothing
(exit 2). Wrong types and odd digits anywhere, symlinks out of the workspace, add-ons that are alias bombs, deep
or huge, build paths that climb out, outputs that would land in copilot/: one example per class found, then any
mutation of our own fixture workspace (a sample here, at length under `heavy`)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml.error import YAMLError

from keel.cli import main
from keel.spec import load_platform
from keel.spec.components import load_cloudformation
from keel.spec.yamlio import read_yaml
from tests.spec.fuzz_strategies import TEXT_MUTATIONS, _bomb, mutate, to_yaml

SHOP = Path(__file__).resolve().parent / "fixtures" / "copilot" / "shop"
API = "copilot/api/manifest.yml"
ADDON = "copilot/api/addons/db.yml"
SECRET = "TOP-SECRET-7f3a"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    shutil.copytree(SHOP, tmp_path / "ws")
    return tmp_path / "ws"


def _import(ws: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, list[str], Path]:
    out = ws.parent / "platform.yaml"
    code = main(["import-copilot", str(ws), "--out", str(out), *extra])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err.splitlines(), out


def _edit(ws: Path, rel: str, **fields: Any) -> None:
    doc = read_yaml(ws / rel)
    assert isinstance(doc, dict)
    doc.update(fields)
    (ws / rel).write_text(json.dumps(doc))


def _refused(code: int, err: list[str], out: Path, start: str) -> None:
    assert code == 2 and not out.exists()
    assert err[0].startswith(f"keel import-copilot: {start}"), err
    assert err[-1] == "Nothing was written."


# -- numbers: digits str.isdigit() takes and int() refuses ------------------------------------------------
@pytest.mark.parametrize(("fields", "where"), [
    ({"cpu": "²", "memory": 512}, "cpu"),
    ({"image": {"build": "services/api/Dockerfile", "port": "²"}}, "image.port"),
    ({"count": "²"}, "count"),
    ({"logging": {"retention": "²"}}, "logging.retention"),
    ({"http": False, "nlb": {"port": "²/tcp"}}, "nlb.port"),
], ids=["cpu", "port", "count", "retention", "nlb-port"])
def test_a_superscript_digit_is_reported_where_it_is_written(ws: Path, capsys: pytest.CaptureFixture[str],
                                                             fields: dict[str, Any], where: str) -> None:
    _edit(ws, API, **fields)
    code, err, out = _import(ws, capsys)
    assert code == 1
    assert any(line.startswith(f"{API}:{where}: ") and r'"\u00b2' in line for line in err), err
    load_platform(out)


def test_subnets_of_a_load_balancer_that_are_lists_are_reported(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rel = "copilot/environments/prod/manifest.yml"
    doc = read_yaml(ws / rel)
    assert isinstance(doc, dict)
    doc["http"]["public"]["subnets"] = [["subnet-0aaa1111"], {"id": 1}]
    (ws / rel).write_text(json.dumps(doc))
    code, err, out = _import(ws, capsys)
    assert code == 1
    assert any(line.startswith(f"{rel}:http.public.subnets: ") for line in err), err
    load_platform(out)


def test_a_value_the_reader_refuses_is_named_with_its_field_path(ws: Path, capsys: pytest.CaptureFixture[str]
                                                                  ) -> None:
    (ws / API).write_text((ws / API).read_text().replace("count: 2", "count: .nan"))
    code, err, out = _import(ws, capsys)
    _refused(code, err, out, f"{API}:count: is not a finite number (got ")
    assert "expected a finite number" in err[0]


# -- symlinks out of the workspace: never read, never shown -----------------------------------------------
@pytest.mark.parametrize("rel", ["copilot/orders/manifest.yml", "copilot/.workspace",
                                 "copilot/api/overrides/cfn.patches.yml", "copilot"])
def test_a_symlink_out_of_the_workspace_is_refused_unread(ws: Path, capsys: pytest.CaptureFixture[str],
                                                          rel: str) -> None:
    outside = ws.parent / "outside"
    shutil.copytree(ws / "copilot", outside)
    for file in [outside / "secret.yml", *outside.rglob("*.yml")]:
        file.write_text(f"name: {SECRET}\n")
    target = outside if rel == "copilot" else outside / "secret.yml"
    (shutil.rmtree if rel == "copilot" else os.unlink)(ws / rel)
    (ws / rel).symlink_to(target)
    code, err, out = _import(ws, capsys)
    _refused(code, err, out, f"{rel}: is a symlink that leads outside the workspace (expected a path inside ")
    assert SECRET not in "\n".join(err)


def test_an_add_on_parameters_file_out_of_the_workspace_is_reported_unread(
        ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (ws.parent / "secret.yml").write_text(f"Parameters: {{TableClass: {SECRET}}}\n")
    rel = "copilot/api/addons/addons.parameters.yml"
    (ws / rel).unlink()
    (ws / rel).symlink_to(ws.parent / "secret.yml")
    code, err, out = _import(ws, capsys)
    assert code == 1
    assert f"{rel}: is a symlink that leads outside the workspace" in "\n".join(err)
    assert SECRET not in out.read_text() + "\n".join(err)


# -- add-ons: bounded as every spec file is ----------------------------------------------------------------
ADD_ONS = {
    "alias-bomb": (_bomb(), "line 5, column 9: aliases expand beyond the node budget"),
    "deep-flow": ("x: " + "[" * 200 + "]" * 200 + "\n", "nesting is too deep"),
    "deep-block": ("".join("  " * i + f"k{i}:\n" for i in range(100)), "nesting is too deep"),
    "many-nodes": ("Resources:\n" + "".join(f"  R{i}: {{Type: AWS::SNS::Topic}}\n" for i in range(2600)),
                   "the document grows beyond the node budget"),
    "binary": (b"\x00\xff\xfe" * 30, "codec can't decode"),
}


@pytest.mark.parametrize("case", ADD_ONS)
def test_an_add_on_keel_cannot_read_is_reported_with_its_line(ws: Path, capsys: pytest.CaptureFixture[str],
                                                              case: str) -> None:
    body, message = ADD_ONS[case]
    (ws / ADDON).write_bytes(body if isinstance(body, bytes) else body.encode())
    code, err, out = _import(ws, capsys)
    assert code == 1
    (line,) = [e for e in err if e.startswith(f"{ADDON}: cannot read the add-on template: ")]
    assert message in line
    assert "db.yml" not in out.read_text()  # no component of it
    load_platform(out)


def test_a_fifo_among_the_add_ons_is_reported_never_read(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.mkfifo(ws / "copilot/api/addons/pipe.yml")
    code, err, _ = _import(ws, capsys)
    assert code == 1
    assert any(e.startswith("copilot/api/addons/pipe.yml: cannot read the add-on template: is not a regular file")
               for e in err), err


def test_a_cloudformation_template_is_bounded_for_every_verb(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yml"
    bomb.write_text(_bomb())
    with pytest.raises(YAMLError, match="node budget"):
        load_cloudformation(bomb)
    os.mkfifo(tmp_path / "fifo.yml")
    with pytest.raises(ValueError, match="not a regular file"):
        load_cloudformation(tmp_path / "fifo.yml")


# -- paths that climb out of the workspace -----------------------------------------------------------------
def test_build_paths_and_site_folders_out_of_the_workspace_are_not_carried(
        ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit(ws, API, image={"build": "../../../etc/Dockerfile", "port": 8080})
    _edit(ws, "copilot/worker/manifest.yml", image={"build": {"context": "/etc", "dockerfile": "Dockerfile"}})
    (ws / "copilot/site").mkdir()
    (ws / "copilot/site/manifest.yml").write_text("name: site\ntype: Static Site\nfiles:\n  - source: ../../etc\n")
    code, err, out = _import(ws, capsys)
    assert code == 1
    for where in (f"{API}:image.build", "copilot/worker/manifest.yml:image.build",
                  "copilot/site/manifest.yml:files[0].source"):
        assert any(e.startswith(f"{where}: leads outside the workspace") for e in err), (where, err)
    assert "etc" not in out.read_text()
    load_platform(out)


# -- the workspace itself and the outputs ------------------------------------------------------------------
def test_an_application_name_with_a_newline_keeps_the_written_file_valid(
        ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (ws / "copilot/.workspace").write_text('application: "shop\\nservices: [evil]"\n')
    code, _, out = _import(ws, capsys)
    assert code == 1
    assert out.read_text().splitlines()[0].endswith("of application shop?services: [evil].")
    load_platform(out)


def test_a_platform_too_large_to_read_is_refused_in_the_workspace_terms(
        ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit(ws, API, environments={f"e{n}": {"count": 1} for n in range(80)})
    code, err, out = _import(ws, capsys)
    _refused(code, err, out, f"{out}: the imported platform is too large for one platform file (got 82 "
             "environments, 4 services and 328 instances")


@pytest.mark.parametrize(("args", "message"), [
    (("--out", "{ws}"), "--out {ws}: is a folder"),
    (("--out", "{ws}/copilot/api/addons/platform.yml"), "--out {ws}/copilot/api/addons/platform.yml: is inside "
                                                        "{ws}/copilot, which this command reads"),
    (("--out", "{ws}/p.yaml", "--report", "{ws}/p.yaml"), "--report {ws}/p.yaml: is also --out {ws}/p.yaml"),
], ids=["out-folder", "out-in-copilot", "report-is-out"])
def test_an_output_that_would_clobber_or_be_read_back_is_refused(ws: Path, capsys: pytest.CaptureFixture[str],
                                                                  args: tuple[str, ...], message: str) -> None:
    before = sorted(p.relative_to(ws) for p in ws.rglob("*"))
    code = main(["import-copilot", str(ws), *(a.format(ws=ws) for a in args)])
    err = capsys.readouterr().err.splitlines()
    assert code == 2
    assert err[0].startswith(f"keel import-copilot: {message.format(ws=ws)} (expected "), err
    assert err[1:] == ["Nothing was written."]
    assert sorted(p.relative_to(ws) for p in ws.rglob("*")) == before


# -- any mutation of the fixture workspace: imported and valid, or refused with its place ------------------
MANIFESTS = sorted(str(p.relative_to(SHOP)) for p in SHOP.rglob("*.yml"))


def mutated_workspace_imports_or_is_refused(data: st.DataObject, root: Path) -> None:
    ws = root / "ws"
    shutil.rmtree(ws, ignore_errors=True)
    shutil.copytree(SHOP, ws)
    for rel in data.draw(st.lists(st.sampled_from(MANIFESTS), min_size=1, max_size=2, unique=True)):
        doc = load_cloudformation(ws / rel) if "/addons/" in rel else read_yaml(ws / rel)  # !Ref, !GetAtt
        text = to_yaml(mutate(doc if isinstance(doc, dict) else {"x": doc}, data, rounds=3))
        (ws / rel).write_text(TEXT_MUTATIONS[data.draw(st.sampled_from(sorted(TEXT_MUTATIONS)))](text))
    out = root / "platform.yaml"
    out.unlink(missing_ok=True)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["import-copilot", str(ws), "--out", str(out)])  # an exception here fails the test
    lines = err.getvalue().splitlines()
    assert code in (0, 1, 2) and "Traceback" not in err.getvalue()
    if code == 2:
        assert not out.exists() and lines[-1] == "Nothing was written."
        assert lines[0].startswith(tuple(f"keel import-copilot: {at}" for at in ("copilot/", out, ws))), lines
    else:
        load_platform(out)


SLOW = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture]


@settings(max_examples=8, deadline=None, suppress_health_check=SLOW)
@given(st.data())
def test_a_mutated_workspace_imports_or_is_refused_with_its_place(tmp_path: Path, data: st.DataObject) -> None:
    mutated_workspace_imports_or_is_refused(data, tmp_path)


@pytest.mark.heavy
@settings(max_examples=400, deadline=None, suppress_health_check=SLOW)
@given(st.data())
def test_a_mutated_workspace_imports_or_is_refused_at_length(tmp_path: Path, data: st.DataObject) -> None:
    mutated_workspace_imports_or_is_refused(data, tmp_path)
