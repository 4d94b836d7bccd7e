"""The synth summary: one row per stack from cdk.out (template, resources, compliance findings)."""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

#: cdk-nag packs that only report (keel.stacks.app runs them in report mode): their findings never fail
#: the synth, and `keel report` counts them in their own column.
REPORT_PACKS = ("NIST.800.53.R5",)
#: The mark keel.stacks.app puts on a gate finding of an included Proton template under `imported: report`.
IMPORTED = "keel:imported"


@dataclass(frozen=True)
class StackRow:
    stack: str
    template: str
    resources: int
    size_kb: float
    findings: int
    acknowledged: int
    bytes: int = 0
    report_findings: int = 0  # open findings of the report-only packs (NIST 800-53 R5)
    imported_findings: int = 0  # open gate findings of included Proton templates (compliance: imported: report)


@dataclass
class Findings:
    """validation-report.json, counted: per stack for the gate packs and the report packs, per pack overall."""

    open_: Counter[str] = field(default_factory=Counter)  # stack -> open gate-pack findings
    acked: Counter[str] = field(default_factory=Counter)  # stack -> acknowledged gate-pack findings
    report_open: Counter[str] = field(default_factory=Counter)  # stack -> open report-pack findings
    packs: dict[str, dict[str, int]] = field(default_factory=dict)  # pack -> {"open": n, "acknowledged": m}
    messages: list[str] = field(default_factory=list)  # unacknowledged gate errors, one line each
    # Proton-format template folders (issue 15): gate findings kept open by `compliance: {imported: report}`
    imported_open: Counter[str] = field(default_factory=Counter)
    imported: list[str] = field(default_factory=list)


def read_findings(outdir: Path) -> Findings:
    found = Findings()
    report_file = outdir / "validation-report.json"
    if not report_file.exists():
        return found
    for plugin in json.loads(report_file.read_text()).get("pluginReports", []):
        pack = str(plugin.get("pluginName", "?"))
        reporting = pack in REPORT_PACKS
        counts = found.packs.setdefault(pack, {"open": 0, "acknowledged": 0})
        for key, label in (("violations", "open"), ("suppressedViolations", "acknowledged")):
            for violation in plugin.get(key, []):
                for construct in violation.get("violatingConstructs", []):
                    stack = construct.get("constructPath", "?").split("/", 1)[0]
                    counts[label] += 1
                    if label == "open" and not reporting and (violation.get("ruleMetadata") or {}).get(IMPORTED):
                        found.imported_open[stack] += 1
                        found.imported.append(f"{construct.get('constructPath')}: {violation['ruleName']} "
                                              f"{violation.get('description', '')}")
                    elif label == "open":
                        (found.report_open if reporting else found.open_)[stack] += 1
                    elif not reporting:
                        found.acked[stack] += 1
                    if label == "open" and not reporting and violation.get("severity") == "error":
                        found.messages.append(f"{construct.get('constructPath')}: {violation['ruleName']} "
                                              f"{violation.get('description', '')}")
    return found


def findings_by_stack(outdir: Path) -> tuple[Counter[str], Counter[str], list[str]]:
    """(unacknowledged, acknowledged, messages) of the gate packs, counted per stack."""
    found = read_findings(outdir)
    return found.open_, found.acked, found.messages


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


def stack_rows(outdir: Path, found: Findings | None = None) -> list[StackRow]:
    manifest = json.loads((outdir / "manifest.json").read_text())
    found = found or read_findings(outdir)
    rows = []
    for name, artifact in manifest["artifacts"].items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        template_file = outdir / artifact["properties"]["templateFile"]
        template = json.loads(template_file.read_text())
        tags = {t["Key"]: t["Value"] for t in artifact["properties"].get("tags", [])} \
            if isinstance(artifact["properties"].get("tags"), list) else artifact["properties"].get("tags") or {}
        size = template_file.stat().st_size
        rows.append(StackRow(
            stack=name, template=tags.get("keel:template", "-"),
            resources=len(template.get("Resources", {})), size_kb=round(size / 1024, 1), bytes=size,
            findings=found.open_.get(name, 0), acknowledged=len(acknowledged_rules(outdir, artifact)),
            report_findings=found.report_open.get(name, 0), imported_findings=found.imported_open.get(name, 0)))
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


def _rich_text(table: Table) -> str:
    """The table as plain text (no colour codes, no terminal needed): the same in a pipe, a log or a test."""
    console = Console(width=200, record=True, file=io.StringIO(), color_system=None, force_terminal=False)
    console.print(table)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


def render_report(outdir: Path) -> tuple[str, bool]:
    """(text, clean): clean when no stack has an unacknowledged finding of a gate pack."""
    found = read_findings(outdir)
    rows = stack_rows(outdir, found)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for header, right in (("stack", False), ("template", False), ("resources", True), ("size (KB)", True),
                          ("findings", True), ("acknowledged", True), ("NIST R5 open", True)):
        table.add_column(header, justify="right" if right else "left", no_wrap=True)
    if found.imported_open:
        table.add_column("imported open", justify="right", no_wrap=True)
    for r in rows:
        table.add_row(r.stack, r.template, str(r.resources), f"{r.size_kb}", str(r.findings), str(r.acknowledged),
                      str(r.report_findings), *([str(r.imported_findings)] if found.imported_open else []))
    clean = not any(r.findings for r in rows) and not found.messages
    report_note = "; ".join(f"{pack} {c['open']} open, {c['acknowledged']} acknowledged (report only)"
                            for pack, c in found.packs.items() if pack in REPORT_PACKS)
    tail = [f"\n{len(found.messages)} unacknowledged finding(s):", *found.messages] if found.messages else \
        [f"\n{len(rows)} stack(s) in {outdir}; compliance: AwsSolutions + Serverless packs, 0 unacknowledged findings."]
    if report_note:
        tail.append(report_note + ".")
    if found.imported:
        tail += [f"{len(found.imported)} open finding(s) of included Proton templates (compliance: imported: report):",
                 *(f"  {line}" for line in found.imported)]
    tail += proton_adoption_lines(outdir)
    eksa = eks_anywhere_line(outdir)
    overridden = overrides_line(outdir)
    return _rich_text(table) + "\n" + "\n".join([*tail, *([eksa] if eksa else []),
                                                  *([overridden] if overridden else [])]), clean


def proton_adoption_lines(outdir: Path) -> list[str]:
    """Stacks that include a Proton-format template as it is: the first Keel deploy changes no resource but
    the tags Keel adds (`<stack>.proton-adoption.json`, written at synth)."""
    lines = []
    for record in sorted(outdir.rglob("*.proton-adoption.json")):
        data = json.loads(record.read_text())
        stack = record.name.removesuffix(".proton-adoption.json")
        tagged = data.get("tagged_resources", [])
        lines.append(f"{stack}: {data.get('resources', 0)} resources of {data.get('template')} kept as rendered "
                     f"(logical IDs, types, properties); Keel adds tags {', '.join(data.get('tags_added', []))} "
                     f"to {len(tagged)}: {', '.join(tagged) or '-'}"
                     + (f"; and publishes its Outputs as SSM parameters {', '.join(data['parameters_added'])}"
                        if data.get("parameters_added") else ""))
    return ["Proton templates included as they are:", *(f"  {line}" for line in lines)] if lines else []


def report_json(outdir: Path) -> tuple[dict[str, Any], bool]:
    """`keel report --json`: the stacks and, per pack, open and acknowledged findings; and clean as above."""
    found = read_findings(outdir)
    rows = stack_rows(outdir, found)
    clean = not any(r.findings for r in rows) and not found.messages
    return {
        "stacks": [{"name": r.stack, "template": r.template, "resources": r.resources, "bytes": r.bytes,
                    "imported_open": r.imported_findings}
                   for r in rows],
        "findings": {pack: {"open": c["open"], "acknowledged": c["acknowledged"],
                            "gate": pack not in REPORT_PACKS}
                     for pack, c in found.packs.items()},
    }, clean


# overrides (issue 17)
def overrides_by_stack(outdir: Path) -> dict[str, list[dict[str, str]]]:
    """{stack artifact id: the overrides its synth applied}, from `<stack>.overrides.json`."""
    suffix = ".overrides.json"
    return {p.name.removesuffix(suffix): json.loads(p.read_text()) for p in sorted(outdir.rglob(f"*{suffix}"))}


def overrides_line(outdir: Path) -> str | None:
    counts = {stack: len(entries) for stack, entries in overrides_by_stack(outdir).items() if entries}
    if not counts:
        return None
    return "Overrides: " + ", ".join(f"{stack} {n}" for stack, n in counts.items())


def resource_paths(outdir: Path, stack: str) -> list[tuple[str, str]] | None:
    """[(construct path inside the stack, CloudFormation type)] from tree.json; None: no such stack. An L2 whose
    resource is its `Resource` child is listed by its own path too (an override may name either)."""
    tree = json.loads((outdir / "tree.json").read_text()).get("tree", {})
    # Stacks sit under the app, or under a pipeline stage: the first Stack node of that id.
    root = next((n for n in _walk_tree(tree) if n.get("id") == stack
                 and n.get("constructInfo", {}).get("fqn") == "aws-cdk-lib.Stack"), None)
    if root is None:
        return None
    out: list[tuple[str, str]] = []
    prefix = root.get("path", stack) + "/"
    for node in _walk_tree(root):
        kind = node.get("attributes", {}).get("aws:cdk:cloudformation:type")
        if kind:
            path = node["path"].removeprefix(prefix)
            out.append((path, kind))
            while path.endswith("/Resource"):  # Components/Items/Resource/Resource: the L2, then the L3
                path = path.removesuffix("/Resource")
                out.append((path, kind))
    return sorted(set(out))


def _walk_tree(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = [node]
    for child in (node.get("children") or {}).values():
        found += _walk_tree(child)
    return found
