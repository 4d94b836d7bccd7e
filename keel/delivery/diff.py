"""Compare two cloud assemblies stack by stack, resource by resource, without AWS.

The comparison is structural (parsed templates, not a tool's coloured text): a resource is added,
removed, updated in place, or replaced. Replacement comes from the CloudFormation schemas' create-only
properties (keel.delivery.schemas), a changed resource type, or a create-only property that references a
resource which is itself replaced (a new VPC means new subnets). Asset hashes are masked: a change that is
only a new asset hash (Lambda code, container image) is counted, not listed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, cast

from keel.delivery.assembly import StackTemplate
from keel.delivery.schemas import create_only_properties

Action = Literal["add", "remove", "update", "replace"]
_HASH = re.compile(r"[0-9a-f]{64}")
_SUB_REF = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")
# Metadata CDK writes for its own bookkeeping (construct paths, asset paths): never deployed state.
_CDK_METADATA = ("aws:cdk:", "aws:asset:")
_RETAINING = ("Retain", "RetainExceptOnCreate", "Snapshot")


T = TypeVar("T")


def mask_hashes(value: T) -> T:
    """Asset hashes (64 hex digits) replaced by a placeholder, recursively."""
    if isinstance(value, dict):
        return cast(T, {k: mask_hashes(v) for k, v in value.items()})
    if isinstance(value, list):
        return cast(T, [mask_hashes(v) for v in value])
    if isinstance(value, str):
        return cast(T, _HASH.sub("<asset-hash>", value))
    return value


def comparable(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A resource without CDK's bookkeeping metadata: what CloudFormation acts on."""
    out = dict(resource)
    meta = {k: v for k, v in (resource.get("Metadata") or {}).items() if not k.startswith(_CDK_METADATA)}
    out.pop("Metadata", None)
    if meta:
        out["Metadata"] = meta
    return out


@dataclass(frozen=True)
class ResourceChange:
    stack: str
    logical_id: str
    type: str
    action: Action
    properties: tuple[str, ...] = ()  # changed top-level properties (update / replace)
    reasons: tuple[str, ...] = ()  # why a replacement happens
    retained: bool = False  # the old resource's policy keeps it (orphaned, not deleted)
    old: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)
    new: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class StackDiff:
    stack: str
    status: Literal["added", "removed", "changed", "unchanged"]
    changes: tuple[ResourceChange, ...]
    asset_only: tuple[str, ...] = ()  # logical ids whose only difference was an asset hash
    outputs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # added/removed/changed names

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action == action)

    @property
    def changed(self) -> bool:
        return self.status != "unchanged"


def diff_assemblies(old: Mapping[str, StackTemplate], new: Mapping[str, StackTemplate]) -> list[StackDiff]:
    """Every stack of either assembly, in a stable order (new stacks' order, then removed ones)."""
    names = [*new, *(n for n in old if n not in new)]
    return [diff_stack(name, old[name].template if name in old else None,
                       new[name].template if name in new else None) for name in names]


def diff_stack(name: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> StackDiff:
    old_resources: Mapping[str, Any] = (old or {}).get("Resources") or {}
    new_resources: Mapping[str, Any] = (new or {}).get("Resources") or {}
    changes: list[ResourceChange] = []
    asset_only: list[str] = []
    updated: dict[str, tuple[Mapping[str, Any], Mapping[str, Any], list[str]]] = {}
    common: dict[str, tuple[Mapping[str, Any], Mapping[str, Any]]] = {}
    for logical_id in [*new_resources, *(r for r in old_resources if r not in new_resources)]:
        before, after = old_resources.get(logical_id), new_resources.get(logical_id)
        if before is None:
            assert after is not None
            changes.append(ResourceChange(name, logical_id, after["Type"], "add", new=after))
        elif after is None:
            changes.append(ResourceChange(name, logical_id, before["Type"], "remove",
                                          retained=_retained(before, "DeletionPolicy"), old=before))
        else:
            common[logical_id] = (before, after)
            a, b = comparable(before), comparable(after)
            if a == b:
                continue
            if mask_hashes(a) == mask_hashes(b):
                asset_only.append(logical_id)
                continue
            updated[logical_id] = (before, after, _changed_properties(a, b))
    replaced = _replacements(common, set(updated))
    for logical_id, (before, after) in common.items():
        reasons = replaced.get(logical_id)
        if logical_id not in updated and not reasons:
            continue
        props = updated[logical_id][2] if logical_id in updated else []
        changes.append(ResourceChange(
            name, logical_id, after["Type"], "replace" if reasons else "update", properties=tuple(props),
            reasons=tuple(reasons or ()), retained=bool(reasons) and _retained(before, "UpdateReplacePolicy"),
            old=before, new=after))
    order = {lid: n for n, lid in enumerate([*new_resources, *old_resources])}
    changes.sort(key=lambda c: order[c.logical_id])
    outputs = _outputs((old or {}).get("Outputs") or {}, (new or {}).get("Outputs") or {})
    status: Literal["added", "removed", "changed", "unchanged"]
    if old is None:
        status = "added"
    elif new is None:
        status = "removed"
    else:
        status = "changed" if changes or any(outputs.values()) else "unchanged"
    return StackDiff(stack=name, status=status, changes=tuple(changes), asset_only=tuple(asset_only),
                     outputs=outputs)


def _retained(resource: Mapping[str, Any], policy: str) -> bool:
    return resource.get(policy) in _RETAINING


def _changed_properties(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Top-level property names that differ (masked), plus resource attributes such as DependsOn."""
    out = []
    old_props, new_props = before.get("Properties") or {}, after.get("Properties") or {}
    for key in sorted(set(old_props) | set(new_props)):
        if mask_hashes(old_props.get(key)) != mask_hashes(new_props.get(key)):
            out.append(key)
    for key in sorted((set(before) | set(after)) - {"Properties", "Type"}):
        if mask_hashes(before.get(key)) != mask_hashes(after.get(key)):
            out.append(f"({key})")
    return out


def _replacements(common: Mapping[str, tuple[Mapping[str, Any], Mapping[str, Any]]],
                  changed: set[str]) -> dict[str, list[str]]:
    """logical id -> reasons, iterated to a fixed point so replacements cascade through references
    (also into resources whose own template did not change: the subnets of a replaced VPC)."""
    replaced: dict[str, list[str]] = {}
    for logical_id, (before, after) in common.items():
        if logical_id not in changed:
            continue
        if before.get("Type") != after.get("Type"):
            replaced[logical_id] = [f"type {before.get('Type')} -> {after.get('Type')}"]
            continue
        reasons = [".".join(p) for p in _create_only(after["Type"])
                   if mask_hashes(_pointer(before, p)) != mask_hashes(_pointer(after, p))]
        if reasons:
            replaced[logical_id] = reasons
    grew = True
    while grew:
        grew = False
        for logical_id, (_, after) in common.items():
            if logical_id in replaced:
                continue
            for parts in _create_only(after["Type"]):
                hit = sorted(set(references(_pointer(after, parts))) & set(replaced))
                if hit:
                    replaced[logical_id] = [f"{'.'.join(parts)} references replaced {', '.join(hit)}"]
                    grew = True
                    break
    return replaced


def _create_only(resource_type: str) -> tuple[tuple[str, ...], ...]:
    return create_only_properties(resource_type) or ()


def _pointer(resource: Mapping[str, Any], parts: Sequence[str]) -> object:
    """The value at Properties/<parts>, `*` collecting over list items; None when absent."""
    values: list[Any] = [resource.get("Properties") or {}]
    for part in parts:
        nxt: list[Any] = []
        for value in values:
            if part == "*" and isinstance(value, list):
                nxt.extend(value)
            elif isinstance(value, Mapping) and part in value:
                nxt.append(value[part])
        values = nxt
    if not values:
        return None
    return values if "*" in parts else values[0]


def references(value: object) -> Iterator[str]:
    """Logical ids a value refers to through Ref, Fn::GetAtt or Fn::Sub."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str) and not inner.startswith("AWS::"):
                yield inner
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) and inner else str(inner).split(".")[0]
                yield str(target)
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                if isinstance(text, str):
                    yield from (m for m in _SUB_REF.findall(text) if not m.startswith("AWS"))
                yield from references(inner[1] if isinstance(inner, list) and len(inner) > 1 else None)
            else:
                yield from references(inner)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def _outputs(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    return {
        "added": tuple(k for k in new if k not in old),
        "removed": tuple(k for k in old if k not in new),
        "changed": tuple(k for k in new if k in old and mask_hashes(old[k]) != mask_hashes(new[k])),
    }


def render(value: object) -> str:
    """A CloudFormation value for a human: intrinsics as ${Logical.Attr}, lists comma-separated."""
    if isinstance(value, Mapping) and len(value) == 1:
        (key, inner), = value.items()
        if key == "Ref":
            return f"${{{inner}}}"
        if key == "Fn::GetAtt":
            return "${" + (".".join(map(str, inner)) if isinstance(inner, list) else str(inner)) + "}"
        if key == "Fn::Join" and isinstance(inner, list) and len(inner) == 2:
            return str(inner[0]).join(render(v) for v in inner[1]) if isinstance(inner[1], list) \
                else render(inner[1])
        if key == "Fn::Sub":
            return str(inner[0] if isinstance(inner, list) else inner)
        if key == "Fn::ImportValue":
            return f"import({render(inner)})"
    if isinstance(value, list):
        return ", ".join(render(v) for v in value)
    if isinstance(value, str):
        return value
    return json.dumps(mask_hashes(value), sort_keys=True, default=str)

