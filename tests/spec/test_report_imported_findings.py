"""`keel report` on stacks that include Proton templates (issue 15): findings kept open by
`compliance: {imported: report}` are counted and listed, and do not fail; the tags Keel adds are listed."""

from __future__ import annotations

import json
from pathlib import Path

from keel.report import read_findings, render_report


def _assembly(tmp_path: Path, *, imported: bool) -> Path:
    (tmp_path / "manifest.json").write_text(json.dumps({"artifacts": {"ShopOrdersMain": {
        "type": "aws:cloudformation:stack",
        "properties": {"templateFile": "ShopOrdersMain.template.json", "tags": {"keel:template": "shop-svc@1.0"}}}}}))
    (tmp_path / "ShopOrdersMain.template.json").write_text(json.dumps({"Resources": {"Queue": {}}}))
    violation = {"ruleName": "AwsSolutions-SQS3", "description": "no DLQ",
                 "severity": "warning" if imported else "error",
                 "violatingConstructs": [{"constructPath": "ShopOrdersMain/Template/Queue"}]}
    if imported:
        violation["ruleMetadata"] = {"keel:imported": "report"}
    (tmp_path / "validation-report.json").write_text(json.dumps({"pluginReports": [
        {"pluginName": "AwsSolutions", "violations": [violation], "suppressedViolations": []}]}))
    (tmp_path / "ShopOrdersMain.proton-adoption.json").write_text(json.dumps({
        "template": "templates/shop-svc/v1/instance_infrastructure/cloudformation.yaml", "resources": 1,
        "tags_added": ["keel:environment", "keel:template"], "tagged_resources": ["Queue"]}))
    return tmp_path


def test_imported_findings_are_listed_open_and_do_not_fail(tmp_path: Path) -> None:
    outdir = _assembly(tmp_path, imported=True)
    found = read_findings(outdir)
    assert found.imported_open["ShopOrdersMain"] == 1 and not found.open_ and not found.messages
    text, clean = render_report(outdir)
    assert clean
    assert "imported open" in text
    assert "1 open finding(s) of included Proton templates" in text
    assert "ShopOrdersMain/Template/Queue: AwsSolutions-SQS3 no DLQ" in text


def test_the_same_finding_without_the_platform_setting_fails(tmp_path: Path) -> None:
    text, clean = render_report(_assembly(tmp_path, imported=False))
    assert not clean and "imported open" not in text


def test_the_summary_lists_the_tags_keel_adds_to_an_adopted_stack(tmp_path: Path) -> None:
    text, _ = render_report(_assembly(tmp_path, imported=True))
    assert "ShopOrdersMain: 1 resources of templates/shop-svc/v1/instance_infrastructure/cloudformation.yaml kept " \
           "as rendered" in text
    assert "Keel adds tags keel:environment, keel:template to 1: Queue" in text
