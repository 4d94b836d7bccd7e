"""`overrides:` (issue 17), the last resort: one CloudFormation property of one resource, set after the
template built the stack. A resource is addressed by its construct path inside the stack (an L2's path
stands for its default child), as `keel report --resources STACK` lists them. What was overridden is recorded
in `<stack>.overrides.json` for `keel report` and `keel diff`."""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence

from aws_cdk import CfnResource, Stack
from constructs import IConstruct

from keel.constructs.assembly_file import AssemblyFile
from keel.spec.errors import SourceError
from keel.spec.model import Override

#: `<stack artifact id>.overrides.json`: [{resource, path, logical_id, type}] for report and diff.
OVERRIDES_FILE = "overrides.json"


class OverrideError(SourceError):
    """An override names a construct path that holds no CloudFormation resource."""


def addressable(stack: Stack) -> dict[str, CfnResource]:
    """{construct path inside the stack: resource}: every CloudFormation resource by its own path, and by the
    path of each construct whose default child leads to it (an L2, an L3 around it)."""
    out: dict[str, CfnResource] = {}
    prefix = stack.node.path + "/"
    for node in stack.node.find_all():
        if isinstance(node, CfnResource) and Stack.of(node).node.path == stack.node.path:
            path = node.node.path.removeprefix(prefix)
            out[path] = node
            child: IConstruct = node
            parent = node.node.scope
            # jsii hands out a new proxy per call: constructs are compared by path, never by identity.
            while parent is not None and parent.node.path != stack.node.path and \
                    _path(parent.node.default_child) == child.node.path:
                out.setdefault(parent.node.path.removeprefix(prefix), node)  # Function -> Function/Resource -> ...
                child, parent = parent, parent.node.scope
    return out


def _path(node: IConstruct | None) -> str | None:
    return None if node is None else node.node.path


def apply_overrides(stack: Stack, overrides: Sequence[Override]) -> None:
    if not overrides:
        return
    paths = addressable(stack)
    problems: list[str] = []
    applied: list[dict[str, str]] = []
    for override in overrides:
        resource = paths.get(override.resource.strip("/"))
        if resource is None:
            close = difflib.get_close_matches(override.resource, paths, n=3, cutoff=0.4)
            problems.append(f"{override.where}.resource: no CloudFormation resource at \"{override.resource}\" in "
                            f"stack {stack.stack_name} (closest: {', '.join(close) or 'none'}; "
                            f"`keel report --resources {stack.stack_name}` lists them all)")
            continue
        resource.add_property_override(override.path, override.value)
        applied.append({"resource": override.resource, "path": override.path,
                        "logical_id": stack.get_logical_id(resource), "type": resource.cfn_resource_type})
    if problems:
        raise OverrideError("\n".join(problems))
    AssemblyFile(stack, "Overrides", name=OVERRIDES_FILE, content=json.dumps(applied, indent=1) + "\n")
