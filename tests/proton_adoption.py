"""The adoption property of included Proton templates, resource by resource: the synthesized stack keeps the
rendered template's logical IDs, types and properties; only Keel's tags are added (and, in an environment, one
SSM parameter per Output: issue 20), and an environment output the rendered template read is read from that
parameter where the render had it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from keel.spec.proton import OUTPUT_PARAMETER

ENV_OUTPUT = "<environment output>"
# CfnInclude writes typed properties typed ("80" becomes 80, "true" true) and DependsOn as a sorted list: the
# values CloudFormation reads are the same, so both sides are compared in that one form.
_CROSS_STACK = ("Fn::ImportValue", "Fn::GetStackOutput")
_OUTPUT_REFERENCE = re.compile(r"\{\{resolve:ssm:/keel/[^/}]+/outputs/[A-Za-z0-9]+\}\}")


def _scalar(node: Any) -> Any:
    if isinstance(node, bool):
        return str(node).lower()
    if isinstance(node, (int, float)):
        return str(node)
    return node


def _depends_on(node: dict[str, Any]) -> dict[str, Any]:
    if "DependsOn" in node:
        value = node["DependsOn"]
        node["DependsOn"] = sorted([value] if isinstance(value, str) else value)
    return node


def _canonical_rendered(node: Any, pseudo: Mapping[str, Any]) -> Any:
    """`pseudo`: environment outputs whose value is a pseudo parameter (`!Ref AWS::Region`): CDK writes the
    consuming stack's own pseudo parameter for them (same account and region), not a cross-stack reference."""
    if isinstance(node, Mapping):
        if set(node) == {"Ref"} and str(node["Ref"]).startswith(OUTPUT_PARAMETER):
            return pseudo.get(str(node["Ref"])[len(OUTPUT_PARAMETER):], ENV_OUTPUT)
        return {k: _canonical_rendered(v, pseudo) for k, v in node.items()}
    if isinstance(node, list):
        return [_canonical_rendered(v, pseudo) for v in node]
    return _scalar(node)


def _canonical_synthesized(node: Any, reads: frozenset[str] = frozenset()) -> Any:
    """`reads`: the template's parameters that read an environment's published Output (issue 20); a dynamic
    reference to one (`{{resolve:ssm:/keel/<env>/outputs/<Name>}}`, how a Proton-format service reads them)
    stands for it too."""
    if isinstance(node, str) and _OUTPUT_REFERENCE.fullmatch(node):
        return ENV_OUTPUT
    if isinstance(node, Mapping):
        if len(node) == 1 and next(iter(node)) in _CROSS_STACK:
            return ENV_OUTPUT
        if set(node) == {"Ref"} and node["Ref"] in reads:
            return ENV_OUTPUT
        sub = node.get("Fn::Sub")
        if len(node) == 1 and isinstance(sub, list) and len(sub) == 2 and \
                all(_canonical_synthesized(v, reads) == ENV_OUTPUT for v in sub[1].values()):
            return {"Fn::Sub": sub[0]}  # the variables CfnInclude bound are the environment's outputs
        return {k: _canonical_synthesized(v, reads) for k, v in node.items()}
    if isinstance(node, list):
        return [_canonical_synthesized(v, reads) for v in node]
    return _scalar(node)


def _output_reads(synthesized: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(k for k, p in (synthesized.get("Parameters") or {}).items()
                     if p.get("Type") == "AWS::SSM::Parameter::Value<String>"
                     and "/outputs/" in str(p.get("Default", "")))


def _published_outputs(rendered: Mapping[str, Any], synthesized: Mapping[str, Any]) -> set[str]:
    """The SSM parameters Keel adds to an environment, one per Output of its template (issue 20)."""
    names = {f"/outputs/{name}" for name in rendered.get("Outputs") or {}}
    return {lid for lid, r in (synthesized.get("Resources") or {}).items() if r.get("Type") == "AWS::SSM::Parameter"
            and any(str(r.get("Properties", {}).get("Name", "")).endswith(n) for n in names)}


def _without_keel_tags(properties: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(properties)
    tags = out.get("Tags")
    if isinstance(tags, list):
        kept = [t for t in tags if not str(t.get("Key", "")).startswith("keel:")]
    elif isinstance(tags, Mapping):
        kept = {k: v for k, v in tags.items() if not str(k).startswith("keel:")}  # type: ignore[assignment]
    else:
        return out
    if kept:
        out["Tags"] = kept
    else:
        out.pop("Tags")
    return out


def adoption_differences(rendered: Mapping[str, Any], synthesized: Mapping[str, Any],
                         environment: Mapping[str, Any] | None = None) -> list[str]:
    """Every way the synthesized template's resources differ from the rendered ones, beyond Keel's tags.
    `environment`: the rendered environment template whose outputs a service template reads."""
    # Every environment output is read from its SSM parameter now, pseudo parameters too (issue 20).
    pseudo: dict[str, Any] = {}
    reads = _output_reads(synthesized)
    problems = []
    ours = synthesized.get("Resources", {})
    for lid, resource in rendered.get("Resources", {}).items():
        got = ours.get(lid)
        if got is None:
            problems.append(f"{lid}: missing from the synthesized template")
            continue
        if got.get("Type") != resource.get("Type"):
            problems.append(f"{lid}: type {got.get('Type')} instead of {resource.get('Type')}")
        want = _canonical_rendered(pseudo=pseudo, node=_depends_on({k: v for k, v in resource.items()
                                                                    if k not in ("Type", "Properties")}))
        have = _canonical_synthesized(_depends_on({k: v for k, v in got.items()
                                                   if k not in ("Type", "Properties", "Metadata")}), reads)
        if want != have:
            problems.append(f"{lid}: attributes {have} instead of {want}")
        want_props = _canonical_rendered(resource.get("Properties", {}), pseudo)
        have_props = _canonical_synthesized(_without_keel_tags(got.get("Properties", {})), reads)
        if want_props != have_props:
            keys = sorted(k for k in set(want_props) | set(have_props) if want_props.get(k) != have_props.get(k))
            problems.append(f"{lid}: properties differ in {keys}: {[have_props.get(k) for k in keys]} instead of "
                            f"{[want_props.get(k) for k in keys]}")
    extra = sorted(set(ours) - set(rendered.get("Resources", {})) - {"CDKMetadata"}
                   - _published_outputs(rendered, synthesized))
    if extra:
        problems.append(f"resources Keel added: {extra}")
    return problems
