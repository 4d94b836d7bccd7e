"""`keel docs`: one Markdown page per template version, generated from the registry."""

from __future__ import annotations

from pathlib import Path

from keel.lifecycle.docs import render_docs
from keel.spec.registry import default_registry, load_registry
from tests.spec.lifecycle_helpers import REGISTRY, keel


def test_one_page_per_template_version_plus_an_index() -> None:
    registry = default_registry()
    assert sorted(render_docs(registry)) == sorted(
        ["index.md", *(f"{v.name}/{v.version}.md" for v in registry.all_versions())])


def test_page_lists_inputs_outputs_and_what_changed() -> None:
    page = render_docs(default_registry())["vpc-env/1.1.md"]
    assert page.startswith("# vpc-env 1.1\n\n*Environment template.* Superseded by 1.3")
    assert "| flow_log_max_aggregation_seconds | integer | - | one of 60\\|600 |" in page
    assert "- `spec.flow_log_max_aggregation_seconds`: new optional input (no default: nothing changes unless it " \
           "is set)" in page
    assert "| `vpc/id` | The VPC's ID |" in page


def test_a_superseded_version_says_so() -> None:
    page = render_docs(default_registry())["vpc-env/1.0.md"]
    assert "Superseded by 1.3 (pin `vpc-env:1.0` to stay on it)." in page


def test_service_pages_list_compatible_environments_and_environment_pages_their_services() -> None:
    pages = render_docs(load_registry(REGISTRY))
    assert "## Compatible environments\n\n- `net-env:1`\n- `net-env:2`\n" in pages["web-svc/1.1.md"]
    assert "## Service templates that run in it\n\n- [web-svc@1.1](../web-svc/1.1.md)\n- " \
           "[web-svc@2.0](../web-svc/2.0.md)\n" in pages["net-env/2.0.md"]


def test_usage_example_lists_required_inputs() -> None:
    page = render_docs(load_registry(REGISTRY))["net-env/2.0.md"]
    assert "    template: net-env:2\n    spec:\n      owner: ...  # required\n" in page


def test_cli_writes_pages_and_check_detects_drift(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    run = keel(capsys, "docs", "--out", str(tmp_path), "--registry", str(REGISTRY))
    assert (run.code, run.out.strip()) == (0, f"Wrote 7 page(s) to {tmp_path}/ (index.md and one page per template "
                                              "version).")
    assert keel(capsys, "docs", "--out", str(tmp_path), "--registry", str(REGISTRY), "--check").code == 0
    (tmp_path / "net-env" / "1.0.md").write_text("edited by hand\n")
    run = keel(capsys, "docs", "--out", str(tmp_path), "--registry", str(REGISTRY), "--check")
    assert run.code == 1
    assert run.err.splitlines() == [f"{tmp_path}/net-env/1.0.md: differs from the registry",
                                    f"1 page(s) out of date: run `keel docs --out {tmp_path}`"]
