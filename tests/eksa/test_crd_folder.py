"""The user's CRD folder for the synth-time check: what is read, what is refused, what is checked; and what
`keel report` says about it. No aws_cdk import."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from keel.eksa import to_yaml
from keel.eksa.crds import CrdError, CrdProblems, check_stream, load_crd_folder, load_crds
from keel.report import eks_anywhere_line
from tests.eksa.conftest import CRD_FIXTURES

API = "anywhere.eks.amazonaws.com/v1alpha1"
DOCKER = [{"apiVersion": API, "kind": "DockerDatacenterConfig", "metadata": {"name": "laptop"}, "spec": {}},
          {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "default"},
           "spec": {"addresses": ["172.18.200.0/24"]}}]


def test_only_served_versions_of_custom_resource_definitions_are_read() -> None:
    crds = load_crds(CRD_FIXTURES)
    assert (API, "Cluster") in crds
    assert ("anywhere.eks.amazonaws.com/v1alpha0", "Cluster") not in crds  # served: false
    assert not any(kind == "ConfigMap" for _, kind in crds)  # notes.yaml is no CRD


def test_object_schemas_are_closed_unless_they_keep_unknown_fields() -> None:
    spec = load_crds(CRD_FIXTURES)[(API, "Cluster")].schema["properties"]["spec"]
    assert spec["additionalProperties"] is False
    assert "additionalProperties" not in spec["properties"]["clusterNetwork"]["properties"]["cniConfig"][
        "properties"]["cilium"]


def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CrdError) as info:
        load_crd_folder(tmp_path / "nope")
    assert str(info.value) == (f"{tmp_path / 'nope'}: not a folder (expected a folder of "
                               "CustomResourceDefinition YAML files)")


def test_a_folder_without_crds_is_a_clear_error(tmp_path: Path) -> None:
    shutil.copy(CRD_FIXTURES / "notes.yaml", tmp_path)
    with pytest.raises(CrdError, match="holds no served CustomResourceDefinition"):
        load_crd_folder(tmp_path)


@pytest.mark.parametrize(("text", "message"), [
    ("a: [unclosed", "cannot be read as YAML (ParserError)"),
    ("kind: CustomResourceDefinition\nspec: {group: x}\n", "not a CustomResourceDefinition Keel can read"),
])
def test_a_broken_crd_file_is_named(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(CrdError) as info:
        load_crds(tmp_path)
    assert str(info.value).startswith(f"{tmp_path / 'bad.yaml'}: {message}")


def test_only_documents_of_the_folders_api_groups_are_checked() -> None:
    count, problems = check_stream("keel-dev.eks-anywhere-cluster.yaml", to_yaml(DOCKER),
                                   load_crd_folder(CRD_FIXTURES))
    assert (count, problems) == (1, [])


def test_problems_name_the_assembly_file_the_document_and_the_field() -> None:
    bad = [{**DOCKER[0], "spec": {"region": "x"}}]
    count, problems = check_stream("keel-dev.eks-anywhere-cluster.yaml", to_yaml(bad), load_crd_folder(CRD_FIXTURES))
    assert (count, problems) == (1, [
        "keel-dev.eks-anywhere-cluster.yaml: DockerDatacenterConfig/laptop: spec: Additional properties are not "
        "allowed ('region' was unexpected)"])


def test_an_unknown_kind_of_a_known_group_is_a_problem() -> None:
    doc = {"apiVersion": API, "kind": "SnowDatacenterConfig", "metadata": {"name": "x"}, "spec": {}}
    _, problems = check_stream("f.yaml", to_yaml([doc]), load_crd_folder(CRD_FIXTURES))
    assert problems == [f"f.yaml: SnowDatacenterConfig/x: no served CRD for {API} SnowDatacenterConfig"]


def test_the_failure_message_says_nothing_was_synthesized() -> None:
    text = CrdProblems(Path("crds"), ["a.yaml: Cluster/x: spec: boom"]).render()
    assert text == ("a.yaml: Cluster/x: spec: boom\n"
                    "1 problem(s) against the EKS Anywhere CRDs in crds; nothing was synthesized.")


# -- keel report ---------------------------------------------------------------------------------------
def test_report_says_plainly_when_documents_were_not_checked(tmp_path: Path) -> None:
    (tmp_path / "keel-dev.eks-anywhere-cluster.yaml").write_text(to_yaml(DOCKER))
    assert eks_anywhere_line(tmp_path) == \
        "EKS Anywhere documents: not checked against CRDs (give -c keel:eksa-crds=DIR)"


def test_report_names_the_crd_folder_of_a_check(tmp_path: Path) -> None:
    (tmp_path / "keel-dev.eks-anywhere-cluster.yaml").write_text(to_yaml(DOCKER))
    (tmp_path / "keel-dev.eks-anywhere-crd-check.json").write_text(json.dumps(
        {"crds": "/opt/crds", "documents": {"keel-dev.eks-anywhere-cluster.yaml": 1}}))
    assert eks_anywhere_line(tmp_path) == \
        "EKS Anywhere documents: 1 in 1 file(s) checked against the CRDs in /opt/crds"


def test_report_lists_files_a_check_did_not_cover(tmp_path: Path) -> None:
    stage = tmp_path / "assembly-prod"
    stage.mkdir()
    (tmp_path / "keel-dev.eks-anywhere-cluster.yaml").write_text(to_yaml(DOCKER))
    (stage / "keel-prod.eks-anywhere-cluster.yaml").write_text(to_yaml(DOCKER))
    (tmp_path / "keel-dev.eks-anywhere-crd-check.json").write_text(json.dumps(
        {"crds": "crds", "documents": {"keel-dev.eks-anywhere-cluster.yaml": 1}}))
    assert eks_anywhere_line(tmp_path) == ("EKS Anywhere documents: 1 in 1 file(s) checked against the CRDs in "
                                           "crds; not checked: keel-prod.eks-anywhere-cluster.yaml")


def test_report_has_no_eks_anywhere_line_without_such_documents(tmp_path: Path) -> None:
    assert eks_anywhere_line(tmp_path) is None
