"""app.py's backstop: a spec-named file that breaks between validation and build is exit 2, no traceback."""

from __future__ import annotations

import importlib.util
import json
from typing import Any

import pytest

from keel.cdk_context import ROOT
from keel.spec.errors import SourceError


def load_app() -> Any:
    spec = importlib.util.spec_from_file_location("keel_app_entry", ROOT / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LAPTOP = """
environments:
  - name: laptop
    template: eks-env:1
    region: eu-west-1
    availability_zones: [eu-west-1a, eu-west-1b]
    spec:
      capacity: fargate
      anywhere: {enabled: true, provider: docker, node_network: 172.18.0.0/16}
"""


def test_source_error_during_build_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                            tmp_path: Any) -> None:
    import keel.stacks.app

    def broken(*args: Any, **kwargs: Any) -> None:
        raise SourceError("platform.yaml: services[x].pipeline.code_dir: /gone is not a directory")

    monkeypatch.setattr(keel.stacks.app, "build", broken)
    monkeypatch.setenv("KEEL_PLATFORM", str(ROOT / "platform.yaml"))
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path / "out"))
    assert load_app().main() == 2
    err = capsys.readouterr().err
    assert "code_dir: /gone is not a directory" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_eks_anywhere_document_breaking_the_crds_exits_2_before_writing(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    """Only the Cluster CRD is given: the datacenter and AWSIamConfig kinds it cannot find are the failure."""
    import shutil

    from tests.eksa.conftest import CRD_FIXTURES

    crds = tmp_path / "crds"
    crds.mkdir()
    shutil.copy(CRD_FIXTURES / "clusters.yaml", crds)
    (tmp_path / "platform.yaml").write_text(LAPTOP)
    monkeypatch.setenv("KEEL_PLATFORM", str(tmp_path / "platform.yaml"))
    monkeypatch.setenv("CDK_CONTEXT_JSON", json.dumps({"keel:eksa-crds": str(crds)}))
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path / "out"))
    assert load_app().main() == 2
    # jsii's deprecation warnings: a "[WARNING]" line and its indented continuation lines
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith(("[WARNING]", " "))]
    api = "anywhere.eks.amazonaws.com/v1alpha1"
    assert err == [
        f"keel-laptop.eks-anywhere-cluster.yaml: DockerDatacenterConfig/laptop-anywhere: no served CRD for {api} "
        "DockerDatacenterConfig",
        f"keel-laptop.eks-anywhere-cluster.yaml: AWSIamConfig/laptop-anywhere-aws-iam: no served CRD for {api} "
        "AWSIamConfig",
        f"2 problem(s) against the EKS Anywhere CRDs in {crds}; nothing was synthesized."]
    assert not (tmp_path / "out").exists()


def test_a_crd_folder_that_is_not_one_exits_2(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    (tmp_path / "platform.yaml").write_text(LAPTOP)
    monkeypatch.setenv("KEEL_PLATFORM", str(tmp_path / "platform.yaml"))
    monkeypatch.delenv("CDK_CONTEXT_JSON", raising=False)
    monkeypatch.setenv("KEEL_EKSA_CRDS", str(tmp_path / "missing"))
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path / "out"))
    assert load_app().main() == 2
    assert capsys.readouterr().err == (f"keel:eksa-crds: {tmp_path / 'missing'}: not a folder (expected a folder of "
                                       "CustomResourceDefinition YAML files)\n1 problem; nothing was synthesized.\n")
    assert not (tmp_path / "out").exists()


def test_context_key_comes_before_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEEL_EKSA_CRDS", "from-env")
    app = load_app()
    assert app.eksa_crd_folder({"keel:eksa-crds": "from-context"}) == "from-context"
    assert app.eksa_crd_folder({}) == "from-env"
    monkeypatch.delenv("KEEL_EKSA_CRDS")
    assert app.eksa_crd_folder({}) is None
