"""The default platform as a whole: stacks, compliance, snapshots, cfn-lint."""

from __future__ import annotations

import json

import pytest

from keel.cdk_context import ROOT
from tests.infra.conftest import Synthesized, cfn_lint, mask_hashes, open_findings, synthesize


def test_one_stack_per_environment_and_per_service_instance(platform: Synthesized) -> None:
    assert sorted(platform.templates) == sorted([f"keel-{e.name}" for e in platform.model.environments]
                                                + [f"keel-{i.service}-{i.name}" for i in platform.model.instances])


def test_no_unacknowledged_compliance_findings(platform: Synthesized) -> None:
    assert open_findings(platform.outdir) == []
    # the synth itself raises on any unacknowledged error; reaching here means it passed


def test_stacks_carry_account_region_and_need_no_lookups(platform: Synthesized) -> None:
    manifest = json.loads((platform.outdir / "manifest.json").read_text())
    for env in platform.model.environments:
        artifact = manifest["artifacts"][env.stack_name]
        assert artifact["environment"].endswith(f"/{env.region}")
        assert "missing" not in json.dumps(artifact.get("metadata", {})).lower()
    assert not (ROOT / "cdk.context.json").exists() or json.loads((ROOT / "cdk.context.json").read_text()) == {}


def test_every_taggable_resource_has_keel_tags(platform: Synthesized) -> None:
    owners = {e.stack_name: (e.name, e.template.label, None) for e in platform.model.environments}
    owners |= {i.stack_name: (i.environment, i.template.label, i.service) for i in platform.model.instances}
    for stack, template in platform.templates.items():
        env, label, service = owners[stack]
        for logical_id, resource in template.to_json()["Resources"].items():
            tags = resource.get("Properties", {}).get("Tags")
            if isinstance(tags, list) and tags and isinstance(tags[0], dict) and "Key" in tags[0]:
                keys = {t["Key"]: t["Value"] for t in tags}
                assert keys.get("keel:environment") == env, logical_id
                assert keys.get("keel:template") == label, logical_id
                assert keys.get("keel:service") == service, logical_id
                assert keys.get("cost-center") == "platform", logical_id


def test_templates_match_snapshots(platform: Synthesized, snapshot) -> None:  # type: ignore[no-untyped-def]
    for stack in sorted(platform.templates):
        assert mask_hashes(platform.json(stack)) == snapshot(name=stack)


def test_cfn_lint_finds_nothing(platform: Synthesized) -> None:
    result = cfn_lint(platform.outdir)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_cloudformation_validation_passes_on_every_template(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """CDK's built-in CloudFormation validation, on as in `make synth` (the other tests turn it off)."""
    synthesized = synthesize(ROOT / "platform.yaml", tmp_path, validation=True)
    report = json.loads((tmp_path / "validation-report.json").read_text())
    plugins = {p["pluginName"]: p for p in report["pluginReports"]}
    assert plugins["CloudFormation Validate"]["conclusion"] == "success"
    assert synthesized.templates


def test_constructs_is_the_installed_library() -> None:
    """A top-level constructs/ package would shadow the library aws-cdk-lib imports (aws-cdk#19301)."""
    import constructs

    assert "site-packages" in (constructs.__file__ or "")
    assert hasattr(constructs, "Construct")


def test_every_acknowledgement_has_a_specific_reason(platform: Synthesized) -> None:
    from keel.report import acknowledged_rules

    manifest = json.loads((platform.outdir / "manifest.json").read_text())
    for name, artifact in manifest["artifacts"].items():
        if artifact.get("type") == "aws:cloudformation:stack":
            for rule, reason in acknowledged_rules(platform.outdir, artifact).items():
                assert len(reason) >= 30, f"{name}: {rule} needs a specific reason, got {reason!r}"


def test_summary_report_lists_each_stack_with_its_template(platform: Synthesized) -> None:
    from keel.report import render_report, stack_rows

    rows = {r.stack: r for r in stack_rows(platform.outdir)}
    assert rows["keel-dev"].template == "vpc-env@1.2"
    assert rows["keel-dev"].resources == len(platform.json("keel-dev")["Resources"])
    assert all(r.findings == 0 for r in rows.values())
    text, clean = render_report(platform.outdir)
    assert clean and "0 unacknowledged findings" in text


def test_report_says_the_eks_anywhere_documents_were_not_checked_without_crds(platform: Synthesized) -> None:
    from keel.report import render_report

    text, _ = render_report(platform.outdir)
    assert text.splitlines()[-1] == "EKS Anywhere documents: not checked against CRDs (give -c keel:eksa-crds=DIR)"
