"""The offline diff, the destructive-change gate and the summaries, on hand-written templates."""

from __future__ import annotations

from typing import Any

from keel.delivery.diff import StackDiff, diff_stack
from keel.delivery.gate import evaluate
from keel.delivery.security import iam_changes, security_group_changes
from keel.delivery.summary import DiffReport, render_markdown, render_text
from tests.delivery.fixtures import HASH_B, base_template, changed


def _diff(edit: Any) -> StackDiff:
    return diff_stack("keel-dev", base_template(), changed(edit))


def _actions(diff: StackDiff) -> dict[str, str]:
    return {c.logical_id: c.action for c in diff.changes}


def _report(*diffs: StackDiff, allow: tuple[str, ...] = ()) -> DiffReport:
    return DiffReport(base="main", head="working tree", stacks=diffs, gate=evaluate(diffs, allow))


def test_identical_templates_have_no_changes() -> None:
    diff = _diff(lambda r: None)
    assert diff.status == "unchanged" and diff.changes == ()


def test_an_added_resource_is_an_addition_and_passes_the_gate() -> None:
    diff = _diff(lambda r: r.update(Queue={"Type": "AWS::SQS::Queue", "Properties": {}}))
    assert _actions(diff) == {"Queue": "add"}
    assert evaluate([diff]).passed


def test_a_new_bucket_name_replaces_the_bucket_and_fails_the_gate() -> None:
    diff = _diff(lambda r: r["DataBucketE3889A50"]["Properties"].update(BucketName="shop-data-v2"))
    change = diff.changes[0]
    assert (change.logical_id, change.action, change.reasons) == ("DataBucketE3889A50", "replace", ("BucketName",))
    gate = evaluate([diff])
    assert not gate.passed
    assert [(f.logical_id, f.action) for f in gate.blocking] == [("DataBucketE3889A50", "replace")]


def test_a_replaced_retained_bucket_says_the_old_one_is_orphaned() -> None:
    diff = _diff(lambda r: r["DataBucketE3889A50"]["Properties"].update(BucketName="shop-data-v2"))
    assert "orphaned" in evaluate([diff]).findings[0].reason


def test_a_vpc_cidr_change_replaces_the_vpc_and_cascades_to_its_subnets_and_groups() -> None:
    diff = _diff(lambda r: r["Vpc8378EB38"]["Properties"].update(CidrBlock="10.1.0.0/16"))
    assert _actions(diff) == {"Vpc8378EB38": "replace", "VpcSubnetA": "replace", "AppSg": "replace"}
    subnet = next(c for c in diff.changes if c.logical_id == "VpcSubnetA")
    assert subnet.reasons == ("VpcId references replaced Vpc8378EB38",)
    blocked = {f.logical_id for f in evaluate([diff]).blocking}
    assert blocked == {"Vpc8378EB38", "VpcSubnetA"}  # a security group holds no data: reported, not gated


def test_an_in_place_update_of_a_stateful_resource_passes_the_gate() -> None:
    diff = _diff(lambda r: r["AppLogs"]["Properties"].update(RetentionInDays=90))
    assert _actions(diff) == {"AppLogs": "update"}
    assert diff.changes[0].properties == ("RetentionInDays",)
    assert evaluate([diff]).passed


def test_removing_a_log_group_fails_the_gate() -> None:
    diff = _diff(lambda r: r.pop("AppLogs"))
    assert _actions(diff) == {"AppLogs": "remove"}
    assert [f.type for f in evaluate([diff]).blocking] == ["AWS::Logs::LogGroup"]


def test_an_asset_hash_only_change_is_masked() -> None:
    def new_code(r: dict[str, Any]) -> None:
        r["Fn9270CBC0"]["Properties"]["Code"]["S3Key"] = f"{HASH_B}.zip"
        r["Fn9270CBC0"]["Metadata"]["aws:asset:path"] = f"asset.{HASH_B}"
    diff = _diff(new_code)
    assert diff.changes == () and diff.asset_only == ("Fn9270CBC0",)
    assert diff.status == "unchanged"


def test_cdk_path_metadata_is_not_a_change() -> None:
    diff = _diff(lambda r: r["Fn9270CBC0"]["Metadata"].update({"aws:cdk:path": "keel-dev/Other/Resource"}))
    assert diff.changes == () and diff.asset_only == ()


def test_a_removed_stack_fails_the_gate_as_a_whole() -> None:
    diff = diff_stack("keel-staging", base_template(), None)
    assert diff.status == "removed"
    finding = evaluate([diff]).findings[0]
    assert (finding.logical_id, finding.type, finding.action) == ("*", "AWS::CloudFormation::Stack", "remove stack")
    assert finding.reason == "stack deleted with 8 resource(s), 4 stateful"  # VPC, subnet, bucket, log group
    assert not finding.allowed_by


def test_an_added_stack_lists_every_resource_as_added() -> None:
    diff = diff_stack("keel-new", None, base_template())
    assert diff.status == "added" and {c.action for c in diff.changes} == {"add"}


def test_a_custom_resource_property_change_is_an_update() -> None:
    diff = _diff(lambda r: r["Settings"]["Properties"].update(Level=2))
    assert _actions(diff) == {"Settings": "update"}


def test_allow_list_accepts_by_type_logical_id_stack_path_and_wildcard() -> None:
    diff = _diff(lambda r: r["Vpc8378EB38"]["Properties"].update(CidrBlock="10.1.0.0/16"))
    assert evaluate([diff], ["AWS::EC2::VPC", "VpcSubnet*"]).passed
    assert evaluate([diff], ["keel-dev/Vpc*"]).passed
    assert evaluate([diff], ["AWS::EC2::*"]).passed
    assert not evaluate([diff], ["keel-prod/Vpc*"]).passed


def test_allow_list_accepts_a_removed_stack_by_name() -> None:
    diff = diff_stack("keel-staging", base_template(), None)
    assert evaluate([diff], ["keel-staging"]).passed
    assert not evaluate([diff], ["keel-dev"]).passed


def test_iam_statement_changes_are_listed_statement_by_statement() -> None:
    diff = _diff(lambda r: r["FnRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": {"Fn::Join": ["", [
            {"Fn::GetAtt": ["DataBucketE3889A50", "Arn"]}, "/*"]]}}))
    assert [(s.sign, s.what) for s in iam_changes(diff.changes)] == [
        ("+", "Allow s3:PutObject on ${DataBucketE3889A50.Arn}/*")]


def test_trust_policy_changes_show_the_principal() -> None:
    diff = _diff(lambda r: r["FnRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0].update(
        Principal={"AWS": "arn:aws:iam::999999999999:root"}))
    signs = sorted((s.sign, s.what) for s in iam_changes(diff.changes))
    assert signs == [("+", "Allow sts:AssumeRole to AWS:arn:aws:iam::999999999999:root"),
                     ("-", "Allow sts:AssumeRole to Service:lambda.amazonaws.com")]


def test_security_group_rule_changes_are_listed_rule_by_rule() -> None:
    diff = _diff(lambda r: r["AppSg"]["Properties"]["SecurityGroupIngress"].append(
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}))
    assert [(s.sign, s.what) for s in security_group_changes(diff.changes)] == [("+", "in tcp 22 from 0.0.0.0/0")]


def test_markdown_summary_has_counts_destructive_table_iam_and_security_groups() -> None:
    def edit(r: dict[str, Any]) -> None:
        r["DataBucketE3889A50"]["Properties"]["BucketName"] = "shop-data-v2"
        r["Queue"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
        r["FnRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]["Action"] = "s3:*"
        r["AppSg"]["Properties"]["SecurityGroupIngress"][0]["CidrIp"] = "0.0.0.0/0"
    text = render_markdown(_report(_diff(edit)))
    assert "**Destructive-change gate: FAILED** (1 destructive change(s) not allowed)" in text
    assert "| `keel-dev` | changed | 1 | 2 | 0 | 1 | 2 | 2 |" in text
    assert "| `keel-dev` | `DataBucketE3889A50` | `AWS::S3::Bucket` | replace | ❌ blocked |" in text
    assert "| + | `FnRole` | Allow s3:* on arn:aws:s3:::shop-data/* |" in text
    assert "| - | `AppSg` | in tcp 443 from 10.0.0.0/16 |" in text
    assert "| ! | `DataBucketE3889A50` | `AWS::S3::Bucket` | **replace**: BucketName |" in text


def test_markdown_summary_shows_who_allowed_a_destructive_change() -> None:
    diff = _diff(lambda r: r["DataBucketE3889A50"]["Properties"].update(BucketName="shop-data-v2"))
    text = render_markdown(_report(diff, allow=("AWS::S3::Bucket",)))
    assert "**Destructive-change gate: passed**" in text
    assert "✅ allowed by `AWS::S3::Bucket`" in text


def test_markdown_summary_without_changes_says_so() -> None:
    assert "No infrastructure changes." in render_markdown(_report(_diff(lambda r: None)))


def test_text_output_ends_with_the_gate_table_and_how_to_accept() -> None:
    diff = _diff(lambda r: r.pop("AppLogs"))
    text = render_text(_report(diff))
    assert "keel-dev  AppLogs   AWS::Logs::LogGroup  remove  BLOCKED" in text
    assert "Destructive-change gate: FAILED: 1 destructive change(s) not allowed." in text
    assert "--allow STACK/LOGICAL_ID" in text


def test_markdown_summary_stays_under_the_pull_request_comment_limit() -> None:
    diffs = tuple(diff_stack(f"keel-env{n}", base_template(), None) for n in range(400))
    text = render_markdown(_report(*diffs))
    assert len(text) < 65_536
    assert text.rstrip().endswith("read the JSON output for the rest.")


def test_markdown_summary_shows_the_diagram_of_what_changed() -> None:
    from dataclasses import replace

    from keel import diagram
    from keel.delivery.diff_command import _changed_diagram
    from keel.spec import load_platform
    from tests.spec.conftest import ROOT

    diff = _diff(lambda r: r.update(Queue={"Type": "AWS::SQS::Queue", "Properties": {}}))
    args = type("Args", (), {"platform": str(ROOT / "platform.yaml")})()
    mermaid = _changed_diagram(args, (diff,))  # type: ignore[arg-type]
    assert mermaid == diagram.render(load_platform(ROOT / "platform.yaml"), highlight={"keel-dev"}, only={"dev"})
    text = render_markdown(replace(_report(diff), diagram=mermaid))
    block = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert "subgraph env_dev" in block and "subgraph env_staging" not in block
    assert "class env_dev changed" in block


def test_markdown_summary_has_no_diagram_without_changes() -> None:
    from dataclasses import replace

    report = replace(_report(_diff(lambda r: None)), diagram="flowchart LR\n")
    assert "```mermaid" not in render_markdown(report)
