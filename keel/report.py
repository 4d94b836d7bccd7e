"""The synth summary: one row per stack from cdk.out (template, resources, compliance findings)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StackRow:
    stack: str
    template: str
    resources: int
    size_kb: float
    findings: int
    acknowledged: int


def findings_by_stack(outdir: Path) -> tuple[Counter[str], Counter[str], list[str]]:
    """(unacknowledged, acknowledged, messages) from validation-report.json, counted per stack."""
    report_file = outdir / "validation-report.json"
    open_, acked = Counter[str](), Counter[str]()
    messages: list[str] = []
    if not report_file.exists():
        return open_, acked, messages
    report = json.loads(report_file.read_text())
    for plugin in report.get("pluginReports", []):
        for key, counter in (("violations", open_), ("suppressedViolations", acked)):
            for violation in plugin.get(key, []):
                for construct in violation.get("violatingConstructs", []):
                    stack = construct.get("constructPath", "?").split("/", 1)[0]
                    counter[stack] += 1
                    if key == "violations" and violation.get("severity") == "error":
                        messages.append(f"{construct.get('constructPath')}: {violation['ruleName']} "
                                        f"{violation.get('description', '')}")
    return open_, acked, messages


def acknowledged_rules(outdir: Path, artifact: dict) -> dict[str, str]:  # type: ignore[type-arg]
    """{construct path::rule: reason} from the stack's metadata: every acknowledgement carries its reason."""
    out: dict[str, str] = {}
    metadata_file = artifact.get("properties", {}).get("metadataFile") or ""
    candidates = [outdir / metadata_file] if metadata_file else []
    candidates.append(outdir / f"{artifact['properties']['templateFile'].removesuffix('.template.json')}.metadata.json")
    for path in candidates:
        if path.is_file():
            for construct, entries in json.loads(path.read_text()).items():
                for entry in entries:
                    if entry.get("type") == "aws:cdk:acknowledged-rules":
                        for rule, reason in entry.get("data", {}).items():
                            out[f"{construct}::{rule}"] = reason
            break
    else:
        for construct, entries in (artifact.get("metadata") or {}).items():
            for entry in entries:
                if entry.get("type") == "aws:cdk:acknowledged-rules":
                    for rule, reason in entry.get("data", {}).items():
                        out[f"{construct}::{rule}"] = reason
    return out


def stack_rows(outdir: Path) -> list[StackRow]:
    manifest = json.loads((outdir / "manifest.json").read_text())
    open_, _, _ = findings_by_stack(outdir)
    rows = []
    for name, artifact in manifest["artifacts"].items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        template_file = outdir / artifact["properties"]["templateFile"]
        template = json.loads(template_file.read_text())
        tags = {t["Key"]: t["Value"] for t in artifact["properties"].get("tags", [])} \
            if isinstance(artifact["properties"].get("tags"), list) else artifact["properties"].get("tags") or {}
        rows.append(StackRow(
            stack=name, template=tags.get("keel:template", "-"),
            resources=len(template.get("Resources", {})),
            size_kb=round(template_file.stat().st_size / 1024, 1),
            findings=open_.get(name, 0), acknowledged=len(acknowledged_rules(outdir, artifact))))
    return rows


def eks_anywhere_line(outdir: Path) -> str | None:
    """Whether the EKS Anywhere documents in cdk.out were checked against CRDs at synth time (None: there
    are none). The synth records a check in `<stack>.eks-anywhere-crd-check.json`; no record, no check."""
    files = sorted(p for p in outdir.rglob("*.eks-anywhere-*.yaml"))
    if not files:
        return None
    checked: dict[Path, int] = {}
    folders: set[str] = set()
    for record in outdir.rglob("*.eks-anywhere-crd-check.json"):
        data = json.loads(record.read_text())
        folders.add(str(data.get("crds")))
        checked |= {record.parent / name: count for name, count in data.get("documents", {}).items()}
    unchecked = [p for p in files if p not in checked]
    if len(unchecked) == len(files):
        return "EKS Anywhere documents: not checked against CRDs (give -c keel:eksa-crds=DIR)"
    line = (f"EKS Anywhere documents: {sum(checked.values())} in {len(checked)} file(s) checked against the CRDs "
            f"in {', '.join(sorted(folders))}")
    if unchecked:
        line += f"; not checked: {', '.join(p.name for p in unchecked)}"
    return line


def render_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def render_report(outdir: Path) -> tuple[str, bool]:
    """(text, clean): clean when no stack has an unacknowledged finding."""
    rows = stack_rows(outdir)
    _, _, messages = findings_by_stack(outdir)
    table = render_table(
        ["stack", "template", "resources", "size (KB)", "findings", "acknowledged"],
        [[r.stack, r.template, str(r.resources), f"{r.size_kb}", str(r.findings), str(r.acknowledged)]
         for r in rows])
    clean = not any(r.findings for r in rows) and not messages
    tail = [f"\n{len(messages)} unacknowledged finding(s):", *messages] if messages else \
        [f"\n{len(rows)} stack(s) in {outdir}; compliance: AwsSolutions + Serverless packs, 0 unacknowledged findings."]
    eksa = eks_anywhere_line(outdir)
    return table + "\n" + "\n".join([*tail, *([eksa] if eksa else [])]), clean
