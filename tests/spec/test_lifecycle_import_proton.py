"""`keel import-proton` on a folder of Proton-format templates and specs written for these tests
(tests/spec/fixtures/proton_folder); AWS's own samples: tests/conformance/test_proton_import_samples.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.lifecycle.proton_import import ImportResult, import_proton, render_fragment
from keel.spec import load_platform
from keel.spec.registry import default_registry, load_registry
from tests.spec.lifecycle_helpers import FIXTURES, keel

FOLDER = FIXTURES / "proton_folder"
PROTON_REGISTRY = FIXTURES / "proton_registry"  # Keel's vpc-env 1.1 + a Lambda worker fixture


@pytest.fixture(scope="module")
def result() -> ImportResult:
    return import_proton(FOLDER, load_registry(PROTON_REGISTRY))


def matches(result: ImportResult) -> dict[str, tuple[str, str]]:
    return {m.proton.label: (m.keel.label if m.keel else "-", m.status) for m in result.matches}


def test_every_proton_template_version_is_found_with_its_kind(result: ImportResult) -> None:
    assert sorted((t.label, t.kind) for t in result.templates) == [
        ("campus-net:1", "environment"), ("ingest-fn:1", "service"), ("lab-net:1", "environment"),
        ("queue-env:1", "environment"), ("report-job:1", "service")]
    assert result.errors == []


def test_compatible_envs_files_are_read(result: ImportResult) -> None:
    by_label = {t.label: t for t in result.templates}
    assert by_label["ingest-fn:1"].compatible_environments == (("campus-net", 1),)
    assert by_label["report-job:1"].compatible_environments == ()


def test_each_proton_template_is_matched_by_shared_input_names(result: ImportResult) -> None:
    assert matches(result) == {
        "campus-net:1": ("vpc-env@1.1", "partial"), "lab-net:1": ("vpc-env@1.1", "partial"),
        "queue-env:1": ("-", "no match"), "ingest-fn:1": ("worker-svc@1.0", "partial"),
        "report-job:1": ("-", "no match")}


def test_differing_inputs_are_named_with_what_differs(result: ImportResult) -> None:
    campus = next(m for m in result.matches if m.proton.label == "campus-net:1")
    breaking = {c.render() for c in campus.changes if c.breaking}
    assert 'spec.vpc_cidr: new format "ipv4-cidr" [breaking]' in breaking
    assert ('spec.private_subnet_one_cidr: default "10.80.0.0/20" removed: specs that omit it get different '
            "resources [breaking]") in breaking
    assert campus.proton_only == ("spec.campus_code",)
    ingest = next(m for m in result.matches if m.proton.label == "ingest-fn:1")
    assert 'spec.lambda_memory: type narrowed from "number" to "integer" [breaking]' in \
        {c.render() for c in ingest.changes}
    assert ingest.proton_only == ("spec.batch_window_seconds",)


def test_specs_that_validate_are_mapped_with_proton_environment_names(result: ImportResult) -> None:
    """Environment names come from the service specs' instances on the compatible environment template."""
    assert result.mapped == [
        "environment-templates/campus-net/spec/spec.yaml -> environment campus-hq (vpc-env:1)",
        "environment-templates/campus-net/spec/spec.yaml -> environment campus-annex-old (vpc-env:1)",
        "service-templates/ingest-fn/spec/spec.yaml -> service ingest-fn (worker-svc:1, 2 instance(s))"]


def test_specs_that_do_not_fit_say_why(result: ImportResult) -> None:
    reasons = "\n".join(result.unmapped)
    assert ("environment-templates/lab-net/spec/spec.yaml as environment lab-net (vpc-env@1.1): "
            "environments[lab-net].spec.rack_count: unknown input") in reasons
    assert "service-templates/report-job/spec/spec.yaml: no Keel service template matches report-job:1" \
        in result.unmapped


def test_the_fragment_is_a_valid_platform(result: ImportResult, tmp_path: Path) -> None:
    fragment = tmp_path / "platform.yaml"
    fragment.write_text(render_fragment(result, FOLDER))
    model = load_platform(fragment, registry=load_registry(PROTON_REGISTRY))
    assert [e.name for e in model.environments] == ["campus-hq", "campus-annex-old"]
    assert [(i.service, i.name, i.environment) for i in model.instances] == [
        ("ingest-fn", "ingest-hq", "campus-hq"), ("ingest-fn", "ingest-annex", "campus-annex-old")]
    assert model.service("ingest-fn").pipeline.packaging_command == "zip -r ingest.zip src"


def test_the_fragment_keeps_the_proton_spec_values_and_names_its_sources(result: ImportResult) -> None:
    text = render_fragment(result, FOLDER)
    assert "  # from environment-templates/campus-net/spec/spec.yaml\n  - name: campus-hq\n    template: vpc-env:1\n" \
        "    spec:\n      vpc_cidr: 10.80.0.0/16\n      private_subnet_one_cidr: 10.80.0.0/20\n" in text


def test_keel_registry_maps_the_campus_network(tmp_path: Path) -> None:
    result = import_proton(FOLDER, default_registry())
    assert matches(result)["campus-net:1"] == ("vpc-env@1.3", "partial")
    assert "environment-templates/campus-net/spec/spec.yaml -> environment campus-hq (vpc-env:1)" in result.mapped


def test_cli_writes_the_fragment_and_reports(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "fragment.yaml"
    run = keel(capsys, "import-proton", str(FOLDER), "--registry", str(PROTON_REGISTRY), "--out", str(out))
    assert run.code == 0
    assert run.out.splitlines()[0].split() == ["proton", "template", "kind", "folder", "keel", "template", "match",
                                               "inputs", "shared"]
    assert run.out.rstrip().endswith(f"Wrote {out} (3 spec(s) mapped).")
    assert out.read_text().startswith(f"# Written by `keel import-proton {FOLDER}`")


def test_cli_exits_2_on_a_folder_without_proton_templates(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    run = keel(capsys, "import-proton", str(tmp_path))
    assert (run.code, run.err.strip()) == (
        2, f"keel import-proton: no Proton template (<name>/v<N>/schema/schema.yaml) under {tmp_path}")
