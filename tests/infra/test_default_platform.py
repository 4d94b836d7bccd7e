"""The default platform as a whole: stacks, compliance, snapshots, cfn-lint."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from keel.cdk_context import ROOT
from tests.infra.conftest import Synthesized, cfn_lint, environment_read, mask_hashes, open_findings, synthesize

pytestmark = pytest.mark.early  # the default platform synthesized with cdk-nag on; cfn-lint under heavy


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


@pytest.mark.heavy  # ~16 s of CPU, the longest test of make test: make conformance (CI runs both)
def test_cfn_lint_finds_nothing(platform: Synthesized) -> None:
    result = cfn_lint(platform.outdir)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.heavy  # a whole second synth (two, for the diff): make conformance
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
    assert rows["keel-dev"].template == "vpc-env@1.3"
    assert rows["keel-dev"].resources == len(platform.json("keel-dev")["Resources"])
    assert all(r.findings == 0 for r in rows.values())
    text, clean = render_report(platform.outdir)
    assert clean and "0 unacknowledged findings" in text


def test_report_says_the_eks_anywhere_documents_were_not_checked_without_crds(platform: Synthesized) -> None:
    from keel.report import render_report

    text, _ = render_report(platform.outdir)
    assert text.splitlines()[-1] == "EKS Anywhere documents: not checked against CRDs (give -c keel:eksa-crds=DIR)"
# --- issue 13: alarms that notify, the widened compliance gate, checkov's Metadata ---------------------
def test_every_alarm_notifies_the_environment_topic(platform: Synthesized) -> None:
    alarms = {(stack, lid): a["Properties"] for stack, t in platform.templates.items()
              for lid, a in t.find_resources("AWS::CloudWatch::Alarm").items()}
    health = {key: props for key, props in alarms.items()
              if "TaskCountTarget" not in json.dumps(props["AlarmActions"])}
    assert sorted(stack for stack, _ in health) == ["keel-invoicer-invoicer-staging", "keel-web-web-staging",
                                                    "keel-web-web-staging"]
    for (stack, lid), props in alarms.items():
        assert props.get("AlarmActions"), f"{stack}/{lid} has no action"
    for (stack, lid), props in health.items():  # the rest are step-scaling alarms: their action scales
        actions = [environment_read(platform.json(stack), a) for a in props["AlarmActions"]]
        assert actions == ["/keel/staging/ecs/events-topic-arn"], f"{stack}/{lid} notifies nobody: {actions}"


def test_the_environment_key_lets_cloudwatch_alarms_publish_to_its_topic(platform: Synthesized) -> None:
    key = next(iter(platform.templates["keel-staging"].find_resources("AWS::KMS::Key").values()))
    statements = {s.get("Sid"): s for s in key["Properties"]["KeyPolicy"]["Statement"]}
    alarms = statements["AllowCloudWatchAlarmsOfThisAccount"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert "aws:SourceAccount" in alarms["Condition"]["StringEquals"]


def test_nist_800_53_r5_findings_are_at_most_15_open(platform: Synthesized) -> None:
    from tests.infra.conftest import report_findings

    assert len(report_findings(platform.outdir)) <= 15, report_findings(platform.outdir)


def test_report_json_gives_stacks_and_per_pack_counts(platform: Synthesized) -> None:
    result = subprocess.run([sys.executable, "-m", "keel", "report", str(platform.outdir), "--json"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    stacks = {s["name"]: s for s in data["stacks"]}
    assert stacks["keel-dev"]["template"] == "vpc-env@1.3"
    assert stacks["keel-dev"]["resources"] == len(platform.json("keel-dev")["Resources"])
    assert stacks["keel-dev"]["bytes"] == (platform.outdir / "keel-dev.template.json").stat().st_size
    assert set(data["findings"]) == {"AwsSolutions", "Serverless", "NIST.800.53.R5"}
    assert data["findings"]["AwsSolutions"]["open"] == 0 and data["findings"]["AwsSolutions"]["gate"]
    nist = data["findings"]["NIST.800.53.R5"]
    assert not nist["gate"] and nist["open"] <= 15 and nist["acknowledged"] > 0


def test_summary_table_counts_nist_findings_per_stack(platform: Synthesized) -> None:
    from keel.report import render_report

    text, clean = render_report(platform.outdir)
    header = text.splitlines()[1] if not text.splitlines()[0].strip() else text.splitlines()[0]
    assert "NIST R5 open" in header and clean
    assert "NIST.800.53.R5" in text and "(report only)" in text


def test_checkov_skips_sit_in_the_resource_metadata_with_reasons(platform: Synthesized) -> None:
    skips = [(stack, lid, s) for stack in platform.templates for lid, r in platform.json(stack)["Resources"].items()
             for s in r.get("Metadata", {}).get("checkov", {}).get("skip", [])]
    assert skips
    for stack, lid, skip in skips:
        assert skip["id"].startswith("CKV_AWS_") and len(skip["comment"]) >= 40, (stack, lid, skip)


def test_staging_web_acl_is_on_by_the_spec(platform: Synthesized) -> None:
    platform.templates["keel-staging"].resource_count_is("AWS::WAFv2::WebACL", 1)
    platform.templates["keel-prod"].resource_count_is("AWS::WAFv2::WebACL", 0)  # vpc-env: no load balancer


def test_public_subnets_do_not_auto_assign_public_addresses(platform: Synthesized) -> None:
    for stack in ("keel-dev", "keel-prod", "keel-staging", "keel-edge"):
        subnets = platform.templates[stack].find_resources("AWS::EC2::Subnet")
        assert subnets and all(s["Properties"].get("MapPublicIpOnLaunch") is not True for s in subnets.values())
