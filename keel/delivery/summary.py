"""What `keel diff` prints: the gate's table for a terminal, a Markdown summary for a pull request, JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from keel.delivery.diff import StackDiff
from keel.delivery.gate import GateResult
from keel.delivery.security import SecurityChange, iam_changes, security_group_changes
from keel.report import render_table

_SIGN = {"add": "+", "remove": "-", "update": "~", "replace": "!"}
MAX_ROWS = 40  # per stack and section in Markdown: a PR comment stays readable
MAX_CHARS = 60_000


@dataclass(frozen=True)
class DiffReport:
    base: str
    head: str
    stacks: tuple[StackDiff, ...]
    gate: GateResult
    # Mermaid source of the environments that changed, the changed stacks highlighted (`keel diagram`)
    diagram: str | None = None
    # overrides (issue 17): {stack: logical IDs an `overrides:` entry touches}, marked in the listing
    overridden: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def is_overridden(self, stack: str, logical_id: str) -> bool:
        return logical_id in self.overridden.get(stack, frozenset())

    def iam(self, diff: StackDiff) -> list[SecurityChange]:
        return iam_changes(diff.changes)

    def security_groups(self, diff: StackDiff) -> list[SecurityChange]:
        return security_group_changes(diff.changes)

    @property
    def changed(self) -> list[StackDiff]:
        return [d for d in self.stacks if d.changed]


def render_text(report: DiffReport) -> str:
    lines = [f"keel diff {report.base} -> {report.head}"]
    rows = [[d.stack, d.status, str(d.count("add")), str(d.count("update")), str(d.count("remove")),
             str(d.count("replace")), str(len(report.iam(d))), str(len(report.security_groups(d))),
             str(len(d.asset_only))] for d in report.stacks]
    lines.append(render_table(["stack", "status", "added", "changed", "removed", "replaced", "iam", "sg rules",
                               "asset-only"], rows))
    for diff in report.changed:
        lines.append(f"\n{diff.stack} ({diff.status})")
        for change in diff.changes:
            detail = "; ".join(change.reasons) if change.reasons else ", ".join(change.properties)
            lines.append(f"  {_SIGN[change.action]} {change.logical_id} {change.type}"
                         + (f"  [{detail}]" if detail else "")
                         + ("  (overridden)" if report.is_overridden(diff.stack, change.logical_id) else ""))
    lines.append("")
    lines.append(render_gate(report.gate))
    return "\n".join(lines)


def render_gate(gate: GateResult) -> str:
    if not gate.findings:
        return "Destructive-change gate: passed (no stateful resource or stack is replaced or removed)."
    rows = [[f.stack, f.logical_id, f.type, f.action, "BLOCKED" if f.blocking else f"allowed ({f.allowed_by})",
             f.reason] for f in gate.findings]
    table = render_table(["stack", "resource", "type", "change", "decision", "why"], rows)
    if gate.passed:
        return f"{table}\n\nDestructive-change gate: passed ({len(gate.findings)} destructive change(s), all allowed)."
    return (f"{table}\n\nDestructive-change gate: FAILED: {len(gate.blocking)} destructive change(s) not allowed.\n"
            "Accept each deliberately with `keel diff --allow STACK/LOGICAL_ID` (or a resource type), or list it "
            "under delivery.allow_destructive in the platform spec.")


def render_markdown(report: DiffReport) -> str:
    gate = report.gate
    verdict = ("**Destructive-change gate: passed**" if gate.passed
               else f"**Destructive-change gate: FAILED** ({len(gate.blocking)} destructive change(s) not allowed)")
    out = [f"## Keel diff `{report.base}` → `{report.head}`", "", verdict, ""]
    changed = report.changed
    if not changed:
        out.append("No infrastructure changes.")
    else:
        out += ["| stack | status | added | changed | removed | replaced | IAM | security groups |",
                "|---|---|---:|---:|---:|---:|---:|---:|"]
        for d in changed:
            out.append(f"| `{d.stack}` | {d.status} | {d.count('add')} | {d.count('update')} | {d.count('remove')} "
                       f"| {d.count('replace')} | {len(report.iam(d))} | {len(report.security_groups(d))} |")
    if gate.findings:
        out += ["", "### Destructive changes", "", "| stack | resource | type | change | decision | why |",
                "|---|---|---|---|---|---|"]
        out += [f"| `{f.stack}` | `{f.logical_id}` | `{f.type}` | {f.action} | "
                f"{'❌ blocked' if f.blocking else f'✅ allowed by `{f.allowed_by}`'} | {_cell(f.reason)} |"
                for f in gate.findings]
    for d in changed:
        out += ["", f"### `{d.stack}` ({d.status})", ""]
        out += _table(["", "resource", "type", "change"],
                      [[_SIGN[c.action], f"`{c.logical_id}`", f"`{c.type}`",
                        _describe(c.action, c.reasons, c.properties)]
                       for c in d.changes])
        iam, sgs = report.iam(d), report.security_groups(d)
        if iam:
            out += ["", "**IAM**", ""]
            out += _table(["", "resource", "statement"], [[s.sign, f"`{s.logical_id}`", _cell(s.what)] for s in iam])
        if sgs:
            out += ["", "**Security groups**", ""]
            out += _table(["", "resource", "rule"], [[s.sign, f"`{s.logical_id}`", _cell(s.what)] for s in sgs])
        outputs = [f"{k} {', '.join(f'`{n}`' for n in v)}" for k, v in d.outputs.items() if v]
        if outputs:
            out += ["", "Outputs: " + "; ".join(outputs)]
    if report.diagram and changed:
        out += ["", "### What changed, in the platform", "",
                "<sub>The environments with a changed stack; changed stacks are highlighted.</sub>", "",
                "```mermaid", report.diagram.rstrip("\n"), "```"]
    masked = sum(len(d.asset_only) for d in report.stacks)
    if masked:
        out += ["", f"<sub>{masked} resource(s) changed only by an asset hash (code or image): not listed.</sub>"]
    text = "\n".join(out) + "\n"
    if len(text) > MAX_CHARS:  # GitHub refuses comments over 65,536 characters
        cut = text.rfind("\n", 0, MAX_CHARS)
        text = text[:cut] + "\n\n… truncated: run `make diff` or read the JSON output for the rest.\n"
    return text


def _describe(action: str, reasons: Sequence[str], properties: Sequence[str]) -> str:
    if action == "replace":
        return "**replace**: " + _cell("; ".join(reasons))
    if action == "update":
        return _cell(", ".join(properties))
    return {"add": "added", "remove": "**removed**"}[action]


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(r) + " |" for r in rows[:MAX_ROWS]]
    if len(rows) > MAX_ROWS:
        lines.append(f"| | … {len(rows) - MAX_ROWS} more | " + " | " * (len(headers) - 2))
    return lines


def _cell(text: str) -> str:
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 300 else text[:297] + "..."


def to_json(report: DiffReport) -> dict[str, Any]:
    return {
        "base": report.base, "head": report.head, "passed": report.gate.passed,
        "stacks": [{
            "stack": d.stack, "status": d.status, "asset_only": list(d.asset_only), "outputs": dict(d.outputs),
            "changes": [{"logical_id": c.logical_id, "type": c.type, "action": c.action,
                         "properties": list(c.properties), "reasons": list(c.reasons), "retained": c.retained}
                        for c in d.changes],
            "iam": [{"logical_id": s.logical_id, "sign": s.sign, "what": s.what} for s in report.iam(d)],
            "security_groups": [{"logical_id": s.logical_id, "sign": s.sign, "what": s.what}
                                for s in report.security_groups(d)],
        } for d in report.stacks],
        "destructive": [{"stack": f.stack, "logical_id": f.logical_id, "type": f.type, "action": f.action,
                         "reason": f.reason, "allowed_by": f.allowed_by} for f in report.gate.findings],
    }
