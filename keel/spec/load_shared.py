"""Shared data stores (issue 15): components an environment owns (`environments[].components:`) and the
instances that use them (`{use: NAME, access: read|readwrite}` in an instance's `components:`).

An environment component is an instance component's kind and schema, owned by the environment's stack and
named `keel-<env>-shared-<name>` (keel.contract.naming). Only kinds that any workload can reach through IAM
alone are shared: a database or a file system admits one workload's security group, an add-on is one
service's. `access` is the user's to choose, so an environment's entry has none. CDK-free.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from keel.contract.naming import SHARED
from keel.contract.registry import TemplateVersion
from keel.spec.components import KINDS, Component, ComponentKind, SharedUse, check_component
from keel.spec.errors import MISSING, join_path
from keel.spec.load_context import LoadContext, as_list
from keel.spec.model import Environment
from keel.spec.platform_schema import COMPONENT, NAME, USE_COMPONENT


def _where(base: str, n: int, entry: object, key: str) -> str:
    """`...components[items]` for a well-named entry, `...components[0]` otherwise."""
    name = entry.get(key) if isinstance(entry, Mapping) else None
    if isinstance(name, str) and re.fullmatch(str(NAME["pattern"]), name):
        return f"{base}.components[{name}]"
    return join_path(base, "components", n)


def _malformed(context: LoadContext, entry: object, schema: Mapping[str, Any], file: str, where: str) -> bool:
    """The entry's structure, judged; True when it added a problem (`structure` marks nested entries only)."""
    before = len(context.problems.items)
    context.structure(entry, schema, file, where)
    return len(context.problems.items) > before or not isinstance(entry, Mapping)


def component_kind(context: LoadContext, entry: Mapping[str, Any], file: str, where: str) -> ComponentKind | None:
    """The entry's kind; None with the problem (naming the closest kind) when there is no such kind."""
    kind = KINDS.get(str(entry.get("kind")))
    if kind is None:
        close = difflib.get_close_matches(str(entry.get("kind")), KINDS, n=1)
        context.problems.add(file, f"{where}.kind", "is not a component kind" +
                             (f" (did you mean {close[0]}?)" if close else ""), entry.get("kind"),
                             "one of: " + ", ".join(KINDS))
    return kind


def environment_components(context: LoadContext, raw: object, *, environment: str, template: TemplateVersion,
                           file: str, where: str) -> tuple[Component, ...]:
    """An environment's `components:`, each checked against its kind's schema; the problems, located."""
    entries = as_list(raw)
    if not entries:
        return ()
    if template.proton is not None:
        context.problems.add(file, f"{where}.components", f"{template.label} is a Proton-format template, whose "
                             "stack holds its own CloudFormation only", MISSING,
                             "no components (declare the table or bucket in the template's CloudFormation)")
        return ()
    out: list[Component] = []
    names: set[str] = set()
    shareable = ", ".join(k for k, v in KINDS.items() if not v.unshared)
    for n, entry in enumerate(entries):
        at = _where(where, n, entry, "name")
        if _malformed(context, entry, COMPONENT, file, at):
            continue
        assert isinstance(entry, Mapping)
        kind = component_kind(context, entry, file, at)
        if kind is None:
            continue
        if kind.unshared:
            context.problems.add(file, f"{at}.kind", f"cannot be shared by an environment's services: "
                                 f"{kind.unshared}", kind.name, f"one of: {shareable} (or the component on the "
                                 "instance that uses it)")
            continue
        name = str(entry["name"])
        if name in names:
            context.problems.add(file, f"{at}.name", "duplicate component name", name,
                                 "each component name once per environment")
            continue
        names.add(name)
        if "access" in entry:
            context.problems.add(file, f"{at}.access", "is chosen by each instance that uses the component",
                                 entry["access"], "no access here; {use: " + name + ", access: read} on an instance")
            continue
        values = {k: v for k, v in entry.items() if k not in ("kind", "name")}
        parsed = context.inputs(kind.schema, values, file, at, kind.inputs)
        if parsed is None:
            continue
        problems = list(check_component(kind, name, parsed, None, environment=environment, service=SHARED))
        for path, message, got, expected in problems:
            context.problems.add(file, join_path(at, path), message, got, expected)
        if not problems:
            out.append(Component(kind=kind.name, name=name, inputs=parsed, environment=environment, service=SHARED))
    return tuple(out)


def is_use(entry: object) -> bool:
    """An instance's component entry that uses an environment's component instead of owning one."""
    return isinstance(entry, Mapping) and "use" in entry


def shared_uses(context: LoadContext, raw: object, *, env: Environment, file: str,
                ipath: str) -> tuple[SharedUse, ...]:
    """The `{use: NAME, access: ...}` entries of an instance's `components:`: each names a component of the
    instance's environment (of the `kind` it says, when it says one) that the instance does not own a
    component of the same name beside (their environment variables would collide)."""
    entries = as_list(raw)
    owned = {str(e.get("name")) for e in entries if isinstance(e, Mapping) and not is_use(e)}
    offered = {c.name: c for c in env.components}
    out: list[SharedUse] = []
    seen: set[str] = set()
    for n, entry in enumerate(entries):
        if not is_use(entry):
            continue
        at = _where(ipath, n, entry, "use")
        if _malformed(context, entry, USE_COMPONENT, file, at):
            continue
        assert isinstance(entry, Mapping)
        problem = _use_problem(entry, offered, owned, seen, env.name)
        seen.add(str(entry["use"]))
        if problem is not None:
            path, message, got, expected = problem
            context.problems.add(file, f"{at}.{path}", message, got, expected)
            continue
        out.append(SharedUse(component=offered[str(entry["use"])], access=entry["access"]))
    return tuple(out)


def _use_problem(entry: Mapping[str, Any], offered: Mapping[str, Component], owned: set[str], seen: set[str],
                 environment: str) -> tuple[str, str, object, str] | None:
    name = str(entry["use"])
    if name in seen:
        return "use", "is used twice", name, "each environment component once per instance"
    if name in owned:
        return "use", "is also the name of a component the instance owns (their environment variables " \
            f"{name.upper().replace('-', '_')}_... would collide)", name, "a name the instance does not own"
    component = offered.get(name)
    if component is None:
        return "use", f"environment \"{environment}\" has no component of that name", name, \
            "one of: " + (", ".join(sorted(offered)) or f"none (add it to environments[{environment}].components)")
    if "kind" in entry and entry["kind"] != component.kind:
        return "kind", f"environment \"{environment}\"'s component {name} is a {component.kind}", entry["kind"], \
            component.kind
    return None

